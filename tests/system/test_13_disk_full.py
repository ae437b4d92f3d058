"""Full disks: the master's and a target's state dirs on tiny tmpfs mounts
that the test fills. The master answers 503 store_error (the message says
the disk is full), logs it once per interval however many requests fail,
and works again by itself once there is room; a target stops applying
(no instruction is marked failed for it) and goes on when there is room.
No crash, and PRAGMA integrity_check passes on both stores. The outbox
bounds: records dropped while the master is away are counted and shown in
`target list --json` as outbox_dropped; over outbox_max_bytes the oldest
run records lose their outputs first, and every outcome still arrives."""
import json
import os
import random
import string

import pytest

from cohort import Gate, Master, wait_for
from faults import Tmpfs, integrity, log_lines, report

BIG = 60000  # bytes of shell command per job document


def big_job(name, targets):
    filler = "".join(random.choice(string.ascii_letters)
                     for _ in range(BIG))
    return {"name": name, "targets": targets,
            "steps": [{"name": "s", "command": f": {filler}; true"}]}


def apply_until_refused(m, targets, tries=200):
    """Applies big jobs until the store refuses one; returns the error."""
    for i in range(tries):
        r = m.apply_job(big_job(f"fill-{os.getpid()}-{i}", targets),
                        check=False)
        if r.returncode != 0:
            return r.stderr
    raise AssertionError(f"the store took {tries} big documents on a "
                         "full disk")


def test_master_disk_full(cluster, tmp_path):
    if cluster.pg is not None:
        pytest.skip("the store is the PostgreSQL server's, not a file on "
                    "this disk (the SQLite pass runs it)")
    fs = Tmpfs(str(tmp_path / "mfs"), "8m")
    try:
        m = Master(cluster, state_dir=os.path.join(fs.path, "m"))
        cluster.masters.append(m)
        m.init().start()
        (t,) = cluster.enlisted(m, ["web-1"])
        m.apply_job({"name": "hello", "targets": ["web-1"],
                     "steps": [{"name": "s", "command": "echo hi"}]})
        fs.fill()
        err = apply_until_refused(m, ["web-1"])
        assert "store_error" in err or "disk is full" in err, err
        assert "disk is full" in err, err
        failed = 1
        for i in range(20):  # every request fails; the log does not grow
            r = m.ctl("job", "start", "hello", check=False)
            failed += r.returncode != 0
        assert failed >= 15, "the full store took most writes"
        assert m.proc.alive()
        assert len(log_lines(m.proc, "store_failing")) == 1, \
            m.proc.log_text()[-3000:]
        fs.drain()
        # by itself: the next write works, the streak ends with one line
        wait_for(lambda: m.ctl("job", "start", "hello",
                               check=False).returncode == 0,
                 what="the master to take writes again")
        wait_for(lambda: log_lines(m.proc, "store_recovered"),
                 what="store_recovered logged")
        wait_for(lambda: any(r["outcome"] == "succeeded" for r in
                             m.history("--job", "hello")),
                 what="a run after the recovery")
        assert m.targets()["web-1"]["status"] == "normal"
        assert integrity(os.path.join(m.dir, "cohort.db")) == [("ok",)]
        report("master_disk_full", faults=1, requests_failed=failed,
               error_lines=len(log_lines(m.proc, "store_failing")),
               runs_checked=1, lost=0, duplicated=0)
    finally:
        cluster.stop_all()
        fs.close()


