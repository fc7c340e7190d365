"""The lab's identity provider: its tokens are what the litigation app's own verifier
accepts, and nothing else is minted."""

from __future__ import annotations

import jwt
import pytest
from litigation.auth import TokenVerifier
from litigation.domain.roles import Role

from courtcloud.lab import identity
from courtcloud.lab.podman import LabError

ISSUER, AUDIENCE = "https://identity.court.example", "courtcloud-litigation"


def test_a_minted_token_passes_the_apps_own_verifier(tmp_path):
    assert identity.ensure_key(tmp_path) is True
    assert identity.ensure_key(tmp_path) is False  # made once, kept
    assert (tmp_path / identity.KEY).stat().st_mode & 0o777 == 0o600
    token = identity.mint(tmp_path, issuer=ISSUER, audience=AUDIENCE, subject="judge-li",
                          roles=["judge"], court="bjinternet", name="Judge Li")
    verifier = TokenVerifier(identity.jwks(tmp_path), issuer=ISSUER, audience=AUDIENCE,
                             algorithms=("ES256",), court="bjinternet")
    actor = verifier.verify(token).actor
    assert (actor.subject, actor.name, actor.roles) == ("judge-li", "Judge Li",
                                                        frozenset({Role.JUDGE}))


def test_party_means_litigant_and_unknown_roles_are_refused(tmp_path):
    identity.ensure_key(tmp_path)
    token = identity.mint(tmp_path, issuer=ISSUER, audience=AUDIENCE, subject="p1",
                          roles=["party"], court="bjinternet")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["litigant"]
    with pytest.raises(LabError, match="unknown role superuser"):
        identity.mint(tmp_path, issuer=ISSUER, audience=AUDIENCE, subject="x",
                      roles=["superuser"], court="bjinternet")
    with pytest.raises(LabError, match="--ttl"):
        identity.mint(tmp_path, issuer=ISSUER, audience=AUDIENCE, subject="x",
                      roles=["judge"], court="bjinternet", ttl_s=0)


def test_the_jwks_holds_the_public_key_only(tmp_path):
    identity.ensure_key(tmp_path)
    (key,) = identity.jwks(tmp_path)["keys"]
    assert "d" not in key and key["kid"] == identity.key_id(tmp_path)
    assert key["alg"] == "ES256" and key["kty"] == "EC"


def test_no_key_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match="lab up"):
        identity.jwks(tmp_path)
