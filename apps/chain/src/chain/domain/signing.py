"""Signing keys of a chain node: SM2 (GB/T 32918, via gmalglib) or Ed25519."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

ALGORITHMS = ("sm2", "ed25519")


class SigningKeyError(ValueError):
    """A key file or key value is unusable."""


def key_id(algorithm: str, public_key: bytes) -> str:
    """Short stable id of a public key: SM3 over ``alg:key``, 16 hex digits."""
    return hashlib.new("sm3", algorithm.encode() + b":" + public_key).hexdigest()[:16]


@dataclass
class Signer:
    algorithm: str
    private_key: bytes

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise SigningKeyError(
                f"signing algorithm {self.algorithm!r}: use one of {', '.join(ALGORITHMS)}"
            )
        if len(self.private_key) != 32:
            raise SigningKeyError("a private key is 32 bytes (64 hex digits)")
        if self.algorithm == "sm2":
            from gmalglib.sm2 import SM2

            if not SM2.is_sk_valid(self.private_key):
                raise SigningKeyError("not a valid SM2 private key")
            self._sm2 = SM2(sk=self.private_key)
            self.public_key = SM2.get_pk(self.private_key)
        else:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            self._ed = Ed25519PrivateKey.from_private_bytes(self.private_key)
            self.public_key = self._ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(self.algorithm, self.public_key)

    @classmethod
    def generate(cls, algorithm: str = "sm2") -> Signer:
        if algorithm == "sm2":
            from gmalglib.sm2 import SM2

            sk, _ = SM2().generate_keypair()
            return cls("sm2", sk)
        if algorithm == "ed25519":
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import (
                Encoding,
                NoEncryption,
                PrivateFormat,
            )

            raw = Ed25519PrivateKey.generate().private_bytes(
                Encoding.Raw, PrivateFormat.Raw, NoEncryption()
            )
            return cls("ed25519", raw)
        raise SigningKeyError(
            f"signing algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}"
        )

    @classmethod
    def from_file(cls, algorithm: str, path: Path) -> Signer:
        """A key file holds the 32-byte private key as 64 hex digits (whitespace ignored)."""
        try:
            text = path.read_text(encoding="ascii").strip()
            raw = bytes.fromhex(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SigningKeyError(f"key file {path}: {exc}") from exc
        return cls(algorithm, raw)

    def private_hex(self) -> str:
        return self.private_key.hex()

    def sign(self, message: bytes) -> bytes:
        if self.algorithm == "sm2":
            return bytes(self._sm2.sign(message))
        return self._ed.sign(message)
