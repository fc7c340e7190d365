"""Benchmark of the evidence chain (apps/chain), printed; not a timed test.

Starts its own PostgreSQL 15 (fsync on: real commit costs) and one chain node
(uvicorn, a separate process) on loopback, then measures:

1. appends/s over HTTP, one digest per request, each response carrying its inclusion
   proof (so a proof is available the moment the append returns), and the time from
   append to inclusion (client-observed p50/p95, and the server's own histogram);
2. the batch endpoint (many digests per request): entries/s;
3. proof verification with the standalone verifier, in microseconds;
4. SM3 and SM2 throughput: OpenSSL's SM3 (hashlib) and gmalglib, beside pure-Python gmssl
   (``pip install -r benchmarks/requirements.txt``), and an SM2 interoperability check.

Usage: .venv/bin/python benchmarks/chain_bench.py [--appends N] [--concurrency C] [--json PATH]
Keep runs small on shared machines: the defaults take about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chain import verifier as v
from chain.domain.signing import Signer

from courtcloud.testing.postgres import PostgresServer, free_loopback_port


def step(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


# --- a minimal keep-alive HTTP/1.1 client (cheap: the load must not starve the server) --
class Http:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def open(self) -> Http:
        self.r, self.w = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.w.write(head.encode() + body)
        status = int((await self.r.readline()).split()[1])
        length = 0
        while (line := await self.r.readline()) not in (b"\r\n", b""):
            k, _, val = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(val)
        return status, await self.r.readexactly(length)

    def close(self) -> None:
        self.w.close()


async def load_appends(port: int, total: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    last: dict[str, Any] = {}

    async def worker() -> None:
        nonlocal errors, last
        c = await Http("127.0.0.1", port).open()
        try:
            for i in counter:
                digest = hashlib.new("sm3", f"evidence {i} {os.getpid()}".encode()).hexdigest()
                body = json.dumps(
                    {
                        "digest": digest,
                        "submitter": "bench",
                        "metadata": {"case": f"(2024)bench{i % 97}"},
                    }
                ).encode()
                t0 = time.perf_counter()
                status, data = await c.request("POST", "/v1/evidence", body)
                latencies.append(time.perf_counter() - t0)
                if status != 201:
                    errors += 1
                elif i % 997 == 0:
                    last = json.loads(data)
                    last["_digest"] = digest
        finally:
            c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {
        "appends": total,
        "errors": errors,
        "seconds": elapsed,
        "per_second": total / elapsed,
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "sample_receipt": last,
    }


async def load_batches(port: int, requests: int, size: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        c = await Http("127.0.0.1", port).open()
        try:
            for i in counter:
                items = [
                    {
                        "digest": hashlib.sha256(f"b{i}/{j}".encode()).hexdigest(),
                        "digest_alg": "sha256",
                        "submitter": "bench",
                    }
                    for j in range(size)
                ]
                body = json.dumps({"items": items}).encode()
                t0 = time.perf_counter()
                status, _ = await c.request("POST", "/v1/evidence:batch", body)
                latencies.append(time.perf_counter() - t0)
                assert status == 201, status
        finally:
            c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {
        "entries": requests * size,
        "batch": size,
        "per_second": requests * size / elapsed,
        "request_p50_ms": pct(latencies, 50) * 1000,
        "request_p95_ms": pct(latencies, 95) * 1000,
    }


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process and its children (workers) have used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(proc_cpu(int(c)) for c in children)
    return total


def server_histogram(port: int, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """p50/p95 from the node's chain_append_to_inclusion_seconds buckets (upper bounds),
    counting only what happened since ``before``."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    buckets: list[tuple[float, float]] = []
    batches: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "chain_append_to_inclusion_seconds_bucket":
                buckets.append((float(s.labels["le"]), s.value))
            if s.name.startswith("chain_batch_size_"):
                batches[s.name] = s.value
    buckets.sort()
    raw = {"buckets": buckets, "batches": batches}
    if before:
        prev = dict(before["_raw"]["buckets"])
        buckets = [(le, c - prev.get(le, 0)) for le, c in buckets]
        batches = {k: val - before["_raw"]["batches"].get(k, 0) for k, val in batches.items()}
    total = buckets[-1][1] or 1

    def q(p: float) -> float:
        for le, c in buckets:
            if c >= p * total:
                return le
        return float("inf")

    return {
        "p50_le_s": q(0.5),
        "p95_le_s": q(0.95),
        "mean_batch": batches.get("chain_batch_size_sum", 0)
        / max(1, batches.get("chain_batch_size_count", 1)),
        "_raw": raw,
    }


