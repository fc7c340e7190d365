"""Time and peak memory of the full production program under mocks (all three stacks).

    .venv/bin/python benchmarks/pulumi_bench.py [--rounds N]

Each round runs primary, standby and miyun in deployment order in a fresh process, the
way `courtcloud plan` does, and reports wall time, CPU time, resources declared and the
process's peak resident memory. Prints the figures and writes them as JSON to
benchmarks/results/pulumi_bench.json. Aim: under 15 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

ONE_ROUND = """
import json, resource, sys, time
sys.path.insert(0, {project!r})
started = time.perf_counter(); cpu = time.process_time()
from courtcloud.infra.engine import run_estate
imported = time.perf_counter() - started
runs = run_estate({project!r}, "production")
print(json.dumps({{
    "wall_s": time.perf_counter() - started,
    "cpu_s": time.process_time() - cpu,
    "import_s": imported,
    "stacks": {{name: {{"seconds": run.seconds, "resources": len(run.resources)}}
                for name, run in runs.items()}},
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    results = []
    for index in range(1, rounds + 1):
        out = subprocess.run([sys.executable, "-c", ONE_ROUND.format(project=str(PROJECT))],
                             check=True, capture_output=True, text=True, cwd=PROJECT)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(figures)
        stacks = ", ".join(f"{n} {s['resources']} res {s['seconds']:.2f} s"
                           for n, s in figures["stacks"].items())
        print(f"round {index}/{rounds}: {figures['wall_s']:.2f} s wall, {figures['cpu_s']:.2f} s "
              f"CPU, peak RSS {figures['peak_rss_mb']:.0f} MB ({stacks})", flush=True)
    walls = sorted(r["wall_s"] for r in results)
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": len(__import__("os").sched_getaffinity(0)),
        "rounds": results,
        "median_wall_s": walls[len(walls) // 2],
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "resources": sum(s["resources"] for s in results[0]["stacks"].values()),
    }
    target = PROJECT / "benchmarks" / "results" / "pulumi_bench.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"median {summary['median_wall_s']:.2f} s for {summary['resources']} resources in 3 "
          f"stacks; peak RSS {summary['max_peak_rss_mb']:.0f} MB "
          f"(aim: under 15 s) -> {target.relative_to(PROJECT)}")


if __name__ == "__main__":
    main()
