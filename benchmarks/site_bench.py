"""Benchmark: the site playbook on the lab, cold, warm and converged, per play (each play is
one host group's role) with the ten slowest tasks; optionally beside another revision of the
roles on the same lab in the same run ("before"), so that the ratio holds on a noisy machine.

  converged  the site playbook again on a configured lab (what production runs nightly)
  warm       the lab's hosts remade from the images already built, then the site playbook
  cold       the server image (the roles' packages) rebuilt too, then hosts and playbook

Run as root on the lab (`courtcloud lab up` first):
    .venv/bin/python benchmarks/site_bench.py converged [--before REV] [--limit HOSTS]
        [--strategies linear,mitogen_linear]
    .venv/bin/python benchmarks/site_bench.py warm|cold
Prints a table and writes benchmarks/results/site-<kind>.json. `--before REV` runs the
converged playbook from a git worktree of REV, then from this tree, on the same hosts: the
two revisions' roles may each rewrite a file the other wrote (their changed counts show it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "benchmarks" / "results"
ELAPSED = re.compile(r"^\w+ \d+ \w+ \d{4} +[\d:]+ [+-]\d{4} \(([\d:.]+)\) +([\d:.]+) \*+ *$", re.M)


def seconds(clock: str) -> float:
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse(output: str) -> dict:
    """profile_tasks' output: results per host, time per play, the slowest tasks."""
    counts = [dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
              for line in re.findall(r"^\S+\s+:\s+(ok=.*)$", output, flags=re.M)]
    plays: list[dict] = []
    for match in re.finditer(r"^PLAY \[(.+?)\] \*+\n(.*)$", output, flags=re.M):
        stamp = ELAPSED.match(match.group(2))
        if stamp:
            plays.append({"play": match.group(1), "start_s": seconds(stamp.group(2))})
    end = ELAPSED.findall(output)
    total = seconds(end[-1][1]) if end else 0.0
    ends = [p["start_s"] for p in plays[1:]] + [total]
    for play, play_end in zip(plays, ends, strict=True):
        play["seconds"] = round(play_end - play.pop("start_s"), 1)
    recap = output.split("TASKS RECAP", 1)[-1]
    slowest = [{"task": t.strip(), "seconds": float(s)} for t, s in
               re.findall(r"^(.+?) -+ ([\d.]+)s$", recap, flags=re.M)][:10]
    return {"hosts": len(counts),
            "task_results": sum(c["ok"] + c["changed"] + c.get("skipped", 0) for c in counts),
            "changed": sum(c["changed"] for c in counts),
            "failed": sum(c["failed"] + c["unreachable"] for c in counts),
            "plays": plays, "slowest": slowest}


def run(args: list[str], cwd: Path, label: str,
        strategy: str | None = None) -> tuple[float, str, str]:
    print(f"{label}: {' '.join(args[2:])} ...", file=sys.stderr, flush=True)
    env = {**os.environ, **({"COURTCLOUD_ANSIBLE_STRATEGY": strategy} if strategy else {})}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "courtcloud", *args], cwd=cwd, text=True,
                          capture_output=True, check=False, env=env)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{label} failed ({wall:.0f} s):\n{proc.stdout[-3000:]}{proc.stderr[-1500:]}")
    return wall, proc.stdout, proc.stderr


def configure(project: Path, limit: str | None, label: str,
              strategy: str | None = None) -> dict:
    args = ["lab", "configure", "--project-dir", str(project)]
    if limit:
        args += ["--limit", limit]
    wall, out, err = run(args, project, label, strategy)
    return {"seconds": round(wall, 1), **parse(out + err)}


def remake_hosts(server_image: bool) -> None:
    """Remove the lab's hosts and their pods (and the server image) so that `lab up` makes
    them anew."""
    sys.path.insert(0, str(PROJECT))
    from courtcloud.lab.plan import SERVER_IMAGE, lab_plan
    from courtcloud.lab.platform import remove_pods_on
    from courtcloud.lab.podman import podman, remove_containers
    from courtcloud.model import load_project_estate

    hosts = [h.container for h in lab_plan(load_project_estate(PROJECT, "lab")).hosts]
    for host in hosts:
        remove_pods_on(host)
    remove_containers(*hosts)
    if server_image:
        podman("rmi", "-f", SERVER_IMAGE, check=False)


def print_table(results: dict) -> None:
    print(f"\n{'run':<12} {'hosts':>5} {'results':>8} {'changed':>8} {'failed':>7} {'seconds':>8}")
    for name, r in results.items():
        print(f"{name:<12} {r['hosts']:>5} {r['task_results']:>8} {r['changed']:>8} "
              f"{r['failed']:>7} {r['seconds']:>8.1f}")
    for name, r in results.items():
        print(f"\n{name}: time per play")
        for play in r["plays"]:
            print(f"  {play['seconds']:>7.1f} s  {play['play']}")
        print(f"{name}: the ten slowest tasks")
        for task in r["slowest"]:
            print(f"  {task['seconds']:>7.1f} s  {task['task']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["converged", "warm", "cold"])
    parser.add_argument("--limit", help="only these hosts (converged runs)")
    parser.add_argument("--before", metavar="REV",
                        help="converged: also run REV's roles first, on the same hosts")
    parser.add_argument("--strategies", metavar="A,B",
                        help="converged: one run per Ansible strategy, back to back (e.g. "
                             "linear,mitogen_linear: Ansible's own beside Mitogen's)")
    options = parser.parse_args()

    results: dict[str, dict] = {}
    if options.kind == "converged":
        if options.before:
            with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
                tree = Path(tmp) / "before"
                subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach",
                                str(tree), options.before], check=True, capture_output=True)
                try:
                    # Once to bring the hosts to REV's state, once to time it converged.
                    configure(tree, options.limit, f"before ({options.before}), settle")
                    results["before"] = configure(tree, options.limit, "before, converged")
                finally:
                    subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force",
                                    str(tree)], check=False, capture_output=True)
            configure(PROJECT, options.limit, "after, settle")
        if options.strategies:
            for strategy in options.strategies.split(","):
                results[strategy] = configure(PROJECT, options.limit, f"converged, {strategy}",
                                              strategy)
        else:
            results["converged"] = configure(PROJECT, options.limit, "converged")
    else:
        remake_hosts(server_image=options.kind == "cold")
        # --json: the summary on stdout, the playbook's output on stderr.
        wall, out, err = run(["lab", "up", "--json", "--project-dir", str(PROJECT)], PROJECT,
                             f"{options.kind} lab up")
        results[options.kind] = {"seconds": round(wall, 1), **parse(err),
                                 "lab_up_steps_s": json.loads(out).get("timings_s", {})}
    print_table(results)
    if "before" in results and "converged" in results:
        ratio = round(results["before"]["seconds"] / results["converged"]["seconds"], 2)
        print(f"\nbefore / after (converged): {ratio}x")
        results["ratio_before_after"] = ratio
    if options.strategies and len(options.strategies.split(",")) == 2:
        first, second = options.strategies.split(",")
        ratio = round(results[first]["seconds"] / results[second]["seconds"], 2)
        print(f"\n{first} / {second} (converged): {ratio}x")
        results[f"ratio_{first}_over_{second}"] = ratio
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"site-{options.kind}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
