"""Events and operators: targets forward events at or above their level,
the master stores them and notifies operators (webhook, command, e-mail,
log) with retries and a record of every delivery; job show's last outcome
per target; history filtered by outcome and time."""
import json
import os
import socket
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cohort import SECRETS, wait_for

CONF = "notify_retry_base_s = 1\nnotify_max_attempts = 3\n"


class Hooks:
    """A webhook receiver on 127.0.0.1 in this process: /ok answers 200,
    /fail answers 500; every POST is recorded with its arrival time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"null")
                with hooks.lock:
                    hooks.calls.append((self.path, time.monotonic(), body))
                self.send_response(500 if self.path == "/fail" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def bodies(self, path, job=None):
        with self.lock:
            return [b for (p, _, b) in self.calls
                    if p == path and (job is None or b.get("job") == job)]

    def times(self, path):
        with self.lock:
            return [t for (p, t, _) in self.calls if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port():
    """A port nothing listens on (connections are refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def deliveries(m, *args):
    return m.ctl_json("operator", "deliveries", *args)


def job(name, targets, command, notify=None, **step):
    doc = {"name": name, "targets": targets,
           "steps": [dict({"command": command}, **step)]}
    if notify is not None:
        doc["notify"] = notify
    return doc


def finished(m, name, n):
    """The job's finished job rows, once there are n of them."""
    rows = [h for h in m.history("--job", name)
            if h["step"] == 0 and h["outcome"] not in ("running",)]
    return rows if len(rows) == n else None


def test_outcomes_notify_per_job_and_show_per_target(cluster):
    hooks = Hooks()
    try:
        m = cluster.master(extra_conf=CONF).init().start()
        names = ["web-1", "web-2", "web-3"]
        cluster.enlisted(m, names)
        # credentials in the URL: used, never listed
        SECRETS.add("Hk7-pw-only")
        m.ctl("operator", "create", "hook", "--webhook",
              hooks.url("/ok").replace("//", "//alice:Hk7-pw-only@"))
        (hook,) = [o for o in m.ctl_json("operator", "list")
                   if o["name"] == "hook"]
        assert hook["address"] == hooks.url("/ok").replace(
            "//", "//alice:********@"), hook
        m.apply_job(job("breaks", names, "exit 3",
                        {"operator": "hook", "on": "failure"}))
        m.apply_job(job("quiet", names, "true",
                        {"operator": "hook", "on": "failure"}))
        m.apply_job(job("cheers", names, "true",
                        {"operator": "hook", "on": "success"}))
        for j in ("breaks", "quiet", "cheers"):
            m.ctl("job", "start", j)
        got = wait_for(lambda: len(hooks.bodies("/ok", "breaks")) == 3 and
                       hooks.bodies("/ok", "breaks"), what="3 failures")
        runs = {h["run_id"]: h for h in wait_for(
            lambda: finished(m, "breaks", 3), what="breaks history")}
        for b in got:
            assert b["kind"] == "job_outcome" and b["outcome"] == "failed"
            assert b["run_id"] in runs
            assert runs[b["run_id"]]["target"] == b["target"]
            assert b["subject"] == f"cohort: job breaks failed on " \
                                   f"{b['target']}"
        assert sorted(b["target"] for b in got) == names
        # success is told only where notify.on asks for it
        cheers = wait_for(lambda: len(hooks.bodies("/ok", "cheers")) == 3 and
                          hooks.bodies("/ok", "cheers"), what="successes")
        assert {b["outcome"] for b in cheers} == {"succeeded"}
        # a notification is queued with its run's row: none for "quiet"
        wait_for(lambda: finished(m, "quiet", 3), what="quiet history")
        subjects = [d["subject"] for d in deliveries(m)]
        assert not [s for s in subjects if " quiet " in s]
        assert len(subjects) == 6
        wait_for(lambda: all(d["status"] == "delivered" and
                             d["attempts"] == 1 for d in deliveries(m)),
                 what="all delivered")
        # the failed run is an error event of each target too
        events = m.ctl_json("event", "list", "--severity", "error")
        assert sorted(e["target"] for e in events
                      if e["kind"] == "job_failed") == names
        check_job_show(m, names, runs)
        check_history_filters(m, names)
    finally:
        hooks.close()


def check_job_show(m, names, runs):
    view = m.ctl_json("job", "show", "breaks")
    last = view["last_outcomes"]
    assert [r["target"] for r in last] == names
    for r in last:
        assert r["outcome"] == "failed"
        assert runs[r["run_id"]]["started_at"] == r["started_at"]
    text = m.ctl("job", "show", "breaks").stdout
    assert "LAST OUTCOME" in text and "notify: on failure, operator hook" \
        in text
    for n in names:
        assert any(line.split()[:2] == [n, "failed"]
                   for line in text.splitlines()), text
    # a target aimed at that never ran the job shows no outcome
    m.apply_job(job("breaks", names[:1], "exit 3",
                    {"operator": "hook", "on": "failure"}))
    m.apply_job(job("fresh", names[:2], "true"))
    fresh = m.ctl_json("job", "show", "fresh")["last_outcomes"]
    assert fresh == [{"target": n, "outcome": None, "started_at": None,
                      "duration_ms": None, "run_id": None, "message": None}
                     for n in names[:2]]
    # targets no longer aimed at keep their last outcome in the view
    assert [r["target"] for r in
            m.ctl_json("job", "show", "breaks")["last_outcomes"]] == names


def job_rows(rows):
    return [h for h in rows if h["step"] == 0]


def check_history_filters(m, names):
    """cohortctl's filters choose runs by their job row (how the run
    ended, when it started), and each chosen run is listed whole."""
    failed = m.history("--outcome", "failed")
    assert failed and {h["outcome"] for h in job_rows(failed)} == {"failed"}
    assert {h["run_id"] for h in failed} == \
        {h["run_id"] for h in job_rows(failed)}
    ok = m.history("--outcome", "succeeded", "--job", "cheers")
    assert {h["job"] for h in ok} == {"cheers"}
    times = sorted(h["started_at"] for h in job_rows(m.history()))
    first, last = times[0], times[-1]
    assert len(job_rows(m.history("--since", first))) == len(times)
    assert m.history("--since", "2999-01-01T00:00:00Z") == []
    assert m.history("--until", first) == []
    assert len(job_rows(m.history("--until", "2999-01-01T00:00:00Z"))) == \
        len(times)
    window = job_rows(m.history("--since", first, "--until", last))
    assert last not in [h["started_at"] for h in window]
    assert first in [h["started_at"] for h in window]
    for bad in (["--outcome", "exploded"], ["--since", "yesterday"],
                ["--until", "soon"]):
        r = m.ctl("history", *bad, check=False)
        assert r.returncode == 2 and bad[1] in r.stderr, r.stderr
        assert f"{bad[0]}: " in r.stderr, r.stderr  # named as typed
    r = m.ctl("downloadlist", "--status", "lost", check=False)
    assert r.returncode == 2 and "--status: 'lost'" in r.stderr, r.stderr


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, stat.S_IRWXU)


