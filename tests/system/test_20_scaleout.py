"""Scale-out executions (PRODUCT.md section 6) on real daemons: targets
started with worker = yes register disabled, take nothing until enabled,
and each submitted execution runs on exactly one eligible worker (never
on a target that is not a worker, never twice), pinned to a group or to
named workers when asked; a disabled worker takes nothing new and the
execution says why it waits. A worker killed mid-run loses its lease:
the execution is retried on another worker, or fails with the reason
when it has no retries left. Bad submissions are refused and change
nothing."""
import json
import os
import time

import pytest

from cohort import Gate, admin_cert, api, wait_for

WORKER = ("--worker=yes", "--max_tasks=2")


@pytest.fixture
def gate(cluster):
    """A gate opened at the end of the test, pass or fail, so no step a
    killed worker left behind waits on it for ever."""
    g = Gate(cluster.root)
    yield g
    g.open()


def start_fleet(cluster, workers, others=(), lease_s=3):
    m = cluster.master(extra_conf=f"worker_lease_s = {lease_s}\n")
    m.init().start()
    out = {}
    for name in list(workers) + list(others):
        t = cluster.target(name)
        t.enlist(m)
        t.start(*(WORKER if name in workers else ()))
        out[name] = t
    wait_for(lambda: all(m.targets().get(n, {}).get("last_poll")
                         for n in out), what="every target to poll")
    wait_for(lambda: sorted(w["name"] for w in workers_of(m)) ==
             sorted(workers), what="the workers to register")
    return m, out


def workers_of(m):
    return m.ctl_json("worker", "list")


def executions(m, *args):
    return m.ctl_json("exec", "list", "--limit", "1000", *args)


def execution(m, exec_id):
    return m.ctl_json("exec", "show", str(exec_id))


def submit(m, job, *args):
    out = m.ctl("exec", "submit", job, *args).stdout
    assert out.startswith("execution "), out
    return int(out.split()[1])


def ended(m, exec_id):
    e = execution(m, exec_id)
    return e if e["status"] in ("succeeded", "failed") else None


def job_rows(m, job):
    return [r for r in m.history("--job", job, "--limit", "1000")
            if r["step"] == 0 and r["outcome"] != "running"]


def test_each_execution_runs_once_on_one_eligible_worker(cluster, gate):
    m, _ = start_fleet(cluster, ["w1", "w2"], others=["plain"])
    m.apply_job({"name": "task", "targets": ["w1", "w2", "plain"],
                 "steps": [{"name": "s", "command": gate.command(
                     "echo ran on $COHORT_TARGET")}]})
    # registered, disabled, with their max_tasks; a plain target is not
    # a worker
    ws = {w["name"]: w for w in workers_of(m)}
    assert sorted(ws) == ["w1", "w2"]
    assert not ws["w1"]["enabled"] and ws["w1"]["max_tasks"] == 2
    assert ws["w1"]["online"], ws
    first = submit(m, "task")
    e = wait_for(lambda: (lambda e: e if "disabled" in e["reason"] else None)(
        execution(m, first)), what="the reason it waits")
    assert e["status"] == "queued" and e["worker"] is None, e
    assert "w1 disabled" in e["reason"] and "w2 disabled" in e["reason"], e
    assert "plain" not in e["reason"], e
    # enabled: one run of the job per worker at a time (a target runs
    # one instance of a job), the rest wait and say so
    m.ctl("worker", "enable", "w1")
    m.ctl("worker", "enable", "w2")
    ids = [first] + [submit(m, "task") for _ in range(4)]
    wait_for(lambda: sorted(e["worker"] for e in executions(m)
                            if e["status"] == "running") == ["w1", "w2"],
             timeout=30, what="one execution running on each worker")
    queued = executions(m, "--status", "queued")
    assert len(queued) == 3, queued
    assert all("w1 runs this job now" in e["reason"] and
               "w2 runs this job now" in e["reason"] for e in queued), queued
    # each runs exactly once
    gate.open()
    done = [wait_for(lambda i=i: ended(m, i), timeout=60,
                     what=f"execution {i} to end") for i in ids]
    assert all(e["status"] == "succeeded" for e in done), done
    assert all(e["attempt"] == 1 for e in done), done
    assert {e["worker"] for e in done} == {"w1", "w2"}, done
    rows = job_rows(m, "task")
    assert len(rows) == 5, rows
    assert not [r for r in rows if r["target"] == "plain"], rows
    for e in done:
        mine = [r for r in rows if r["target"] == e["worker"] and
                r.get("instr_id") == e["instr_id"]]
        assert len(mine) == 1, (e, rows)
        assert mine[0]["outcome"] == "succeeded"
    outputs = [r["output"] for r in m.history("--job", "task", "--limit",
                                               "1000") if r["step"] == 1]
    assert sum("ran on w1" in o for o in outputs) + \
        sum("ran on w2" in o for o in outputs) == 5, outputs
    # pinned to named workers, and to a group
    pinned = submit(m, "task", "--workers", "w2")
    assert wait_for(lambda: ended(m, pinned), timeout=30)["worker"] == "w2"
    m.ctl("group", "create", "g1")
    m.ctl("group", "add", "g1", "w1")
    grouped = submit(m, "task", "--group", "g1")
    e = wait_for(lambda: ended(m, grouped), timeout=30)
    assert e["worker"] == "w1" and e["group"] == "g1", e
    # disabled: it finishes nothing new; the execution waits and says why
    m.ctl("worker", "disable", "w1")
    waiting = submit(m, "task", "--workers", "w1")
    e = wait_for(lambda: (lambda e: e if "w1 disabled" in e["reason"]
                          else None)(execution(m, waiting)),
                 what="the pinned execution to wait")
    assert e["status"] == "queued"
    assert [x["id"] for x in executions(m, "--status", "queued")] == [waiting]
    m.ctl("worker", "enable", "w1")
    assert wait_for(lambda: ended(m, waiting), timeout=30)["status"] == \
        "succeeded"
    assert len(job_rows(m, "task")) == 8


