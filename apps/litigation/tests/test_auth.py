"""Tokens: forged, expired, for another audience or issuer, wrong algorithm, no role."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litigation_testkit import Issuer, b64


def call(court, token: str | None, path: str = "/v1/cases") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.get(court.url + path, headers=headers)


def refused(r: httpx.Response, code: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.json()
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_missing_and_malformed(court) -> None:
    refused(call(court, None), "auth.missing_token")
    refused(call(court, "not-a-jwt"), "auth.malformed_token")
    r = httpx.get(court.url + "/v1/cases", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    refused(r, "auth.missing_token")


def test_forged_signature(court, issuer) -> None:
    forger = Issuer(kid=issuer.kid)  # same key id, another key
    refused(call(court, forger.mint("mallory", ["judge"])), "auth.bad_signature")
    # a valid token with its payload swapped
    good = issuer.mint("alice", ["litigant"])
    head, _, sig = good.split(".")
    now = int(time.time())
    evil = b64(
        json.dumps(
            {
                "iss": issuer.issuer,
                "aud": issuer.audience,
                "sub": "alice",
                "iat": now,
                "exp": now + 600,
                "roles": ["judge"],
            }
        ).encode()
    )
    refused(call(court, f"{head}.{evil}.{sig}"), "auth.bad_signature")


def test_expired_audience_issuer_claims(court, issuer) -> None:
    refused(call(court, issuer.mint("a", ["litigant"], ttl=-3600)), "auth.expired")
    refused(call(court, issuer.mint("a", ["litigant"], aud="another-app")), "auth.wrong_audience")
    refused(
        call(court, issuer.mint("a", ["litigant"], iss="https://evil.test")), "auth.wrong_issuer"
    )
    refused(call(court, issuer.mint("a", ["litigant"], exp=None)), "auth.missing_claim")
    refused(call(court, issuer.mint("", ["litigant"])), "auth.missing_claim")


def test_algorithm_confusion_and_none(court, issuer) -> None:
    # alg=none
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": "x",
        "iat": now,
        "exp": now + 60,
        "roles": ["judge"],
    }
    unsigned = (
        b64(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.kid}).encode())
        + "."
        + b64(json.dumps(claims).encode())
        + "."
    )
    refused(call(court, unsigned), "auth.bad_algorithm")
    # HS256 keyed with the public key's JWK text
    hs = jwt.encode(
        claims,
        json.dumps(issuer.jwks()["keys"][0]).encode() * 2,
        algorithm="HS256",
        headers={"kid": issuer.kid},
    )
    refused(call(court, hs), "auth.bad_algorithm")


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_unknown_key(court, issuer, kind: str) -> None:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else (ec.generate_private_key(ec.SECP256R1()))
    )
    alg = "RS256" if kind == "rsa" else "ES256"
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": issuer.issuer,
            "aud": issuer.audience,
            "sub": "x",
            "iat": now,
            "exp": now + 60,
            "roles": ["judge"],
        },
        key,
        algorithm=alg,
        headers={"kid": "somebody-elses"},
    )
    refused(call(court, token), "auth.unknown_key")


def test_no_known_role(court, issuer) -> None:
    r = call(court, issuer.mint("a", ["superuser"]))
    assert r.status_code == 403 and r.json()["code"] == "auth.no_role"
    r = call(court, issuer.mint("a", []))
    assert r.status_code == 403


def test_accounts_come_from_tokens(court, issuer) -> None:
    token = issuer.mint("acct-1", ["litigant", "nonsense"], "李四")
    me = call(court, token, "/v1/accounts/me").json()
    assert me == {"subject": "acct-1", "name": "李四", "roles": ["litigant"]}
    assert court.sql("SELECT name, roles FROM accounts WHERE subject='acct-1'")[0] == (
        "李四",
        ["litigant"],
    )
    # the identity provider changes the roles: the account follows
    call(court, issuer.mint("acct-1", ["lawyer"], "李四"), "/v1/accounts/me")
    assert court.sql("SELECT roles FROM accounts WHERE subject='acct-1'")[0][0] == ["lawyer"]


def test_account_changes_are_audited(court, issuer) -> None:
    call(court, issuer.mint("acct-2", ["mediator"], "周五"), "/v1/accounts/me")
    call(court, issuer.mint("acct-2", ["mediator"], "周五"), "/v1/accounts/me")
    call(court, issuer.mint("acct-2", ["mediator", "clerk"], "周五"), "/v1/accounts/me")
    rows = court.sql(
        "SELECT action, detail FROM audit_events WHERE entity='account' AND entity_id='acct-2'"
        " ORDER BY id"
    )
    assert [r[0] for r in rows] == ["account.created", "account.updated"]
    assert rows[1][1]["before"]["roles"] == ["mediator"]
    assert rows[1][1]["roles"] == ["clerk", "mediator"]
