"""`cohortctl job why` on real daemons: each verdict reached the way an
operator meets it (a job not aimed at a target, not yet delivered to one
that never polled, blocked by a failed instruction, on demand only,
disabled, scheduled; an offline target still runs its schedules), the
last record a target uploaded (a run, then a missed record naming the
disabled job), and bad input refused."""
import os
import subprocess
import time

from cohort import admin_cert, api, wait_for

EVERY_2S = [{"name": "s", "cron": "*/2 * * * * *"}]


def why(m, job, target=None):
    args = ["job", "why", job] + (["--target", target] if target else [])
    return m.ctl_json(*args)


def why_one(m, job, target):
    (entry,) = why(m, job, target)["targets"]
    return entry


def verdict_is(m, job, target, verdict):
    entry = why_one(m, job, target)
    return entry if entry["verdict"] == verdict else None


def newest_job_row(m, job, target):
    rows = m.history("--job", job, "--target", target, "--limit", "1000")
    return [r for r in rows if r["step"] == 0][0]


def test_why_follows_a_scheduled_job(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    doc = {"name": "tick", "targets": ["web-1"], "schedules": EVERY_2S,
           "steps": [{"name": "t", "command": "true"}]}
    m.apply_job(doc)
    e = wait_for(lambda: (lambda e: e if e["last"] and
                          e["last"]["outcome"] == "succeeded" else None)(
        verdict_is(m, "tick", "web-1", "scheduled")), timeout=30,
        what="a scheduled run")
    assert e["aimed"] and e["status"] == "normal"
    assert "next run at" in e["explanation"], e
    assert "schedule s" in e["explanation"], e
    assert e["definition"]["operation"] == "insert"
    assert e["definition"]["status"] == "applied"
    assert e["blocked_by"] is None
    # disabled: once the update is applied, the verdict says so
    m.apply_job(dict(doc, enabled=False))
    e = wait_for(lambda: verdict_is(m, "tick", "web-1", "disabled"),
                 what="the disabling update to apply")
    assert e["definition"]["operation"] == "update"
    assert "recorded as missed" in e["explanation"]
    disabled_at = time.time()
    wait_for(lambda: time.time() > disabled_at + 3, timeout=10,
             what="a due instant to pass while disabled")
    m.apply_job(doc)
    wait_for(lambda: [r for r in m.history("--job", "tick", "--limit", "1000")
                      if r["outcome"] == "missed" and
                      "job disabled" in r["message"]],
             timeout=30, what="the missed record")
    # stopped, the target uploads nothing more: its last record is the
    # newest job row in the history, and it still runs its schedules
    t.stop()
    newest = newest_job_row(m, "tick", "web-1")
    e = why_one(m, "tick", "web-1")
    assert e["last"]["run_id"] == newest["run_id"], (e, newest)
    assert e["last"]["outcome"] == newest["outcome"]
    e = wait_for(lambda: (lambda e: e if "suspected offline" in
                          e["explanation"] else None)(
        why_one(m, "tick", "web-1")), timeout=20, what="suspected offline")
    assert e["verdict"] == "scheduled"
    assert "runs its schedules alone" in e["explanation"]
    # moved off the stopped target: it has the job until the delete
    # applies, and still runs it
    m.apply_job(dict(doc, targets=[]))
    e = why_one(m, "tick", "web-1")
    assert e["verdict"] == "leaving", e
    assert "still has the job and runs it" in e["explanation"], e


def test_why_verdicts_across_targets(cluster):
    m = cluster.master().init().start()
    (t1,) = cluster.enlisted(m, ["web-1"])
    cluster.target("web-2").enlist(m)  # enlisted, never started
    m.apply_job({"name": "solo", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    e = wait_for(lambda: verdict_is(m, "solo", "web-1", "on_demand"),
                 what="solo on demand")
    assert "cohortctl job start solo" in e["explanation"]
    e = why_one(m, "solo", "web-2")
    assert e["verdict"] == "not_aimed" and not e["aimed"], e
    # aimed at both: one entry each, in name order
    m.apply_job({"name": "both", "targets": ["web-2", "web-1"],
                 "schedules": [{"name": "night", "kind": "daily",
                                "every_days": 1, "at": "02:30",
                                "time_zone": "UTC"}],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: verdict_is(m, "both", "web-1", "scheduled"),
             what="both scheduled on web-1")
    out = why(m, "both")
    assert out["aimed_at"] == ["web-1", "web-2"]
    assert [e["target"] for e in out["targets"]] == ["web-1", "web-2"]
    assert out["more_targets"] == 0
    w2 = out["targets"][1]
    assert w2["verdict"] == "not_delivered", w2
    assert "not downloaded yet" in w2["explanation"], w2
    assert "has never polled" in w2["explanation"], w2
    assert w2["last"] is None and w2["last_poll"] is None
    text = m.ctl("job", "why", "both").stdout
    assert "job both on web-1: scheduled" in text, text
    assert "job both on web-2: not_delivered" in text, text
    assert "last record: none uploaded" in text, text
    # blocked: the insert fails on the target (a local job of that name)
    t1.add_local_job("clash")
    m.apply_job({"name": "clash", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    e = wait_for(lambda: verdict_is(m, "clash", "web-1", "blocked"),
                 what="blocked")
    failed = [i for i in m.ctl_json("downloadlist", "--target", "web-1")
              if i["status"] == "failed"]
    assert e["blocked_by"]["id"] == failed[0]["id"]
    assert f"downloadlist clear {failed[0]['id']}" in e["explanation"]
    assert "a local job named 'clash'" in e["explanation"], e
    # a job applied before the failure runs on; one posted after it waits
    e = why_one(m, "solo", "web-1")
    assert e["verdict"] == "on_demand", e
    m.apply_job({"name": "later", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    e = why_one(m, "later", "web-1")
    assert e["verdict"] == "blocked", e
    assert e["definition"]["status"] == "pending", e
    # a schedule without a zone runs in the target's own
    m.apply_job({"name": "local", "targets": ["web-1"],
                 "schedules": [{"name": "n", "kind": "daily",
                                "every_days": 1, "at": "02:30"}],
                 "steps": [{"command": "true"}]})
    m.ctl("downloadlist", "clear", str(failed[0]["id"]))
    e = wait_for(lambda: verdict_is(m, "local", "web-1", "scheduled"),
                 what="local scheduled")
    assert "T02:30:00 in web-1's own zone (about " in e["explanation"], e


def test_why_of_schedules_with_no_run_ahead(cluster):
    """Schedules with no timed run ahead (start, idle, a once that has
    passed, an end date passed): the verdicts say so. The master used to
    crash on them (a first run that is not there), for any caller that
    may read, a viewer included."""
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1"])
    jobs = {
        "boot": ([{"name": "b", "kind": "start"}], "on_condition"),
        "idle": ([{"name": "i", "kind": "idle", "idle_load": 0.5,
                   "idle_for_s": 60}],
                 "on_condition"),
        "past": ([{"name": "o", "kind": "once", "at": "2020-01-01T00:00",
                   "time_zone": "UTC"}], "no_run_ahead"),
        "ended": ([{"name": "d", "kind": "daily", "every_days": 1,
                    "at": "02:30", "time_zone": "UTC",
                    "end_date": "2021-01-01"}], "no_run_ahead"),
    }
    for name, (schedules, _) in jobs.items():
        m.apply_job({"name": name, "targets": ["web-1"],
                     "schedules": schedules,
                     "steps": [{"command": "true"}]})
    for name, (_, verdict) in jobs.items():
        wait_for(lambda: verdict_is(m, name, "web-1", verdict),
                 what=f"{name}: {verdict}")
    assert m.proc.alive()


def test_why_bad_input_is_refused(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    m.apply_job({"name": "solo", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    r = m.ctl("job", "why", "nosuch", check=False)
    assert r.returncode != 0 and "nosuch" in r.stderr, r.stderr
    r = m.ctl("job", "why", "solo", "--target", "nosuch", check=False)
    assert r.returncode != 0 and "nosuch" in r.stderr, r.stderr
    r = m.ctl("job", "why", "solo", "--target", "bad\x01name", check=False)
    assert r.returncode != 0 and "--target" in r.stderr, r.stderr
    r = m.ctl("job", "why", "solo", "extra", check=False)
    assert r.returncode != 0
    cert, key = admin_cert(m)
    status, body = api(m, "GET", "/v1/jobs/solo/why?target=bad%01name",
                       cert=cert, key=key)
    assert status == 400 and body["error"]["code"] == "invalid_request", body
    status, body = api(m, "GET", "/v1/jobs/solo/why?target=nosuch",
                       cert=cert, key=key)
    assert status == 404 and body["error"]["code"] == "not_found", body
    # a target's certificate may not ask
    tls = os.path.join(t.dir, "tls")
    status, body = api(m, "GET", "/v1/jobs/solo/why",
                       cert=os.path.join(tls, "cert.pem"),
                       key=os.path.join(tls, "key.pem"))
    assert status == 403 and body["error"]["code"] == "forbidden", body


def test_why_explains_at_most_100_targets(cluster):
    """Without --target a job aimed at more targets is explained for the
    first 100 (each costs store reads on the master's loop); the rest are
    counted."""
    m = cluster.master(extra_conf="rate_limit_per_s = 0\n").init().start()
    n = 103
    r = subprocess.run([cluster.bin("fleet"), "enlist", "--state", m.dir,
                        "--n", str(n), "--prefix", "why", "--creds",
                        os.path.join(cluster.root, "creds")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    names = [f"why-{i:05d}" for i in range(n)]
    m.apply_job({"name": "wide", "targets": names,
                 "steps": [{"command": "true"}]})
    out = why(m, "wide")
    assert [e["target"] for e in out["targets"]] == names[:100]
    assert out["more_targets"] == 3
    assert {e["verdict"] for e in out["targets"]} == {"not_delivered"}
    assert len(out["aimed_at"]) == n
    text = m.ctl("job", "why", "wide").stdout
    assert "... and 3 more targets: name one with --target" in text
    e = why_one(m, "wide", "why-00102")
    assert e["verdict"] == "not_delivered", e


def test_a_failed_definition_is_applied_again_and_not_started(cluster):
    """The advice of definition_failed holds: while a job's latest
    definition has failed on a target, a start is not posted there (it
    would fail and block the target) but is to its other targets; once
    the cause is gone and the failure cleared, applying the unchanged
    document posts it again, and the job starts."""
    m = cluster.master().init().start()
    t1, _ = cluster.enlisted(m, ["web-1", "web-2"])
    t1.add_local_job("clash2")
    doc = {"name": "clash2", "targets": ["web-1", "web-2"],
           "steps": [{"command": "true"}]}
    m.apply_job(doc)
    wait_for(lambda: verdict_is(m, "clash2", "web-1", "blocked"),
             what="the insert to fail on web-1")
    wait_for(lambda: verdict_is(m, "clash2", "web-2", "on_demand"),
             what="the insert to apply on web-2")
    (failed,) = [i for i in m.ctl_json("downloadlist", "--target", "web-1")
                 if i["status"] == "failed"]

    def starts_on(target):
        return [i for i in m.ctl_json("downloadlist", "--target", target)
                if i["operation"] == "start" and i["object"] == "clash2"]

    # blocked at it: not started there, the rest of the fleet is
    r = m.ctl("job", "start", "clash2", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "start posted" in r.stdout and "web-2" in r.stdout, r.stdout
    assert "not started on web-1" in r.stderr, r.stderr
    assert f"downloadlist clear {failed['id']}" in r.stderr, r.stderr
    assert starts_on("web-1") == []
    # cleared: still not started there, now with the advice to apply
    m.ctl("downloadlist", "clear", str(failed["id"]))
    e = wait_for(lambda: verdict_is(m, "clash2", "web-1",
                                    "definition_failed"),
                 what="definition_failed")
    assert "job start is not posted there" in e["explanation"], e
    r = m.ctl("job", "start", "clash2", "--target", "web-1", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "its latest definition failed on web-1" in r.stderr, r.stderr
    assert "apply the job again" in r.stderr, r.stderr
    assert starts_on("web-1") == []
    assert m.targets()["web-1"]["status"] == "normal"
    # the cause gone, the unchanged document goes to web-1 again only
    t1.drop_local_job("clash2")
    r = m.apply_job(doc)
    assert "posted insert to web-1" in r.stdout, r.stdout
    assert "web-2" not in r.stdout, r.stdout
    wait_for(lambda: verdict_is(m, "clash2", "web-1", "on_demand"),
             what="the insert to apply on web-1 this time")
    # nothing failed: applying once more posts nothing
    assert "posted" not in m.apply_job(doc).stdout
    r = m.ctl("job", "start", "clash2", "--target", "web-1")
    assert starts_on("web-1"), r.stdout
    wait_for(lambda: [h for h in m.history("--job", "clash2",
                                           "--target", "web-1")
                      if h["step"] == 0 and h["outcome"] == "succeeded"],
             what="the run on web-1")