def test_bad_submissions_change_nothing(cluster):
    m, _ = start_fleet(cluster, ["w1", "w2"], others=["plain"])
    m.apply_job({"name": "task", "targets": ["w1", "plain"],
                 "steps": [{"command": "true"}]})
    m.apply_job({"name": "plain-only", "targets": ["plain"],
                 "steps": [{"command": "true"}]})
    m.ctl("group", "create", "g")
    m.ctl("group", "add", "g", "w2")
    cases = [
        (["nosuch"], "no job"),
        (["task", "--workers", "nobody"], "'nobody' is not a worker"),
        (["task", "--workers", "plain"], "'plain' is not a worker"),
        (["task", "--workers", "w2"], "not aimed at 'w2'"),
        (["plain-only"], "has no worker to run it"),
        (["task", "--group", "g"], "no worker to run it in group g"),
        (["task", "--group", "nogroup"], "nogroup"),
        (["task", "--group", "g", "--workers", "w1"], "one or the other"),
        (["task", "--retries", "101"], "--retries"),
        (["task", "--workers", "w1,,w2"], "none empty"),
        (["task", "--workers", "w1,w1"], "'w1' given twice"),
        (["task", "--workers", "bad\x01name"], "workers"),
    ]
    for args, words in cases:
        r = m.ctl("exec", "submit", *args, check=False)
        assert r.returncode != 0, args
        assert words in r.stderr, (args, r.stderr)
    cert = admin_cert(m)
    for body, words in [
            ({}, "job: required"),
            ({"job": "task", "bogus": 1}, "bogus"),
            ({"job": "task", "workers": "w1"}, "workers: must be an array"),
            ({"job": "task", "workers": []}, "workers: must be an array"),
            ({"job": "task", "workers": [7]}, "workers[1]"),
            ({"job": "task", "retries": "x"}, "retries"),
            ({"job": "task", "retries": -1}, "retries"),
            ("not json", "request body")]:
        status, answer = api(m, "POST", "/v1/executions", body=body,
                             cert=cert[0], key=cert[1])
        assert status == 400, (body, answer)
        assert words in answer["error"]["message"], (body, answer)
    for path, code in [("/v1/executions/abc", 400),
                       ("/v1/executions/99999999999999999999", 400),
                       ("/v1/executions/+7", 400),
                       ("/v1/executions/999", 404),
                       ("/v1/executions?status=weird", 400),
                       ("/v1/executions?limit=0", 400)]:
        status, answer = api(m, "GET", path, cert=cert[0], key=cert[1])
        assert status == code, (path, answer)
    assert executions(m) == []
    # a viewer reads the queue but submits nothing; nobody enables an
    # unknown worker
    out = os.path.join(cluster.root, "vic")
    m.ctl("cert", "issue", "--role", "viewer", "vic", "--out", out)
    viewer = ["-c", os.path.join(out, "profile.conf")]
    r = cluster.run("cohortctl", *viewer, "exec", "submit", "task",
                    check=False)
    assert r.returncode != 0 and "may not call this" in r.stderr
    r = cluster.run("cohortctl", *viewer, "worker", "enable", "w1",
                    check=False)
    assert r.returncode != 0 and "may not call this" in r.stderr
    r = m.ctl("worker", "enable", "nobody", check=False)
    assert r.returncode != 0 and "nobody" in r.stderr
    assert executions(m) == []
    assert [w["enabled"] for w in workers_of(m)] == [False, False]


