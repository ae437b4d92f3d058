"""Target crashes: a target killed with SIGKILL in the middle of a step
leaves the step's process group running. At its next start the run is
recorded interrupted, the group it recorded is killed (but a group whose
leader is no longer the recorded process is left alone), and outcomes
that were still in the outbox are uploaded."""
import datetime
import json
import os
import signal
import sqlite3
import time

from cohort import wait_for
from faults import group_members, log_lines, report, wait_group_running


def run_row(t, job):
    rows = t.query("SELECT r.run_id, r.state, r.outcome, r.pgid, "
                   "r.pgid_start FROM runs r WHERE r.job = ?", (job,))
    return rows[0] if rows else None


def outcome(m, job):
    rows = [r for r in m.history("--job", job) if r["step"] == 0]
    return rows[0]["outcome"] if rows else None


def test_target_crash_kills_orphans_and_uploads(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    for name in ("nap", "stranger"):
        # a tree: the shell leads the group, two sleeps inside it
        m.apply_job({"name": name, "targets": ["web-1"], "steps": [
            {"name": "s", "command": "sleep 120 & sleep 120; wait"}]})
    m.apply_job({"name": "quick", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "sleep 1; echo done"}]})
    for name in ("nap", "stranger", "quick"):
        m.ctl("job", "start", name)
    for name in ("nap", "stranger"):
        wait_for(lambda: (run_row(t, name) or (0, "", "", 0))[3] > 0,
                 what=f"{name}'s process group recorded")
    nap, stranger = run_row(t, "nap"), run_row(t, "stranger")
    nap_pgid, stranger_pgid = nap[3], stranger[3]
    wait_group_running(nap_pgid)
    # the master goes away: quick's outcome stays in the outbox
    port = m.port
    m.kill()
    wait_for(lambda: (run_row(t, "quick") or (0, ""))[1] == "finished",
             what="quick to finish on the target")
    assert t.query("SELECT count(*) FROM outbox")[0][0] > 0
    t.kill()                                   # mid-step, outright
    assert group_members(nap_pgid), "the crash took the step with it?"
    assert run_row(t, "nap")[1] == "running"
    # As if the kernel had since given stranger's pid to someone else:
    # the recorded start time no longer matches its leader.
    con = sqlite3.connect(t.db, timeout=10)
    con.execute("UPDATE runs SET pgid_start = pgid_start + 1 WHERE "
                "job = 'stranger'")
    con.commit()
    con.close()
    try:
        m.start(f"--listen=127.0.0.1:{port}")
        t.start()
        wait_for(lambda: not group_members(nap_pgid),
                 what="the orphaned group killed")
        assert group_members(stranger_pgid), \
            "a group whose leader did not match was killed"
        wait_for(lambda: run_row(t, "nap")[1:3] == ("finished",
                                                     "interrupted"),
                 what="nap recorded interrupted")
        wait_for(lambda: outcome(m, "nap") == "interrupted",
                 what="nap interrupted in the history")
        wait_for(lambda: outcome(m, "quick") == "succeeded",
                 what="quick's unsent outcome uploaded")
        wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
                 what="the outbox emptied")
        assert outcome(m, "stranger") == "interrupted"
        assert len(log_lines(t.proc, "orphan_killed")) == 1
        assert len(log_lines(t.proc, "orphan_gone")) == 1
        rows = [r for r in m.history("--job", "quick") if r["step"] == 0]
        assert len(rows) == 1
    finally:
        for pid in group_members(stranger_pgid):
            os.kill(pid, signal.SIGKILL)
    report("target_crash", faults=1, runs_checked=3, lost=0, duplicated=0,
           orphans_killed=1, strangers_spared=1)


def run_rows(rows, run_id):
    mine = [r for r in rows if r["run_id"] == run_id]
    return (next((r for r in mine if r["step"] == 0), None),
            sorted((r for r in mine if r["step"] > 0),
                   key=lambda r: (r["step"], r["attempt"])))


def local_history(cluster, t, job):
    return json.loads(cluster.run(
        "cohortctl", "local", "history", "--state-dir", t.dir, "--job",
        job, "--json").stdout)


def test_interrupted_run_keeps_its_start_and_steps(cluster):
    """A run cut off by a crash is recorded with the start it had while
    it ran (not the restart's), the step that had ended, and the step
    cut off (interrupted, with its own start); timed up to the restart;
    on the master and in the local history alike; never run again."""
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    m.apply_job({"name": "slow", "targets": ["web-1"], "steps": [
        {"name": "first", "command": "echo one",
         "on_success": "next"},
        {"name": "long", "command": "sleep 120 & sleep 120; wait"}]})
    m.ctl("job", "start", "slow")
    # the second step runs once its group has the two sleeps
    wait_for(lambda: (run_row(t, "slow") or (0, "", "", 0))[3] > 0 and
             len(group_members(run_row(t, "slow")[3])) >= 2,
             what="slow's second step running")
    pgid = run_row(t, "slow")[3]
    seen = wait_for(lambda: [r for r in m.history("--job", "slow")
                             if r["step"] == 0 and
                             r["outcome"] == "running"],
                    what="the running record on the master")[0]
    t.kill()
    killed_at = time.time()
    assert group_members(pgid), "the crash took the step with it?"
    t.start()
    wait_for(lambda: not group_members(pgid), what="the orphan killed")
    job_row = wait_for(
        lambda: [r for r in m.history("--job", "slow")
                 if r["step"] == 0 and r["outcome"] == "interrupted"],
        what="slow interrupted on the master")[0]
    rows = m.history("--job", "slow")
    assert {r["run_id"] for r in rows} == {seen["run_id"]}, rows
    job_row, steps = run_rows(rows, seen["run_id"])
    assert job_row["started_at"] == seen["started_at"], (seen, job_row)
    assert job_row["duration_ms"] >= \
        (killed_at - iso_s(seen["started_at"])) * 1000, job_row
    assert "restart" in job_row["message"], job_row
    assert [(s["step"], s["attempt"], s["outcome"]) for s in steps] == \
        [(1, 1, "succeeded"), (2, 1, "interrupted")], steps
    assert steps[0]["exit_code"] == 0
    assert steps[0]["started_at"] >= seen["started_at"]
    assert steps[1]["started_at"] >= steps[0]["started_at"]
    assert iso_s(steps[1]["started_at"]) <= killed_at
    assert "killed" in steps[1]["message"], steps[1]
    # the target's own history says the same
    local = local_history(cluster, t, "slow")
    ljob, lsteps = run_rows(local, local[0]["run_id"])
    assert {r["run_id"] for r in local} == {ljob["run_id"]}
    assert (ljob["outcome"], ljob["started_at"]) == \
        ("interrupted", seen["started_at"]), ljob
    assert [(s["step"], s["outcome"], s["started_at"]) for s in lsteps] == \
        [(s["step"], s["outcome"], s["started_at"]) for s in steps]
    # recorded once, never run again
    assert t.query("SELECT state, outcome FROM runs WHERE job = 'slow'") \
        == [("finished", "interrupted")]
    assert t.query("SELECT count(*) FROM run_steps") == [(0,)]
    assert len(log_lines(t.proc, "run_interrupted")) == 1
    assert not log_lines(t.proc, "run_not_started")
    wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
             what="the outbox emptied")
    assert len([r for r in m.history("--job", "slow") if r["step"] == 0]) \
        == 1


def iso_s(text):
    """Seconds since the epoch of a UTC time as the history prints it."""
    return datetime.datetime.fromisoformat(
        text.replace("Z", "+00:00")).timestamp()
