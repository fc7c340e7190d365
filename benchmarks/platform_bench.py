"""Benchmark: the whole platform in the lab.

- `--up cold` (lab down, images and all) or `--up warm` (lab down --keep-images), then the
  full `courtcloud lab up` (images, hosts, site playbook, apps), each step's time printed;
- the memory the running platform uses: the sum of every lab container's resident memory,
  hosts and app pods apart;
- requests per second for a court's mix (4 case reads to 1 filing) through the primary
  site's entry (edge: TLS, WAF, then a worker's ingress: TLS, then the replica), beside the
  same mix sent straight to the site's litigation replicas on the workers (plain HTTP from a
  worker, as the ingress itself reaches them): the cost of the edge tier and the ingress as
  a ratio. The load through the entry comes from 16 client addresses (extra addresses of
  this machine on the edge zone's bridge, removed afterwards), since the edge limits each
  client to 20 requests/s; the one-address run is printed beside it. Load comes from locust
  and goes only to the lab's own containers.

Prints a table and writes benchmarks/results/platform.json. Needs the lab up with its apps
(`courtcloud lab up`), or `--up`. Run as root:
    .venv/bin/python benchmarks/platform_bench.py [--up cold|warm] [--seconds 30] [--users 8]
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("COURTCLOUD_STATE_DIR", "/var/lib/courtcloud")) / "lab"
RESULTS = PROJECT / "benchmarks" / "results"


def courtcloud(*args: str, timeout: float = 7200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtcloud", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=PROJECT)


def bring_up(mode: str) -> dict:
    down = ["lab", "down"] + (["--keep-images"] if mode == "warm" else [])
    proc = courtcloud(*down)
    if proc.returncode != 0:
        sys.exit(f"lab down failed: {proc.stderr[-2000:]}")
    start = time.monotonic()
    proc = courtcloud("lab", "up", "--json")
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"lab up failed after {wall:.0f} s: {proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout)
    return {"mode": mode, "wall_s": round(wall, 1), "steps_s": summary["timings_s"]}


def _mb(text: str) -> float:
    number = float("".join(c for c in text if c.isdigit() or c == ".") or 0)
    unit = text.lstrip("0123456789.").strip().lower()
    return number * {"b": 1e-6, "kb": 1e-3, "mb": 1, "gb": 1e3, "kib": 1.024e-3,
                     "mib": 1.048576, "gib": 1073.741824}.get(unit, 1)


def memory() -> dict:
    """Resident memory of every lab container (podman stats), hosts and pods apart."""
    labels = {}
    listing = subprocess.run(["podman", "ps", "--filter", "label=io.courtcloud.lab=lab",
                              "--format", "json"], capture_output=True, text=True, check=True)
    for ctr in json.loads(listing.stdout or "[]"):
        labels[ctr["Names"][0]] = ctr.get("Labels") or {}
    stats = subprocess.run(["podman", "stats", "--no-stream", "--format", "json"],
                           capture_output=True, text=True, check=True)
    hosts = pods = 0.0
    per_pod = {}
    for row in json.loads(stats.stdout or "[]"):
        name = row.get("name") or row.get("Name")
        if name not in labels:
            continue
        used = _mb(row.get("mem_usage", "0B / 0B").split("/")[0].strip())
        if "io.courtcloud.app" in labels[name]:
            pods += used
            per_pod[name] = round(used, 1)
        else:
            hosts += used
    return {"hosts_mb": round(hosts, 1), "pods_mb": round(pods, 1),
            "total_mb": round(hosts + pods, 1), "pods": per_pod}


# --- load ---------------------------------------------------------------------------------

def _token(role: str, subject: str) -> str:
    proc = courtcloud("lab", "token", "--role", role, "--subject", subject, timeout=120)
    if proc.returncode != 0:
        sys.exit(f"lab token failed: {proc.stderr[-1000:]}")
    return proc.stdout.strip()


FILING = {
    "cause": "网络购物合同纠纷", "facts": "原告于网络平台购买商品。被告未按约定发货。",
    "parties": [
        {"side": "plaintiff", "name": "张三", "id_number": "110101199001011234",
         "address": "北京市海淀区", "phone": "+86 138 0000 0000"},
        {"side": "defendant", "kind": "organisation", "name": "北京某网络科技有限公司",
         "id_number": "911101080000000000", "address": "北京市朝阳区", "phone": "010-12345678"}],
    "claims": [{"text": "判令被告退还货款", "amount_fen": 1_000_000}],
}


def run_locust(base_urls: list[str], host_header: str | None, ca: str | None, token: str,
               seconds: float, users: int, sources: list[str] | None = None) -> dict:
    """The court's mix in this process, user i against base_urls[i % n] and, when sources
    are given, from the client address sources[i % m]; returns locust's totals."""
    import itertools

    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment
    from requests.adapters import HTTPAdapter

    class ClientAdapter(HTTPAdapter):
        """TLS to an address, verified as the published name (what a browser does after
        DNS), without touching this machine's name resolution; from one client address."""

        def __init__(self, source: str | None) -> None:
            self.source = source
            super().__init__()

        def init_poolmanager(self, *args, **kwargs):
            if host_header:
                kwargs["server_hostname"] = host_header
                kwargs["assert_hostname"] = host_header
            if self.source:
                kwargs["source_address"] = (self.source, 0)
            super().init_poolmanager(*args, **kwargs)

    headers = {"Authorization": f"Bearer {token}"}
    if host_header:
        headers["Host"] = host_header
    numbering = itertools.count()

    class Litigant(HttpUser):
        host = base_urls[0]
        wait_time = between(0, 0)

        def on_start(self) -> None:
            i = next(numbering)
            self.client.base_url = base_urls[i % len(base_urls)]
            adapter = ClientAdapter(sources[i % len(sources)] if sources else None)
            self.client.mount("https://", adapter)
            self.client.mount("http://", adapter)
            if ca:
                self.client.verify = ca
            self.client.headers.update(headers)
            r = self.client.post("/v1/cases", json=FILING, name="POST /v1/cases")
            self.case = r.json().get("id") if r.status_code == 201 else None

        @task(4)
        def read_case(self) -> None:
            if self.case:
                self.client.get(f"/v1/cases/{self.case}", name="GET /v1/cases/{id}")

        @task(1)
        def file_case(self) -> None:
            self.client.post("/v1/cases", json=FILING, name="POST /v1/cases")

    env = Environment(user_classes=[Litigant])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(5)  # warm up: every user spawned and its first filing made
    env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    total = env.stats.total
    refused = _refused(env)
    return {"requests": total.num_requests, "failures": total.num_failures,
            "refused_429": refused,
            "rps": round(total.num_requests / seconds, 1),
            "p50_ms": total.get_response_time_percentile(0.5),
            "p95_ms": total.get_response_time_percentile(0.95)}


