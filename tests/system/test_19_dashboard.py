"""The web dashboard (/ui/) in a real headless browser: Debian's Chromium,
driven by playwright-core (tests/browser/dashboard.mjs), presenting a
person's certificate to a real master with two real targets. An admin
sees targets, jobs with their last outcome per target, history with
output, the download list and events, starts a job and clears a failed
instruction; a viewer sees the same and can start nothing; another site's
page cannot make the browser start a job; a job's output that looks like
markup stays text. Then the same rules without a browser: no certificate,
no page; no path out of the dashboard's own files."""
import http.server
import json
import os
import subprocess
import threading

from cohort import admin_cert, api, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "tests", "browser", "dashboard.mjs")
MARKUP = "<img src=x onerror=alert(1)>hello <script>alert(2)</script>"


def browse(cluster, m, cert=None, key=None, console_errors=(), **conf):
    """Runs the browser over the dashboard; returns what it saw.
    console_errors: the ones the test causes on purpose."""
    conf.update(url=m.url, cert=cert, key=key)
    path = os.path.join(cluster.root, "browser.json")
    with open(path, "w") as f:
        json.dump(conf, f)
    env = dict(os.environ,
               NODE_EXTRA_CA_CERTS=os.path.join(m.dir, "tls", "ca.crt"))
    r = subprocess.run(["node", SCRIPT, path], capture_output=True,
                       text=True, timeout=180, env=env, cwd=cluster.root)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.splitlines()[-1])
    assert seen["failure"] is None, seen
    assert seen["dialogs"] == [], seen["dialogs"]
    assert seen["page_errors"] == [], seen["page_errors"]
    # a blocked script or style (the policy) is reported here
    assert seen["console_errors"] == list(console_errors), \
        seen["console_errors"]
    return seen


class AttackerSite:
    """A page on another origin (plain HTTP on another port), the kind a
    person might have open beside the dashboard."""

    def __init__(self):
        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"<!doctype html><title>elsewhere</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def starts(m, job):
    return [i for i in m.ctl_json("downloadlist")
            if i["operation"] == "start" and i["object"] == job]


def rows_of(m, job, target):
    return [r for r in m.history("--job", job, "--target", target,
                                 "--limit", "1000") if r["step"] == 0]


def greet_job():
    return {"name": "greet", "targets": ["web-1", "web-2"],
            "description": "says hello",
            "steps": [{"name": "say", "subsystem": "exec",
                       "command": ["/bin/echo", MARKUP]}]}


