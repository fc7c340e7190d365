"""The tree and its proofs against a naive RFC 9162 model and the standalone verifier."""

from __future__ import annotations

import hashlib
import random

import pytest
from chain import verifier
from chain.domain.merkle import (
    CompactRange,
    TreeHasher,
    batch_getter,
    consistency_ranges,
    hashes_for,
    inclusion_ranges,
)

H = TreeHasher("sm3")


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, literally."""
    n = len(leaves)
    if n == 0:
        return hashlib.new("sm3", b"").digest()
    if n == 1:
        return H.leaf(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return H.node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def build(n: int, batch_sizes: list[int] | None = None) -> tuple[list[bytes], dict, CompactRange]:
    leaves = [f"leaf-{i}".encode() for i in range(n)]
    store: dict = {}
    cr = CompactRange(H)
    sizes = batch_sizes or [n]
    pos = 0
    for b in sizes:
        store.update(cr.append([H.leaf(x) for x in leaves[pos : pos + b]]))
        pos += b
    assert pos == n
    return leaves, store, cr


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33])
def test_roots_and_proofs_match_the_rfc_definitions(n: int) -> None:
    leaves, store, cr = build(n, [1] * (n % 3) + [n - n % 3] if n > 3 else None)
    assert cr.root() == mth(leaves)
    for m in range(n):
        proof = hashes_for(H, inclusion_ranges(m, n), store.__getitem__)
        assert proof == path(m, leaves)
        verifier.verify_inclusion("sm3", m, n, H.leaf(leaves[m]), proof, mth(leaves))
    for first in range(1, n + 1):
        proof = hashes_for(H, consistency_ranges(first, n), store.__getitem__)
        assert proof == subproof(first, leaves, True)
        verifier.verify_consistency("sm3", first, n, proof, mth(leaves[:first]), mth(leaves))


def test_past_heads_are_rebuilt_from_stored_perfect_subtrees() -> None:
    leaves, store, _ = build(37, [5, 1, 11, 20])
    for size in range(1, 38):
        cr = CompactRange.from_nodes(H, size, store)
        assert cr.root() == mth(leaves[:size])


def test_proofs_for_a_fresh_batch_need_only_the_batch_and_the_old_frontier() -> None:
    rng = random.Random(7)
    _, _, cr = build(0)
    all_leaves: list[bytes] = []
    for _ in range(30):
        batch = [rng.randbytes(8) for _ in range(rng.randint(1, 9))]
        before = cr.copy()
        created = cr.append([H.leaf(x) for x in batch])
        all_leaves += batch
        get = batch_getter(before, created)
        root = cr.root()
        assert root == mth(all_leaves)
        for m in range(before.size, cr.size):
            proof = hashes_for(H, inclusion_ranges(m, cr.size), get)
            verifier.verify_inclusion("sm3", m, cr.size, H.leaf(all_leaves[m]), proof, root)


def test_verifier_rejects_altered_proofs_and_wrong_sizes() -> None:
    leaves, store, cr = build(13)
    root = cr.root()
    proof = hashes_for(H, inclusion_ranges(6, 13), store.__getitem__)
    bad = [*proof]
    bad[1] = bytes(32)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_inclusion("sm3", 6, 13, H.leaf(leaves[6]), bad, root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_inclusion("sm3", 7, 13, H.leaf(leaves[6]), proof, root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_inclusion("sm3", 6, 13, H.leaf(leaves[6]), proof[:-1], root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_inclusion("sm3", 13, 13, H.leaf(leaves[6]), proof, root)
    cproof = hashes_for(H, consistency_ranges(5, 13), store.__getitem__)
    old_root = CompactRange.from_nodes(H, 5, store).root()
    verifier.verify_consistency("sm3", 5, 13, cproof, old_root, root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_consistency("sm3", 5, 13, cproof, bytes(32), root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_consistency("sm3", 6, 13, cproof, old_root, root)
    with pytest.raises(verifier.VerificationError):
        verifier.verify_consistency("sm3", 5, 13, [], old_root, root)


def test_sha256_trees_work_with_the_same_code() -> None:
    h = TreeHasher("sha256")
    cr = CompactRange(h)
    created = cr.append([h.leaf(b"a"), h.leaf(b"b"), h.leaf(b"c")])
    proof = hashes_for(h, inclusion_ranges(2, 3), created.__getitem__)
    verifier.verify_inclusion("sha256", 2, 3, h.leaf(b"c"), proof, cr.root())
