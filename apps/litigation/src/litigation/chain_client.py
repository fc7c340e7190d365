"""Client of the evidence chain service (apps/chain): register digests, verify them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from litigation.observability import Metrics


class ChainUnavailable(RuntimeError):
    """The chain did not register or verify (no storage number was obtained)."""


@dataclass(frozen=True)
class Registration:
    storage_number: str
    leaf_index: int
    integrated_time: str


class ChainClient:
    def __init__(self, base_url: str, timeout_s: float, metrics: Metrics) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self.metrics = metrics

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        start = time.perf_counter()
        try:
            return self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise ChainUnavailable(
                f"the chain service did not answer: {type(exc).__name__}"
            ) from None
        finally:
            self.metrics.chain_seconds.observe(time.perf_counter() - start)

    def register(self, sm3_hex: str, submitter: str, metadata: dict[str, str]) -> Registration:
        r = self._call(
            "POST",
            "/v1/evidence",
            json={
                "digest": sm3_hex,
                "digest_alg": "sm3",
                "submitter": submitter,
                "metadata": metadata,
            },
        )
        if r.status_code != 201:
            self.metrics.chain_registrations.labels("refused").inc()
            raise ChainUnavailable(
                f"the chain service refused the digest ({r.status_code}: {_detail(r)})"
            )
        doc = r.json()
        self.metrics.chain_registrations.labels("registered").inc()
        return Registration(doc["storage_number"], int(doc["leaf_index"]), doc["integrated_time"])

    def verify(self, storage_number: str, sm3_hex: str) -> dict[str, Any]:
        """The chain's verdict on a digest. A verdict is what the chain's 200 says (verified,
        or a failure of the entry's own proof); a 404 is an unknown storage number; a 500
        problem is the chain's own log failing its check (``chain.inconsistent``): never
        a verdict on the file. Anything else is ChainUnavailable."""
        r = self._call("POST", f"/v1/evidence/{storage_number}/verify", json={"digest": sm3_hex})
        if r.status_code == 200:
            doc: dict[str, Any] = r.json()
            return doc
        if r.status_code == 404:
            return {"verified": False, "failure": {"code": "chain.not_found", "detail": _detail(r)}}
        if r.status_code == 500 and _code(r).startswith("chain."):
            return {
                "verified": False,
                "failure": {
                    "code": "chain.inconsistent",
                    "detail": "the chain node's own log fails its integrity check for this"
                    f" entry ({_code(r)}: {_detail(r)}); the file itself was not judged",
                },
            }
        raise ChainUnavailable(
            f"the chain service could not verify ({r.status_code}: {_detail(r)})"
        )

    def ready(self) -> None:
        r = self._call("GET", "/readyz")
        if r.status_code != 200:
            raise ChainUnavailable(f"the chain service is not ready ({r.status_code})")


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", ""))[:300]
    except ValueError:
        return r.text[:300]


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code", ""))
    except ValueError:
        return ""