def test_a_lost_worker_is_retried_elsewhere_or_fails(cluster, gate):
    m, ts = start_fleet(cluster, ["w1", "w2"])
    told = os.path.join(cluster.root, "told.txt")
    m.ctl("operator", "create", "cmd", "--command",
          f'printf "%s\\n" "$COHORT_NOTIFY_SUBJECT" >> {told}')
    for name in ("slow", "slow-once"):
        m.apply_job({"name": name, "targets": ["w1", "w2"],
                     "notify": {"operator": "cmd", "on": "failure"},
                     "steps": [{"command": gate.command()}]})
    m.ctl("worker", "enable", "w1")
    m.ctl("worker", "enable", "w2")
    retried = submit(m, "slow", "--retries", "1")
    e = wait_for(lambda: (lambda e: e if e["status"] == "running" else None)(
        execution(m, retried)), timeout=30, what="slow to run")
    first = e["worker"]
    other = "w2" if first == "w1" else "w1"
    # the worker dies mid-run: after the lease the execution moves on
    ts[first].kill()
    e = wait_for(lambda: (lambda e: e if e["attempt"] == 2 and
                          e["status"] == "running" else None)(
        execution(m, retried)), timeout=40, what="the retry to run")
    assert e["worker"] == other, e
    assert f"attempt 1 lost: worker {first} stopped polling" in e["reason"]
    assert "queued again" in e["reason"], e
    # the dead worker is told to stop the run, should it come back
    stops = [i for i in m.ctl_json("downloadlist", "--target", first)
             if i["operation"] == "stop" and i["object"] == "slow"]
    assert len(stops) == 1, stops
    # without retries, a lost execution fails and says why
    once = submit(m, "slow-once", "--workers", other)
    wait_for(lambda: execution(m, once)["status"] == "running", timeout=30,
             what="slow-once to run")
    ts[other].kill()
    e = wait_for(lambda: ended(m, once), timeout=40, what="slow-once to fail")
    assert e["status"] == "failed", e
    assert f"worker {other} stopped polling" in e["reason"], e
    assert "no retries left" in e["reason"], e
    # no run report will come from the dead worker: the master tells the
    # job's operator
    wanted = (f"cohort: execution {once} of job slow-once failed: "
              f"attempt 1 lost: worker {other} stopped polling")
    wait_for(lambda: os.path.exists(told) and wanted in open(told).read(),
             what="the operator told of slow-once")
    # the retried one was running on the worker just killed too
    e = wait_for(lambda: ended(m, retried), timeout=40)
    assert e["status"] == "failed" and e["attempt"] == 2, e
    gate.open()


