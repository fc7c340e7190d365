"""Mediation codes and the digest of an agreement that both sides confirm."""

from __future__ import annotations

import hashlib
import json
import secrets

# Crockford's base32 without I, L, O, U: readable aloud and over the phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PATTERN = r"^M[0-9A-HJKMNP-TV-Z]{10}$"


def new_mediation_code() -> str:
    """'M' and 10 random base32 characters (50 bits): hard to guess, easy to read out."""
    return "M" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def agreement_digest(case_id: str, version: int, terms: list[str]) -> str:
    """SM3 over the canonical JSON of what is being agreed; a confirmation names it."""
    doc = json.dumps(
        {"case_id": case_id, "version": version, "terms": terms},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.new("sm3", doc.encode("utf-8")).hexdigest()


def sides_needed() -> frozenset[str]:
    return frozenset({"plaintiff", "defendant"})