def test_admin_sees_the_fleet_and_acts(cluster):
    m = cluster.master().init().start()
    t1, _ = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(greet_job())
    m.ctl("job", "start", "greet")
    for t in ("web-1", "web-2"):
        wait_for(lambda: [r for r in rows_of(m, "greet", t)
                          if r["outcome"] == "succeeded"],
                 timeout=30, what=f"greet to succeed on {t}")
    # a failed instruction for the clear button: the insert clashes with
    # a local job of the same name on web-1
    t1.add_local_job("clash")
    m.apply_job({"name": "clash", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    (failed,) = wait_for(lambda: [i for i in m.ctl_json("downloadlist")
                                  if i["status"] == "failed"],
                         what="the clashing insert to fail")
    # another job's runs, for the history filter to leave out
    m.apply_job({"name": "other", "targets": ["web-2"],
                 "steps": [{"command": "true"}]})
    m.ctl("job", "start", "other")
    wait_for(lambda: rows_of(m, "other", "web-2"), timeout=30,
             what="other to run")
    before = len(starts(m, "greet"))
    attacker = AttackerSite()
    try:
        seen = browse(cluster, m, *admin_cert(m), start_job="greet",
                      clear_id=failed["id"], attacker_url=attacker.url,
                      history_job="greet",
                      screenshot=os.path.join(cluster.root, "jobs.png"))
    finally:
        attacker.close()
    assert seen["who"] == "admin (admin)"
    # targets, with their status as the master derives it
    by_name = {row[0]: row for row in seen["views"]["targets"]}
    assert sorted(by_name) == ["web-1", "web-2"], seen["views"]["targets"]
    assert by_name["web-2"][1] == "normal", by_name
    assert by_name["web-1"][1] == "blocked", by_name
    assert seen["targets_summary"].startswith("2 targets:"), seen
    # jobs, with the last outcome on each target
    jobs = {row[0]: row for row in seen["views"]["jobs"]}
    assert sorted(jobs) == ["clash", "greet", "other"], seen["views"]["jobs"]
    assert jobs["greet"][2] == "says hello"
    lasts = seen["last_outcomes"]
    assert [s.split(" ")[:2] for s in lasts["greet"]] == [
        ["web-1:", "succeeded"], ["web-2:", "succeeded"]], lasts
    assert lasts["clash"] == ["web-1: never ran"], lasts
    assert [s.split(" ")[:2] for s in lasts["other"]] == [
        ["web-2:", "succeeded"]], lasts
    # history: a job's output that looks like markup is shown as text
    greet_rows = [r for r in seen["views"]["history"] if r[1] == "greet"]
    assert len(greet_rows) >= 4, seen["views"]["history"]  # job + step rows
    assert seen["first_output"].strip() == MARKUP, seen["first_output"]
    assert seen["first_output_visible"]
    # listed without outputs; the one opened was read by its run id
    reqs = seen["history_requests"]
    lists = [q for q in reqs if "run_id=" not in q]
    assert lists and all("output=0" in q for q in lists), reqs
    assert any("run_id=web-" in q and "step=" in q and "output=0" not in q
               for q in reqs), reqs
    # the filter asks the master for one job's runs only
    assert any(r[1] == "other" for r in seen["views"]["history"])
    filtered = seen["views"]["history_filtered"]
    assert filtered and all(r[1] == "greet" for r in filtered), filtered
    # the download list, and the failed instruction cleared by its button
    ids = [row[0] for row in seen["views"]["downloadlist"]]
    assert str(failed["id"]) in ids, ids
    assert f"Cleared instruction {failed['id']}" in seen["clear_banner"]
    (cleared,) = [i for i in m.ctl_json("downloadlist")
                  if i["id"] == failed["id"]]
    assert cleared["cleared"], cleared
    # the Start button posted one start per target; the other site's
    # forged start, sent with the same certificate, posted nothing
    assert seen["job_buttons"].count("Start") == 3, seen["job_buttons"]
    assert seen["start_banner"] == "Started greet on 2 target(s).", seen
    assert seen["forgery"] == "sent", seen["forgery"]
    wait_for(lambda: "cross-site request refused" in m.proc.log_text(),
             what="the forged start to be refused")
    assert len(starts(m, "greet")) == before + 2
    for t in ("web-1", "web-2"):
        wait_for(lambda: len([r for r in rows_of(m, "greet", t)
                              if r["outcome"] == "succeeded"]) == 2,
                 timeout=30, what=f"the dashboard's start to run on {t}")
    assert seen["views"]["events"], seen["views"]["events"]


def test_viewer_reads_but_starts_nothing(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(greet_job())
    # the viewer's browser holds what cert issue --p12 wrote
    out = os.path.join(cluster.root, "vic")
    issued = m.ctl("cert", "issue", "--role", "viewer", "vic", "--out", out,
                   "--p12").stdout
    pfx = os.path.join(out, "browser.p12")
    assert f"import {pfx}, no password" in issued, issued
    assert os.stat(pfx).st_mode & 0o777 == 0o600
    wait_for(lambda: [i["status"] for i in m.ctl_json("downloadlist")] ==
             ["applied", "applied"], what="greet to reach both targets")
    seen = browse(cluster, m, pfx=pfx, start_job="greet", why_job="greet",
                  console_errors=["Failed to load resource: the server "
                                  "responded with a status of 403 (Forbidden)"])
    assert seen["who"] == "vic (viewer)"
    assert [row[0] for row in seen["views"]["jobs"]] == ["greet"]
    # a viewer asks why, and has nothing to start with
    assert seen["job_buttons"] == ["Why?"], seen["job_buttons"]
    assert seen["why_title"] == "Why: greet"
    assert [row[:3] for row in seen["why"]] == [
        ["web-1", "normal", "on_demand"], ["web-2", "normal", "on_demand"]]
    assert "job start" in seen["why"][0][3], seen["why"]
    assert seen["last_outcomes"] == {
        "greet": ["web-1: never ran", "web-2: never ran"]}
    hand = seen["start_by_hand"]
    assert hand["status"] == 403, hand
    assert "may not call this" in hand["body"]["error"]["message"]
    assert starts(m, "greet") == []
    assert seen["views"]["history"] == [["No run matches."]]


def test_dashboard_needs_a_person_and_serves_only_its_files(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    m.apply_job({"name": "j", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    cert = admin_cert(m)
    status, body = api(m, "GET", "/ui/", cert=cert[0], key=cert[1])
    assert status == 200 and "<title>cohort</title>" in body
    status, body = api(m, "GET", "/ui/app.js", cert=cert[0], key=cert[1])
    assert status == 200 and "textContent" in body
    status, body = api(m, "GET", "/ui", cert=cert[0], key=cert[1])
    assert status == 301
    # no certificate: no page; a target's certificate is not a person's
    status, body = api(m, "GET", "/ui/")
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    tcert = (os.path.join(t.dir, "tls", "cert.pem"),
             os.path.join(t.dir, "tls", "key.pem"))
    status, body = api(m, "GET", "/ui/", cert=tcert[0], key=tcert[1])
    assert status == 403, body
    # nothing outside the compiled-in files, however the path is spelt
    for path in ("/ui/cohortd.conf", "/ui/..%2fcohortd.conf",
                 "/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/ui/sub/app.js",
                 "/ui/app.js%00.html"):
        status, body = api(m, "GET", path, cert=cert[0], key=cert[1])
        assert status == 404, (path, status, body)
    # a forged request as a browser would send it from another site is
    # refused and changes nothing; the same call without those headers,
    # as cohortctl sends it, goes through
    for headers in ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
                    {"Origin": "https://elsewhere.example"}):
        status, body = api(m, "POST", "/v1/jobs/j/start", body={},
                           cert=cert[0], key=cert[1], headers=headers)
        assert status == 403, (headers, body)
        assert "cross-site request refused" in body["error"]["message"]
    assert starts(m, "j") == []
    status, body = api(m, "POST", "/v1/jobs/j/start", body={},
                       cert=cert[0], key=cert[1],
                       headers={"Origin": f"https://127.0.0.1:{m.port}",
                                "Sec-Fetch-Site": "same-origin"})
    assert status == 200, body
    assert len(starts(m, "j")) == 1


def test_scaleout_queue_and_workers(cluster):
    """The scale-out view: the queue with the reason an execution waits,
    and the workers, one enabled with its button; the waiting execution
    then runs on it."""
    m = cluster.master().init().start()
    w = cluster.target("w1")
    w.enlist(m)
    w.start("--worker=yes")
    m.apply_job({"name": "task", "targets": ["w1"],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: m.ctl_json("worker", "list"), what="w1 to register")
    out = m.ctl("exec", "submit", "task").stdout
    exec_id = int(out.split()[1])
    wait_for(lambda: "w1 disabled" in m.ctl_json(
        "exec", "show", str(exec_id))["reason"], what="the reason")
    # a second one that will still run when the queue is filtered
    m.apply_job({"name": "slow", "targets": ["w1"],
                 "steps": [{"command": "sleep 600"}]})
    slow_id = int(m.ctl("exec", "submit", "slow").stdout.split()[1])
    seen = browse(cluster, m, *admin_cert(m), enable_worker="w1",
                  queue_status="succeeded")
    (queued,) = [r for r in seen["views"]["queue"] if r[0] == str(exec_id)]
    assert queued[:3] == [str(exec_id), "task", "queued"], queued
    assert "w1 disabled" in queued[6], queued
    (worker,) = seen["views"]["workers"]
    assert worker[:4] == ["w1", "disabled", "online", "0 of 10"], worker
    assert seen["enable_banner"] == "Worker w1 enabled.", seen
    assert seen["views"]["workers_after"][0][1] == "enabled"
    e = wait_for(lambda: (lambda e: e if e["status"] == "succeeded"
                          else None)(m.ctl_json("exec", "show", str(exec_id))),
                 timeout=30, what="the execution to run once enabled")
    assert e["worker"] == "w1"
    # filtered by status: the master's answer, only that status ("slow"
    # runs meanwhile, until the worker is stopped)
    assert [r[:3] for r in seen["views"]["queue_filtered"]] == [
        [str(exec_id), "task", "succeeded"]], seen["views"]["queue_filtered"]
    assert slow_id != exec_id
