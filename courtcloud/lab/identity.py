"""The lab's identity provider, reduced to what the apps verify: one signing key made once
into the lab's state, its public half as a JWKS document that the litigation app reads
from a file (as it would fetch it from a court's identity provider), and tokens minted with
it for trying the apps by hand (`courtcloud lab token`) and for the lab's tests.

Production has the court's own identity provider; nothing here is used there.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .podman import LabError

KEY = Path("identity") / "signing.pem"
ALGORITHM = "ES256"
# The roles a lab token may carry: the litigation app's (judge, clerk, mediator, litigant,
# lawyer, public); "party" is the word court staff use for a litigant.
ROLE_ALIASES = {"party": "litigant"}
ROLES = ("judge", "clerk", "mediator", "litigant", "lawyer", "public")
DEFAULT_TTL_S = 3600


def ensure_key(directory: Path) -> bool:
    """Make the signing key once (0600). True when made now."""
    path = directory / KEY
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return True


def _key(directory: Path) -> ec.EllipticCurvePrivateKey:
    path = directory / KEY
    if not path.exists():
        raise LabError(f"{path} is missing: `courtcloud lab up` makes the lab's signing key")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def key_id(directory: Path) -> str:
    """RFC 7638 thumbprint of the public key: stable for the key's life."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_key(directory).public_key()))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"),
                           sort_keys=True)
    return jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


def jwks(directory: Path) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_key(directory).public_key()))
    return {"keys": [{**jwk, "kid": key_id(directory), "use": "sig", "alg": ALGORITHM}]}


def mint(directory: Path, *, issuer: str, audience: str, subject: str, roles: list[str],
         court: str, name: str | None = None, ttl_s: int = DEFAULT_TTL_S) -> str:
    wanted = [ROLE_ALIASES.get(r, r) for r in roles]
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise LabError(f"unknown role {', '.join(unknown)}: use "
                       f"{', '.join(ROLES + tuple(ROLE_ALIASES))}")
    if not 1 <= ttl_s <= 86400:
        raise LabError(f"--ttl {ttl_s}: give 1 to 86400 seconds")
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": subject, "name": name or subject,
              "roles": sorted(set(wanted)), "court": court, "iat": now, "nbf": now,
              "exp": now + ttl_s, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, _key(directory), algorithm=ALGORITHM,
                      headers={"kid": key_id(directory)})
