"""Failover time of the primary site's Patroni cluster on the lab, printed (not a test).

The leader's container is frozen (`podman pause`: a hung or cut-off node, nothing gets to
shut down cleanly) while a surviving member polls Patroni's REST API every 0.1 s. Reported:
seconds until another member is a running leader, whether a write on it commits (synchronous
mode keeps a sync standby when one is left), and seconds until the old leader, thawed, runs
again as a replica. Run as root with the lab up and playbooks/postgresql.yml applied:

    python3 roles/postgresql_ha/benchmarks/lab_failover.py [--site primary] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import uuid

PATRONICTL = ["patronictl", "-c", "/etc/patroni/config.yml"]
# Runs inside the observer: "<unix time> <leader or -> <its state>", 10 times a second.
PROBE = """
import json, ssl, sys, time, urllib.request
ctx = ssl.create_default_context(cafile='/etc/courtcloud/pki/ca.crt')
ctx.load_cert_chain('/etc/courtcloud/pki/host.crt', '/etc/courtcloud/pki/host.key')
url = sys.argv[1]
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        members = json.load(urllib.request.urlopen(url, context=ctx, timeout=1))['members']
        lead = [m for m in members if m['role'] == 'leader']
        line = f"{lead[0]['name']} {lead[0]['state']}" if lead else '- -'
    except Exception as exc:
        line = f"- {type(exc).__name__}"
    print(f'{time.time():.3f} {line}', flush=True)
    time.sleep(0.1)
"""


def podman(*args: str, check: bool = True) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True,
                          check=check).stdout


def members(container: str) -> list[dict]:
    return json.loads(podman("exec", container, *PATRONICTL, "list", "-f", "json"))


def one_round(site: str, timeout: float) -> dict[str, float | str | bool]:
    """Freeze the leader, time the new one, write on it, thaw the old one, time its rejoin.
    Also reports whether the old leader took the lock back (it must not)."""
    probe_host = f"cc-{site}-database-1"
    cluster = members(probe_host)
    leader = next(m for m in cluster if m["Role"] == "Leader")
    observer = next(m for m in cluster if m["Role"] != "Leader")
    url = f"https://{observer['Host']}:8008/cluster"
    probe = subprocess.Popen(["podman", "exec", f"cc-{observer['Member']}", "python3", "-c",
                              PROBE, url, str(timeout)], stdout=subprocess.PIPE, text=True)
    assert probe.stdout is not None
    probe.stdout.readline()  # the probe answers: start the clock
    frozen_at = time.time()
    podman("pause", f"cc-{leader['Member']}")
    new_leader, failover, committed = "", float("nan"), False
    try:
        for line in probe.stdout:
            stamp, name, state = line.split()
            if name not in ("-", leader["Member"]) and state == "running":
                new_leader, failover = name, float(stamp) - frozen_at
                break
        if new_leader:
            token = str(uuid.uuid4())
            committed = subprocess.run(
                ["podman", "exec", f"cc-{new_leader}", "runuser", "-u", "postgres", "--", "psql",
                 "-XAtq", "-c", "create table if not exists failover_probe (token text);"
                 f"insert into failover_probe values ('{token}')"],
                capture_output=True, text=True, timeout=30, check=False).returncode == 0
    finally:
        podman("unpause", f"cc-{leader['Member']}")
        probe.kill()
    thawed_at = time.time()
    rejoin = float("nan")
    while new_leader and time.time() - thawed_at < timeout:
        states = {m["Member"]: (m["Role"], m["State"]) for m in members(f"cc-{new_leader}")}
        role, state = states.get(leader["Member"], ("", ""))
        if role != "Leader" and state in ("running", "streaming"):
            rejoin = time.time() - thawed_at
            break
        time.sleep(0.5)
    final = next((m["Member"] for m in members(f"cc-{leader['Member']}")
                  if m["Role"] == "Leader"), "")
    return {"old_leader": leader["Member"], "new_leader": new_leader, "leader_after": final,
            "failover_s": round(failover, 2), "write_committed": committed,
            "rejoin_s": round(rejoin, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="primary")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args()
    results = []
    for n in range(args.rounds):
        result = one_round(args.site, args.timeout)
        results.append(result)
        print(f"round {n + 1}: {json.dumps(result)}", flush=True)
        time.sleep(5)
    failovers = [r["failover_s"] for r in results]
    print(f"failover after freezing the leader: median {statistics.median(failovers):.1f} s, "
          f"min {min(failovers):.1f} s, max {max(failovers):.1f} s over {len(failovers)} rounds; "
          f"writes committed on the new leader: "
          f"{sum(bool(r['write_committed']) for r in results)}/{len(results)}")


if __name__ == "__main__":
    main()
