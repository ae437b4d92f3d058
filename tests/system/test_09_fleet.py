"""The fleet simulator (bench/fleet) as a delivery test: 300 virtual
targets enlist for real and hold mutual-TLS long-polls to a real master;
the admin makes a group of them, applies a job aimed at it, starts it three
times, changes it, starts it on one target and takes one target out of the
group. Every instruction the master says it posted must reach its target
exactly once and in order, be acknowledged, and every START's run report
must land in the history (see bench/fleet/fleet_check.c)."""
import json
import os
import subprocess

# More than two of the master's reply slices (longpoll.c sends 128 per
# loop turn), so polls that arrive while replies go out are held back and
# served after the last slice: that path must lose and repeat nothing.
N = 300


def test_every_instruction_delivered_exactly_once(cluster):
    # History trimming must not remove runs while the test counts them.
    # N enlistments from one address in a burst: no per-client limit.
    m = cluster.master(extra_conf="history_max_rows = 100000\n"
                       "history_max_rows_per_job = 100000\n"
                       "rate_limit_per_s = 0\n").init().start()
    fleet = cluster.bin("fleet")
    assert os.access(fleet, os.X_OK), f"{fleet} is missing: run make first"
    r = subprocess.run([fleet, "check", "--state", m.dir, "--n", str(N)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"fleet check failed:\n{r.stdout}\n{r.stderr}"
    out = json.loads(r.stdout)
    starts = 3 * N + 1
    # N inserts, 3N starts, N updates, 1 start, 1 delete.
    posted = N + 3 * N + N + 1 + 1
    assert out["ok"] is True and out["problems"] == []
    assert out["errors"] == 0
    assert out["targets"] == N
    assert out["posted"] == posted
    assert out["delivered"] == posted
    assert out["redelivered"] == 0
    assert out["starts"] == starts
    assert out["reports_accepted"] == starts
    assert out["history_runs"] == starts