def test_target_disk_full(cluster, tmp_path):
    fs = Tmpfs(str(tmp_path / "tfs"), "8m")
    try:
        m = cluster.master().init().start()
        t = cluster.target("web-1", state_dir=os.path.join(fs.path, "t"))
        t.enlist(m)
        t.start()
        wait_for(lambda: m.targets()["web-1"]["last_poll"],
                 what="first poll")
        # queued starts: every one posted runs, whether or not the last
        # run's end has reached the master when the next start comes
        m.apply_job({"name": "once", "targets": ["web-1"],
                     "overlap": "queue",
                     "steps": [{"name": "s", "command": "echo ran"}]})
        wait_for(lambda: t.query("SELECT name FROM jobs") == [("once",)],
                 what="the job on the target")
        fs.fill()
        # big documents for the target until it cannot store one
        stalled = False
        for i in range(60):
            m.apply_job(big_job(f"fill-{i}", ["web-1"]))
            m.ctl("job", "start", "once")
            if log_lines(t.proc, "store_failing"):
                stalled = True
                break
            try:
                wait_for(lambda: m.targets()["web-1"][
                    "unread_instructions"] == 0, timeout=5)
            except AssertionError:
                stalled = bool(log_lines(t.proc, "store_failing"))
                if stalled:
                    break
        assert stalled, "the target stored everything on a full disk"
        for _ in range(3):
            m.ctl("job", "start", "once")
        starts = sum(1 for i in m.ctl_json("downloadlist", "--limit",
                                           "10000")
                     if i["operation"] == "start")
        # the target asks again and again (with backoff) and cannot store
        # anything; a full disk is no fault of the instruction, so none
        # is marked failed, and the log says so once
        seen = set()
        wait_for(lambda: seen.add(m.targets()["web-1"]["last_poll"])
                 or len(seen) >= 3, what="more polls while full")
        target = m.targets()["web-1"]
        assert target["unread_instructions"] >= 3, target
        assert target["failed_instructions"] == 0, target
        assert t.proc.alive()
        assert len(log_lines(t.proc, "store_failing")) == 1
        fs.drain()
        wait_for(lambda: m.targets()["web-1"]["unread_instructions"] == 0,
                 timeout=60, what="the target to catch up")
        wait_for(lambda: t.query("SELECT count(*) FROM runs WHERE state "
                                 "= 'finished'") == [(starts,)],
                 timeout=60, what="every start run")
        wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
                 what="the outbox drained")
        rows = [r for r in m.history("--job", "once", "--limit", "1000")
                if r["step"] == 0]
        assert len(rows) == starts == len({r["run_id"] for r in rows})
        assert m.targets()["web-1"]["failed_instructions"] == 0
        assert log_lines(t.proc, "store_recovered")
        assert integrity(t.db) == [("ok",)]
        report("target_disk_full", faults=1, runs_checked=starts, lost=0,
               duplicated=0)
    finally:
        cluster.stop_all()
        fs.close()