def _refused(env) -> int:
    """Requests the edge refused with 429 (locust records them as errors: 'HTTPError(429 ...')."""
    return sum(e.occurrences for e in env.stats.errors.values() if "429" in str(e.error))


def worker_pid(container: str) -> str:
    return subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", container],
                          capture_output=True, text=True, check=True).stdout.strip()


CLIENTS = 16  # client addresses the entry's load comes from (the edge limits each one)


@contextmanager
def client_addresses(estate, count: int) -> Iterator[list[str]]:
    """Extra addresses for this machine on the primary edge zone's bridge, so that the load
    through the entry comes from many clients (the edge's per-client limit, 20 requests/s,
    would otherwise cap one client), taken from the top of the zone's range, which the lab
    gives no host; removed afterwards."""
    from courtcloud.lab.plan import lab_plan

    plan = lab_plan(estate)
    net = next(n for n in plan.networks if n.site == "primary" and n.zone == "edge")
    taken = {a for h in plan.hosts for _, a in h.networks}
    addresses = [str(a) for a in reversed(list(net.subnet.hosts())) if str(a) not in taken][:count]
    bridge = json.loads(subprocess.run(["podman", "network", "inspect", net.name],
                                       capture_output=True, text=True, check=True).stdout)
    device = bridge[0]["network_interface"]
    added = []
    try:
        for a in addresses:
            subprocess.run(["ip", "addr", "add", f"{a}/32", "dev", device], check=True,
                           capture_output=True)
            added.append(a)
        yield addresses
    finally:
        for a in added:
            subprocess.run(["ip", "addr", "del", f"{a}/32", "dev", device], check=False,
                           capture_output=True)