def test_failing_operators_retry_and_others_get_through(cluster):
    hooks = Hooks()
    root = cluster.root
    sendmail = os.path.join(root, "sendmail")
    write_script(sendmail, f"#!/bin/sh\necho \"args: $*\" > {root}/mail.txt"
                           f"\ncat >> {root}/mail.txt\n")
    try:
        m = cluster.master(extra_conf=CONF + f"sendmail = {sendmail}\n")
        m.init().start()
        cluster.enlisted(m, ["web-1"])
        m.ctl("operator", "create", "refused", "--webhook",
              f"http://127.0.0.1:{closed_port()}/")
        m.ctl("operator", "create", "h500", "--webhook", hooks.url("/fail"))
        m.ctl("operator", "create", "good", "--webhook", hooks.url("/ok"))
        out = os.path.join(root, "cmd.txt")
        m.ctl("operator", "create", "cmd", "--command",
              f'printf "%s\\n%s\\n" "$COHORT_NOTIFY_SUBJECT" '
              f'"$COHORT_NOTIFY_JSON" > {out}')
        m.ctl("operator", "create", "mail", "--email", "ops@example.org")
        for op in ("refused", "h500", "good", "cmd", "mail"):
            m.apply_job(job(f"j-{op}", ["web-1"], "exit 1",
                            {"operator": op}))
            m.ctl("job", "start", f"j-{op}")
        wait_for(lambda: hooks.bodies("/ok", "j-good"), what="good hook")
        by_op = wait_for(lambda: final_by_operator(m, 5), timeout=30,
                         what="every delivery finished")
        assert by_op["good"]["status"] == "delivered"
        assert by_op["good"]["attempts"] == 1
        for op, why in (("refused", "onnect"), ("h500", "HTTP 500")):
            d = by_op[op]
            assert d["status"] == "failed" and d["attempts"] == 3, d
            assert why in d["last_error"], d
        # retried with backoff: 1 s, then 2 s (notify_retry_base_s = 1)
        t = hooks.times("/fail")
        assert len(t) == 3
        assert t[1] - t[0] >= 0.9 and t[2] - t[1] >= 1.9, t
        # the command got the notification in its environment
        subject, payload = open(out).read().splitlines()
        assert subject == "cohort: job j-cmd failed on web-1"
        body = json.loads(payload)
        assert (body["job"], body["target"], body["outcome"]) == \
            ("j-cmd", "web-1", "failed")
        assert by_op["cmd"]["status"] == "delivered"
        mail = open(os.path.join(root, "mail.txt")).read()
        assert mail.startswith("args: -t\n"), mail
        assert "To: ops@example.org\n" in mail
        assert "Subject: cohort: job j-mail failed on web-1\n" in mail
        assert "outcome: failed\n" in mail
        failed = deliveries(m, "--status", "failed", "--operator", "h500")
        assert [d["operator"] for d in failed] == ["h500"]
    finally:
        hooks.close()


