"""Benchmark: the site playbook's converged re-run on the lab, over SSH (the lab's default,
as production) and over `podman exec` (the peer), on the same hosts in the same run; then,
with --full, the whole lab's re-run over SSH.

Needs a configured lab (`courtcloud lab up && courtcloud lab configure`). Prints a table and
writes benchmarks/results/site.json. Run as root:
    .venv/bin/python benchmarks/site_bench.py [--limit HOSTS] [--full]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# One host of each kind that carries a service: baseline, firewall and its service's role.
DEFAULT_LIMIT = "primary-database-1,primary-ceph-1,primary-edge-1,primary-ops-1"


def configure(via: str, limit: str | None) -> dict[str, float | int]:
    args = [sys.executable, "-m", "courtcloud", "lab", "configure", "--project-dir",
            str(PROJECT), "--via", via]
    if limit:
        args += ["--limit", limit]
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=PROJECT)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"lab configure --via {via} failed:\n{proc.stdout[-3000:]}{proc.stderr[-1000:]}")
    counts = [dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
              for line in re.findall(r"^\S+\s+:\s+(ok=.*)$", proc.stdout, flags=re.M)]
    tasks = sum(c["ok"] + c["changed"] + c.get("skipped", 0) for c in counts)
    return {"seconds": round(wall, 1), "hosts": len(counts), "task_results": tasks,
            "changed": sum(c["changed"] for c in counts),
            "results_per_second": round(tasks / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", default=DEFAULT_LIMIT, help="hosts for the side-by-side")
    parser.add_argument("--full", action="store_true", help="also re-run the whole lab (SSH)")
    options = parser.parse_args()

    results: dict[str, dict] = {}
    for via in ("ssh", "podman"):
        print(f"re-run over {via} on {options.limit} ...", file=sys.stderr)
        results[via] = configure(via, options.limit)
    if options.full:
        print("re-run of the whole lab over ssh ...", file=sys.stderr)
        results["ssh_full"] = configure("ssh", None)
    ratio = results["podman"]["seconds"] / results["ssh"]["seconds"]

    print(f"\n{'run':<10} {'hosts':>5} {'results':>8} {'changed':>8} {'seconds':>8} {'per s':>7}")
    for name, r in results.items():
        print(f"{name:<10} {r['hosts']:>5} {r['task_results']:>8} {r['changed']:>8} "
              f"{r['seconds']:>8} {r['results_per_second']:>7}")
    print(f"\npodman exec takes {ratio:.1f}x as long as SSH for the same converged re-run")
    out = PROJECT / "benchmarks" / "results" / "site.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"limit": options.limit, "runs": results,
                               "podman_over_ssh": round(ratio, 2)}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