def load(seconds: float, users: int) -> dict:
    from courtcloud.model import entry_address, load_project_estate

    estate = load_project_estate(PROJECT, "lab")
    primary = estate.site("primary")
    name = f"litigation.{estate.court.domain}"
    token = _token("party", f"bench-{uuid.uuid4().hex[:8]}")
    ca = str(STATE / "pki" / "primary" / "ca.crt")
    ssl.create_default_context(cafile=ca)  # fail early if the CA is missing
    entry_url = [f"https://{entry_address(primary)}"]
    one_client = run_locust(entry_url, name, ca, token, seconds, users)
    with client_addresses(estate, CLIENTS) as sources:
        entry = run_locust(entry_url, name, ca, token, seconds, users, sources)
    # Straight to the primary's replicas (users split between them), from node-1's network
    # namespace (the ingress-to-replicas flow), plain HTTP as the ingress reaches them.
    pods = json.loads((STATE / "pods.json").read_text())
    replicas = [f"http://{p['worker_address']}:{p['port']}" for p in pods
                if p["site"] == "primary" and p["app"] == "litigation"]
    args = json.dumps({"base_urls": replicas, "host_header": None, "ca": None, "token": token,
                       "seconds": seconds, "users": users})
    proc = subprocess.run(
        ["nsenter", f"--net=/proc/{worker_pid('cc-primary-node-1')}/ns/net", "--",
         sys.executable, __file__, "--locust-only", args],
        capture_output=True, text=True, timeout=seconds + 300, check=False)
    if proc.returncode != 0:
        sys.exit(f"direct load failed: {proc.stderr[-2000:]}")
    direct = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"users": users, "seconds": seconds, "mix": "4 reads : 1 filing",
            "clients": CLIENTS, "replicas": len(replicas),
            "through_entry_one_client": one_client,
            "through_entry": entry, "direct_to_replicas": direct,
            "entry_over_direct_rps": round(entry["rps"] / direct["rps"], 3)
            if direct["rps"] else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--up", choices=["cold", "warm"], help="bring the lab up first")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--locust-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.locust_only:
        print(json.dumps(run_locust(**json.loads(args.locust_only))))
        return
    result: dict = {"machine": {"cores": os.cpu_count()}}
    if args.up:
        result["up"] = bring_up(args.up)
    result["memory"] = memory()
    result["load"] = load(args.seconds, args.users)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "platform.json").write_text(json.dumps(result, indent=2) + "\n")
    if "up" in result:
        print(f"lab up ({result['up']['mode']}): {result['up']['wall_s']} s")
        for step, seconds in result["up"]["steps_s"].items():
            print(f"  {step:<28} {seconds:>8.1f} s")
    mem = result["memory"]
    print(f"memory: hosts {mem['hosts_mb']:.0f} MB + pods {mem['pods_mb']:.0f} MB = "
          f"{mem['total_mb']:.0f} MB")
    lo = result["load"]
    print(f"{'path':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>8} {'429':>6}")
    for label, key in (("entry, one client address", "through_entry_one_client"),
                       (f"entry, {lo['clients']} client addresses", "through_entry"),
                       (f"direct to the {lo['replicas']} replicas", "direct_to_replicas")):
        row = lo[key]
        print(f"{label:<34} {row['rps']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['failures']:>8} {row['refused_429']:>6}")
    print(f"entry / direct (req/s): {lo['entry_over_direct_rps']}")


if __name__ == "__main__":
    main()