def test_a_failed_run_is_retried(cluster):
    """A run that fails counts as an attempt; with a retry left the
    execution runs again, and both runs are in the history."""
    m, _ = start_fleet(cluster, ["w1", "w2"])
    flag = os.path.join(cluster.root, "second-time")
    m.apply_job({"name": "flaky", "targets": ["w1", "w2"], "steps": [
        {"command": f"if [ -e {flag} ]; then echo fine; "
                    f"else touch {flag}; exit 3; fi"}]})
    m.ctl("worker", "enable", "w1")
    m.ctl("worker", "enable", "w2")
    once = submit(m, "flaky", "--retries", "1")
    e = wait_for(lambda: ended(m, once), timeout=60, what="flaky to end")
    assert e["status"] == "succeeded" and e["attempt"] == 2, e
    outcomes = sorted(r["outcome"] for r in job_rows(m, "flaky"))
    assert outcomes == ["failed", "succeeded"], outcomes
    # without retries, the failure is the execution's end
    os.unlink(flag)
    last = submit(m, "flaky")
    e = wait_for(lambda: ended(m, last), timeout=60, what="flaky to fail")
    assert e["status"] == "failed" and e["attempt"] == 1, e
    assert "failed on worker" in e["reason"] and "exit code 3" in e["reason"]
    assert "no retries left" in e["reason"], e


def assigned_to_stopped_worker(m, w1):
    """Job "once" on w1, enabled, then stopped; an execution of it is
    assigned to w1, its start pending. Returns (id, the execution)."""
    m.apply_job({"name": "once", "targets": ["w1"],
                 "steps": [{"command": "echo ran"}]})
    m.ctl("worker", "enable", "w1")
    w1.stop()
    # the master has seen the poll's connection close: the start cannot
    # be handed to it
    cert = admin_cert(m)
    wait_for(lambda: "\ncohort_polls_held 0\n" in api(
        m, "GET", "/metrics", cert=cert[0], key=cert[1])[1],
        what="w1's held poll to close")
    exec_id = submit(m, "once")
    first = wait_for(lambda: (lambda e: e if e["status"] == "assigned"
                              else None)(execution(m, exec_id)),
                     what="the execution to go to the stopped worker")
    return exec_id, first

def test_a_worker_back_from_the_dead_runs_nothing_twice(cluster):
    """A worker stopped before it downloaded its start loses the attempt
    (not counted: it never ran); when it comes back it gets the start and
    the stop together and runs neither; the execution then runs there
    once."""
    m, ts = start_fleet(cluster, ["w1"])
    exec_id, first = assigned_to_stopped_worker(m, ts["w1"])
    e = wait_for(lambda: (lambda e: e if "not counted" in e["reason"]
                          else None)(execution(m, exec_id)), timeout=30,
                 what="the attempt to be lost")
    assert e["attempt"] == 0 and "stopped polling" in e["reason"], e
    ts["w1"].start(*WORKER)
    e = wait_for(lambda: ended(m, exec_id), timeout=30,
                 what="the execution to run once w1 is back")
    assert e["status"] == "succeeded" and e["attempt"] == 1, e
    rows = job_rows(m, "once")
    assert sorted((r["instr_id"], r["outcome"]) for r in rows) == [
        (first["instr_id"], "canceled"), (e["instr_id"], "succeeded")], rows



def test_a_resync_of_the_worker_requeues_its_start(cluster):
    """A resync drops the start an assigned execution waits on: the
    attempt is lost, not counted (it never reached the worker), and the
    execution is handed over again; it runs once."""
    m, ts = start_fleet(cluster, ["w1"], lease_s=120)
    exec_id, first = assigned_to_stopped_worker(m, ts["w1"])
    m.ctl("target", "resync", "w1")
    # w1 is within its lease (120 s): only the resync can lose the attempt
    again = wait_for(lambda: (lambda e: e if e["instr_id"] not in
                              (0, first["instr_id"]) else None)(
                                  execution(m, exec_id)), timeout=30,
                     what="a new start after the resync")
    # counted at assignment, uncounted when lost: attempt 1 again
    assert again["attempt"] == 1 and again["status"] == "assigned", again
    assert "dropped its start" in again["reason"] and \
        "not counted" in again["reason"], again
    starts = [i for i in m.ctl_json("downloadlist", "--target", "w1")
              if i["operation"] == "start"]
    assert [i["id"] for i in starts] == [again["instr_id"]], starts
    ts["w1"].start(*WORKER)
    e = wait_for(lambda: ended(m, exec_id), timeout=30,
                 what="the execution to run once w1 is back")
    assert e["status"] == "succeeded" and e["attempt"] == 1, e
    rows = job_rows(m, "once")
    assert [(r["instr_id"], r["outcome"]) for r in rows] == [
        (again["instr_id"], "succeeded")], rows