def bench_verify(
    node_key: v.LogKey, origin: str, receipt: dict[str, Any], rounds: int
) -> dict[str, float]:
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]["hashes"]]
    idx, size = receipt["inclusion_proof"]["leaf_index"], receipt["inclusion_proof"]["tree_size"]
    root = bytes.fromhex(receipt["tree_head"]["root_hash"])
    leaf = v.leaf_hash("sm3", v.entry_leaf_bytes(receipt["entry"]))
    t0 = time.perf_counter()
    for _ in range(rounds):
        v.verify_inclusion("sm3", idx, size, leaf, proof, root)
    incl = (time.perf_counter() - t0) / rounds
    ver = v.Verifier(origin, node_key)
    n = max(1, rounds // 20)
    t0 = time.perf_counter()
    for _ in range(n):
        ver.verify_evidence(receipt, digest=receipt["_digest"])
    full = (time.perf_counter() - t0) / n
    return {
        "tree_size": size,
        "proof_hashes": len(proof),
        "inclusion_us": incl * 1e6,
        "receipt_with_sm2_us": full * 1e6,
    }


def rate(fn: Any, seconds: float = 1.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def bench_crypto() -> dict[str, Any]:
    import gmalglib
    from gmalglib.sm2 import SM2

    out: dict[str, Any] = {}
    big = os.urandom(64 * 1024 * 1024)
    t0 = time.perf_counter()
    hashlib.new("sm3", big).digest()
    out["sm3_hashlib_MBps"] = len(big) / (time.perf_counter() - t0) / 1e6
    t0 = time.perf_counter()
    gmalglib.sm3_digest(big)
    out["sm3_gmalglib_MBps"] = len(big) / (time.perf_counter() - t0) / 1e6
    small = os.urandom(64)
    out["sm3_hashlib_64B_per_s"] = rate(lambda: hashlib.new("sm3", small).digest(), 0.5)
    signer = Signer.generate("sm2")
    msg = b"courtcloud-chain tree head v1\nprimary\n1000\n" + b"ab" * 32
    sig = signer.sign(msg)
    verifier_obj = SM2(pk=signer.public_key)
    out["sm2_gmalglib_sign_per_s"] = rate(lambda: signer.sign(msg))
    out["sm2_gmalglib_verify_per_s"] = rate(lambda: verifier_obj.verify(msg, sig))
    ed = Signer.generate("ed25519")
    out["ed25519_sign_per_s"] = rate(lambda: ed.sign(msg), 0.5)
    try:
        from gmssl import func
        from gmssl import sm2 as gsm2
        from gmssl import sm3 as gsm3
    except ImportError:
        out["gmssl"] = "not installed: pip install -r benchmarks/requirements.txt"
        return out
    chunk = os.urandom(64 * 1024)
    t0 = time.perf_counter()
    gsm3.sm3_hash(func.bytes_to_list(chunk))
    out["sm3_gmssl_MBps"] = len(chunk) / (time.perf_counter() - t0) / 1e6
    g = gsm2.CryptSM2(private_key=signer.private_hex(), public_key=signer.public_key[1:].hex())
    out["sm2_gmssl_sign_per_s"] = rate(lambda: g.sign_with_sm3(msg), 2.0)
    gsig = g.sign_with_sm3(msg)
    out["sm2_gmssl_verify_per_s"] = rate(lambda: g.verify_with_sm3(gsig, msg), 2.0)
    # Interoperability: each library verifies the other's SM2-with-SM3 signature.
    out["sm2_interop_gmssl_verifies_gmalglib"] = bool(g.verify_with_sm3(sig.hex(), msg))
    out["sm2_interop_gmalglib_verifies_gmssl"] = bool(verifier_obj.verify(msg, bytes.fromhex(gsig)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--appends", type=int, default=20000)
    ap.add_argument(
        "--concurrency",
        default="64,256",
        help="clients in flight; a comma list runs one load per value",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--batches", type=int, default=40, help="batch requests of --batch-size")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/chain_bench.json"))
    args = ap.parse_args()
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "workers": args.workers,
    }

    step("PostgreSQL 15 (fsync on, synchronous_commit on)")
    with PostgresServer(fsync=True) as pg, tempfile.TemporaryDirectory() as tmp:
        url = pg.create_database("chain_bench")
        signer = Signer.generate("sm2")
        key = Path(tmp) / "node.key"
        key.write_text(signer.private_hex())
        port = free_loopback_port()
        env = dict(
            os.environ,
            CHAIN_DATABASE_URL=url,
            CHAIN_NODE_NAME="bench",
            CHAIN_SIGNING_KEY_FILE=str(key),
            CHAIN_PORT=str(port),
            CHAIN_HOST="127.0.0.1",
            CHAIN_LOG_LEVEL="INFO",
            CHAIN_DB_POOL_MAX="8",
            CHAIN_WORKERS=str(args.workers),
        )
        step(f"chain node on 127.0.0.1:{port} (uvicorn, {args.workers} worker(s), access log on)")
        log = open(Path(tmp) / "node.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "chain.app"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            import urllib.request

            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("chain node did not become ready") from None
                    time.sleep(0.2)
            asyncio.run(load_appends(port, 500, 16))  # warm-up
            results["single_appends"] = []
            for conc in [int(c) for c in str(args.concurrency).split(",")]:
                step(f"{args.appends} single appends at concurrency {conc}")
                before_cpu, before_hist = proc_cpu(proc.pid), server_histogram(port)
                single = asyncio.run(load_appends(port, args.appends, conc))
                single["concurrency"] = conc
                single["server_cpu_ms_per_append"] = (
                    (proc_cpu(proc.pid) - before_cpu) / args.appends * 1000
                )
                single["server"] = server_histogram(port, before_hist)
                receipt = single.pop("sample_receipt")
                results["single_appends"].append(single)
                print(
                    f"    {single['per_second']:.0f} appends/s, p50 {single['p50_ms']:.1f} ms,"
                    f" p95 {single['p95_ms']:.1f} ms, errors {single['errors']},"
                    f" server CPU {single['server_cpu_ms_per_append']:.2f} ms/append"
                )
            step(f"{args.batches} batch requests of {args.batch_size} digests at concurrency 4")
            batch = asyncio.run(load_batches(port, args.batches, args.batch_size, 4))
            results["batch_appends"] = batch
            print(
                f"    {batch['per_second']:.0f} entries/s,"
                f" request p95 {batch['request_p95_ms']:.0f} ms"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
        step("proof verification with the standalone verifier")
        results["verification"] = bench_verify(
            v.LogKey("sm2", signer.public_key.hex()), "bench", receipt, 20000
        )
    step("SM3 / SM2 throughput (OpenSSL, gmalglib, gmssl)")
    results["crypto"] = bench_crypto()

    results["loadavg_end"] = os.getloadavg()
    for s in results["single_appends"]:
        s["server"].pop("_raw", None)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    nan = float("nan")
    b, ver, c = results["batch_appends"], results["verification"], results["crypto"]
    print("\n================ chain benchmark summary ================")
    print(
        f"machine: {results['cpus']} CPUs, load average {results['loadavg_start'][0]:.1f} at start,"
        f" {results['loadavg_end'][0]:.1f} at end; PostgreSQL 15 fsync on; all on this host"
    )
    for s in results["single_appends"]:
        print(
            f"single appends, concurrency {s['concurrency']:3d} (HTTP, proof in response):"
            f" {s['per_second']:6.0f} /s  (n={s['appends']}, errors {s['errors']},"
            f" server CPU {s['server_cpu_ms_per_append']:.2f} ms/append)"
        )
        print(
            f"  append -> inclusion, client:  p50 {s['p50_ms']:6.1f} ms  p95 {s['p95_ms']:6.1f} ms"
            f"  p99 {s['p99_ms']:6.1f} ms"
        )
        print(
            f"  append -> inclusion, server:  p50 <= {s['server']['p50_le_s'] * 1000:.0f} ms"
            f"  p95 <= {s['server']['p95_le_s'] * 1000:.0f} ms"
            f"  (mean batch {s['server']['mean_batch']:.0f})"
        )
    print(
        f"batch endpoint ({b['batch']}/request):       {b['per_second']:8.0f} entries/s"
        f"  (request p95 {b['request_p95_ms']:.0f} ms)"
    )
    print(
        f"inclusion proof verify (size {ver['tree_size']}, {ver['proof_hashes']} hashes):"
        f" {ver['inclusion_us']:.1f} us;"
        f"  whole receipt incl. SM2 head: {ver['receipt_with_sm2_us']:.0f} us"
    )
    print(
        f"SM3: hashlib {c['sm3_hashlib_MBps']:.0f} MB/s,"
        f" gmalglib {c['sm3_gmalglib_MBps']:.0f} MB/s,"
        f" gmssl {c.get('sm3_gmssl_MBps', float('nan')):.3f} MB/s"
    )
    print(
        f"SM2 sign/verify per s: gmalglib {c['sm2_gmalglib_sign_per_s']:.0f}"
        f"/{c['sm2_gmalglib_verify_per_s']:.0f},"
        f" gmssl {c.get('sm2_gmssl_sign_per_s', nan):.0f}"
        f"/{c.get('sm2_gmssl_verify_per_s', nan):.0f};"
        f" Ed25519 sign {c['ed25519_sign_per_s']:.0f}"
    )
    if "sm2_interop_gmssl_verifies_gmalglib" in c:
        print(
            f"SM2 interop: gmssl verifies gmalglib {c['sm2_interop_gmssl_verifies_gmalglib']},"
            f" gmalglib verifies gmssl {c['sm2_interop_gmalglib_verifies_gmssl']}"
        )
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
