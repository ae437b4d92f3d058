"""Jobs end to end: apply, start on two targets, outcomes and output in
the master's history; updates and deletes reach the targets; bad
documents are refused and change nothing; unsent outcomes survive a
target restart."""
import json
import os

from cohort import Gate, admin_cert, api, wait_for

HELLO = {
    "name": "hello",
    "description": "say hello on every target",
    "steps": [
        {"name": "greet", "subsystem": "shell",
         "command": "echo hello from $COHORT_TARGET; echo to-stderr >&2"},
        {"name": "report", "subsystem": "exec",
         "command": ["/bin/echo", "done"]},
    ],
    "targets": ["web-1", "web-2"],
}


def job_rows(m, job, **kw):
    rows = m.history("--job", job, "--limit", "1000")
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def finished(m, job, targets):
    rows = job_rows(m, job, step=0)
    done = {r["target"]: r for r in rows if r["outcome"] != "running"}
    return done if set(targets) <= set(done) else None


def test_job_runs_on_both_targets(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    r = m.apply_job(HELLO)
    assert "created" in r.stdout
    jobs = m.ctl_json("job", "list")
    assert [j["name"] for j in jobs] == ["hello"]
    assert sorted(jobs[0]["targets"]) == ["web-1", "web-2"]
    m.ctl("job", "start", "hello")
    done = wait_for(lambda: finished(m, "hello", ["web-1", "web-2"]),
                    what="both outcomes")
    for target, row in done.items():
        assert row["outcome"] == "succeeded", row
        for field in ("run_id", "job", "target", "step", "outcome",
                      "exit_code", "started_at", "duration_ms", "message",
                      "output"):
            assert field in row
        assert row["started_at"].endswith("Z")
        steps = job_rows(m, "hello", target=target, run_id=row["run_id"])
        greet = [s for s in steps if s["step"] == 1][0]
        assert f"hello from {target}" in greet["output"]
        assert "to-stderr" in greet["output"]
        assert greet["exit_code"] == 0
        report = [s for s in steps if s["step"] == 2][0]
        assert report["output"].strip() == "done"
    # the table shows each run's job row first, then its steps
    lines = m.ctl("history", "--job", "hello").stdout.splitlines()[1:]
    runs = [(ln.split()[0], int(ln.split()[3])) for ln in lines]
    for run_id in {r for r, _ in runs}:
        steps = [st for r, st in runs if r == run_id]
        assert steps == [0, 1, 2], (run_id, steps)
        first = [i for i, (r, _) in enumerate(runs) if r == run_id]
        assert first == list(range(first[0], first[0] + 3))
    # every instruction reached its target and was applied
    dl = m.ctl_json("downloadlist")
    assert {i["operation"] for i in dl} == {"insert", "start"}
    wait_for(lambda: all(i["status"] == "applied"
                         for i in m.ctl_json("downloadlist")),
             what="instructions applied")
    for i in dl:
        for field in ("id", "target", "operation", "object", "status",
                      "posted_at", "error"):
            assert field in i


def test_one_run_and_listings_without_output(cluster):
    """history --run shows one job run with its outputs; the API lists
    without outputs on request (the dashboard does), and refuses a
    malformed run id or flag."""
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(HELLO)
    for i in range(2):
        m.ctl("job", "start", "hello", "--target", "web-1")
        wait_for(lambda: len([r for r in job_rows(m, "hello", step=0)
                              if r["outcome"] == "succeeded"]) == i + 1,
                 what=f"run {i + 1} to end")
    runs = job_rows(m, "hello", step=0)
    assert len(runs) == 2
    one = runs[1]["run_id"]
    rows = m.ctl_json("history", "--run", one)
    assert sorted((r["run_id"], r["step"]) for r in rows) == [
        (one, 0), (one, 1), (one, 2)]
    text = m.ctl("history", "--run", one).stdout
    assert "--- step 1 greet, attempt 1 ---\nhello from web-1" in text
    assert "--- step 2 report, attempt 1 ---\ndone" in text
    cert, key = admin_cert(m)
    status, bare = api(m, "GET", "/v1/history?output=0&limit=100",
                       cert=cert, key=key)
    assert status == 200 and len(bare) == 6
    assert all("output" not in r and "message" in r for r in bare)
    status, full = api(m, "GET", "/v1/history?limit=100", cert=cert,
                       key=key)
    assert [dict(r, output=None) for r in full] == \
        [dict(r, output=None) for r in bare]
    target, n = one.rsplit(":", 1)
    for bad in (f"{target}", f":{n}", f"{target}:", f"{target}:0",
                f"{target}:-1", f"{target}:+{n}", f"{target}:{n}x",
                "bad%01name:1"):
        status, body = api(m, "GET", f"/v1/history?run_id={bad}",
                           cert=cert, key=key)
        assert status == 400, (bad, body)
        assert body["error"]["code"] == "invalid_request", body
    status, body = api(m, "GET", f"/v1/history?run_id={one}&target=web-2",
                       cert=cert, key=key)
    assert status == 400 and "run_id names target" in \
        body["error"]["message"], body
    status, body = api(m, "GET", "/v1/history?output=2", cert=cert,
                       key=key)
    assert status == 400, body
    # one step attempt of a run, as the dashboard reads an output
    status, rows = api(m, "GET", f"/v1/history?run_id={one}&step=2"
                       "&attempt=1", cert=cert, key=key)
    assert status == 200 and [(r["step"], r["output"].strip())
                              for r in rows] == [(2, "done")], rows
    for bad in ("step=1", "attempt=1", f"run_id={one}&step=-1",
                f"run_id={one}&attempt=x"):
        status, body = api(m, "GET", f"/v1/history?{bad}", cert=cert,
                           key=key)
        assert status == 400, (bad, body)
    r = m.ctl("history", "--run", "nonsense", check=False)
    assert r.returncode == 2 and "--run: 'nonsense'" in r.stderr
    # named and not there: exit 1 with its name, not an empty table
    r = m.ctl("history", "--run", f"{target}:999", check=False)
    assert r.returncode == 1 and f"no run {target}:999" in r.stderr, r
    assert m.ctl("history", "--run", one, "--outcome",
                 "failed").stdout.count("\n") == 1  # the header alone
    r = m.ctl("downloadlist", "--target", "nosuch", check=False)
    assert r.returncode == 1 and "no target 'nosuch'" in r.stderr, r
    # an output's escape sequences never reach the terminal
    m.apply_job({"name": "esc", "targets": ["web-1"],
                 "steps": [{"command": "printf 'a\\033[2Jb\\tc'"}]})
    m.ctl("job", "start", "esc")
    (run,) = wait_for(lambda: [r for r in job_rows(m, "esc", step=0)
                               if r["outcome"] == "succeeded"],
                      what="esc to run")
    (step,) = [r for r in m.ctl_json("history", "--run", run["run_id"])
               if r["step"] == 1]
    assert step["output"] == "a\x1b[2Jb\tc", step
    text = m.ctl("history", "--run", run["run_id"]).stdout
    assert "a?[2Jb\tc\n" in text and "\x1b" not in text, text
    # one run is read in full: its long messages are not cut there,
    # while the listing of many keeps its column narrow
    m.apply_job({"name": "wordy", "targets": ["web-1"],
                 "steps": [{"name": "a-step-whose-name-runs-on-and-on",
                            "command": "exit 3",
                            "on_failure": "quit_success"}]})
    m.ctl("job", "start", "wordy")
    (run,) = wait_for(lambda: [r for r in job_rows(m, "wordy", step=0)
                               if r["outcome"] != "running"],
                      what="wordy to run")
    assert len(run["message"]) > 50, run
    assert run["message"] in m.ctl("history", "--run",
                                   run["run_id"]).stdout
    assert run["message"] not in m.ctl("history", "--job", "wordy").stdout


def test_start_one_target_only(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(HELLO)
    m.ctl("job", "start", "hello", "--target", "web-2")
    wait_for(lambda: finished(m, "hello", ["web-2"]), what="web-2 outcome")
    assert not job_rows(m, "hello", target="web-1")
    r = m.ctl("job", "start", "hello", "--target", "nope", check=False)
    assert r.returncode != 0 and "not aimed" in r.stderr
    # an on-demand job: job next says so rather than print a bare header
    out = m.ctl("job", "next", "hello").stdout
    assert out.startswith("job hello has no schedules: it runs only when "
                          "started"), out


def test_history_limit_counts_whole_runs_listed_as_in_the_table(cluster):
    """history --limit N lists the newest N job runs whole (never a run
    cut from its job row or a step), and --json lists the same rows in
    the table's order: each run's job row, then its steps."""
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(HELLO)
    for round_ in (1, 2):
        m.ctl("job", "start", "hello")
        wait_for(lambda: len([r for r in job_rows(m, "hello", step=0)
                              if r["outcome"] != "running"]) == 2 * round_,
                 what=f"round {round_} finished on both targets")
    one = m.history("--limit", "1")
    assert len({r["run_id"] for r in one}) == 1, one
    assert [r["step"] for r in one] == [0, 1, 2], one
    three = m.history("--limit", "3")
    runs = list(dict.fromkeys(r["run_id"] for r in three))
    assert len(runs) == 3
    assert [r["step"] for r in three] == [0, 1, 2] * 3, three
    table = m.ctl("history", "--limit", "3").stdout.splitlines()[1:]
    assert [(ln.split()[0], int(ln.split()[3])) for ln in table] == \
        [(r["run_id"], r["step"]) for r in three]
    four = {r["run_id"] for r in m.history("--limit", "4")}
    assert len(four) == 4 and set(runs) < four


def test_ambiguous_command_lines_are_refused_and_change_nothing(cluster):
    """An option given twice is refused, not its last value kept; a name
    that is empty, '.' or '..' is refused before it reaches another API
    path; a missing group is named as such."""
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(HELLO)
    m.ctl("group", "create", "web")
    before = m.ctl_json("downloadlist", "--limit", "1000")
    for args, why in (
            (("job", "start", "hello", "--target", "web-1", "--target",
              "web-2"), "--target given twice"),
            (("job", "start", "hello", "--target=web-1", "--target=web-2"),
             "--target given twice"),
            (("job", "show", ".."), "may not be empty, '.' or '..'"),
            (("job", "start", "."), "may not be empty, '.' or '..'"),
            (("group", "delete", ""), "may not be empty, '.' or '..'"),
            (("group", "remove", "web", ""),
             "may not be empty, '.' or '..'"),
            (("target", "delete", ".."), "may not be empty, '.' or '..'"),
            (("group", "remove", "nogroup", "web-1"), "no group 'nogroup'"),
            (("-c", "other.conf", "job", "list"), "-c given twice")):
        r = m.ctl(*args, check=False)
        assert r.returncode != 0, args
        assert why in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
    assert m.ctl_json("downloadlist", "--limit", "1000") == before
    assert set(m.targets()) == {"web-1", "web-2"}
    assert m.ctl_json("group", "list")[0]["name"] == "web"


def test_an_unknown_query_parameter_is_refused(cluster):
    """A misspelt filter is refused with the parameters the route takes,
    never ignored (the listing would come back unfiltered)."""
    m = cluster.master().init().start()
    cert, key = admin_cert(m)
    for path, why in (
            ("/v1/history?bogus=1", "query parameter 'bogus': "
             "/v1/history takes job target outcome"),
            ("/v1/executions?target=w1", "query parameter 'target': "
             "/v1/executions takes status limit"),
            ("/v1/events?kind=user", "query parameter 'kind'"),
            ("/v1/targets?name=x", "/v1/targets takes none")):
        status, body = api(m, "GET", path, cert=cert, key=key)
        assert status == 400, (path, body)
        assert why in body["error"]["message"], (path, body)
    status, _ = api(m, "GET", "/v1/history?limit=5&output=0", cert=cert,
                    key=key)
    assert status == 200


def test_a_bad_filter_is_named_by_its_option(cluster):
    """A bad value of a listing's filter is named by cohortctl's option
    (not the master's query parameter), with exit status 2 for bad
    input, as cohortctl(8) says."""
    m = cluster.master().init().start()
    for args, why in (
            (("history", "--run", "bogus"),
             "--run: 'bogus' is not TARGET:N"),
            (("history", "--run", "web-1:0"),
             "--run: 'web-1:0' is not TARGET:N"),
            (("history", "--run", "web-1:3", "--target", "web-2"),
             "--run names target 'web-1', --target names 'web-2'"),
            (("exec", "list", "--status", "bogus"),
             "--status: 'bogus' is not one of open, queued"),
            (("event", "list", "--severity", "bogus"),
             "--severity: 'bogus' is not one of info, warning")):
        r = m.ctl(*args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert why in r.stderr, (args, r.stderr)
        assert "query parameter" not in r.stderr, (args, r.stderr)
    # good values still pass (a run that is not there is then named)
    r = m.ctl("history", "--run", "web-1:3", check=False)
    assert r.returncode == 1 and "no run web-1:3" in r.stderr, r
    assert m.ctl_json("exec", "list", "--status", "open") == []
    assert m.ctl_json("event", "list", "--severity", "error") == []


def test_failing_step_recorded(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1"])
    m.apply_job({"name": "fails", "targets": ["web-1"], "steps": [
        {"name": "bad", "command": "echo oops; exit 3"}]})
    m.ctl("job", "start", "fails")
    done = wait_for(lambda: finished(m, "fails", ["web-1"]))
    assert done["web-1"]["outcome"] == "failed"
    step = job_rows(m, "fails", step=1)[0]
    assert step["exit_code"] == 3 and "oops" in step["output"]


def test_update_and_delete_reach_targets(cluster):
    m = cluster.master().init().start()
    t1, t2 = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(HELLO)
    wait_for(lambda: t1.query("SELECT name FROM jobs") == [("hello",)],
             what="job on web-1")
    # same document again: nothing is posted
    r = m.apply_job(HELLO)
    assert "unchanged" in r.stdout
    changed = dict(HELLO, description="changed", targets=["web-1"])
    r = m.apply_job(changed)
    assert "updated" in r.stdout
    ops = {(i["target"], i["operation"]) for i in
           m.ctl_json("downloadlist")}
    assert ("web-1", "update") in ops and ("web-2", "delete") in ops
    wait_for(lambda: t2.query("SELECT name FROM jobs") == [],
             what="job removed from web-2")
    wait_for(lambda: "changed" in t1.query("SELECT doc FROM jobs")[0][0],
             what="job updated on web-1")
    m.ctl("job", "delete", "hello")
    wait_for(lambda: t1.query("SELECT name FROM jobs") == [],
             what="job removed from web-1")
    assert m.ctl_json("job", "list") == []


def test_bad_documents_refused_and_nothing_changes(cluster, tmp_path):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1"])
    cases = [
        ({"name": "x", "steps": [{"command": "true"}], "bogus": 1},
         "bogus"),
        ({"name": "x", "steps": []}, "steps"),
        ({"name": "bad\u0001name", "steps": [{"command": "true"}]}, "name"),
        ({"name": "x", "steps": [{"command": "true",
                                  "on_failure": "step:9"}]}, "on_failure"),
        ({"name": "x", "steps": [{"command": "true"}],
          "targets": ["ghost"]}, "ghost"),
    ]
    for doc, field in cases:
        r = m.apply_job(doc, check=False)
        assert r.returncode != 0, doc
        assert field in r.stderr, (field, r.stderr)
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    r = m.ctl("job", "apply", str(bad), check=False)
    assert r.returncode != 0 and "line 1" in r.stderr
    r = m.ctl("job", "apply", str(tmp_path / "absent.json"), check=False)
    assert r.returncode != 0 and "absent.json" in r.stderr and \
        "line -1" not in r.stderr, r.stderr
    assert m.ctl_json("job", "list") == []
    assert m.ctl_json("downloadlist") == []


def test_unsent_outcomes_upload_after_restart(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    # The step ends only once the master is down: a step of a fixed
    # length could end, and its outcome be uploaded, before the stop.
    gate = Gate(cluster.root)
    m.apply_job({"name": "slow", "targets": ["web-1"], "steps": [
        {"name": "nap", "command": gate.command("echo woke")}]})
    m.ctl("job", "start", "slow")
    wait_for(lambda: t.query("SELECT state FROM runs") != [],
             what="the run to start")
    port = m.port
    m.stop()                 # the outcome cannot be uploaded now
    gate.open()
    wait_for(lambda: t.query("SELECT state FROM runs") == [("finished",)],
             what="the run to finish on the target")
    wait_for(lambda: any("succeeded" in b for (b,) in
                         t.query("SELECT body FROM outbox")),
             what="the outcome in the outbox")
    t.stop()
    m.start(f"--listen=127.0.0.1:{port}")
    t.start()
    done = wait_for(lambda: finished(m, "slow", ["web-1"]),
                    what="the outcome uploaded")
    assert done["web-1"]["outcome"] == "succeeded"
    wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
             what="the outbox emptied")


def test_an_outcome_over_the_masters_limit_is_cut_not_stuck(cluster):
    """A step may keep more output than the master takes in one request:
    its outcome is uploaded with the output cut to its last bytes (the
    target's own history keeps it whole), and the outcomes behind it are
    not held back."""
    m = cluster.master(extra_conf="max_body_bytes = 65536\n").init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    # 300,000 bytes of output, ending in a line the cut must keep
    m.apply_job({"name": "loud", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "head -c 300000 /dev/zero | tr '\\0' x; "
         "echo; echo the-last-line"}]})
    m.apply_job({"name": "quiet", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "echo after"}]})
    m.ctl("job", "start", "loud")
    wait_for(lambda: t.query("SELECT state FROM runs WHERE job = 'loud'")
             == [("finished",)], what="loud to finish on the target")
    m.ctl("job", "start", "quiet")
    done = wait_for(lambda: finished(m, "quiet", ["web-1"]), timeout=60,
                    what="quiet's outcome, behind loud's")
    assert done["web-1"]["outcome"] == "succeeded"
    (step,) = job_rows(m, "loud", step=1)
    out = step["output"]
    assert step["outcome"] == "succeeded"
    assert out.startswith("[cohort: output cut to its last "), out[:120]
    assert "of 300015 bytes" in out.split("\n", 1)[0], out[:200]
    assert out.endswith("the-last-line\n"), out[-40:]
    assert len(out) < 65536
    # the target's history has it whole
    ((report,),) = t.query("SELECT report FROM history WHERE job = 'loud'")
    steps = json.loads(report)["steps"]
    assert [len(s["output"]) for s in steps] == [300015], \
        [len(s["output"]) for s in steps]
    assert "upload_too_large" in t.proc.log_text()


def test_a_job_document_over_four_mib_is_refused_and_changes_nothing(
        cluster):
    """max_body_bytes may let a bigger request in, but every reader of a
    stored job takes 4 MiB at most: such a document is refused, not
    stored where no one could read it back."""
    m = cluster.master(extra_conf="max_body_bytes = 16777216\n").init() \
        .start()
    cert, key = admin_cert(m)
    # 70 steps of a 64 KiB command: about 4.5 MiB
    doc = {"name": "big", "steps": [{"name": f"s{i}", "command": "x" * 65536}
                                    for i in range(70)]}
    status, body = api(m, "PUT", "/v1/jobs/big", body=doc, cert=cert,
                       key=key, timeout=60)
    assert status == 413, body
    assert "more than 4194304" in body["error"]["message"], body
    assert m.ctl_json("job", "list") == []
    # just under: stored, and read back whole
    doc["steps"] = doc["steps"][:60]
    status, body = api(m, "PUT", "/v1/jobs/big", body=doc, cert=cert,
                       key=key, timeout=60)
    assert status in (200, 201), body
    shown = m.ctl_json("job", "show", "big")
    assert len(shown["document"]["steps"]) == 60