def test_a_start_behind_a_failure_is_withdrawn(cluster):
    """A worker blocked by an instruction posted before its start never
    applies the start: the master takes the start back (not counted),
    the execution runs once on another worker, and clearing the failure
    later does not run it on the first."""
    m, ts = start_fleet(cluster, ["w1"], lease_s=120)
    w2 = cluster.target("w2")
    w2.enlist(m)
    m.apply_job({"name": "once", "targets": ["w1", "w2"],
                 "steps": [{"command": "echo ran"}]})
    m.ctl("worker", "enable", "w1")
    ts["w1"].stop()
    cert = admin_cert(m)
    wait_for(lambda: "\ncohort_polls_held 0\n" in api(
        m, "GET", "/metrics", cert=cert[0], key=cert[1])[1],
        what="w1's held poll to close")
    # posted before the start; it will fail on w1, which has a local job
    # of that name
    ts["w1"].add_local_job("clash")
    m.apply_job({"name": "clash", "targets": ["w1"],
                 "steps": [{"command": "true"}]})
    exec_id = submit(m, "once", "--retries", "0")
    first = wait_for(lambda: (lambda e: e if e["status"] == "assigned"
                              else None)(execution(m, exec_id)),
                     what="the execution to go to w1 (within its lease)")
    ts["w1"].start(*WORKER)
    e = wait_for(lambda: (lambda e: e if "withdrawn" in e["reason"]
                          else None)(execution(m, exec_id)), timeout=30,
                 what="the start to be withdrawn")
    # no retries, yet not failed: the attempt is not counted
    assert e["status"] == "queued" and e["attempt"] == 0, e
    assert "not counted" in e["reason"], e
    listed = m.ctl_json("downloadlist", "--target", "w1")
    assert first["instr_id"] not in [i["id"] for i in listed], listed
    failed = [i for i in listed if i["status"] == "failed"]
    assert [i["object"] for i in failed] == ["clash"], listed
    w2.start(*WORKER)
    wait_for(lambda: "w2" in [w["name"] for w in workers_of(m)],
             what="w2 to register")
    m.ctl("worker", "enable", "w2")
    e = wait_for(lambda: ended(m, exec_id), timeout=30,
                 what="the execution to run on w2")
    assert e["status"] == "succeeded" and e["worker"] == "w2", e
    assert e["attempt"] == 1, e
    # cleared: w1 goes on from the failure, and the start is not there
    ts["w1"].drop_local_job("clash")
    m.ctl("downloadlist", "clear", str(failed[0]["id"]))
    wait_for(lambda: (lambda t: t["status"] == "normal" and
                      t["unread_instructions"] == 0)(m.targets()["w1"]),
             what="w1 to poll after the clear")
    assert ts["w1"].query("SELECT count(*) FROM runs WHERE job = 'once'") \
        == [(0,)]
    assert [r["target"] for r in job_rows(m, "once")] == ["w2"]


