#!/usr/bin/env python3
"""Time from `cohortctl job start` to both targets' outcomes recorded in the
master's history, over real daemons on 127.0.0.1 (one master, two
targets, a one-step `true` job). Prints p50/p90/max over N trials and the
same-run cost of a bare `cohortctl whoami` call for scale.

usage: bench/e2e_latency.py BUILD_DIR [TRIALS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "system", "harness"))
from cohort import Cluster, api, admin_cert, wait_for  # noqa: E402


def main():
    build = os.path.abspath(sys.argv[1])
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as root:
        c = Cluster(root, build)
        try:
            m = c.master().init().start()
            c.enlisted(m, ["b-1", "b-2"], poll_interval=60)
            m.apply_job({"name": "lat", "targets": ["b-1", "b-2"],
                         "steps": [{"command": "true"}]})
            cert, key = admin_cert(m)
            times, ctl_times = [], []
            for i in range(trials):
                t0 = time.monotonic()
                m.ctl("whoami")
                ctl_times.append(time.monotonic() - t0)
                t0 = time.monotonic()
                m.ctl("job", "start", "lat")
                want = i + 1

                def both():
                    s, rows = api(m, "GET", "/v1/history?job=lat&"
                                  "jobs_only=1&outcome=succeeded&limit=1000",
                                  cert=cert, key=key)
                    per = {}
                    for r in rows:
                        per[r["target"]] = per.get(r["target"], 0) + 1
                    return per.get("b-1", 0) >= want and \
                        per.get("b-2", 0) >= want
                wait_for(both, timeout=30, interval=0.002)
                times.append(time.monotonic() - t0)
            ms = sorted(t * 1000 for t in times)
            cms = statistics.median(t * 1000 for t in ctl_times)
            print(f"job start -> both outcomes recorded ({trials} trials): "
                  f"p50 {statistics.median(ms):.1f} ms, "
                  f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, "
                  f"max {ms[-1]:.1f} ms")
            print(f"same run, one bare cohortctl call (process start + TLS "
                  f"+ request): p50 {cms:.1f} ms")
        finally:
            c.stop_all()


if __name__ == "__main__":
    main()
