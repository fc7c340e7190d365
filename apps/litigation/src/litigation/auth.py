"""Verifying the identity provider's tokens (OIDC-compatible JWTs) against its JWKS.

The keys come from settings (a JWKS document, as an OpenID provider publishes at its
``jwks_uri``), so verification needs no network. Only asymmetric algorithms are
accepted, so a token signed with the public key as an HMAC secret is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from litigation.domain.roles import Actor, Role
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
        leeway_s: int = 30,
        roles_claim: str = "roles",
    ) -> None:
        keyset = jwt.PyJWKSet.from_dict(jwks)
        self.keys: dict[str | None, jwt.PyJWK] = {k.key_id: k for k in keyset.keys}
        if not self.keys:
            raise ValueError("the JWKS document holds no usable key")
        self.issuer, self.audience = issuer, audience
        self.algorithms = list(algorithms)
        self.leeway = leeway_s
        self.roles_claim = roles_claim

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
        name = claims.get("name") or claims.get("preferred_username") or sub
        name = str(name)[:200]
        return VerifiedToken(Actor(sub, name, roles), claims)