def test_a_start_refused_beside_a_run_is_not_counted(cluster, gate):
    """A worker already running the job (a start not from scale-out, or
    its own schedule) refuses the execution's start under overlap
    refuse: that attempt never ran, so it is not counted, and the worker
    is not asked again for a heartbeat. The execution runs afterwards,
    with no retries to spare."""
    m, _ = start_fleet(cluster, ["w1"])
    m.apply_job({"name": "busy", "targets": ["w1"],
                 "steps": [{"command": gate.command()}]})
    m.ctl("worker", "enable", "w1")
    m.ctl("job", "start", "busy")
    wait_for(lambda: any(r["outcome"] == "running" and r["step"] == 0
                         for r in m.history("--job", "busy")),
             what="busy to run outside scale-out")
    exec_id = submit(m, "busy")
    e = wait_for(lambda: (lambda e: e if e["status"] == "queued" and
                          "w1 runs this job now" in e["reason"]
                          else None)(execution(m, exec_id)), timeout=30,
                 what="the start to be refused, and the execution to wait")
    assert e["attempt"] == 0 and "not counted" in e["reason"], e
    assert "canceled it before it started" in e["reason"], e
    assert "already running" in e["reason"], e
    # it waits for the other run to end, not posting a start per pass:
    # watched over three passes (a negative, so a window, not a wait)
    def starts():
        return [i["id"] for i in m.ctl_json("downloadlist", "--target", "w1")
                if i["operation"] == "start"]
    assert len(starts()) == 2  # the plain start and the refused one
    watch_until = time.time() + 3
    while time.time() < watch_until:
        assert len(starts()) == 2, starts()
        time.sleep(0.25)
    gate.open()
    e = wait_for(lambda: ended(m, exec_id), timeout=40,
                 what="the execution to run after the other run")
    assert e["status"] == "succeeded" and e["attempt"] == 1, e


def test_a_master_restart_leaves_running_executions_alone(cluster, gate):
    """A restarted master gives every worker one lease to poll again: an
    execution running meanwhile is neither lost nor run twice."""
    m, _ = start_fleet(cluster, ["w1"])
    m.apply_job({"name": "long", "targets": ["w1"],
                 "steps": [{"command": gate.command()}]})
    m.ctl("worker", "enable", "w1")
    exec_id = submit(m, "long")
    wait_for(lambda: execution(m, exec_id)["status"] == "running",
             timeout=30, what="long to run")
    port = m.port
    m.stop()
    down_at = time.time()
    # down for longer than the lease (3 s)
    wait_for(lambda: time.time() > down_at + 5, timeout=10,
             what="the master to stay down past the lease")
    m.start(f"--listen=127.0.0.1:{port}")
    restarted = time.time()
    wait_for(lambda: workers_of(m)[0]["last_poll"] is not None and
             time.time() > restarted + 6, timeout=15,
             what="two leases after the restart, w1 back")
    e = execution(m, exec_id)
    assert e["status"] == "running" and e["attempt"] == 1, e
    gate.open()
    e = wait_for(lambda: ended(m, exec_id), timeout=30)
    assert e["status"] == "succeeded" and e["attempt"] == 1, e
    assert len(job_rows(m, "long")) == 1


def test_a_worker_polls_at_least_every_ten_seconds(cluster):
    """The heartbeat: a worker's poll is held at most 10 s (a target's
    otherwise up to longpoll_max_s, 50 s), so even with a poll interval
    of 60 s the master hears from it every 10 s."""
    from datetime import datetime
    m = cluster.master().init().start()
    w = cluster.target("w1")
    w.enlist(m, poll_interval=60)
    w.start(*WORKER)

    def last_poll():
        rows = workers_of(m)
        return rows[0]["last_poll"] if rows else None

    first = wait_for(last_poll, what="w1 to register")
    second = wait_for(lambda: (lambda p: p if p != first else None)(
        last_poll()), timeout=30, what="w1's next poll")
    third = wait_for(lambda: (lambda p: p if p != second else None)(
        last_poll()), timeout=30, what="the poll after")
    gap = (datetime.fromisoformat(third.replace("Z", "+00:00")) -
           datetime.fromisoformat(second.replace("Z", "+00:00")))
    assert 5 <= gap.total_seconds() <= 15, (second, third)


