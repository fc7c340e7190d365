"""Test helpers shared by the chain suite: real nodes on loopback ports, waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from chain.app import create_app
from chain.domain.signing import Signer
from chain.settings import Settings
from chain.verifier import LogKey, Verifier

from courtcloud.testing.postgres import free_loopback_port


@dataclass
class Node:
    """A chain node served by uvicorn on a loopback port, in a thread of its own."""

    name: str
    settings: Settings
    signer: Signer
    port: int = 0
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    client: httpx.Client = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def key(self) -> LogKey:
        return LogKey(self.signer.algorithm, self.signer.public_key.hex())

    def start(self) -> Node:
        self.port = self.port or free_loopback_port()
        app = create_app(self.settings, access_log=False)
        self.app = app
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, name=f"node-{self.name}", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"node {self.name} did not start")
            time.sleep(0.02)
        self.client = httpx.Client(base_url=self.url, timeout=10)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            assert self.thread is not None
            self.thread.join(timeout=30)
            self.client.close()
            self.server = None

    def restart(self) -> Node:
        self.stop()
        return self.start()

    def verifier(self, witnesses: dict[str, LogKey] | None = None, quorum: int = 0) -> Verifier:
        return Verifier(self.name, self.key, witnesses or {}, quorum)

    def metric(self, name: str, **labels: str) -> float | None:
        """A sample's value from the node's own /metrics."""
        from prometheus_client.parser import text_string_to_metric_families

        text = self.client.get("/metrics").text
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return float(s.value)
        return None


def wait_for(pred: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
