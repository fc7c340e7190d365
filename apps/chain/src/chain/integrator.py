"""The background integrator: appends queue up and are written to the tree in batches.

Every append waits on a future; the integrator takes whatever is queued (up to
``batch_max_size``), assigns leaf indices, storage numbers and one integrated time,
extends the tree from its in-memory compact range, signs the new head, and commits
entries, new nodes and head in one transaction. Only then are the futures resolved,
each with its inclusion proof (computed from the batch and the old frontier, with no
extra query). A failed commit fails the whole batch: nothing half-written.

On start the tree is resumed from the stored head and the <= 64 node rows of its
compact range: nothing is recomputed. The head must carry the node's signature and its
witnesses' valid cosignatures, and the stored nodes must prove it consistent with the signed
head before it (chain.audit.verify_latest_head): a node never signs on top of a rewritten log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from chain.audit import verify_latest_head
from chain.domain.heads import TreeHead, sign_head
from chain.domain.leaf import Entry, Submission
from chain.domain.merkle import CompactRange, TreeHasher, batch_getter, hashes_for, inclusion_ranges
from chain.domain.signing import Signer
from chain.observability import Metrics
from chain.store import repository as repo
from chain.verifier import LogKey

log = logging.getLogger("chain.integrator")


class Overloaded(RuntimeError):
    """The append queue is full."""


class IntegrationFailed(RuntimeError):
    """The batch holding an append could not be committed; nothing of it was written."""


@dataclass(frozen=True)
class Receipt:
    entry: Entry
    leaf_hash: bytes
    proof: list[bytes]
    head: TreeHead


@dataclass
class _Pending:
    submission: Submission
    future: asyncio.Future[Receipt]
    queued_at: float


class Integrator:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        signer: Signer,
        origin: str,
        *,
        hasher: TreeHasher,
        metrics: Metrics,
        storage_number_prefix: str,
        batch_max_size: int,
        batch_linger_ms: float,
        queue_max: int,
        witness_keys: Mapping[str, LogKey] | None = None,
    ) -> None:
        self.pool, self.signer, self.origin, self.hasher = pool, signer, origin, hasher
        self.metrics = metrics
        self.prefix = storage_number_prefix
        self.batch_max_size, self.linger = batch_max_size, batch_linger_ms / 1000
        self.queue_max = queue_max
        self.own_key = LogKey(signer.algorithm, signer.public_key.hex())
        self.witness_keys = dict(witness_keys or {})
        self.tree = CompactRange(hasher)
        self.head: TreeHead | None = None
        self._queue: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._head_listeners: list[asyncio.Event] = []

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            stored = await repo.lock_integration(conn)
            if stored < 0:
                await self._sign_empty_head(conn)
            else:
                await self._resume(conn, stored, verify=True)
        self._task = asyncio.create_task(self._run(), name="chain-integrator")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for p in self._queue:
            if not p.future.done():
                p.future.set_exception(IntegrationFailed("the service is stopping"))
        self._queue.clear()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def on_new_head(self) -> asyncio.Event:
        ev = asyncio.Event()
        self._head_listeners.append(ev)
        return ev

    async def _sign_empty_head(self, conn) -> None:  # type: ignore[no-untyped-def]
        self.tree = CompactRange(self.hasher)
        head = sign_head(self.signer, self.origin, 0, self.tree.root(), datetime.now(UTC))
        await repo.integrate(conn, [], {}, head)
        self._set_head(head, nodes_loaded=0)

    async def _resume(self, conn, size: int, verify: bool = False) -> None:  # type: ignore[no-untyped-def]
        head = await repo.head_at(conn, self.origin, size)
        assert head is not None
        if verify:  # on start: never sign on top of a head this node did not sign
            await verify_latest_head(conn, self.hasher, head, self.own_key, self.witness_keys)
        ids = CompactRange.node_ids(size)
        nodes = await repo.load_nodes(conn, ids)
        tree = CompactRange.from_nodes(self.hasher, size, nodes)
        if tree.root() != head.root_hash:
            raise RuntimeError(
                f"stored tree nodes of size {size} give root {tree.root().hex()}, but the signed"
                f" head says {head.root_hash.hex()}: the tree_nodes table was altered"
            )
        self.tree = tree
        self._set_head(head, nodes_loaded=len(nodes))
        log.info("tree resumed", extra={"tree_size": size, "nodes_loaded": len(nodes)})

    def _set_head(self, head: TreeHead, nodes_loaded: int | None = None) -> None:
        self.head = head
        self.metrics.tree_size.set(head.tree_size)
        if nodes_loaded is not None:
            self.metrics.nodes_loaded_at_start.set(nodes_loaded)
        for ev in self._head_listeners:
            ev.set()

    # -- appends ---------------------------------------------------------------------------------
    def _enqueue(self, subs: Sequence[Submission]) -> list[asyncio.Future[Receipt]]:
        if len(self._queue) + len(subs) > self.queue_max:
            raise Overloaded(f"{len(self._queue)} appends are waiting; try again shortly")
        loop = asyncio.get_running_loop()
        now = time.perf_counter()
        futs = []
        for s in subs:
            fut: asyncio.Future[Receipt] = loop.create_future()
            self._queue.append(_Pending(s, fut, now))
            futs.append(fut)
        self.metrics.queue_depth.set(len(self._queue))
        self._wakeup.set()
        return futs

    async def append(self, sub: Submission) -> Receipt:
        (fut,) = self._enqueue([sub])
        return await fut

    async def append_many(self, subs: Sequence[Submission]) -> list[Receipt]:
        return list(await asyncio.gather(*self._enqueue(subs)))

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            if self.linger and len(self._queue) < self.batch_max_size:
                await asyncio.sleep(self.linger)
            batch = self._queue[: self.batch_max_size]
            del self._queue[: self.batch_max_size]
            self.metrics.queue_depth.set(len(self._queue))
            if not self._queue:
                self._wakeup.clear()
            if not batch:
                continue
            try:
                await self._integrate(batch)
            except asyncio.CancelledError:
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(IntegrationFailed("the service is stopping"))
                raise
            except Exception as exc:
                self.metrics.integration_failures.inc()
                log.exception("batch failed", extra={"batch": len(batch)})
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(IntegrationFailed(str(exc)))
                await asyncio.sleep(0.05)

    def new_storage_number(self) -> str:
        return f"{self.prefix}-{secrets.token_hex(10).upper()}"

    async def _integrate(self, batch: list[_Pending]) -> None:
        t0 = time.perf_counter()
        async with self.pool.connection() as conn, conn.transaction():
            stored = await repo.lock_integration(conn)
            if stored != self.tree.size:  # another replica integrated meanwhile
                await self._resume(conn, stored)
            now = datetime.now(UTC)
            start = self.tree.size
            entries = [
                Entry(
                    start + i,
                    self.new_storage_number(),
                    p.submission.digest_alg,
                    p.submission.digest,
                    p.submission.submitter,
                    p.submission.metadata,
                    now,
                )
                for i, p in enumerate(batch)
            ]
            leaf_hashes = [self.hasher.leaf(e.leaf_bytes()) for e in entries]
            before = self.tree.copy()
            tree = self.tree.copy()
            created = tree.append(leaf_hashes)
            head = sign_head(self.signer, self.origin, tree.size, tree.root(), now)
            await repo.integrate(conn, entries, created, head)
        # committed
        self.tree = tree
        self._set_head(head)
        done = time.perf_counter()
        self.metrics.integration_seconds.observe(done - t0)
        self.metrics.batch_size.observe(len(batch))
        get = batch_getter(before, created)
        for p, e, lh in zip(batch, entries, leaf_hashes, strict=True):
            self.metrics.appends.labels(e.digest_alg).inc()
            self.metrics.inclusion_seconds.observe(done - p.queued_at)
            if not p.future.done():
                proof = hashes_for(self.hasher, inclusion_ranges(e.leaf_index, tree.size), get)
                p.future.set_result(Receipt(e, lh, proof, head))