def test_a_worker_restarted_as_no_worker_takes_nothing_new(cluster):
    """A registered, enabled worker started again without worker = yes
    says so in its polls: the master disables it (as an administrator
    would), so no new execution goes there; enabling it again is an
    administrator's call."""
    m, ts = start_fleet(cluster, ["w1"])
    m.ctl("worker", "enable", "w1")
    m.apply_job({"name": "quick", "targets": ["w1"],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: ended(m, submit(m, "quick")), what="a first run")
    ts["w1"].stop()
    ts["w1"].start()  # no --worker=yes: a plain target now
    polled = m.targets()["w1"]["last_poll"]
    wait_for(lambda: m.targets()["w1"]["last_poll"] != polled,
             what="w1 to poll as a plain target")
    # the next pass that has an execution to place looks at the workers
    e = submit(m, "quick", "--workers", "w1")
    wait_for(lambda: not workers_of(m)[0]["enabled"],
             what="w1 disabled by its own polls")
    assert "worker_disabled" in m.proc.log_text()
    polled = m.targets()["w1"]["last_poll"]
    wait_for(lambda: m.targets()["w1"]["last_poll"] != polled,
             what="w1 to poll again")
    assert execution(m, e)["status"] == "queued", execution(m, e)
    # enabling it is refused while it polls saying it is no worker (in
    # the instant between two polls the master cannot tell, and lets the
    # next pass decide)
    refusal = {}

    def refused():
        r = m.ctl("worker", "enable", "w1", check=False)
        refusal["r"] = r
        return r.returncode != 0

    wait_for(refused, what="worker enable w1 refused")
    assert "do not say worker = yes" in refusal["r"].stderr, refusal["r"]
    wait_for(lambda: not workers_of(m)[0]["enabled"],
             what="w1 still disabled")


def test_job_stop_ends_an_execution_without_a_retry(cluster, gate):
    """An operator's `job stop` of a running execution is not a failure
    to try again: the execution ends failed, saying so, whatever its
    retries."""
    m, ts = start_fleet(cluster, ["w1"])
    m.ctl("worker", "enable", "w1")
    m.apply_job({"name": "long", "targets": ["w1"],
                 "steps": [{"command": gate.command()}]})
    e = submit(m, "long", "--retries", "2")
    wait_for(lambda: execution(m, e)["status"] == "running",
             what="the execution running")
    m.ctl("job", "stop", "long", "--target", "w1")
    x = execution(m, e)
    assert x["status"] == "failed" and x["attempt"] == 1, x
    assert "job stop" in x["reason"] and "not retried" in x["reason"], x
    # the run's cancel, reported later, changes nothing
    wait_for(lambda: [r for r in job_rows(m, "long")
                      if r["outcome"] == "canceled"],
             what="the run recorded canceled")
    x = execution(m, e)
    assert x["status"] == "failed" and x["attempt"] == 1, x


def test_an_execution_whose_workers_are_gone_fails(cluster):
    """An execution pinned to workers that are all gone (deleted or
    defected: their registration goes with them) can never run: it fails
    and says so, rather than wait for ever."""
    m, ts = start_fleet(cluster, ["w1", "w2"])
    m.ctl("worker", "enable", "w1")
    told = os.path.join(cluster.root, "told.txt")
    m.ctl("operator", "create", "cmd", "--command",
          f'printf "%s\\n%s\\n" "$COHORT_NOTIFY_SUBJECT" '
          f'"$COHORT_NOTIFY_JSON" > {told}')
    m.apply_job({"name": "quick", "targets": ["w1", "w2"],
                 "notify": {"operator": "cmd", "on": "failure"},
                 "steps": [{"command": "true"}]})
    e = submit(m, "quick", "--workers", "w2")   # w2 is not enabled
    wait_for(lambda: "w2 disabled" in execution(m, e)["reason"],
             what="the execution waiting for w2")
    ts["w2"].stop()
    m.ctl("target", "delete", "w2")
    wait_for(lambda: execution(m, e)["status"] == "failed",
             what="the execution failed")
    assert "its workers are gone (defected or deleted): w2" in \
        execution(m, e)["reason"], execution(m, e)
    # no run report will tell it: the master notifies the job's operator
    wait_for(lambda: os.path.exists(told) and open(told).read(),
             what="the operator notified")
    subject, payload = open(told).read().splitlines()
    assert subject == (f"cohort: execution {e} of job quick failed: its "
                       "workers are gone (defected or deleted): w2"), subject
    body = json.loads(payload)
    assert (body["kind"], body["execution"], body["outcome"]) == \
        ("execution_outcome", e, "failed"), body
    # one naming a worker still there waits as before
    e2 = submit(m, "quick", "--workers", "w1")
    wait_for(lambda: ended(m, e2), what="the run on w1")
    assert execution(m, e2)["status"] == "succeeded", execution(m, e2)