def final_by_operator(m, n):
    rows = deliveries(m)
    if len(rows) != n or any(d["status"] == "pending" for d in rows):
        return None
    return {d["operator"]: d for d in rows}


def test_event_raise_takes_a_message_starting_with_dashes(cluster):
    """"--" ends the options; a message over the limit is bad input."""
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                "--severity", "error", "--", "--force", "was", "used")
    events = wait_for(lambda: m.ctl_json("event", "list"), what="event")
    assert events[0]["message"] == "--force was used", events
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "x" * 2000, check=False)
    assert r.returncode == 2 and "longer than 1024" in r.stderr, r.stderr


def test_raised_events_and_the_default_log_operator(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    ops = {o["name"]: o for o in m.ctl_json("operator", "list")}
    assert ops["default"]["kind"] == "log" and ops["default"]["default"]
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "--severity", "info", "just", "saying")
    assert "not forwarded" in r.stdout
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "--severity", "critical", "disk", "almost", "full")
    assert "queued" in r.stdout
    events = wait_for(lambda: m.ctl_json("event", "list"), what="event")
    assert [(e["target"], e["severity"], e["kind"], e["message"])
            for e in events] == [("web-1", "critical", "user",
                                  "disk almost full")]
    assert t.query("SELECT count(*) FROM outbox WHERE body LIKE "
                   "'%saying%'") == [(0,)]
    # the default operator writes it to the master's log
    wait_for(lambda: "event=notification operator=default" in
             m.proc.log_text(), what="notification in the log")
    assert "disk almost full" in m.proc.log_text()
    wait_for(lambda: [d["status"] for d in deliveries(m)] == ["delivered"],
             what="delivered")
    # a step that times out: a warning and the run's failure
    m.apply_job(job("slow", ["web-1"], "sleep 5", timeout_s=1))
    m.ctl("job", "start", "slow")
    wait_for(lambda: {e["kind"] for e in m.ctl_json(
        "event", "list", "--target", "web-1")} >=
        {"step_timeout", "job_failed"}, what="timeout events")
    warn = m.ctl_json("event", "list", "--severity", "warning")
    assert {e["kind"] for e in warn} == {"user", "step_timeout",
                                         "job_failed"}
    assert [e["kind"] for e in m.ctl_json("event", "list", "--severity",
                                          "critical")] == ["user"]
    check_operator_refusals(m, t, cluster)


def check_operator_refusals(m, t, cluster):
    def refused(*args, text):
        r = m.ctl(*args, check=False)
        assert r.returncode != 0 and text in r.stderr, r.stderr

    refused("operator", "delete", "default", text="is the default")
    refused("operator", "create", "x", "--webhook", "ftp://nope",
            text="http://")
    refused("operator", "create", "x", "--email", "a@b@c", text="--email")
    refused("operator", "create", "x", "--webhook", "http://a",
            "--email", "a@b", text="exactly one")
    refused("operator", "create", "default", "--log", text="exists")
    r = m.apply_job(job("j", ["web-1"], "true", {"operator": "ghost"}),
                    check=False)
    assert r.returncode != 0 and "notify.operator: 'ghost'" in r.stderr
    m.ctl("operator", "create", "pager", "--command", "true", "--default")
    defaults = [o["name"] for o in m.ctl_json("operator", "list")
                if o["default"]]
    assert defaults == ["pager"]
    m.apply_job(job("j", ["web-1"], "true", {"operator": "pager"}))
    refused("operator", "delete", "pager", text="used by job 'j'")
    m.ctl("operator", "default", "default")
    m.ctl("job", "delete", "j")
    m.ctl("operator", "delete", "pager")
    assert [o["name"] for o in m.ctl_json("operator", "list")] == \
        ["default"]
    refused("event", "list", "--severity", "loud", text="severity")
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "--severity", "loud", "x", check=False)
    assert r.returncode != 0 and "--severity" in r.stderr


