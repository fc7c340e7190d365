"""The log's self-audit, which trusts nothing the database says about itself.

Anyone who can write the database (an administrator, a restored backup, an attacker with its
password) can change an entry and recompute its tree nodes and the stored root so that the
rows agree with one another. What they cannot make is the node's signature on a new root, or
its witnesses' cosignatures. So the audit recomputes the tree from the entries and holds it
against the signed heads: every head's signature and cosignatures are checked with the keys
the node was configured with, and each validly signed head must equal the recomputed root at
its size (which also makes consecutive heads consistent: both are prefixes of one sequence).

It names causes, not echoes. An altered entry changes every node above it; those nodes'
rows are untouched, so they are listed as the entry's consequences, not as altered rows. A
row is reported as altered only where it disagrees with the rows it is computed from.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from chain import verifier as v
from chain.domain.heads import TreeHead
from chain.domain.leaf import Entry, format_time
from chain.domain.merkle import (
    CompactRange,
    NodeId,
    TreeHasher,
    consistency_ranges,
    hashes_for,
    node_ids_for,
)
from chain.store import repository as repo

STEP = 5000  # entries read per query
MAX_PROBLEMS = 50
MAX_NAMED = 20  # storage numbers listed when a signed head narrows the cause to a range


@dataclass
class HeadCheck:
    head: TreeHead
    signature_ok: bool
    bad_cosigners: list[str] = field(default_factory=list)
    recomputed: bytes | None = None  # the entries' root at this size, once reached

    @property
    def matches(self) -> bool:
        return self.recomputed is not None and hmac.compare_digest(
            self.recomputed, self.head.root_hash
        )


def check_head(
    head: TreeHead, own_key: v.LogKey, peer_keys: Mapping[str, v.LogKey]
) -> HeadCheck:
    """The head's own signature with the node's key, and each known witness's cosignature."""
    message = head.message()
    ok = head.key_id == own_key.key_id and v.verify_signature(own_key, message, head.signature)
    check = HeadCheck(head, ok)
    for cs in head.cosignatures:
        key = peer_keys.get(cs.witness)
        if key is None:  # a witness no longer configured: nothing to check it against
            continue
        cmsg = v.cosignature_message(cs.witness, format_time(cs.cosigned_at), message)
        if not v.verify_signature(key, cmsg, cs.signature):
            check.bad_cosigners.append(cs.witness)
    return check


def _first_leaf(problem: dict[str, Any]) -> int | None:
    """The leaf a problem names: its entry's, or the first of the range it covers."""
    return problem.get("leaf_index", problem.get("leaves", [None])[0])


def _leaves(level: int, idx: int) -> list[int]:
    return [idx << level, ((idx + 1) << level) - 1]


async def verify_latest_head(
    conn: AsyncConnection,
    hasher: TreeHasher,
    head: TreeHead,
    own_key: v.LogKey,
    peer_keys: Mapping[str, v.LogKey],
) -> None:
    """What a node checks before it signs anything on top of its stored tree: the latest
    head carries its own signature and valid cosignatures, and the stored nodes prove it
    consistent with the validly signed head before it. Raises RuntimeError naming the head."""
    check = check_head(head, own_key, peer_keys)
    where = f"the latest tree head (size {head.tree_size}, issued {head.timestamp})"
    if not check.signature_ok:
        raise RuntimeError(
            f"{where} does not carry this node's signature: the tree_heads table was altered."
            " Restore the log's database from a backup, or read GET /v1/log/audit on a node"
            " that serves it"
        )
    if check.bad_cosigners:
        raise RuntimeError(
            f"{where} has cosignatures that do not verify ({', '.join(check.bad_cosigners)}):"
            " the cosignatures or tree_heads table was altered"
        )
    previous = await repo.heads_before(conn, head.origin, head.tree_size, limit=8)
    for prev in previous:  # the nearest one that is validly signed
        if check_head(prev, own_key, {}).signature_ok:
            break
    else:
        return
    if prev.tree_size == 0:
        return
    ranges = consistency_ranges(prev.tree_size, head.tree_size)
    nodes = await repo.load_nodes(conn, node_ids_for(ranges))
    try:
        proof = hashes_for(hasher, ranges, nodes.__getitem__)
        v.verify_consistency(
            hasher.name, prev.tree_size, head.tree_size, proof, prev.root_hash, head.root_hash
        )
    except (KeyError, v.VerificationError) as exc:
        raise RuntimeError(
            f"{where} is not consistent with the signed head of size {prev.tree_size} through"
            f" the stored tree nodes ({exc}): the evidence or tree_nodes table was altered"
        ) from None


