"""A verifier for the chain's receipts that trusts nothing the server says.

This module is deliberately standalone: it imports nothing else from ``chain`` and
re-implements, from RFC 9162, the leaf and node hashing, inclusion-proof and
consistency-proof verification, and checks tree-head signatures and witness
cosignatures against keys the *client* pins. A court, a party or an auditor can copy
it alone. It needs only ``hashlib`` (SM3 from OpenSSL), ``gmalglib`` for SM2 and
``cryptography`` for Ed25519.

Typical use::

    v = Verifier(log_origin="primary", log_key=LogKey("sm2", pk_hex),
                 witnesses={"standby": LogKey("sm2", pk2)}, quorum=1)
    result = v.verify_evidence(bundle, data=original_bytes)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
DIGEST_SIZES = {"sm3": 32, "sha256": 32}


class VerificationError(Exception):
    """A receipt, proof or signature does not check out. ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --- hashing ------------------------------------------------------------------------
def _h(alg: str, data: bytes) -> bytes:
    return hashlib.new(alg, data).digest()


def leaf_hash(alg: str, leaf: bytes) -> bytes:
    return _h(alg, LEAF_PREFIX + leaf)


def node_hash(alg: str, left: bytes, right: bytes) -> bytes:
    return _h(alg, NODE_PREFIX + left + right)


