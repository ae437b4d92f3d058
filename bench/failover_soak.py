#!/usr/bin/env python3
"""Failover soak: a master pair on a private PostgreSQL server, two
targets listing both masters, and repeated failovers of three kinds:

  kill    SIGKILL the active master (a standby sees its database session
          gone and takes over without waiting out the lease), then start
          it again as a standby;
  pause   SIGSTOP the active master past its lease (the standby takes over
          when the lease runs out), then SIGCONT it: it must step down;
  drill   `cohortctl drill failover` (the active master gives its lease
          up; the drill times the takeover and checks the ledger).

A START is posted through the pair after every failover. Prints the
takeover times (from the signal or the release to the new master
answering GET /v1/health as active) and the targets' reconnect times as
min/median/max, then checks the ledger: every applied START has exactly
one run. Lease settings are the defaults (lease_ttl_s = 3,
lease_renew_ms = 1000). Exit status 1 when a bound or the ledger fails.

usage: bench/failover_soak.py BUILD_DIR [ROUNDS]   (default 10 of each)"""
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "system", "harness"))
from cohort import Cluster, wait_for  # noqa: E402
from pg import PgServer  # noqa: E402

BOUND_S = 5.0


def active_of(m1, m2):
    return (m1, m2) if m1.is_active() else (m2, m1)


def timed_takeover(standby, since):
    wait_for(standby.is_active, timeout=30, interval=0.01,
             what=f"{standby.name} to take over")
    return time.monotonic() - since


def last_polls(c, prof):
    rows = json.loads(c.ctl(prof, "target", "list", "--json").stdout)
    return {t["name"]: datetime.fromisoformat(
        t["last_poll"].replace("Z", "+00:00")).timestamp()
        for t in rows if t["last_poll"]}


def timed_reconnect(c, prof, names, since_wall, since):
    wait_for(lambda: all(last_polls(c, prof).get(n, 0) >= int(since_wall)
                         for n in names), timeout=30, interval=0.05,
             what="targets to reconnect")
    return time.monotonic() - since


def one_failover(c, prof, m1, m2, kind, names):
    """Returns (takeover_s, reconnect_s)."""
    active, standby = active_of(m1, m2)
    if kind == "drill":
        out = json.loads(c.ctl(prof, "drill", "failover", "--json").stdout)
        if out["lost"] or out["doubled"]:
            raise AssertionError(f"drill ledger: {out}")
        took, t0 = out["takeover_ms"] / 1000.0, time.monotonic()
    else:
        t0 = time.monotonic()
        if kind == "kill":
            active.kill()
        else:
            active.proc.signal(signal.SIGSTOP)
        took = timed_takeover(standby, t0)
    wall, mono = time.time(), time.monotonic()
    if kind == "pause":
        active.proc.signal(signal.SIGCONT)
        wait_for(lambda: active.health()[0] == 503, timeout=30,
                 what="the paused master to step down")
    reconnect = timed_reconnect(c, prof, names, wall, mono)
    if kind == "kill":
        active.restart()
        wait_for(lambda: active.health()[0] == 503, timeout=30,
                 what="the killed master to come back as a standby")
    c.ctl(prof, "job", "start", "tick")
    return took, reconnect


def ledger(c, prof):
    instrs = json.loads(c.ctl(prof, "downloadlist", "--limit", "100000",
                              "--json").stdout)
    runs = json.loads(c.ctl(prof, "history", "--limit", "100000",
                            "--json").stdout)
    starts = [i for i in instrs if i["operation"] == "start"]
    counts = {i["id"]: 0 for i in starts if i["status"] == "applied"}
    for r in runs:
        if r["step"] == 0 and r.get("instr_id") in counts:
            counts[r["instr_id"]] += 1
    return len(starts), counts


def figures(label, xs):
    return (f"{label:<34} n={len(xs):<3} min {min(xs):6.3f}  median "
            f"{statistics.median(xs):6.3f}  max {max(xs):6.3f} s")


def main():
    build = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    pg = PgServer().start()
    root = tempfile.mkdtemp(prefix="cohort-soak-")
    c = Cluster(root, build, pg=pg)
    took = {"kill": [], "pause": [], "drill": []}
    back = {"kill": [], "pause": [], "drill": []}
    ok = True
    try:
        m1, m2 = c.pair()
        prof = c.profile([m1, m2])
        names = ["soak-1", "soak-2"]
        c.enlisted(m1, names, masters=[m1, m2])
        c.ctl(prof, "job", "apply", write_job(root, names))
        for i in range(rounds):
            for kind in ("kill", "pause", "drill"):
                t, r = one_failover(c, prof, m1, m2, kind, names)
                took[kind].append(t)
                back[kind].append(r)
                print(f"round {i + 1:2} {kind:<5} takeover {t:6.3f} s  "
                      f"targets back {r:6.3f} s", flush=True)

        def settled():
            n, counts = ledger(c, prof)
            return n == len(counts) and all(counts.values()) and counts
        counts = wait_for(settled, timeout=60, what="every START to run")
        doubled = sum(1 for v in counts.values() if v > 1)
        print()
        for kind in ("kill", "pause", "drill"):
            print(figures(f"takeover after {kind}", took[kind]))
        every = took["kill"] + took["pause"] + took["drill"]
        print(figures("takeover, all failovers", every))
        for kind in ("kill", "pause", "drill"):
            print(figures(f"targets back after {kind}", back[kind]))
        print(f"ledger: {len(counts)} START instructions applied, "
              f"{sum(counts.values())} runs, 0 lost, {doubled} doubled")
        if max(every) >= BOUND_S or doubled:
            ok = False
            print(f"FAILED: takeover bound {BOUND_S} s or ledger")
    finally:
        c.stop_all()
        pg.stop()
    return 0 if ok else 1


def write_job(root, names):
    path = os.path.join(root, "tick.json")
    with open(path, "w") as f:
        json.dump({"name": "tick", "targets": names,
                   "steps": [{"command": "true"}]}, f)
    return path


if __name__ == "__main__":
    sys.exit(main())