def test_wall_clock_jump_is_an_event(cluster):
    """A target whose wall clock is stepped (here by the clockshift
    preload, not the machine's clock) reports it to the master as a
    warning event, in each direction."""
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    shift = os.path.join(cluster.root, "clock-shift-ms")
    with open(shift, "w") as f:
        f.write("0")
    asan = os.environ.get("ASAN_OPTIONS", "")
    preload = os.path.join(cluster.bins, "libclockshift.so")
    assert os.path.exists(preload), "built with COHORT_TESTS=ON?"
    t.start(env={
        "LD_PRELOAD": preload,
        "COHORT_TEST_CLOCK_SHIFT_FILE": shift,
        # the sanitizer build: the preload comes before its runtime
        "ASAN_OPTIONS": (asan + ":" if asan else "") +
        "verify_asan_link_order=0"})
    wait_for(lambda: m.targets()["web-1"]["last_poll"], what="a poll")

    def jumps():
        return [e for e in m.ctl_json("event", "list", "--target", "web-1")
                if e["kind"] == "clock_jump"]

    assert jumps() == []
    with open(shift, "w") as f:
        f.write("120000")
    (ahead,) = wait_for(jumps, what="the jump ahead reported")
    assert ahead["severity"] == "warning", ahead
    assert "ahead of the monotonic clock" in ahead["message"], ahead
    moved = int(ahead["message"].split("moved ")[1].split(" ms")[0])
    assert 115000 <= moved <= 125000, ahead
    with open(shift, "w") as f:
        f.write("0")
    both = wait_for(lambda: (lambda j: j if len(j) == 2 else None)(jumps()),
                    what="the jump back reported")
    assert "behind the monotonic clock" in both[0]["message"], both
    # a clock that keeps stepping: three events per ten minutes, the
    # rest counted (each jump is logged; the fourth raises nothing)
    for n, ms in ((3, "60000"), (4, "0")):
        with open(shift, "w") as f:
            f.write(ms)
        wait_for(lambda: t.proc.log_text().count("event=clock_jump") == n,
                 what=f"jump {n} logged")
    queued = [ln for ln in t.proc.log_text().splitlines()
              if "event=event_queued" in ln and "kind=clock_jump" in ln]
    assert len(queued) == 3, queued
    wait_for(lambda: len(jumps()) == 3, what="the third jump reported")
    # the window is ten minutes of the monotonic clock: eleven pass at
    # once (both clocks move, as after a suspend) with one more minute on
    # the wall clock: a new window, whose first event counts the jump
    # held back in the last one
    with open(shift, "w") as f:
        f.write(f"{11 * 60000 + 60000} {11 * 60000}")
    (last,) = wait_for(lambda: [e for e in jumps()
                                if "not reported before" in e["message"]],
                       timeout=30, what="the held jump counted")
    assert "(and 1 jump not reported before)" in last["message"], last
    assert "ahead of the monotonic clock" in last["message"], last
    assert len(jumps()) == 4


def test_raised_event_uploads_at_once_whatever_the_poll_interval(cluster):
    """Events go as they happen (PRODUCT.md section 3): cohortctl tells
    the running daemon, which uploads at once instead of when its held
    poll is next answered (up to the poll interval, 300 s here)."""
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    m.ctl("target", "set", "web-1", "--poll-interval", "300")
    # reported by a poll made after the change: the one now held
    wait_for(lambda: m.targets()["web-1"]["poll_interval_s"] == 300,
             what="poll interval 300 reported")
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "--severity", "warning", "probe")
    assert "queued" in r.stdout and r.stderr == "", r
    events = wait_for(lambda: m.ctl_json("event", "list"), timeout=10.0,
                      what="the event on the master within 10 s")
    assert [(e["target"], e["message"]) for e in events] == \
        [("web-1", "probe")]
    # not running: the record waits in the outbox, and no error
    t.stop()
    r = cluster.run("cohortctl", "event", "raise", "--state-dir", t.dir,
                    "--severity", "error", "while", "down")
    assert "queued" in r.stdout and r.stderr == "", r
    assert t.query("SELECT count(*) FROM outbox WHERE body LIKE "
                   "'%while down%'") == [(1,)]
    t.start()
    wait_for(lambda: len(m.ctl_json("event", "list")) == 2,
             what="the event raised while down, uploaded at start")