def entry_leaf_bytes(entry: Mapping[str, Any]) -> bytes:
    """The bytes a log leaf commits to: canonical JSON of the entry's fields."""
    doc = {
        "v": 1,
        "storage_number": entry["storage_number"],
        "digest_alg": entry["digest_alg"],
        "digest": str(entry["digest"]).lower(),
        "submitter": entry["submitter"],
        "metadata": dict(entry.get("metadata") or {}),
        "integrated_time": entry["integrated_time"],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- proofs (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------------
def root_from_inclusion_proof(
    alg: str, index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """Recompute the root from a leaf hash and its audit path; raise if malformed."""
    if not 0 <= index < size:
        raise VerificationError(
            "inclusion_proof_invalid", f"leaf index {index} >= tree size {size}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion_proof_invalid", "audit path is too long")
        if fn & 1 or fn == sn:
            r = node_hash(alg, p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(alg, r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion_proof_invalid", "audit path is too short")
    return r


def verify_inclusion(
    alg: str, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    got = root_from_inclusion_proof(alg, index, size, leaf, proof)
    if not hmac.compare_digest(got, root):
        raise VerificationError(
            "inclusion_proof_invalid",
            f"leaf {index} with this audit path gives root {got.hex()},"
            f" the tree head says {root.hex()}",
        )


def verify_consistency(
    alg: str, first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """Check that the tree of ``second`` leaves extends the tree of ``first`` leaves."""
    if first > second:
        raise VerificationError("consistency_proof_invalid", f"size {first} > size {second}")
    if first == second:
        if proof or not hmac.compare_digest(first_root, second_root):
            raise VerificationError(
                "consistency_proof_invalid", f"two different roots at size {first}"
            )
        return
    if first == 0:
        if proof:
            raise VerificationError(
                "consistency_proof_invalid", "proof from the empty tree must be empty"
            )
        return
    if not proof:
        raise VerificationError("consistency_proof_invalid", "empty proof")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency_proof_invalid", "proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(alg, c, fr)
            sr = node_hash(alg, c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(alg, sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency_proof_invalid", "proof is too short")
    if not hmac.compare_digest(fr, first_root):
        raise VerificationError("consistency_proof_invalid", f"root of size {first} does not match")
    if not hmac.compare_digest(sr, second_root):
        raise VerificationError(
            "consistency_proof_invalid", f"root of size {second} does not match"
        )


# --- signatures -------------------------------------------------------------------------
@dataclass(frozen=True)
class LogKey:
    """A public key the client pins: ``algorithm`` is ``sm2`` or ``ed25519``."""

    algorithm: str
    public_key_hex: str

    @property
    def key_id(self) -> str:
        return key_id(self.algorithm, bytes.fromhex(self.public_key_hex))


def key_id(algorithm: str, public_key: bytes) -> str:
    return hashlib.new("sm3", algorithm.encode() + b":" + public_key).hexdigest()[:16]


def verify_signature(key: LogKey, message: bytes, signature: bytes) -> bool:
    pk = bytes.fromhex(key.public_key_hex)
    if key.algorithm == "sm2":
        from gmalglib.sm2 import SM2

        try:
            return bool(SM2(pk=pk).verify(message, signature))
        except (ValueError, OverflowError):
            return False
    if key.algorithm == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    raise VerificationError("unknown_algorithm", f"signature algorithm {key.algorithm!r}")


def tree_head_message(origin: str, size: int, root_hex: str, timestamp: str) -> bytes:
    return f"courtcloud-chain tree head v1\n{origin}\n{size}\n{root_hex}\n{timestamp}\n".encode()


def cosignature_message(witness: str, cosigned_at: str, head_message: bytes) -> bytes:
    return f"courtcloud-chain cosignature v1\n{witness}\n{cosigned_at}\n".encode() + head_message


@dataclass
class VerifiedHead:
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: str
    cosigned_by: list[str] = field(default_factory=list)


def _hex(value: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise VerificationError("malformed", f"{what} is not hex") from exc


@dataclass
class Verifier:
    """Checks tree heads, proofs and evidence receipts against pinned keys.

    ``witnesses`` maps witness names to their keys; ``quorum`` is how many distinct
    trusted witnesses must have cosigned a head for it to be accepted.
    """

    log_origin: str
    log_key: LogKey
    witnesses: Mapping[str, LogKey] = field(default_factory=dict)
    quorum: int = 0
    tree_hash: str = "sm3"

    def verify_tree_head(self, head: Mapping[str, Any]) -> VerifiedHead:
        origin, size = head["origin"], int(head["tree_size"])
        if origin != self.log_origin:
            raise VerificationError(
                "wrong_log", f"head is from {origin!r}, expected {self.log_origin!r}"
            )
        msg = tree_head_message(origin, size, str(head["root_hash"]).lower(), head["timestamp"])
        if head.get("key_id") not in (None, self.log_key.key_id):
            raise VerificationError("unknown_key", f"head is signed by key {head.get('key_id')}")
        if not verify_signature(self.log_key, msg, _hex(head["signature"], "signature")):
            raise VerificationError(
                "bad_signature", f"tree head of size {size} is not signed by the log key"
            )
        verified = VerifiedHead(
            origin, size, _hex(head["root_hash"], "root_hash"), head["timestamp"]
        )
        for cs in head.get("cosignatures") or []:
            name = cs.get("witness")
            key = self.witnesses.get(name)
            if key is None or name in verified.cosigned_by:
                continue
            cmsg = cosignature_message(name, cs["cosigned_at"], msg)
            if verify_signature(key, cmsg, _hex(cs["signature"], "cosignature")):
                verified.cosigned_by.append(name)
        if len(verified.cosigned_by) < self.quorum:
            raise VerificationError(
                "quorum_not_met",
                f"tree head of size {size} has {len(verified.cosigned_by)} valid cosignatures"
                " from trusted"
                f" witnesses ({', '.join(verified.cosigned_by) or 'none'}), {self.quorum} required",
            )
        return verified

    def verify_consistency(
        self, old: Mapping[str, Any], new: Mapping[str, Any], proof_hex: Sequence[str]
    ) -> None:
        a, b = self.verify_tree_head(old), self.verify_tree_head(new)
        verify_consistency(
            self.tree_hash,
            a.tree_size,
            b.tree_size,
            [_hex(p, "proof") for p in proof_hex],
            a.root_hash,
            b.root_hash,
        )

    def verify_evidence(
        self,
        bundle: Mapping[str, Any],
        *,
        data: bytes | None = None,
        digest: str | None = None,
    ) -> dict[str, Any]:
        """Check an evidence bundle (entry, inclusion proof, signed head).

        With ``data`` or ``digest`` it also checks that this is the evidence registered.
        Returns the facts established: storage number, leaf index, integrated time,
        and the head it is included in.
        """
        entry = bundle["entry"]
        alg = entry["digest_alg"]
        if alg not in DIGEST_SIZES:
            raise VerificationError("unknown_algorithm", f"digest algorithm {alg!r}")
        if data is not None:
            digest = hashlib.new(alg, data).hexdigest()
        if digest is not None and not hmac.compare_digest(
            digest.lower(), str(entry["digest"]).lower()
        ):
            raise VerificationError(
                "digest_mismatch",
                f"evidence {entry['storage_number']}: the data's {alg} digest {digest.lower()}"
                f" differs from the registered {entry['digest']}",
            )
        head = self.verify_tree_head(bundle["tree_head"])
        proof = bundle["inclusion_proof"]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
        if size != head.tree_size:
            raise VerificationError(
                "inclusion_proof_invalid", f"proof is for size {size}, head is {head.tree_size}"
            )
        if index != int(entry["leaf_index"]):
            raise VerificationError("inclusion_proof_invalid", "proof is for another leaf")
        lh = leaf_hash(self.tree_hash, entry_leaf_bytes(entry))
        try:
            verify_inclusion(
                self.tree_hash,
                index,
                size,
                lh,
                [_hex(p, "proof") for p in proof["hashes"]],
                head.root_hash,
            )
        except VerificationError as exc:
            raise VerificationError(
                exc.reason, f"evidence {entry['storage_number']} (leaf {index}): {exc.detail}"
            ) from None
        return {
            "storage_number": entry["storage_number"],
            "leaf_index": index,
            "integrated_time": entry["integrated_time"],
            "tree_size": size,
            "root_hash": head.root_hash.hex(),
            "cosigned_by": head.cosigned_by,
        }
