"""Benchmark of the litigation service (apps/litigation), printed; not a timed test.

Starts its own PostgreSQL 15 (fsync on: real commit costs), moto's S3 server, one chain
node and one litigation service (each a separate process, on loopback), then drives the
main endpoints over HTTP with a bounded number of requests and concurrent clients:

1. filings (``POST /v1/cases``): filings per second, p50/p95 latency;
2. the main reads: one case (``GET /v1/cases/{id}``) and a litigant's case list;
3. the other writes: acceptance, payment, evidence upload (64 KiB PDF to S3, SM3 to the
   chain), and document generation (.docx).

Usage: .venv/bin/python benchmarks/litigation_bench.py [--filings N] [--concurrency C]
       [--json PATH]
The defaults take well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from courtcloud.testing.postgres import PostgresServer, free_loopback_port

VENV_BIN = Path(sys.executable).parent
ISSUER, AUDIENCE = "https://idp.bench.test", "courtcloud-litigation"


def step(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not become ready at {url}")


class Tokens:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "bench", "alg": "ES256", "use": "sig"}]}

    def mint(self, sub: str, roles: list[str]) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + 3600,
            "roles": roles,
            "name": sub,
        }
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": "bench"})


def filing(sub: str, n: int) -> dict[str, Any]:
    return {
        "cause": "网络购物合同纠纷",
        "facts": "原告于网络平台购买商品。被告未按约定发货。" * 5,
        "parties": [
            {
                "side": "plaintiff",
                "name": f"原告{n}",
                "id_number": f"110101199001{n:06d}",
                "account_subject": sub,
                "phone": "+86 138 0000 0000",
            },
            {
                "side": "defendant",
                "kind": "organisation",
                "name": f"被告公司{n % 97}",
                "id_number": f"9111010800000{n % 97:05d}",
            },
        ],
        "claims": [{"text": "判令被告退还货款", "amount_fen": 1_000_000 + n}, {"text": "诉讼费用"}],
    }


def measure(
    name: str, n: int, concurrency: int, call: Callable[[int], httpx.Response], expect: int
) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []

    def one(i: int) -> None:
        t = time.perf_counter()
        r = call(i)
        lat.append(time.perf_counter() - t)
        if r.status_code != expect:
            errors.append(f"{r.status_code} {r.text[:200]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    wall = time.perf_counter() - start
    out = {
        "endpoint": name,
        "requests": n,
        "concurrency": concurrency,
        "per_second": round(n / wall, 1),
        "p50_ms": round(pct(lat, 50) * 1000, 1),
        "p95_ms": round(pct(lat, 95) * 1000, 1),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1),
        "errors": len(errors),
    }
    print(
        f"    {name:<42} {out['per_second']:>7}/s  p50 {out['p50_ms']:>6} ms"
        f"  p95 {out['p95_ms']:>6} ms  errors {len(errors)}",
        flush=True,
    )
    if errors:
        print(f"      first error: {errors[0]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filings", type=int, default=400)
    ap.add_argument("--reads", type=int, default=800)
    ap.add_argument("--uploads", type=int, default=100)
    ap.add_argument("--documents", type=int, default=60)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/litigation_bench.json"))
    args = ap.parse_args()
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = Path(tempfile.mkdtemp(prefix="litigation-bench-"))
    with PostgresServer(fsync=True) as pg:
        try:
            step("PostgreSQL 15 (fsync on), moto S3, chain node, litigation service")
            s3_port = free_loopback_port()
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            s3 = f"http://127.0.0.1:{s3_port}"
            keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-made-now"}
            wait_http(f"{s3}/moto-api/", procs[-1], "moto")
            import boto3

            boto3.client(
                "s3",
                endpoint_url=s3,
                region_name="us-east-1",
                aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            ).create_bucket(Bucket="court-files")
            chain_port = free_loopback_port()
            env = {
                **os.environ,
                "CHAIN_DATABASE_URL": pg.create_database("chain"),
                "CHAIN_NODE_NAME": "primary",
                "CHAIN_EPHEMERAL_KEY": "true",
                "CHAIN_PORT": str(chain_port),
                "CHAIN_LOG_LEVEL": "WARNING",
            }
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "courtcloud-chain")], env=env, stdout=subprocess.DEVNULL
                )
            )
            chain = f"http://127.0.0.1:{chain_port}"
            wait_http(f"{chain}/readyz", procs[-1], "chain")
            tokens = Tokens()
            (tmp / "jwks.json").write_text(json.dumps(tokens.jwks))
            lit_port = free_loopback_port()
            env = {
                **os.environ,
                **keys,
                "LITIGATION_DATABASE_URL": pg.create_database("litigation"),
                "LITIGATION_S3_ENDPOINT_URL": s3,
                "LITIGATION_S3_BUCKET": "court-files",
                "LITIGATION_CHAIN_URL": chain,
                "LITIGATION_JWKS_FILE": str(tmp / "jwks.json"),
                "LITIGATION_TOKEN_ISSUER": ISSUER,
                "LITIGATION_TOKEN_AUDIENCE": AUDIENCE,
                "LITIGATION_PORT": str(lit_port),
                "LITIGATION_LOG_LEVEL": "WARNING",
                "LITIGATION_DB_POOL_SIZE": "10",
            }
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "courtcloud-litigation")], env=env, stdout=subprocess.DEVNULL
                )
            )
            base = f"http://127.0.0.1:{lit_port}"
            wait_http(f"{base}/readyz", procs[-1], "litigation")

            litigants = [f"bench-litigant-{i}" for i in range(args.concurrency)]
            clients: dict[str, httpx.Client] = {}

            def client(sub: str, roles: list[str]) -> httpx.Client:
                if sub not in clients:
                    clients[sub] = httpx.Client(
                        base_url=base,
                        timeout=30,
                        headers={"Authorization": f"Bearer {tokens.mint(sub, roles)}"},
                        limits=httpx.Limits(max_connections=args.concurrency),
                    )
                return clients[sub]

            clerk = client("bench-clerk", ["clerk", "judge"])
            rows: list[dict[str, Any]] = []
            case_ids: list[tuple[str, str]] = []

            def file(i: int) -> httpx.Response:
                sub = litigants[i % len(litigants)]
                r = client(sub, ["litigant"]).post("/v1/cases", json=filing(sub, i))
                if r.status_code == 201:
                    case_ids.append((sub, r.json()["id"]))
                return r

            step(f"measuring ({args.concurrency} concurrent clients, loopback)")
            measure("warm-up (filings)", 40, args.concurrency, file, 201)
            filings = measure(
                "POST /v1/cases (file a case)", args.filings, args.concurrency, file, 201
            )
            rows.append(filings)
            rows.append(
                measure(
                    "GET /v1/cases/{id} (one case)",
                    args.reads,
                    args.concurrency,
                    lambda i: client(case_ids[i % len(case_ids)][0], ["litigant"]).get(
                        f"/v1/cases/{case_ids[i % len(case_ids)][1]}"
                    ),
                    200,
                )
            )
            rows.append(
                measure(
                    "GET /v1/cases (a litigant's list)",
                    args.reads // 2,
                    args.concurrency,
                    lambda i: client(litigants[i % len(litigants)], ["litigant"]).get(
                        "/v1/cases", params={"limit": 20}
                    ),
                    200,
                )
            )
            accept_ids = [cid for _, cid in case_ids[: args.uploads]]
            rows.append(
                measure(
                    "POST /v1/cases/{id}/decision (accept)",
                    len(accept_ids),
                    args.concurrency,
                    lambda i: clerk.post(
                        f"/v1/cases/{accept_ids[i]}/decision",
                        json={"decision": "accept", "judge_subject": "bench-clerk"},
                    ),
                    200,
                )
            )

            def pay(i: int) -> httpx.Response:
                sub, cid = case_ids[i]
                c = client(sub, ["litigant"])
                fee = c.get(f"/v1/cases/{cid}").json()["fees"][0]
                return c.post(
                    f"/v1/cases/{cid}/payments",
                    json={
                        "fee_id": fee["id"],
                        "amount_fen": fee["amount_fen"],
                        "channel": "unionpay",
                        "transaction_reference": f"UP-{uuid.uuid4().hex[:16]}",
                    },
                )

            rows.append(
                measure(
                    "GET+POST /v1/cases/{id}/payments", args.uploads, args.concurrency, pay, 201
                )
            )
            blob = b"%PDF-1.4\n" + os.urandom(64 * 1024) + b"\n%%EOF\n"

            def upload(i: int) -> httpx.Response:
                sub, cid = case_ids[i]
                return client(sub, ["litigant"]).post(
                    f"/v1/cases/{cid}/evidence",
                    params={"title": "证据", "filename": "e.pdf"},
                    content=blob[:-7] + str(i).encode() + blob[-7:],
                    headers={"Content-Type": "application/pdf"},
                )

            rows.append(
                measure(
                    "POST /v1/cases/{id}/evidence (64 KiB, S3+chain)",
                    args.uploads,
                    args.concurrency,
                    upload,
                    201,
                )
            )

            def document(i: int) -> httpx.Response:
                sub, cid = case_ids[i]
                party = client(sub, ["litigant"]).get(f"/v1/cases/{cid}").json()["parties"][0]
                return clerk.post(
                    f"/v1/cases/{cid}/documents",
                    json={"template": "acceptance_notice", "party_id": party["id"]},
                )

            rows.append(
                measure(
                    "GET case + POST documents (notice .docx)",
                    args.documents,
                    args.concurrency,
                    document,
                    201,
                )
            )
            results.update(
                concurrency=args.concurrency,
                cpu_count=os.cpu_count(),
                load_average=os.getloadavg(),
                filings_per_second=filings["per_second"],
                endpoints=rows,
            )
        finally:
            for c in list(locals().get("clients", {}).values()):
                c.close()
            for p in reversed(procs):
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
    step("summary")
    print(
        f"    filings per second: {results.get('filings_per_second')}"
        f" (p95 {rows[0]['p95_ms']} ms) at concurrency {args.concurrency};"
        f" load average {tuple(round(x, 2) for x in results['load_average'])}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"    JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
