"""The Merkle tree of the log (RFC 9162 section 2.1), and proof construction.

Nodes are addressed as ``(level, index)``: the node at ``level`` L and ``index`` i is
the root of the *perfect* subtree over leaves ``[i * 2**L, (i + 1) * 2**L)``. Only perfect
subtrees are ever stored; they never change once complete, so every tree head of the
past can be rebuilt from them. The hash of any range the RFC's recursion needs is a
right fold over a few of them (``range_node_ids``).

Leaf hash: ``H(0x00 || leaf)``; interior node: ``H(0x01 || left || right)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

NodeId = tuple[int, int]
NodeGetter = Callable[[NodeId], bytes]


@dataclass(frozen=True)
class TreeHasher:
    """The hash that builds the tree (SM3 by default)."""

    name: str = "sm3"

    def __post_init__(self) -> None:
        hashlib.new(self.name)  # fail early on an unknown algorithm

    @property
    def size(self) -> int:
        return hashlib.new(self.name).digest_size

    def leaf(self, data: bytes) -> bytes:
        return hashlib.new(self.name, LEAF_PREFIX + data).digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        return hashlib.new(self.name, NODE_PREFIX + left + right).digest()

    def empty_root(self) -> bytes:
        return hashlib.new(self.name, b"").digest()


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_node_ids(start: int, end: int) -> list[NodeId]:
    """Perfect subtrees covering leaves ``[start, end)``, left to right, largest first.

    ``start`` must be aligned the way the RFC recursion aligns it (a multiple of a power
    of two at least ``end - start``, or the range is the left part of such a split).
    """
    ids: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        ids.append((level, start >> level))
        start += 1 << level
    return ids


def fold_range(hasher: TreeHasher, hashes: list[bytes]) -> bytes:
    """Root of a range from its perfect subtrees (left to right), as RFC 9162 MTH."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hasher.node(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PATH(index, D[0:size]), bottom to top."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if m < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PROOF(first, D[0:second]) (RFC 9162 2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    out.reverse()
    return out


def node_ids_for(ranges: Iterable[tuple[int, int]]) -> set[NodeId]:
    ids: set[NodeId] = set()
    for a, b in ranges:
        ids.update(range_node_ids(a, b))
    return ids


def hashes_for(
    hasher: TreeHasher, ranges: Iterable[tuple[int, int]], get: NodeGetter
) -> list[bytes]:
    return [fold_range(hasher, [get(nid) for nid in range_node_ids(a, b)]) for a, b in ranges]


@dataclass
class CompactRange:
    """The right frontier of a tree of ``size`` leaves: one perfect subtree per set bit.

    ``nodes[level]`` is the hash of node ``(level, (size >> level) - 1)`` for each bit
    ``level`` set in ``size``. It is all an appender needs, and loading it after a
    restart reads at most 64 rows.
    """

    hasher: TreeHasher
    size: int = 0
    nodes: dict[int, bytes] = field(default_factory=dict)

    @staticmethod
    def node_ids(size: int) -> list[NodeId]:
        return [(lvl, (size >> lvl) - 1) for lvl in range(size.bit_length()) if size >> lvl & 1]

    @classmethod
    def from_nodes(
        cls, hasher: TreeHasher, size: int, nodes: Mapping[NodeId, bytes]
    ) -> CompactRange:
        missing = [nid for nid in cls.node_ids(size) if nid not in nodes]
        if missing:
            raise KeyError(f"tree nodes {missing} are missing for size {size}")
        return cls(hasher, size, {lvl: nodes[(lvl, idx)] for lvl, idx in cls.node_ids(size)})

    def root(self) -> bytes:
        if self.size == 0:
            return self.hasher.empty_root()
        levels = sorted(self.nodes)  # smallest subtree (rightmost) first
        acc = self.nodes[levels[0]]
        for lvl in levels[1:]:
            acc = self.hasher.node(self.nodes[lvl], acc)
        return acc

    def get(self, nid: NodeId) -> bytes | None:
        lvl, idx = nid
        if self.size >> lvl & 1 and idx == (self.size >> lvl) - 1:
            return self.nodes[lvl]
        return None

    def append(self, leaf_hashes: list[bytes]) -> dict[NodeId, bytes]:
        """Append leaves; return every node that became complete (level 0 included)."""
        old, new = self.size, self.size + len(leaf_hashes)
        created: dict[NodeId, bytes] = {(0, old + i): h for i, h in enumerate(leaf_hashes)}

        def child(nid: NodeId) -> bytes:
            h = created.get(nid)
            if h is None:
                h = self.get(nid)
            if h is None:  # pragma: no cover - would be a bug in the frontier logic
                raise KeyError(f"node {nid} is neither new nor on the frontier")
            return h

        level = 1
        while (new >> level) > 0:
            for i in range(old >> level, new >> level):
                created[(level, i)] = self.hasher.node(
                    child((level - 1, 2 * i)), child((level - 1, 2 * i + 1))
                )
            level += 1
        frontier = {}
        for lvl, idx in self.node_ids(new):
            frontier[lvl] = created[(lvl, idx)] if (lvl, idx) in created else child((lvl, idx))
        self.size, self.nodes = new, frontier
        return created

    def copy(self) -> CompactRange:
        return CompactRange(self.hasher, self.size, dict(self.nodes))


def batch_getter(before: CompactRange, created: Mapping[NodeId, bytes]) -> NodeGetter:
    """Nodes a proof for a just-appended leaf needs: the batch's new nodes, or the
    frontier from before the batch (every older sibling on such a path is on it)."""

    def get(nid: NodeId) -> bytes:
        h = created.get(nid)
        if h is None:
            h = before.get(nid)
        if h is None:
            raise KeyError(f"node {nid} is not available from the batch")
        return h

    return get