class Audit:
    """One pass over the log. ``run`` returns the report the API serves."""

    def __init__(
        self,
        hasher: TreeHasher,
        own_key: v.LogKey,
        peer_keys: Mapping[str, v.LogKey],
    ) -> None:
        self.hasher, self.own_key, self.peer_keys = hasher, own_key, peer_keys
        self.problems: list[dict[str, Any]] = []
        self.consequences: list[NodeId] = []

    async def run(self, conn: AsyncConnection, origin: str) -> dict[str, Any]:
        heads = [check_head(h, self.own_key, self.peer_keys)
                 for h in await repo.all_heads(conn, origin)]
        latest = heads[-1].head if heads else None
        size = latest.tree_size if latest else 0
        for c in heads:
            if not c.signature_ok:
                self.problems.append({
                    "code": "head_signature_invalid",
                    "tree_size": c.head.tree_size,
                    "timestamp": c.head.timestamp,
                    "detail": f"the tree head of size {c.head.tree_size} does not carry the"
                    f" node's signature (key {self.own_key.key_id}): its row was rewritten",
                })
            for w in c.bad_cosigners:
                self.problems.append({
                    "code": "cosignature_invalid",
                    "tree_size": c.head.tree_size,
                    "witness": w,
                    "detail": f"{w}'s cosignature does not verify for the head of size"
                    f" {c.head.tree_size} as stored: the head or the cosignature was rewritten",
                })
        complete = await self._recompute(conn, size, heads)
        if complete:
            await self._compare_heads(conn, heads)
        self._attach_consequences()
        return {
            "tree_size": size,
            "root_hash": latest.root_hash.hex() if latest else None,
            "ok": not self.problems,
            "heads_checked": len(heads),
            "problems": self.problems[:MAX_PROBLEMS],
        }

    # -- the tree, recomputed from the entries ---------------------------------------------------
    async def _recompute(self, conn: AsyncConnection, size: int, heads: list[HeadCheck]) -> bool:
        tree = CompactRange(self.hasher)
        by_size = {c.head.tree_size: c for c in heads}
        if 0 in by_size:
            by_size[0].recomputed = tree.root()
        boundaries = sorted(by_size)
        for start in range(0, size, STEP):
            end = min(size, start + STEP)
            entries = await repo.entries_range(conn, start, end)
            have = {e.leaf_index for e in entries}
            missing = [i for i in range(start, end) if i not in have]
            for i in missing[:MAX_PROBLEMS]:
                self.problems.append({"code": "entry_missing", "leaf_index": i})
            if missing:
                return False
            created: dict[NodeId, bytes] = {}
            pos = start
            for b in [x for x in boundaries if start < x <= end] + [end]:
                if b <= pos:
                    continue
                created.update(tree.append(
                    [self.hasher.leaf(e.leaf_bytes()) for e in entries[pos - start:b - start]]))
                pos = b
                if b in by_size:
                    by_size[b].recomputed = tree.root()
            await self._compare_nodes(conn, created, {e.leaf_index: e for e in entries})
            if len(self.problems) > MAX_PROBLEMS:
                return False
        return True

    async def _compare_nodes(
        self, conn: AsyncConnection, created: dict[NodeId, bytes], entries: dict[int, Entry]
    ) -> None:
        children = {(lvl - 1, 2 * idx + k) for lvl, idx in created if lvl for k in (0, 1)}
        parents = {(lvl + 1, idx >> 1) for lvl, idx in created if lvl == 0}
        stored = await repo.load_nodes(conn, created.keys() | children | parents)
        for nid in sorted(created):
            lvl, idx = nid
            row = stored.get(nid)
            if row == created[nid]:
                continue
            if row is None:
                self.problems.append({"code": "node_missing", "level": lvl, "index": idx,
                                      "leaves": _leaves(lvl, idx)})
                continue
            if lvl and self._agrees_with_children(stored, lvl, idx, row):
                self.consequences.append(nid)  # rows below it changed, not this one
                continue
            if lvl:
                self.problems.append({"code": "node_altered", "level": lvl, "index": idx,
                                      "leaves": _leaves(lvl, idx)})
                continue
            entry = entries[idx]
            parent = (1, idx >> 1)
            if parent in created and stored.get(parent) == created[parent]:
                # the entry still gives the tree above it: the leaf's own row was rewritten
                self.problems.append({"code": "node_altered", "level": 0, "index": idx,
                                      "leaves": [idx, idx],
                                      "storage_number": entry.storage_number})
            else:
                self.problems.append(self._entry_problem(
                    entry, "the entry no longer hashes to its leaf in the tree"))

    def _agrees_with_children(
        self, stored: Mapping[NodeId, bytes], lvl: int, idx: int, row: bytes
    ) -> bool:
        left, right = stored.get((lvl - 1, 2 * idx)), stored.get((lvl - 1, 2 * idx + 1))
        return left is not None and right is not None and self.hasher.node(left, right) == row

    def _entry_problem(self, entry: Entry, why: str) -> dict[str, Any]:
        return {
            "code": "entry_altered",
            "leaf_index": entry.leaf_index,
            "storage_number": entry.storage_number,
            "detail": f"evidence {entry.storage_number} (leaf {entry.leaf_index}): {why}",
        }

    # -- the signed heads ------------------------------------------------------------------------
    async def _compare_heads(self, conn: AsyncConnection, heads: list[HeadCheck]) -> None:
        """The first validly signed head that the entries no longer give is where the log
        was rewritten; the last one before it that they do give bounds it from below."""
        good_size = 0
        first_bad: HeadCheck | None = None
        later_bad = 0
        for c in heads:
            if not c.signature_ok or c.recomputed is None:
                continue
            if c.matches and first_bad is None:
                good_size = c.head.tree_size
            elif not c.matches:
                if first_bad is None:
                    first_bad = c
                else:
                    later_bad += 1
        if first_bad is not None:
            h = first_bad.head
            self.problems.append({
                "code": "head_root_mismatch",
                "tree_size": h.tree_size,
                "timestamp": h.timestamp,
                "later_heads_disagreeing": later_bad,
                "detail": f"the entries give root {first_bad.recomputed.hex()} at size"  # type: ignore[union-attr]
                f" {h.tree_size}; the validly signed head of that size says {h.root_hash.hex()}"
                f" (the signed head of size {good_size} still matches)",
            })
            await self._name_entries(conn, good_size, h.tree_size,
                                     f"the validly signed head of size {h.tree_size} no longer"
                                     f" matches the entries, and the one of size {good_size}"
                                     " still does")
            return
        unsigned = [c for c in heads if not c.signature_ok and c.head.tree_size > good_size]
        if unsigned:
            top = unsigned[-1].head.tree_size
            self.problems.append({
                "code": "entries_unverified",
                "leaves": [good_size, top - 1],
                "detail": f"no validly signed head covers leaves {good_size}..{top - 1}: the"
                f" heads above size {good_size} were rewritten, so these entries may have been"
                " too",
            })

    async def _name_entries(self, conn: AsyncConnection, lo: int, hi: int, why: str) -> None:
        """Entries in [lo, hi), of which one or more were rewritten consistently (their rows
        agree with one another; only a signed head shows the change)."""
        for p in self.problems:
            at = _first_leaf(p)
            if p["code"] in ("entry_altered", "node_altered") and at is not None and lo <= at < hi:
                return  # already named by its rows
        entries = await repo.entries_range(conn, lo, min(hi, lo + MAX_NAMED))
        if hi - lo == 1:
            self.problems.append(self._entry_problem(entries[0], why))
        else:
            self.problems.append({
                "code": "entries_altered",
                "leaves": [lo, hi - 1],
                "storage_numbers": [e.storage_number for e in entries],
                "detail": f"one or more of leaves {lo}..{hi - 1} were rewritten: {why}",
            })

    def _attach_consequences(self) -> None:
        causes = [p for p in self.problems if p["code"] in
                  ("entry_altered", "node_altered", "node_missing")]
        for lvl, idx in self.consequences:
            first, last = _leaves(lvl, idx)
            for p in causes:
                at = _first_leaf(p)
                if at is not None and first <= at <= last:
                    p.setdefault("consequences", []).append(
                        {"level": lvl, "index": idx, "leaves": [first, last]})
                    break

