"""The job model on real daemons: step flow, retries recorded per attempt,
timeouts and stops that leave no process behind, output limits, secrets
kept out of every listing and log, schedules observed running on a target
(no due instant twice), missed-run records and a single catch-up after
downtime, overlap refuse vs queue, local jobs over the control socket
(surviving a defect), next-run previews and history purge."""
import datetime
import json
import os
import re
import time

from cohort import Gate, wait_for


def job_runs(m, job, **kw):
    rows = m.history("--job", job, "--limit", "1000")
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def finished_runs(m, job, n=1):
    """The job's finished runs (step 0 rows), oldest first, once there
    are at least n."""
    rows = [r for r in job_runs(m, job, step=0)
            if r["outcome"] not in ("running",)]
    return sorted(rows, key=lambda r: r["started_at"]) if len(rows) >= n \
        else None


def steps_of(m, job, run_id):
    rows = [r for r in job_runs(m, job, run_id=run_id) if r["step"] > 0]
    return sorted(rows, key=lambda r: (r["step"], r["attempt"]))


def pid_gone(pid):
    """True when pid no longer exists (or is a zombie nobody reaped yet:
    it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def read_pids(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def one_target(cluster, *flags):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    t.start(*flags)
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="web-1 to poll")
    return m, t


def test_step_flow_and_retries(cluster, tmp_path):
    m, t = one_target(cluster)
    counter = tmp_path / "count"
    m.apply_job({"name": "flow", "targets": ["web-1"], "steps": [
        {"name": "fails", "command": "exit 4", "on_failure": "step:3"},
        {"name": "skipped", "command": "echo never"},
        {"name": "third", "command": "echo three",
         "on_success": "quit_success"},
        {"name": "after", "command": "echo never"}]})
    m.apply_job({"name": "retry", "targets": ["web-1"], "steps": [
        {"name": "flaky", "retry_attempts": 3, "retry_interval_s": 1,
         "command": f"n=$(cat {counter} 2>/dev/null || echo 0); "
                    f"n=$((n+1)); echo $n > {counter}; [ $n -ge 3 ]"}]})
    m.apply_job({"name": "hopeless", "targets": ["web-1"], "steps": [
        {"name": "no", "command": "exit 7", "retry_attempts": 1,
         "retry_interval_s": 1}]})
    loops = tmp_path / "loops"
    m.apply_job({"name": "loop", "targets": ["web-1"], "steps": [
        {"name": "check", "on_success": "quit_success",
         "on_failure": "step:2",
         "command": f"n=$(cat {loops} 2>/dev/null || echo 0); "
                    f"n=$((n+1)); echo $n > {loops}; [ $n -ge 3 ]"},
        {"name": "sleep", "command": "true", "on_success": "step:1"}]})
    for job in ("flow", "retry", "hopeless", "loop"):
        m.ctl("job", "start", job)
    flow = wait_for(lambda: finished_runs(m, "flow"))[0]
    assert flow["outcome"] == "succeeded", flow
    steps = steps_of(m, "flow", flow["run_id"])
    assert [(s["step"], s["outcome"]) for s in steps] == \
        [(1, "failed"), (3, "succeeded")]
    assert steps[0]["exit_code"] == 4
    retry = wait_for(lambda: finished_runs(m, "retry"), timeout=30)[0]
    assert retry["outcome"] == "succeeded"
    attempts = steps_of(m, "retry", retry["run_id"])
    assert [(a["attempt"], a["outcome"]) for a in attempts] == \
        [(1, "retrying"), (2, "retrying"), (3, "succeeded")]
    hopeless = wait_for(lambda: finished_runs(m, "hopeless"), timeout=30)[0]
    assert hopeless["outcome"] == "failed"
    attempts = steps_of(m, "hopeless", hopeless["run_id"])
    assert [(a["attempt"], a["outcome"], a["exit_code"]) for a in attempts] \
        == [(1, "retrying", 7), (2, "failed", 7)]
    # A step run again after a jump back is its next attempt: the master
    # keeps every execution, and the history lists them as they ran.
    loop = wait_for(lambda: finished_runs(m, "loop"))[0]
    assert loop["outcome"] == "succeeded", loop
    rows = [r for r in m.history("--run", loop["run_id"]) if r["step"] > 0]
    assert [(r["step"], r["attempt"], r["outcome"]) for r in rows] == \
        [(1, 1, "failed"), (2, 1, "succeeded"), (1, 2, "failed"),
         (2, 2, "succeeded"), (1, 3, "succeeded")], rows


def test_timeout_kills_the_tree(cluster, tmp_path):
    m, t = one_target(cluster)
    pids = tmp_path / "pids"
    m.apply_job({"name": "slow", "targets": ["web-1"], "steps": [
        {"name": "hang", "timeout_s": 1,
         "command": f"sleep 300 & echo $! >> {pids}; "
                    f"sleep 300 & echo $! >> {pids}; echo $$ >> {pids}; "
                    "wait"}]})
    m.ctl("job", "start", "slow")
    run = wait_for(lambda: finished_runs(m, "slow"), timeout=30)[0]
    assert run["outcome"] == "failed"
    step = steps_of(m, "slow", run["run_id"])[0]
    assert "timed out after 1 s" in step["message"], step
    started = read_pids(pids)
    assert len(started) == 3
    wait_for(lambda: all(pid_gone(p) for p in started), timeout=10,
             what="the step's process tree to be gone")


def test_stop_cancels_and_kills_the_tree(cluster, tmp_path):
    m, t = one_target(cluster)
    pids = tmp_path / "pids"
    m.apply_job({"name": "long", "targets": ["web-1"], "steps": [
        {"name": "hang", "command": f"sleep 300 & echo $! >> {pids}; "
                                    f"echo $$ >> {pids}; wait"}]})
    m.ctl("job", "start", "long")
    wait_for(lambda: len(read_pids(pids)) == 2, what="the step to start")
    r = m.ctl("job", "stop", "long")
    assert "stop posted" in r.stdout
    run = wait_for(lambda: finished_runs(m, "long"), timeout=30)[0]
    assert run["outcome"] == "canceled", run
    assert "stopped from the master" in run["message"]
    step = steps_of(m, "long", run["run_id"])[0]
    assert step["outcome"] == "canceled"
    wait_for(lambda: all(pid_gone(p) for p in read_pids(pids)), timeout=10,
             what="the step's process tree to be gone")


def test_output_limit_and_secrets(cluster):
    m, t = one_target(cluster)
    secret = "s3cr3t-Value-91"
    m.apply_job({"name": "chatty", "targets": ["web-1"], "steps": [
        {"name": "lots", "max_output_bytes": 1000,
         "command": "head -c 5000 /dev/zero | tr '\\0' x"}]})
    m.apply_job({"name": "secretive", "targets": ["web-1"], "steps": [
        {"name": "leak", "command": "echo token=$TOKEN; echo $TOKEN >&2",
         "env": {"TOKEN": {"value": secret, "secret": True}}}]})
    m.ctl("job", "start", "chatty")
    m.ctl("job", "start", "secretive")
    run = wait_for(lambda: finished_runs(m, "chatty"))[0]
    step = steps_of(m, "chatty", run["run_id"])[0]
    assert len(step["output"]) <= 1000
    assert "output truncated: 4000 bytes dropped" in step["message"]
    run = wait_for(lambda: finished_runs(m, "secretive"))[0]
    step = steps_of(m, "secretive", run["run_id"])[0]
    assert "token=********" in step["output"]
    seen = [json.dumps(m.history("--limit", "1000")),
            m.ctl("job", "show", "secretive", "--json").stdout,
            m.ctl("job", "show", "secretive").stdout,
            m.ctl("job", "list", "--json").stdout,
            cluster.run("cohortctl", "local", "history", "--state-dir",
                        t.dir, "--json").stdout,
            m.proc.log_text(), t.proc.log_text()]
    for text in seen:
        assert secret not in text


def test_idle_schedule_runs_due_now_on_the_wall_clock(cluster):
    """An idle schedule (load below idle_load for idle_for_s) runs once,
    due at the wall-clock second it fired, not at the monotonic clock's
    (seconds since boot, which would date it in 1970)."""
    m, t = one_target(cluster)
    before = int(time.time())
    m.apply_job({"name": "calm", "targets": ["web-1"],
                 "steps": [{"name": "s", "command": "echo calm"}],
                 "schedules": [{"name": "quiet", "kind": "idle",
                                "idle_load": 10000, "idle_for_s": 1}]})
    runs = wait_for(lambda: finished_runs(m, "calm", 1), timeout=30)
    assert runs[0]["outcome"] == "succeeded"
    ((due,),) = t.query("SELECT due_at FROM runs WHERE job = 'calm'")
    assert before <= due <= int(time.time()) + 1, (before, due)


def test_overlap_refusals_survive_a_schedule_change(cluster):
    """Due instants refused while a run goes on (overlap refuse) are
    held and recorded as one missed record when it ends; a schedule
    changed meanwhile must not drop them. The new schedule is yearly, so
    every refusal recorded is from before the change."""
    m, t = one_target(cluster)
    gate = Gate(cluster.root)
    try:
        doc = {"name": "busy", "targets": ["web-1"], "overlap": "refuse",
               "steps": [{"name": "s", "command": gate.command("echo ok")}],
               "schedules": [{"name": "often", "cron": "* * * * * *"}]}
        m.apply_job(doc)
        wait_for(lambda: t.query("SELECT miss_count FROM sched WHERE "
                                 "job = 'busy'") not in ([], [(0,)]),
                 timeout=30, what="refusals held while the run goes on")
        m.apply_job(dict(doc, schedules=[{"name": "often",
                                          "cron": "0 0 0 1 1 *"}]))
        wait_for(lambda: "0 0 0 1 1" in (t.query(
            "SELECT doc FROM jobs WHERE name = 'busy'") or [("",)])[0][0],
                 what="the change to reach the target")
    finally:
        gate.open()
    missed = wait_for(lambda: [r for r in job_runs(m, "busy", step=0)
                               if r["outcome"] == "missed"], timeout=30,
                      what="the held refusals' missed record")
    assert "overlap forbidden" in missed[0]["message"], missed


def test_repeating_schedule_runs_on_target(cluster):
    m, t = one_target(cluster)
    m.apply_job({"name": "pulse", "targets": ["web-1"],
                 "steps": [{"name": "beat", "command": "echo beat"}],
                 "schedules": [{"name": "every2", "cron": "*/2 * * * * *"}]})
    runs = wait_for(lambda: finished_runs(m, "pulse", 3), timeout=30)
    assert all(r["outcome"] == "succeeded" for r in runs)
    assert all(r["instr_id"] == 0 for r in runs)     # scheduled, not START
    dues = [d for (d,) in t.query("SELECT due_at FROM runs WHERE job = "
                                  "'pulse' ORDER BY run_id")]
    assert len(dues) >= 3 and len(set(dues)) == len(dues)
    assert all(d % 2 == 0 for d in dues)
    assert all(b > a for a, b in zip(dues, dues[1:]))
    # the next runs are visible on the master
    out = m.ctl("job", "show", "pulse").stdout
    assert "NEXT RUN" in out and "every2" in out
    nxt = json.loads(m.ctl("job", "next", "pulse", "--count", "3",
                           "--json").stdout)
    assert len(nxt["schedules"][0]["runs"]) == 3
    assert nxt["schedules"][0]["target_zone"] is True


def test_schedules_follow_the_zone_file_localtime_reads(cluster, tmp_path):
    """A zone file copied rather than linked (Alpine's set-up; a
    container's bind-mounted /etc/localtime): the target reads the zone
    from it as glibc does, so a schedule without a zone runs on the offset
    the target reports, not in UTC. TZ names the file here, as only root
    can replace /etc/localtime; both are read by the same code."""
    zone = tmp_path / "localtime"
    with open("/usr/share/zoneinfo/Asia/Kolkata", "rb") as f:
        zone.write_bytes(f.read())                   # +05:30, no DST
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    t.start(env={"TZ": ":" + str(zone)})
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="web-1 to poll")
    assert m.targets()["web-1"]["time_zone_offset_s"] == 19800
    doc = tmp_path / "daily.json"
    doc.write_text(json.dumps({
        "name": "daily", "steps": [{"command": "true"}],
        "schedules": [{"name": "morning", "kind": "daily",
                       "every_days": 1, "at": "06:00"}]}))
    local(cluster, t, "job", "apply", str(doc))
    shown = json.loads(local(cluster, t, "job", "show", "daily").stdout)
    s = shown["next_runs"][0]
    assert s["zone"] in ("localtime", "Asia/Kolkata") and \
        not s["target_zone"], s
    assert s["runs"] and all(r["at"].endswith("T06:00:00+05:30")
                             for r in s["runs"]), s


def test_schedules_follow_a_posix_tz_rule(cluster, tmp_path):
    """TZ holding a POSIX rule, not a zone name: glibc follows the rule,
    and so must a schedule without a zone. The offset, +04:37, is no
    real zone's, so the run happens at that wall time only if the rule
    was read. A once schedule seconds ahead keeps the test short."""
    rule, offset_s = "<+0437>-4:37", 4 * 3600 + 37 * 60
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    t.start(env={"TZ": rule})
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="web-1 to poll")
    assert m.targets()["web-1"]["time_zone_offset_s"] == offset_s
    # far enough ahead for apply and show to finish first on a slow
    # (sanitizer) run, near enough to keep the test short
    due = int(time.time()) + 12
    wall = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due + offset_s))
    doc = tmp_path / "soon.json"
    doc.write_text(json.dumps({
        "name": "soon", "steps": [{"command": "true"}],
        "schedules": [{"name": "once", "kind": "once", "at": wall}]}))
    local(cluster, t, "job", "apply", str(doc))
    shown = json.loads(local(cluster, t, "job", "show", "soon").stdout)
    s = shown["next_runs"][0]
    assert s["zone"] == rule and not s["target_zone"], s
    assert [r["at"] for r in s["runs"]] == [wall + "+04:37"], s
    assert wait_for(lambda: t.query("SELECT due_at FROM runs WHERE job = "
                                    "'soon'"), timeout=40,
                    what="the run at the rule's wall time") == [(due,)]


def test_scheduled_step_execs_on_its_instant_never_before(cluster):
    """A due instant is handled ahead of time (the run recorded running,
    its step forked and held): the step itself must still exec on the
    instant, never before it, and the run and step report starting then,
    not when they were made ready."""
    m, t = one_target(cluster)
    m.apply_job({"name": "clock", "targets": ["web-1"],
                 "steps": [{"name": "now", "subsystem": "exec",
                            "command": ["/bin/date", "+%s.%N"]}],
                 "schedules": [{"name": "each", "cron": "* * * * * *"}]})
    runs = wait_for(lambda: finished_runs(m, "clock", 4), timeout=30)
    dues = dict(t.query("SELECT run_id, due_at FROM runs WHERE job = "
                        "'clock'"))
    for run in runs:
        assert run["outcome"] == "succeeded", run
        local_id = int(str(run["run_id"]).rsplit(":", 1)[-1])
        due_ms = dues[local_id] * 1000
        (step,) = [r for r in job_runs(m, "clock", run_id=run["run_id"])
                   if r["step"] == 1]
        printed_ms = float(step["output"].strip()) * 1000
        assert printed_ms >= due_ms, (step["output"], dues[local_id])
        assert parse_ms(run["started_at"]) >= due_ms, run
        assert parse_ms(step["started_at"]) >= due_ms, step


def test_missed_runs_recorded_and_one_catch_up(cluster):
    m, t = one_target(cluster)
    # queue: a slow start (under ASan) must not add overlap records
    m.apply_job({"name": "tick", "targets": ["web-1"], "overlap": "queue",
                 "steps": [{"name": "t", "command": "true"}],
                 "schedules": [{"name": "two", "cron": "*/2 * * * * *"}]})
    wait_for(lambda: finished_runs(m, "tick", 1), timeout=20)
    t.stop()
    before = max(d for (d,) in t.query("SELECT due_at FROM runs"))
    down_until = time.time() + 7
    wait_for(lambda: time.time() > down_until, timeout=10,
             what="the downtime to pass")
    t.start()
    # one record for the whole downtime; on a loaded machine a later
    # instant may find the catch-up run still waiting and be recorded
    # missed for its own reason, which is not this record
    missed = wait_for(lambda: [
        r for r in job_runs(m, "tick", step=0, outcome="missed")
        if "reason: daemon down" in r["message"]], timeout=20)
    assert len(missed) == 1, missed
    msg = missed[0]["message"]
    assert "the target daemon was not running" in msg, msg
    wait_for(lambda: [d for (d,) in t.query("SELECT due_at FROM runs")
                      if d > before], timeout=10)
    after = sorted(d for (d,) in t.query(
        "SELECT due_at FROM runs WHERE due_at > ?", (before,)))
    first_after = after[0]
    # every instant between the last run before the stop and the first
    # after it was missed: counted in the one record, not run
    count = (first_after - before) // 2 - 1
    assert count >= 2
    want = "the due instant" if count == 1 else f"missed {count} due"
    assert want in msg, (count, msg)
    dues = [d for (d,) in t.query("SELECT due_at FROM runs WHERE due_at > 0")]
    assert len(dues) == len(set(dues))
    # the record is in the target's local history too
    local = json.loads(cluster.run(
        "cohortctl", "local", "history", "--state-dir", t.dir, "--job",
        "tick", "--json").stdout)
    assert [r for r in local if r["outcome"] == "missed"]


def test_overlap_refuse_and_queue(cluster):
    """One instance of a job at a time per target: a start while it runs
    is refused with a message (PRODUCT.md section 11), or queued where
    the job's overlap policy says so."""
    m = cluster.master().init().start()
    t1, _ = cluster.enlisted(m, ["web-1", "web-2"])
    gate = Gate(cluster.root)
    m.apply_job({"name": "solo", "targets": ["web-1", "web-2"],
                 "steps": [{"name": "s", "command": gate.command()}]})
    m.apply_job({"name": "line", "targets": ["web-1"], "overlap": "queue",
                 "steps": [{"name": "s", "command": "sleep 1"}]})
    m.ctl("job", "start", "solo", "--target", "web-1")
    wait_for(lambda: job_runs(m, "solo", step=0, outcome="running"),
             what="solo running on web-1")

    def solo_starts():
        return [i for i in m.ctl_json("downloadlist", "--target", "web-1")
                if i["operation"] == "start" and i["object"] == "solo"]

    r = m.ctl("job", "start", "solo", "--target", "web-1", check=False)
    assert r.returncode == 1, r.stderr
    assert "job 'solo' is running on web-1 (since " in r.stderr, r.stderr
    assert "not started" in r.stderr and r.stdout == ""
    assert len(solo_starts()) == 1
    # on both: web-2 starts, web-1 is named as not started
    r = m.ctl("job", "start", "solo", check=False)
    assert r.returncode == 1 and "to web-2" in r.stdout, r.stdout
    assert "not started on web-1: job 'solo' is running there" in r.stderr
    assert len(solo_starts()) == 1
    # running on both: refused as a whole, the second target counted
    wait_for(lambda: len(job_runs(m, "solo", step=0, outcome="running"))
             == 2, what="solo running on web-1 and web-2")
    r = m.ctl("job", "start", "solo", check=False)
    assert r.returncode == 1 and r.stdout == "", r.stdout
    assert re.search(r"job 'solo' is running on web-1 \(since \S+\) and "
                     r"on 1 more target, and its overlap policy", r.stderr), \
        r.stderr
    for _ in range(2):
        m.ctl("job", "start", "line")
    gate.open()
    solo = wait_for(lambda: finished_runs(m, "solo", 2), timeout=30)
    assert sorted(r["target"] for r in solo) == ["web-1", "web-2"]
    assert {r["outcome"] for r in solo} == {"succeeded"}, solo
    line = wait_for(lambda: finished_runs(m, "line", 2), timeout=30)
    assert [r["outcome"] for r in line] == ["succeeded", "succeeded"]
    first_end = parse_ms(line[0]["started_at"]) + line[0]["duration_ms"]
    assert parse_ms(line[1]["started_at"]) >= first_end - 50
    # once it has ended, the start goes through again
    m.ctl("job", "start", "solo", "--target", "web-1")
    assert len(solo_starts()) == 2


def test_a_refusal_waits_until_the_targets_outbox_has_arrived(cluster):
    """The master refuses a start because its history shows the job
    running; that history may lag: the run's end can still be in the
    target's outbox (sent to a master that died before storing it). So
    it refuses only while the target's last poll reported nothing past
    what its uploads have brought since this master became active;
    otherwise it posts, and the target decides."""
    from cohort import api
    m = cluster.master().init().start()
    t, = cluster.enlisted(m, ["web-1"])
    gate = Gate(cluster.root)
    m.apply_job({"name": "solo", "targets": ["web-1"],
                 "steps": [{"name": "s", "command": gate.command()}]})
    m.ctl("job", "start", "solo")
    wait_for(lambda: job_runs(m, "solo", step=0, outcome="running"),
             what="solo running on web-1")
    assert m.ctl("job", "start", "solo", check=False).returncode == 1
    # From here the target is gone and its polls are the test's own.
    t.kill()
    cert = (os.path.join(t.dir, "tls", "cert.pem"),
            os.path.join(t.dir, "tls", "key.pem"))

    def poll(pending_upto):
        body = {"name": "web-1", "version": "0.1.0", "wait_s": 0,
                "after": 1 << 40, "outbox_pending_upto": pending_upto}
        status, answer = api(m, "POST", "/v1/poll", body, cert=cert[0],
                             key=cert[1])
        assert status == 200, answer

    def start():
        r = m.ctl("job", "start", "solo", check=False)
        return r.returncode, r.stdout + r.stderr

    poll(1 << 30)  # records the master has not seen: the end may be there
    code, out = start()
    assert code == 0 and "posted start to web-1" in out, out
    poll(0)  # an empty outbox: the history is complete
    code, out = start()
    assert code == 1 and "is running on web-1" in out, out
    # a restarted master knows nothing of the outbox until a poll says
    m.restart()
    code, out = start()
    assert code == 0 and "posted start to web-1" in out, out
    poll(0)
    assert start()[0] == 1


def parse_ms(text):
    from datetime import datetime
    return int(datetime.fromisoformat(text.replace("Z", "+00:00"))
               .timestamp() * 1000)


def local(cluster, t, *args, check=True):
    return cluster.run("cohortctl", "local", *args, "--state-dir", t.dir,
                       check=check)


def test_local_jobs_over_the_socket_survive_defect(cluster, tmp_path):
    m, t = one_target(cluster)
    sock = os.path.join(t.dir, "cohortd.sock")
    wait_for(lambda: os.path.exists(sock), what="the control socket")
    assert os.stat(sock).st_mode & 0o777 == 0o600
    m.apply_job({"name": "central", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: t.query("SELECT name FROM jobs") == [("central",)])
    doc = tmp_path / "mine.json"
    # queue: on a loaded machine a start may come while the last one runs
    doc.write_text(json.dumps({"name": "mine", "history_max_rows": 2,
                               "overlap": "queue",
                               "steps": [{"command": "echo local $USER"}]}))
    assert "created" in local(cluster, t, "job", "apply", str(doc)).stdout
    listed = json.loads(local(cluster, t, "job", "list", "--json").stdout)
    assert [j["name"] for j in listed] == ["mine"]
    for _ in range(3):                 # each start is a run of its own
        local(cluster, t, "job", "start", "mine")
    wait_for(lambda: len([r for r in json.loads(
        local(cluster, t, "history", "--job", "mine", "--json").stdout)
        if r["step"] == 0]) >= 2, timeout=20)
    wait_for(lambda: t.query("SELECT count(*) FROM runs WHERE job='mine' "
                             "AND state='finished'") == [(3,)], timeout=20)
    hist = json.loads(local(cluster, t, "history", "--job", "mine",
                            "--json").stdout)
    job_rows = [r for r in hist if r["step"] == 0]
    assert len(job_rows) == 2          # the job's history_max_rows
    assert all(r["origin"] == "local" and r["outcome"] == "succeeded"
               for r in job_rows)
    assert not job_runs(m, "mine")     # local runs stay local
    # names are shared: a local job cannot shadow a master job
    doc.write_text(json.dumps({"name": "central",
                               "steps": [{"command": "true"}]}))
    r = local(cluster, t, "job", "apply", str(doc), check=False)
    assert r.returncode != 0 and "comes from the master" in r.stderr
    r = local(cluster, t, "job", "start", "central", check=False)
    assert r.returncode != 0 and "comes from the master" in r.stderr
    r = local(cluster, t, "job", "delete", "nope", check=False)
    assert r.returncode != 0 and "no local job" in r.stderr
    # a stop of a name that is no job is a typo, not a quiet no-op
    r = local(cluster, t, "job", "stop", "nope", check=False)
    assert r.returncode == 1 and "no job 'nope'" in r.stderr, r.stderr
    # files: unreadable is exit 1; larger than any job document is bad
    # input (exit 2), said before anything is sent
    for path, code, why in ((tmp_path, 1, "is a directory"),
                            (tmp_path / "absent.json", 1,
                             "No such file or directory")):
        r = local(cluster, t, "job", "apply", str(path), check=False)
        assert r.returncode == code and why in r.stderr, r.stderr
    big = tmp_path / "big.json"
    big.write_text(" " * (4 * 1024 * 1024 + 1) + "{}")
    r = local(cluster, t, "job", "apply", str(big), check=False)
    assert r.returncode == 2 and "more than a job document" in r.stderr, \
        r.stderr
    # not while the daemon runs: refused, nothing changed
    r = cluster.run("cohortctl", "defect", "--state-dir", t.dir,
                    check=False)
    assert r.returncode != 0 and "stop it first" in r.stderr, r.stderr
    assert sorted(t.query("SELECT name FROM jobs")) == [("central",),
                                                        ("mine",)]
    assert m.targets()["web-1"]["status"] == "normal"
    t.stop()
    cluster.run("cohortctl", "defect", "--state-dir", t.dir)
    assert t.query("SELECT name, origin FROM jobs") == [("mine", "local")]
    # enlisted again, the local job is still there and still runs
    t.enlist(m)
    t.start()
    wait_for(lambda: os.path.exists(sock), what="the control socket")
    listed = json.loads(local(cluster, t, "job", "list", "--json").stdout)
    assert [j["name"] for j in listed] == ["mine"]
    assert "deleted" in local(cluster, t, "job", "delete", "mine").stdout


def test_history_purge(cluster):
    m, t = one_target(cluster)
    m.apply_job({"name": "p", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    m.apply_job({"name": "q", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    for job in ("p", "q"):
        m.ctl("job", "start", job)
    wait_for(lambda: finished_runs(m, "p") and finished_runs(m, "q"))
    r = m.ctl("history", "purge", "--older-than", "1d")
    assert "purged 0 job runs" in r.stdout
    r = m.ctl("history", "purge", "--job", "p")
    assert "purged 1 job runs" in r.stdout
    assert not job_runs(m, "p") and job_runs(m, "q")
    r = m.ctl("history", "purge", "--older-than", "soon", check=False)
    assert r.returncode != 0 and "--older-than" in r.stderr
    assert re.search(r"purged 1 job runs", m.ctl("history", "purge").stdout)
    assert m.history() == []


def test_a_stop_ends_the_runs_queued_behind_the_running_one(cluster,
                                                           tmp_path):
    """'overlap: queue' keeps later starts waiting; stopping the job ends
    them too, instead of letting the next one start at once."""
    m, t = one_target(cluster)
    sock = os.path.join(t.dir, "cohortd.sock")
    wait_for(lambda: os.path.exists(sock), what="the control socket")
    gate = Gate(tmp_path)
    doc = tmp_path / "q.json"
    doc.write_text(json.dumps({"name": "q", "overlap": "queue",
                               "steps": [{"command": gate.command()}]}))
    local(cluster, t, "job", "apply", str(doc))
    for _ in range(3):
        local(cluster, t, "job", "start", "q")
    wait_for(lambda: t.query("SELECT state, count(*) FROM runs WHERE "
                             "job = 'q' GROUP BY state ORDER BY state") ==
             [("queued", 2), ("running", 1)], what="one running, two queued")
    local(cluster, t, "job", "stop", "q")
    wait_for(lambda: t.query("SELECT state, outcome FROM runs WHERE job = "
                             "'q'") == [("finished", "canceled")] * 3,
             timeout=20, what="all three canceled")
    gate.open()  # nothing is left to pass it
    hist = json.loads(local(cluster, t, "history", "--job", "q",
                            "--json").stdout)
    assert sorted(r["outcome"] for r in hist if r["step"] == 0) == \
        ["canceled"] * 3, hist
    # "refuse": a local start while it runs is refused with a message
    solo_gate = Gate(tmp_path, "solo-gate")
    doc.write_text(json.dumps({"name": "solo", "steps": [
        {"command": solo_gate.command()}]}))
    local(cluster, t, "job", "apply", str(doc))
    before = time.time()
    local(cluster, t, "job", "start", "solo")
    wait_for(lambda: t.query("SELECT state FROM runs WHERE job = 'solo'")
             == [("running",)], what="solo running")
    (run_id,) = t.query("SELECT run_id FROM runs WHERE job = 'solo'")[0]
    r = local(cluster, t, "job", "start", "solo", check=False)
    assert r.returncode == 1, r.stderr
    # the refusal names the run that goes on and its start (jobs.md)
    found = re.search(r"job 'solo' is running \(run (\d+), since (\S+)\) "
                      r"and its overlap policy refuses", r.stderr)
    assert found, r.stderr
    assert int(found.group(1)) == run_id, r.stderr
    since = datetime.datetime.fromisoformat(
        found.group(2).replace("Z", "+00:00")).timestamp()
    assert before - 1 <= since <= time.time() + 1, r.stderr
    assert t.query("SELECT count(*) FROM runs WHERE job = 'solo'") == [(1,)]
    solo_gate.open()


def test_a_local_job_over_four_mib_once_stored_is_refused(cluster,
                                                          tmp_path):
    """The stored form adds every default: a file just under the 4 MiB
    limit can grow past what the scheduler parses. It is refused, not
    stored where nothing could read it back."""
    m, t = one_target(cluster)
    sock = os.path.join(t.dir, "cohortd.sock")
    wait_for(lambda: os.path.exists(sock), what="the control socket")
    steps = [{"command": "x" * 65536} for _ in range(63)]
    doc = {"name": "huge", "steps": steps}
    room = 4 * 1024 * 1024 - 100 - len(json.dumps(doc, separators=(",", ":")))
    steps.append({"command": "x" * (room - len('{"command":""},'))})
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    assert 4 * 1024 * 1024 - 200 < path.stat().st_size <= 4 * 1024 * 1024
    r = local(cluster, t, "job", "apply", str(path), check=False)
    assert r.returncode != 0 and "more than 4194304" in r.stderr, r.stderr
    assert t.query("SELECT count(*) FROM jobs WHERE name = 'huge'") == [(0,)]
