"""Evidence entries and the bytes a log leaf commits to."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

DIGEST_ALGORITHMS = {"sm3": 32, "sha256": 32}
HEX = re.compile(r"^[0-9a-fA-F]*$")


def format_time(t: datetime) -> str:
    """RFC 3339, UTC, always six fractional digits (what PostgreSQL keeps)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def check_digest(alg: str, digest_hex: str) -> bytes:
    """Validate a hex digest for ``alg``; return its bytes or raise ValueError naming the fix."""
    if alg not in DIGEST_ALGORITHMS:
        raise ValueError(
            f"unknown digest algorithm {alg!r}: use one of {', '.join(DIGEST_ALGORITHMS)}"
        )
    want = DIGEST_ALGORITHMS[alg] * 2
    if not HEX.match(digest_hex):
        raise ValueError(f"the {alg} digest must be hexadecimal (0-9, a-f)")
    if len(digest_hex) != want:
        raise ValueError(f"an {alg} digest is {want} hex digits, got {len(digest_hex)}")
    return bytes.fromhex(digest_hex)


@dataclass(frozen=True)
class Submission:
    digest_alg: str
    digest: bytes
    submitter: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One piece of evidence as the log holds it."""

    leaf_index: int
    storage_number: str
    digest_alg: str
    digest: bytes
    submitter: str
    metadata: dict[str, str]
    integrated_at: datetime

    @property
    def integrated_time(self) -> str:
        return format_time(self.integrated_at)

    def leaf_bytes(self) -> bytes:
        doc = {
            "v": 1,
            "storage_number": self.storage_number,
            "digest_alg": self.digest_alg,
            "digest": self.digest.hex(),
            "submitter": self.submitter,
            "metadata": self.metadata,
            "integrated_time": self.integrated_time,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def as_dict(self) -> dict[str, object]:
        return {
            "storage_number": self.storage_number,
            "leaf_index": self.leaf_index,
            "digest_alg": self.digest_alg,
            "digest": self.digest.hex(),
            "submitter": self.submitter,
            "metadata": self.metadata,
            "integrated_time": self.integrated_time,
        }
