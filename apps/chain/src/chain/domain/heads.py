"""Signed tree heads and witness cosignatures (the messages and their checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chain.domain.leaf import format_time
from chain.domain.signing import Signer
from chain.verifier import cosignature_message, tree_head_message


@dataclass(frozen=True)
class Cosignature:
    witness: str
    key_id: str
    algorithm: str
    cosigned_at: datetime
    signature: bytes

    def as_dict(self) -> dict[str, object]:
        return {
            "witness": self.witness,
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "cosigned_at": format_time(self.cosigned_at),
            "signature": self.signature.hex(),
        }


@dataclass(frozen=True)
class TreeHead:
    origin: str
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    key_id: str
    algorithm: str
    signature: bytes
    cosignatures: tuple[Cosignature, ...] = field(default_factory=tuple)

    @property
    def timestamp(self) -> str:
        return format_time(self.issued_at)

    def message(self) -> bytes:
        return tree_head_message(self.origin, self.tree_size, self.root_hash.hex(), self.timestamp)

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature_algorithm": self.algorithm,
            "signature": self.signature.hex(),
            "cosignatures": [c.as_dict() for c in self.cosignatures],
        }


def sign_head(signer: Signer, origin: str, size: int, root: bytes, at: datetime) -> TreeHead:
    msg = tree_head_message(origin, size, root.hex(), format_time(at))
    return TreeHead(origin, size, root, at, signer.key_id, signer.algorithm, signer.sign(msg))


def cosign(signer: Signer, witness: str, head_message: bytes, at: datetime) -> Cosignature:
    sig = signer.sign(cosignature_message(witness, format_time(at), head_message))
    return Cosignature(witness, signer.key_id, signer.algorithm, at, sig)
