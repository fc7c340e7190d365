"""Benchmark: the lab's `up`, cold (images built from nothing) and warm (images built, no
hosts), its converged re-run, and the site model's load and validation.

Prints a table and writes benchmarks/results/lab.json. It removes the lab first (`lab down`)
and leaves it up. Run as root:  .venv/bin/python benchmarks/lab_bench.py [--skip-cold]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from courtcloud.model import load_project_estate

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION = ["Pulumi.primary.yaml", "Pulumi.standby.yaml", "Pulumi.miyun.yaml"]


def run_cli(*args: str) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB) of the largest process in the command's tree, JSON out."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "courtcloud", *args], capture_output=True,
                          text=True, check=False, cwd=PROJECT)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"courtcloud {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    out = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return wall, peak, out


def lab_memory_mb() -> float:
    proc = subprocess.run(["podman", "stats", "--no-stream", "--format", "json"],
                          capture_output=True, text=True, check=True)
    total = 0.0
    for row in json.loads(proc.stdout or "[]"):
        used = row.get("mem_usage", "0B / 0B").split("/")[0].strip()
        number = float("".join(c for c in used if c.isdigit() or c == "."))
        unit = used.lstrip("0123456789.").strip().lower()
        total += number * {"b": 1e-6, "kb": 1e-3, "mb": 1, "gb": 1e3, "kib": 1 / 1024 * 1.024,
                           "mib": 1.048576, "gib": 1073.741824}.get(unit, 1)
    return total


def model_timings(rounds: int = 20) -> dict[str, float]:
    paths = [PROJECT / p for p in PRODUCTION]
    validate, parse = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        load_project_estate(PROJECT, "production")
        validate.append(time.perf_counter() - start)
        start = time.perf_counter()
        for path in paths:
            yaml.safe_load(path.read_text())
        parse.append(time.perf_counter() - start)
    return {"load_and_validate_ms": statistics.median(validate) * 1000,
            "bare_yaml_parse_ms": statistics.median(parse) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-cold", action="store_true", help="keep the built images")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    if not args.skip_cold:
        run_cli("lab", "down")
        wall, peak, out = run_cli("lab", "up", "--json", "--no-configure")
        results["cold up"] = {"wall_s": wall, "peak_rss_mb": peak, "steps_s": out["timings_s"]}
    run_cli("lab", "down", "--keep-images")
    wall, peak, out = run_cli("lab", "up", "--json", "--no-configure")
    results["warm up"] = {"wall_s": wall, "peak_rss_mb": peak, "steps_s": out["timings_s"],
                          "hosts": len(out["hosts"]), "lab_memory_mb": lab_memory_mb()}
    wall, peak, out = run_cli("lab", "up", "--json", "--no-configure")
    results["converged re-run"] = {"wall_s": wall, "peak_rss_mb": peak,
                                   "changes": len(out["changed"])}
    results["model (production stacks)"] = model_timings()

    print(f"{'benchmark':<28}{'wall s':>9}{'peak MB':>9}  detail")
    for name, row in results.items():
        if "wall_s" in row:
            detail = ", ".join(f"{k} {v:.1f}" for k, v in row.get("steps_s", {}).items())
            if "lab_memory_mb" in row:
                detail = f"{row['hosts']} hosts using {row['lab_memory_mb']:.0f} MB; " + detail
            if "changes" in row:
                detail = f"{row['changes']} changes"
            print(f"{name:<28}{row['wall_s']:>9.1f}{row['peak_rss_mb']:>9.0f}  {detail}")
        else:
            ratio = row["load_and_validate_ms"] / row["bare_yaml_parse_ms"]
            print(f"{name:<28}{row['load_and_validate_ms'] / 1000:>9.3f}{'':>9}  "
                  f"median of 20; bare YAML parse {row['bare_yaml_parse_ms']:.1f} ms "
                  f"(validation costs {ratio:.1f}x the parse)")
    out_dir = PROJECT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "lab.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
