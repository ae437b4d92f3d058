"""Target crashes: a target killed with SIGKILL in the middle of a step
leaves the step's process group running. At its next start the run is
recorded interrupted, the group it recorded is killed (but a group whose
leader is no longer the recorded process is left alone), and outcomes
that were still in the outbox are uploaded."""
import os
import signal
import sqlite3

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
