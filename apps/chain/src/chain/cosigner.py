"""Asks the witnesses (chain nodes of the other sites) to cosign each new tree head.

For every peer: learn the size it last cosigned for this log, send the new head with a
consistency proof from that size, check the returned cosignature against the peer's
pinned key, and store it. Runs in the background, at most once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC

import httpx

from chain import verifier as v
from chain.domain.heads import Cosignature, TreeHead
from chain.domain.leaf import parse_time
from chain.service import ChainService
from chain.settings import WitnessPeer
from chain.store import repository as repo

log = logging.getLogger("chain.cosigner")


class Cosigner:
    def __init__(self, service: ChainService, client: httpx.AsyncClient) -> None:
        self.service, self.client = service, client
        self.peers = service.settings.witness_peers
        self.interval = service.settings.cosign_interval_ms / 1000
        self._task: asyncio.Task[None] | None = None
        self._cosigned: dict[str, int] = {}

    def start(self) -> None:
        if self.peers:
            self._event = self.service.integrator.on_new_head()
            self._event.set()
            self._task = asyncio.create_task(self._run(), name="chain-cosigner")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            # Woken by this process's new heads, and polling too: with several replicas
            # another process may have integrated. The head comes from the database.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval * 4):
                    await self._event.wait()
            self._event.clear()
            try:
                async with self.service.pool.connection() as conn:
                    head = await repo.latest_head(conn, self.service.origin)
            except Exception:
                log.exception("cannot read the latest head")
                await asyncio.sleep(self.interval)
                continue
            if head is not None and head.tree_size > 0:
                await asyncio.gather(*(self.request(p, head) for p in self.peers))
            await asyncio.sleep(self.interval)

    async def request(self, peer: WitnessPeer, head: TreeHead) -> Cosignature | None:
        """Get one peer's cosignature of ``head``; None (and a metric) on failure."""
        if self._cosigned.get(peer.name, -1) >= head.tree_size:
            return None
        base = str(peer.url).rstrip("/")
        origin = self.service.origin
        try:
            r = await self.client.get(f"{base}/v1/witness/logs/{origin}")
            if r.status_code != 200:
                raise _PeerError(r)
            old = int(r.json()["tree_size"])
            for _ in range(2):
                if old > head.tree_size:
                    self.service.metrics.cosign_errors.labels(peer.name, "witness_ahead").inc()
                    log.error("witness has a larger head than ours", extra={"peer": peer.name})
                    return None
                proof = await self.service.consistency_proof(old, head.tree_size) if old else []
                r = await self.client.post(
                    f"{base}/v1/witness/cosign",
                    json={
                        "head": head.as_dict(),
                        "old_size": old,
                        "consistency_proof": [p.hex() for p in proof],
                    },
                )
                if r.status_code == 409 and r.json().get("code") == "witness.old_size_mismatch":
                    old = int(r.json()["latest_size"])
                    continue
                break
            if r.status_code != 200:
                raise _PeerError(r)
            doc = r.json()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            self.service.metrics.cosign_errors.labels(peer.name, type(exc).__name__).inc()
            log.warning("cosignature request failed", extra={"peer": peer.name, "error": str(exc)})
            return None
        key = v.LogKey(peer.algorithm, peer.public_key)
        try:
            cs = Cosignature(
                doc["witness"],
                doc["key_id"],
                doc["algorithm"],
                parse_time(doc["cosigned_at"]).astimezone(UTC),
                bytes.fromhex(doc["signature"]),
            )
        except (KeyError, ValueError):
            self.service.metrics.cosign_errors.labels(peer.name, "malformed").inc()
            return None
        msg = v.cosignature_message(peer.name, doc["cosigned_at"], head.message())
        if cs.witness != peer.name or not v.verify_signature(key, msg, cs.signature):
            self.service.metrics.cosign_errors.labels(peer.name, "bad_cosignature").inc()
            log.error("cosignature does not verify", extra={"peer": peer.name})
            return None
        async with self.service.pool.connection() as conn:
            await repo.add_cosignature(conn, head.tree_size, cs)
        self._cosigned[peer.name] = head.tree_size
        self.service.metrics.cosignatures.labels(peer.name).inc()
        return cs


class _PeerError(ValueError):
    def __init__(self, r: httpx.Response) -> None:
        try:
            code = r.json().get("code", r.status_code)
        except ValueError:
            code = r.status_code
        super().__init__(f"HTTP {r.status_code} ({code})")
