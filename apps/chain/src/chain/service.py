"""The chain node's operations, used by the API: receipts, verification, proofs,
tree heads with quorums, and the witness role (cosigning other sites' heads)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from chain import verifier as v
from chain.audit import Audit
from chain.domain.heads import TreeHead, cosign
from chain.domain.leaf import Entry, format_time, parse_time
from chain.domain.merkle import (
    TreeHasher,
    consistency_ranges,
    hashes_for,
    inclusion_ranges,
    node_ids_for,
)
from chain.domain.signing import Signer
from chain.integrator import Integrator
from chain.observability import Metrics
from chain.problems import Problem, bad_request, conflict, not_found
from chain.settings import Settings, WitnessedLog
from chain.store import repository as repo

log = logging.getLogger("chain.service")


@dataclass
class IntegrityFailure(Exception):
    """Stored data no longer matches what the log signed."""

    reason: str
    detail: str


class ChainService:
    def __init__(
        self,
        settings: Settings,
        pool: AsyncConnectionPool,
        signer: Signer,
        metrics: Metrics,
        integrator: Integrator,
        hasher: TreeHasher,
    ) -> None:
        self.settings, self.pool, self.signer, self.metrics = settings, pool, signer, metrics
        self.integrator, self.hasher = integrator, hasher
        self.origin = settings.node_name
        self.own_key = v.LogKey(signer.algorithm, signer.public_key.hex())
        self.peer_keys = {
            p.name: v.LogKey(p.algorithm, p.public_key) for p in settings.witness_peers
        }
        self.witnessed: dict[str, WitnessedLog] = {w.origin: w for w in settings.witnessed_logs}

    # -- tree heads and proofs ----------------------------------------------------------------
    def verifier(self, quorum: int = 0) -> v.Verifier:
        return v.Verifier(self.origin, self.own_key, self.peer_keys, quorum, self.hasher.name)

    async def head(self, quorum: int = 0, min_size: int = 0) -> TreeHead:
        if quorum > len(self.peer_keys):
            raise bad_request(
                "log.quorum_too_large",
                f"quorum {quorum} exceeds the {len(self.peer_keys)} witnesses this node knows",
            )
        async with self.pool.connection() as conn:
            if quorum == 0:
                head = await repo.latest_head(conn, self.origin)
            else:
                head = await repo.latest_head_with_quorum(
                    conn, self.origin, quorum, list(self.peer_keys), min_size
                )
        if head is None or head.tree_size < min_size:
            raise conflict(
                "log.quorum_not_reached",
                f"no tree head of size >= {min_size} has {quorum} witness cosignatures yet;"
                " retry shortly",
                quorum=quorum,
            )
        return head

    async def _proof(self, conn: AsyncConnection, ranges: list[tuple[int, int]]) -> list[bytes]:
        ids = node_ids_for(ranges)
        nodes = await repo.load_nodes(conn, ids)
        missing = sorted(ids - nodes.keys())
        if missing:
            raise IntegrityFailure("tree_node_missing", f"tree nodes {missing[:5]} are missing")
        return hashes_for(self.hasher, ranges, nodes.__getitem__)

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        async with self.pool.connection() as conn:
            # the stored size, not this process's: other replicas integrate too
            current = await repo.stored_size(conn)
            if not 0 <= index < size <= current:
                raise bad_request(
                    "proof.out_of_range",
                    f"need 0 <= leaf_index < tree_size <= {current};"
                    f" got leaf_index={index}, tree_size={size}",
                )
            return await self._proof(conn, inclusion_ranges(index, size))

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        async with self.pool.connection() as conn:
            current = await repo.stored_size(conn)
            if not 0 <= first <= second <= current:
                raise bad_request(
                    "proof.out_of_range",
                    f"need 0 <= first <= second <= {current}; got first={first}, second={second}",
                )
            if first in (0, second):
                return []
            return await self._proof(conn, consistency_ranges(first, second))

    # -- evidence ---------------------------------------------------------------------------------
    async def bundle(self, storage_number: str, quorum: int = 0) -> dict[str, Any]:
        """Entry, its inclusion proof, and the signed head it is proven against."""
        async with self.pool.connection() as conn:
            entry = await repo.entry_by_storage_number(conn, storage_number)
            if entry is None:
                raise not_found(
                    "evidence.not_found", f"no evidence has storage number {storage_number!r}"
                )
        head = await self.head(quorum, min_size=entry.leaf_index + 1)
        async with self.pool.connection() as conn:
            stored_leaf = await repo.load_nodes(conn, [(0, entry.leaf_index)])
            try:
                proof = await self._proof(conn, inclusion_ranges(entry.leaf_index, head.tree_size))
            except IntegrityFailure as exc:
                raise IntegrityFailure(
                    exc.reason,
                    f"evidence {storage_number} (leaf {entry.leaf_index}): {exc.detail}",
                ) from None
        return {
            "entry": entry.as_dict(),
            "leaf_hash": stored_leaf.get((0, entry.leaf_index), b"").hex(),
            "inclusion_proof": {
                "leaf_index": entry.leaf_index,
                "tree_size": head.tree_size,
                "hashes": [h.hex() for h in proof],
            },
            "tree_head": head.as_dict(),
        }

    async def verify(
        self,
        storage_number: str,
        *,
        digest: str | None = None,
        data_digest: dict[str, str] | None = None,
        quorum: int = 0,
    ) -> dict[str, Any]:
        """Check evidence against the log: digest, stored leaf, inclusion, signatures.

        ``data_digest`` maps algorithm -> hex digest of uploaded original data.
        """
        b = await self.bundle(storage_number, quorum)
        entry = b["entry"]
        if data_digest is not None:
            digest = data_digest[entry["digest_alg"]]
        result: dict[str, Any] = {
            "storage_number": storage_number,
            "leaf_index": entry["leaf_index"],
            "digest_alg": entry["digest_alg"],
            "integrated_time": entry["integrated_time"],
            "tree_size": b["tree_head"]["tree_size"],
            "verified": False,
            "digest_matches": None,
            "failure": None,
            "bundle": b,
        }
        if digest is not None:
            result["digest_matches"] = hmac.compare_digest(digest.lower(), entry["digest"])
        failure = None
        recomputed = self.hasher.leaf(
            Entry(
                entry["leaf_index"],
                entry["storage_number"],
                entry["digest_alg"],
                bytes.fromhex(entry["digest"]),
                entry["submitter"],
                entry["metadata"],
                parse_time(entry["integrated_time"]),
            ).leaf_bytes()
        ).hex()
        if recomputed != b["leaf_hash"]:
            failure = (
                "leaf_altered",
                f"evidence {storage_number} (leaf {entry['leaf_index']}): the stored entry"
                f" hashes to {recomputed}, the tree's leaf is {b['leaf_hash'] or 'missing'}",
            )
        else:
            try:
                self.verifier(quorum).verify_evidence(b)
            except v.VerificationError as exc:
                failure = (
                    exc.reason,
                    f"evidence {storage_number} (leaf {entry['leaf_index']}): {exc.detail}"
                    if storage_number not in exc.detail
                    else exc.detail,
                )
        if failure:
            self.metrics.integrity_failures.labels(failure[0]).inc()
            log.error(
                "integrity failure",
                extra={
                    "storage_number": storage_number,
                    "reason": failure[0],
                    "detail": failure[1],
                },
            )
            result["failure"] = {"code": failure[0], "detail": failure[1]}
        elif result["digest_matches"] is False:
            result["failure"] = {
                "code": "digest_mismatch",
                "detail": f"the {entry['digest_alg']} digest given differs from the one registered"
                f" under {storage_number}",
            }
        else:
            result["verified"] = True
        return result

    # -- witness role: cosigning other sites' heads ---------------------------------------------
    def _witnessed_key(self, origin: str) -> v.LogKey:
        w = self.witnessed.get(origin)
        if w is None:
            raise not_found("witness.unknown_log", f"this node does not witness the log {origin!r}")
        return v.LogKey(w.algorithm, w.public_key)

    def _check_log_signature(self, head: dict[str, Any]) -> tuple[bytes, datetime, bytes]:
        key = self._witnessed_key(head["origin"])
        try:
            root = bytes.fromhex(head["root_hash"])
            sig = bytes.fromhex(head["signature"])
            issued = parse_time(head["timestamp"])
        except ValueError as exc:
            raise bad_request("witness.malformed_head", str(exc)) from None
        msg = v.tree_head_message(head["origin"], head["tree_size"], root.hex(), head["timestamp"])
        if not v.verify_signature(key, msg, sig):
            raise Problem(
                403,
                "witness.bad_signature",
                "Forbidden",
                f"the head of size {head['tree_size']} is not signed by {head['origin']}'s key",
            )
        return root, issued, msg

    async def _alarm(
        self,
        conn: AsyncConnection,
        head: dict[str, Any],
        kind: str,
        known: bytes,
        shown: bytes,
        detail: str,
    ) -> Problem:
        await repo.record_alarm(
            conn, head["origin"], head["tree_size"], kind, known, shown, head, detail
        )
        self.metrics.witness_alarms.labels(head["origin"], kind).inc()
        log.error(
            "witness alarm",
            extra={
                "origin": head["origin"],
                "tree_size": head["tree_size"],
                "kind": kind,
                "detail": detail,
            },
        )
        return conflict(
            f"witness.{kind}", detail, origin=head["origin"], tree_size=head["tree_size"]
        )

    async def observe(self, head: dict[str, Any]) -> dict[str, Any]:
        """Compare a signed head someone was shown with what this witness has seen."""
        root, _, _ = self._check_log_signature(head)
        alarm: Problem | None = None
        async with self.pool.connection() as conn, conn.transaction():
            await repo.lock_witnessed_log(conn, head["origin"])
            known = await repo.witnessed_root_at(conn, head["origin"], head["tree_size"])
            if known is not None and known != root:
                # recorded in this transaction; raised only after it commits
                alarm = await self._alarm(
                    conn,
                    head,
                    "equivocation",
                    known,
                    root,
                    f"{head['origin']} signed two different heads for size {head['tree_size']}:"
                    f" {known.hex()} and {root.hex()}",
                )
        if alarm is not None:
            raise alarm
        return {
            "origin": head["origin"],
            "tree_size": head["tree_size"],
            "consistent": known is not None,
            "known": known is not None,
        }

    async def cosign(
        self, head: dict[str, Any], old_size: int, proof: Sequence[str]
    ) -> dict[str, Any]:
        root, issued, msg = self._check_log_signature(head)
        origin, size = head["origin"], head["tree_size"]
        try:
            proof_b = [bytes.fromhex(p) for p in proof]
        except ValueError:
            raise bad_request(
                "witness.malformed_proof", "consistency_proof items must be hex"
            ) from None
        async with self.pool.connection() as conn:
            alarm: Problem | None = None
            async with conn.transaction():
                await repo.lock_witnessed_log(conn, origin)
                known = await repo.witnessed_root_at(conn, origin, size)
                latest = await repo.witnessed_latest(conn, origin)
                if known is not None and known != root:
                    alarm = await self._alarm(
                        conn,
                        head,
                        "equivocation",
                        known,
                        root,
                        f"{origin} signed two different heads for size {size}:"
                        f" {known.hex()} (cosigned before) and {root.hex()}",
                    )
                elif known is None:
                    latest_size, latest_root = latest or (0, b"")
                    if size < latest_size:
                        raise conflict(
                            "witness.stale_head",
                            f"this witness has cosigned {origin} up to size {latest_size}",
                            latest_size=latest_size,
                        )
                    if old_size != latest_size:
                        raise conflict(
                            "witness.old_size_mismatch",
                            f"this witness's latest size for {origin} is {latest_size},"
                            f" not {old_size}: send a consistency proof from {latest_size}",
                            latest_size=latest_size,
                        )
                    if latest_size:
                        try:
                            v.verify_consistency(
                                self.hasher.name, latest_size, size, proof_b, latest_root, root
                            )
                        except v.VerificationError as exc:
                            alarm = await self._alarm(
                                conn,
                                head,
                                "inconsistent",
                                latest_root,
                                root,
                                f"{origin}'s head of size {size} does not extend the head of size"
                                f" {latest_size} cosigned before: {exc.detail}",
                            )
                    if alarm is None:
                        await repo.record_witnessed(
                            conn,
                            origin,
                            size,
                            root,
                            issued,
                            bytes.fromhex(head["signature"]),
                            datetime.now(UTC),
                        )
            if alarm is not None:
                raise alarm
        cs = cosign(self.signer, self.origin, msg, datetime.now(UTC))
        self.metrics.witness_cosigned.labels(origin).inc()
        return cs.as_dict()

    async def witnessed_latest(self, origin: str) -> dict[str, Any]:
        self._witnessed_key(origin)
        async with self.pool.connection() as conn:
            latest = await repo.witnessed_latest(conn, origin)
        size, root = latest or (0, b"")
        return {"origin": origin, "tree_size": size, "root_hash": root.hex() if latest else None}

    async def alarms(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            rows = await repo.list_alarms(conn, limit)
        for r in rows:
            r["detected_at"] = format_time(r["detected_at"])
        return rows

    async def load_alarm_metrics(self) -> None:
        async with self.pool.connection() as conn:
            for (origin, kind), n in (await repo.alarm_counts(conn)).items():
                self.metrics.witness_alarms.labels(origin, kind).inc(n)

    # -- audit ---------------------------------------------------------------------------
    async def audit(self) -> dict[str, Any]:
        """Recompute the tree from the stored entries and hold it against every signed head
        (chain.audit): names the altered entries, rows and heads."""
        async with self.pool.connection() as conn:
            report = await Audit(self.hasher, self.own_key, self.peer_keys).run(conn, self.origin)
        for p in report["problems"]:
            self.metrics.integrity_failures.labels(p["code"]).inc()
        return report

    def public_key_info(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "algorithm": self.signer.algorithm,
            "public_key": self.signer.public_key.hex(),
            "key_id": self.signer.key_id,
            "tree_hash": self.hasher.name,
            "witnesses": [
                {"name": n, "algorithm": k.algorithm, "public_key": k.public_key_hex}
                for n, k in self.peer_keys.items()
            ],
        }


def digests_of(chunks: Sequence[bytes]) -> dict[str, str]:
    hs = {"sm3": hashlib.new("sm3"), "sha256": hashlib.sha256()}
    for c in chunks:
        for h in hs.values():
            h.update(c)
    return {k: h.hexdigest() for k, h in hs.items()}
