"""Verifying the identity provider's tokens (OIDC-compatible JWTs) against its JWKS.

The keys come from settings (a JWKS document, as an OpenID provider publishes at its
``jwks_uri``), so verification needs no network. Only asymmetric algorithms are
accepted, so a token signed with the public key as an HMAC secret is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from litigation.domain.roles import COURT_STAFF, Actor, Role
from litigation.problems import Problem


class TokenRefused(Problem):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(
            401,
            f"auth.{reason}",
            "Unauthorized",
            detail,
        )
        self.reason = reason


@dataclass(frozen=True)
class VerifiedToken:
    actor: Actor
    claims: dict[str, Any]


class TokenVerifier:
    def __init__(
        self,
        jwks: dict[str, Any],
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...],
        court: str,
        leeway_s: int = 30,
        roles_claim: str = "roles",
        court_claim: str = "court",
    ) -> None:
        keyset = jwt.PyJWKSet.from_dict(jwks)
        self.keys: dict[str | None, jwt.PyJWK] = {k.key_id: k for k in keyset.keys}
        if not self.keys:
            raise ValueError("the JWKS document holds no usable key")
        self.issuer, self.audience = issuer, audience
        self.algorithms = list(algorithms)
        self.leeway = leeway_s
        self.roles_claim = roles_claim
        self.court, self.court_claim = court, court_claim

    def _key(self, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        key = self.keys.get(kid)
        if key is None:
            raise TokenRefused(
                "unknown_key", "the token is signed with a key this court does not know"
            )
        return key

    def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("malformed_token", "the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRefused(
                "bad_algorithm",
                f"tokens must be signed with one of {', '.join(self.algorithms)} (got {alg!r})",
            )
        key = self._key(header)
        try:  # the claims' types first: PyJWT would take "exp": "1700000000" or true as dates
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRefused("malformed_token", "the token cannot be read") from None
        _check_registered_claims(unverified)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired", "the token has expired; sign in again") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(
                "wrong_audience", "the token was not issued for this service"
            ) from None
        except jwt.InvalidIssuerError:
            raise TokenRefused(
                "wrong_issuer", "the token was not issued by this court's identity provider"
            ) from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("not_yet_valid", "the token is not valid yet") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(
                "missing_claim", f"the token lacks the '{exc.claim}' claim"
            ) from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("bad_signature", "the token's signature does not verify") from None
        except jwt.PyJWTError:
            raise TokenRefused("malformed_token", "the token cannot be verified") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not 1 <= len(sub) <= 255:
            raise TokenRefused("missing_claim", "the token's 'sub' must be 1-255 characters")
        roles_raw: Any = claims
        for part in self.roles_claim.split("."):
            roles_raw = roles_raw.get(part) if isinstance(roles_raw, dict) else None
        if isinstance(roles_raw, str):
            roles_raw = roles_raw.split()
        known = {r.value for r in Role}
        roles = frozenset(Role(r) for r in (roles_raw or []) if isinstance(r, str) and r in known)
        if not roles:
            raise Problem(
                403,
                "auth.no_role",
                "Forbidden",
                f"the token's '{self.roles_claim}' claim names none of the court's roles"
                f" ({', '.join(sorted(known))})",
            )
        if roles & COURT_STAFF:
            self._check_court(claims, roles)
        name = claims.get("name") or claims.get("preferred_username") or sub
        name = str(name)[:200]
        return VerifiedToken(Actor(sub, name, roles), claims)

    def _check_court(self, claims: dict[str, Any], roles: frozenset[Role]) -> None:
        """Judges and clerks act in their own court only: the token must name it."""
        staff = ", ".join(sorted(r.value for r in roles & COURT_STAFF))
        raw = claims.get(self.court_claim)
        courts = [raw] if isinstance(raw, str) else raw
        if not isinstance(courts, list) or not courts or not all(
            isinstance(c, str) for c in courts
        ):
            raise TokenRefused(
                "missing_claim",
                f"a token with the role {staff} must name its court in the"
                f" '{self.court_claim}' claim (a string, or a list of strings)",
            )
        if self.court not in courts:
            raise Problem(
                403,
                "auth.wrong_court",
                "Forbidden",
                f"the token makes its holder {staff} of {', '.join(courts)}, not of this court"
                f" ({self.court})",
            )


NUMERIC_DATES = ("exp", "iat", "nbf")


def _check_registered_claims(claims: dict[str, Any]) -> None:
    """RFC 7519's registered claims with their types: a NumericDate is a JSON number (PyJWT
    itself takes "1700000000" as a string), iss and sub strings, aud a string or strings."""
    for name in NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenRefused(
                "malformed_claim", f"the token's '{name}' must be a number of seconds since"
                f" the epoch (RFC 7519 NumericDate), not {type(value).__name__}"
            )
    for name in ("iss", "sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise TokenRefused("malformed_claim", f"the token's '{name}' must be a string")
    aud = claims.get("aud")
    strings = isinstance(aud, list) and all(isinstance(a, str) for a in aud)
    if "aud" in claims and not (isinstance(aud, str) or strings):
        raise TokenRefused("malformed_claim", "the token's 'aud' must be a string or strings")