def test_outbox_overflow_counted(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    with open(t.conf, "a") as f:
        f.write("outbox_max_items = 10\n")
    t.start()
    wait_for(lambda: m.targets()["web-1"]["last_poll"], what="first poll")
    # The runs wait (queued behind the first) until the master is down:
    # runs of a fixed length could finish, and be uploaded, before the
    # stop, leaving too few records to overflow the outbox.
    gate = Gate(cluster.root)
    m.apply_job({"name": "burst", "overlap": "queue", "targets": ["web-1"],
                 "steps": [{"name": "s", "command": gate.command()}]})
    for _ in range(12):
        m.ctl("job", "start", "burst")
    wait_for(lambda: t.query("SELECT count(*) FROM runs") == [(12,)],
             what="every start applied")
    port = m.port
    m.stop()
    gate.open()
    # the master is away: two records per run, ten kept
    wait_for(lambda: t.query("SELECT count(*) FROM runs WHERE state = "
                             "'finished'") == [(12,)], timeout=30,
             what="the runs to finish with the master away")
    dropped = t.query("SELECT value FROM meta WHERE key = "
                      "'outbox_dropped'")[0][0]
    assert dropped > 0
    assert t.query("SELECT count(*) FROM outbox")[0][0] <= 10
    m.start(f"--listen=127.0.0.1:{port}")
    wait_for(lambda: m.targets()["web-1"]["outbox_dropped"] == dropped,
             what="the drop count in the target list")
    assert log_lines(m.proc, "outbox_overflow")
    assert "DROPPED" in m.ctl("target", "list").stdout
    report("outbox_overflow", faults=1, records_dropped=dropped,
           reported=m.targets()["web-1"]["outbox_dropped"])


OUTPUT = 300000  # bytes of output per run: four runs pass 1 MiB


def test_outbox_bytes_drop_outputs_first(cluster):
    """A target at its outbox's byte bound while the master is away: the
    oldest run records lose their outputs (a line says so), not their
    outcomes. Every run reaches the master; the target's own history
    keeps every output whole."""
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    with open(t.conf, "a") as f:
        f.write("outbox_max_bytes = 1048576\n")
    t.start()
    wait_for(lambda: m.targets()["web-1"]["last_poll"], what="first poll")
    # Queued behind the first run, which waits at the gate until the
    # master is down: no run ends, and is uploaded, before the stop.
    gate = Gate(cluster.root)
    runs = 6
    m.apply_job({"name": "chatty", "overlap": "queue", "targets": ["web-1"],
                 "steps": [{"name": "s", "command": gate.command(
                     f"head -c {OUTPUT} /dev/zero | tr '\\0' x; echo END")}]})
    for _ in range(runs):
        m.ctl("job", "start", "chatty")
    wait_for(lambda: t.query("SELECT count(*) FROM runs") == [(runs,)],
             what="every start applied")
    port = m.port
    m.stop()
    gate.open()
    wait_for(lambda: t.query("SELECT count(*) FROM runs WHERE state = "
                             "'finished'") == [(runs,)], timeout=60,
             what="the runs to finish with the master away")
    held = t.query("SELECT sum(size), sum(length(CAST(body AS BLOB))) "
                   "FROM outbox")[0]
    assert held[0] == held[1], held  # the sizes are the bodies'
    assert held[0] <= 1048576, held
    # outputs were enough: no record went whole
    assert t.query("SELECT value FROM meta WHERE key = "
                   "'outbox_dropped'") == []
    m.start(f"--listen=127.0.0.1:{port}")

    def arrived():
        rows = m.history("--job", "chatty", "--limit", "1000")
        ended = [r for r in rows if r["step"] == 0
                 and r["outcome"] == "succeeded"]
        return rows if len(ended) == runs else None
    rows = wait_for(arrived, timeout=60, what="every run on the master")
    wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
             what="the outbox drained")
    steps = sorted((r for r in rows if r["step"] > 0),
                   key=lambda r: r["run_id"])
    assert len(steps) == runs, steps
    marker = "[cohort: output dropped from the target's outbox:"
    cut = [r["run_id"] for r in steps if r["output"].startswith(marker)]
    whole = [r["run_id"] for r in steps
             if r["output"] == "x" * OUTPUT + "END\n"]
    assert cut and whole and len(cut) + len(whole) == runs, \
        [r["output"][:120] for r in steps]
    # oldest first: every cut run is older than every whole one
    by_id = {r["run_id"]: int(r["run_id"].split(":")[1]) for r in steps}
    assert max(by_id[c] for c in cut) < min(by_id[w] for w in whole)
    for r in steps:
        if r["run_id"] in cut:
            assert f" {OUTPUT + 4} bytes" in r["output"], r["output"]
            assert "history has it whole" in r["output"]
            assert r["outcome"] == "succeeded" and r["exit_code"] == 0
    assert m.targets()["web-1"]["outbox_dropped"] == 0
    # the target's own history has every output whole
    local = json.loads(cluster.run(
        "cohortctl", "local", "history", "--state-dir", t.dir, "--job",
        "chatty", "--limit", "100", "--json").stdout)
    outputs = {r["run_id"]: r["output"] for r in local if r["step"] > 0}
    assert sorted(outputs) == sorted(by_id), (sorted(outputs), by_id)
    assert all(o == "x" * OUTPUT + "END\n" for o in outputs.values())
    report("outbox_bytes", faults=1, runs_checked=runs,
           outputs_cut=len(cut), lost=0)
