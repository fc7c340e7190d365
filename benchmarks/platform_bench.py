"""Benchmark: the whole platform in the lab.

- `--up cold` (lab down, images and all) or `--up warm` (lab down --keep-images), then the
  full `courtcloud lab up` (images, hosts, site playbook, apps), each step's time printed;
- the memory the running platform uses: the sum of every lab container's resident memory,
  hosts and app pods apart;
- requests per second for a court's mix (4 case reads to 1 filing) through the primary
  site's entry (edge: TLS, WAF, then a worker's ingress: TLS, then the replica), beside the
  same mix sent straight to a litigation replica on a worker (plain HTTP from the other
  worker, as the ingress itself reaches it): the cost of the edge tier and the ingress as a
  ratio. Load comes from locust and goes only to the lab's own containers.

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


def run_locust(base_url: str, host_header: str | None, ca: str | None, token: str,
               seconds: float, users: int) -> dict:
    """The court's mix against one base URL, in this process; returns locust's totals."""
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment
    from requests.adapters import HTTPAdapter

    class SniAdapter(HTTPAdapter):
        """TLS to an address, verified as the published name (what a browser does after
        DNS), without touching this machine's name resolution."""

        def init_poolmanager(self, *args, **kwargs):
            if host_header:
                kwargs["server_hostname"] = host_header
                kwargs["assert_hostname"] = host_header
            super().init_poolmanager(*args, **kwargs)

    headers = {"Authorization": f"Bearer {token}"}
    if host_header:
        headers["Host"] = host_header

    class Litigant(HttpUser):
        host = base_url
        wait_time = between(0, 0)

        def on_start(self) -> None:
            if ca:
                self.client.mount("https://", SniAdapter())
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
    return {"requests": total.num_requests, "failures": total.num_failures,
            "rps": round(total.num_requests / seconds, 1),
            "p50_ms": total.get_response_time_percentile(0.5),
            "p95_ms": total.get_response_time_percentile(0.95)}


def worker_pid(container: str) -> str:
    return subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", container],
                          capture_output=True, text=True, check=True).stdout.strip()


def load(seconds: float, users: int) -> dict:
    from courtcloud.model import entry_address, load_project_estate

    estate = load_project_estate(PROJECT, "lab")
    primary = estate.site("primary")
    name = f"litigation.{estate.court.domain}"
    token = _token("party", f"bench-{uuid.uuid4().hex[:8]}")
    ca = str(STATE / "pki" / "primary" / "ca.crt")
    ssl.create_default_context(cafile=ca)  # fail early if the CA is missing
    entry = run_locust(f"https://{entry_address(primary)}", name, ca, token, seconds, users)
    # Straight to the replica on node-2, from node-1's network (the ingress-to-replicas flow).
    pods = json.loads((STATE / "pods.json").read_text())
    replica = next(p for p in pods if p["site"] == "primary" and p["app"] == "litigation"
                   and p["worker"].endswith("node-2"))
    direct_url = f"http://{replica['worker_address']}:{replica['port']}"
    args = json.dumps({"base_url": direct_url, "host_header": None, "ca": None, "token": token,
                       "seconds": seconds, "users": users})
    proc = subprocess.run(
        ["nsenter", f"--net=/proc/{worker_pid('cc-primary-node-1')}/ns/net", "--",
         sys.executable, __file__, "--locust-only", args],
        capture_output=True, text=True, timeout=seconds + 300, check=False)
    if proc.returncode != 0:
        sys.exit(f"direct load failed: {proc.stderr[-2000:]}")
    direct = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"users": users, "seconds": seconds, "mix": "4 reads : 1 filing",
            "through_entry": entry, "direct_to_replica": direct,
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
    print(f"{'path':<20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'failed':>8}")
    for label, key in (("through the entry", "through_entry"), ("direct to replica",
                                                                 "direct_to_replica")):
        row = lo[key]
        print(f"{label:<20} {row['rps']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['failures']:>8}")
    print(f"entry / direct (req/s): {lo['entry_over_direct_rps']}")


if __name__ == "__main__":
    main()
