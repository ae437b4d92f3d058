#!/usr/bin/env python3
"""The benchmark run behind `make bench`: cohort's figures and the peers'
(nginx, pgAgent, Slurm) in one run on this machine, printed as a table
and written to bench/results/latest.json. Started by bench/run.sh, which
provides $BENCH_TMP and stops every recorded PID when the run ends.

usage: bench.py BUILD_DIR quick|full RESULTS_DIR

A part that fails or a peer that cannot run is reported in the table with
its reason; no figure is ever estimated."""
import json
import os
import sys
import time

import bench_cohort
import bench_peers

# sched_runs: a p99 of 30 samples is their maximum, one noisy instant;
# of 120 it is the second highest (two minutes of a 1 s schedule).
CONFIGS = {
    "quick": {"fanout_sizes": [100, 1000], "rounds": 3, "renew_n": 1000,
              "renew_s": 5, "ingest_uploaders": 8, "ingest_outcomes": 20000,
              "idle_s": 15, "sched_runs": 10, "due_n": 100,
              "pg_trials": 3, "slurm_jobs": 100, "latency_trials": 5},
    "full": {"fanout_sizes": [100, 1000, 10000], "rounds": 3,
             "renew_n": 1000, "renew_s": 10, "ingest_uploaders": 8,
             "ingest_outcomes": 100000, "idle_s": 60, "sched_runs": 120,
             "due_n": 500, "pg_trials": 10, "slurm_jobs": 1000,
             "latency_trials": 20},
}


def attempt(results, key, fn, *args):
    """results[key] = fn(*args), or {"unavailable"|"failed": reason}."""
    t0 = time.monotonic()
    try:
        results[key] = fn(*args)
    except bench_peers.Unavailable as e:
        results[key] = {"unavailable": str(e)}
    except Exception as e:  # reported in the table, the run goes on
        results[key] = {"failed": f"{type(e).__name__}: {e}"}
    results[key]["wall_s"] = round(time.monotonic() - t0, 1)
    print(f"  {key}: {results[key]['wall_s']} s", file=sys.stderr)


def target_figures(build, root, cfg):
    out = {}
    tb = bench_cohort.TargetBench(build, root)
    try:
        attempt(out, "idle", tb.idle, cfg["idle_s"])
        attempt(out, "sched_latency", tb.sched_latency, cfg["sched_runs"])
        attempt(out, "due_at_once", tb.due_at_once, cfg["due_n"],
                3 + cfg["due_n"] // 100)
        attempt(out, "start_to_outcome", tb.start_to_outcome,
                cfg["latency_trials"])
        attempt(out, "many_starts", tb.many_starts, cfg["slurm_jobs"])
    finally:
        tb.close()
    return out


def main():
    build, mode, results_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg = CONFIGS[mode]
    root = os.environ["BENCH_TMP"]
    res = {"mode": mode, "config": cfg,
           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "cores": os.cpu_count(), "loadavg_start": os.getloadavg()}
    print(f"cohort bench ({mode}): {os.cpu_count()} cores, load average "
          f"{res['loadavg_start'][0]:.2f} at start", file=sys.stderr)
    t0 = time.monotonic()

    def nginx(master_dir, creds, n, seconds, body_bytes):
        return bench_peers.nginx_renew(build, master_dir, creds, n, seconds,
                                       body_bytes)
    attempt(res, "fleet", bench_cohort.fleet_figures, build,
            os.path.join(root, "fleet"), cfg, nginx)
    attempt(res, "target", target_figures, build,
            os.path.join(root, "target"), cfg)
    attempt(res, "pgagent", bench_peers.pgagent_figures, cfg["pg_trials"],
            cfg["due_n"])
    attempt(res, "slurm", bench_peers.slurm_figures, cfg["slurm_jobs"],
            cfg["latency_trials"])
    res["loadavg_end"] = os.getloadavg()
    res["wall_s"] = round(time.monotonic() - t0, 1)
    import bench_table
    rows = bench_table.rows(res)
    res["table"] = rows
    text = bench_table.render(res, rows)
    print(text)
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "latest.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(results_dir, "latest.txt"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
