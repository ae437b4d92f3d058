"""Multiserver administration: target groups move jobs on and off their
members; the download list drains, blocks on a failure and is cleared or
resynced; settings, versions, rename, defect and dismantle."""
import os

from cohort import wait_for

JOB = {"name": "g-job", "steps": [{"command": "true"}], "groups": ["web"]}


def jobs_on(t):
    return sorted(n for (n,) in t.query("SELECT name FROM jobs"))


def ops(m, target):
    return [(i["operation"], i["object"]) for i in
            m.ctl_json("downloadlist", "--target", target)]


def test_groups_move_jobs(cluster):
    m = cluster.master().init().start()
    t1, t2, t3 = cluster.enlisted(m, ["web-1", "web-2", "db-1"])
    m.ctl("group", "create", "web")
    m.ctl("group", "create", "all")
    m.ctl("group", "add", "web", "web-1")
    m.apply_job(dict(JOB, groups=["web", "all"]))
    wait_for(lambda: jobs_on(t1) == ["g-job"], what="job on web-1")
    assert jobs_on(t2) == [] and jobs_on(t3) == []
    m.ctl("job", "start", "g-job")
    wait_for(lambda: any(r["step"] == 0 and r["outcome"] == "succeeded"
                         for r in m.history("--job", "g-job")),
             what="g-job to run on web-1")
    # joining a group brings the job
    r = m.ctl("group", "add", "web", "web-2")
    assert "posted insert of job g-job to web-2" in r.stdout
    wait_for(lambda: jobs_on(t2) == ["g-job"], what="job on web-2")
    # adding a member again changes nothing, and says so
    r = m.ctl("group", "add", "web", "web-2")
    assert r.stdout == "web-2 is in group web already\n", r.stdout
    # a target in two groups that carry the job gets it once
    r = m.ctl("group", "add", "all", "web-1")
    assert "posted" not in r.stdout
    assert ops(m, "web-1").count(("insert", "g-job")) == 1
    # leaving one of them keeps it; leaving the last removes it
    m.ctl("group", "remove", "web", "web-1")
    assert ("delete", "g-job") not in ops(m, "web-1")
    r = m.ctl("group", "remove", "all", "web-1")
    assert "posted delete of job g-job to web-1" in r.stdout
    wait_for(lambda: jobs_on(t1) == [], what="job gone from web-1")
    # job show names the groups, and a last outcome from a target the
    # job no longer goes to says so
    shown = m.ctl("job", "show", "g-job").stdout
    assert "groups:    web, all" in shown, shown
    assert "web-1 (not aimed now)" in shown, shown
    groups = {g["name"]: g["members"] for g in m.ctl_json("group", "list")}
    assert groups == {"all": [], "web": ["web-2"]}
    # a group a job names cannot be deleted; an unknown one is refused
    r = m.ctl("group", "delete", "web", check=False)
    assert r.returncode != 0 and "used by job 'g-job'" in r.stderr
    r = m.apply_job(dict(JOB, name="other", groups=["nope"]), check=False)
    assert r.returncode != 0 and "groups: 'nope'" in r.stderr
    r = m.ctl("group", "add", "web", "ghost", check=False)
    assert r.returncode != 0 and "no target 'ghost'" in r.stderr


def test_unread_grows_while_down_then_drains(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    t.stop()
    for i in range(3):
        m.apply_job({"name": f"j{i}", "targets": ["web-1"],
                     "steps": [{"command": "true"}]})
    assert m.targets()["web-1"]["unread_instructions"] == 3
    # what web-1 has not acknowledged, in one query (section 10)
    unacked = m.ctl_json("downloadlist", "--target", "web-1", "--status",
                         "open")
    assert [i["object"] for i in unacked] == ["j2", "j1", "j0"]
    assert {i["status"] for i in unacked} <= {"pending", "downloaded"}
    t.start()
    wait_for(lambda: m.targets()["web-1"]["unread_instructions"] == 0,
             what="unread to drain")
    assert jobs_on(t) == ["j0", "j1", "j2"]
    assert m.ctl_json("downloadlist", "--status", "open") == []
    assert len(m.ctl_json("downloadlist", "--status", "applied")) == 3


def test_failed_instruction_blocks_until_cleared_or_resync(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    t.add_local_job("clash")
    m.apply_job({"name": "clash", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: m.targets()["web-1"]["status"] == "blocked",
             what="blocked")
    failed = [i for i in m.ctl_json("downloadlist", "--target", "web-1")
              if i["status"] == "failed"]
    assert len(failed) == 1
    assert "a local job named 'clash'" in failed[0]["error"]
    # nothing after the failure is delivered, even after the target has
    # polled again since it was posted
    m.apply_job({"name": "later", "targets": ["web-1"],
                 "steps": [{"command": "true"}]})
    polled = m.targets()["web-1"]["last_poll"]
    wait_for(lambda: m.targets()["web-1"]["last_poll"] != polled,
             what="another poll")
    later = [i for i in m.ctl_json("downloadlist", "--target", "web-1")
             if i["object"] == "later"]
    assert [i["status"] for i in later] == ["pending"]
    assert "later" not in jobs_on(t)
    assert m.targets()["web-1"]["unread_instructions"] == 1
    # clearing the failure unblocks
    m.ctl("downloadlist", "clear", str(failed[0]["id"]))
    wait_for(lambda: "later" in jobs_on(t), what="later delivered")
    assert m.targets()["web-1"]["status"] == "normal"
    # the table tells a cleared failure from one that still blocks
    row = [line for line in m.ctl("downloadlist", "--target",
                                  "web-1").stdout.splitlines()
           if line.startswith(f"{failed[0]['id']} ")]
    assert len(row) == 1 and "failed, cleared" in row[0], row
    # fail again, then resync: the target ends with exactly the master's view
    m.apply_job({"name": "clash", "targets": ["web-1"], "description": "x",
                 "steps": [{"command": "true"}]})
    wait_for(lambda: m.targets()["web-1"]["status"] == "blocked",
             what="blocked again")
    t.drop_local_job("clash")
    r = m.ctl("target", "resync", "web-1")
    assert "posted resync to web-1" in r.stdout
    wait_for(lambda: jobs_on(t) == ["clash", "later"], what="resynced")
    wait_for(lambda: m.targets()["web-1"]["status"] == "normal",
             what="normal after resync")
    r = m.ctl("downloadlist", "clear", "999999", check=False)
    assert r.returncode != 0


def test_location_and_poll_interval(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    r = m.ctl("target", "set", "web-1", "--location", "rack 4, Berlin",
              "--poll-interval", "5")
    assert "posted set_poll_interval" in r.stdout
    wait_for(lambda: m.targets()["web-1"]["poll_interval_s"] == 5,
             what="poll interval 5 reported")
    assert m.targets()["web-1"]["location"] == "rack 4, Berlin"
    for bad in (["--poll-interval", "0"], ["--poll-interval", "28801"], []):
        r = m.ctl("target", "set", "web-1", *bad, check=False)
        assert r.returncode != 0
    assert m.targets()["web-1"]["poll_interval_s"] == 5


def test_version_rule(cluster):
    env = {"COHORT_TEST_VERSION": "0.5.0"}
    m = cluster.master().init().start(env=env)
    ok = cluster.target("t-ok")
    ok.enlist(m, env={"COHORT_TEST_VERSION": "0.3.7"})
    ok.start(env={"COHORT_TEST_VERSION": "0.3.7"})
    # enlisting is checked too
    r = cluster.target("t-x").enlist(m, check=False,
                                     env={"COHORT_TEST_VERSION": "0.7.1"})
    assert r.returncode != 0 and "0.7.1" in r.stderr and "0.5.0" in r.stderr
    # enlisted at a good version, then upgraded past the master
    newer = cluster.target("t-new")
    newer.enlist(m, env=env)
    newer.start(env={"COHORT_TEST_VERSION": "0.6.0"})
    # enlisted at a good version, then rolled back too far
    older = cluster.target("t-old")
    older.enlist(m, env={"COHORT_TEST_VERSION": "0.3.0"})
    older.start(env={"COHORT_TEST_VERSION": "0.2.9"})
    wait_for(lambda: m.targets()["t-ok"]["version"] == "0.3.7",
             what="the accepted target")
    for t, v in ((newer, "0.6.0"), (older, "0.2.9")):
        wait_for(lambda: "version_refused" in t.proc.log_text() or
                 "0.5.0" in t.proc.log_text(), what="refusal logged")
        log = t.proc.log_text()
        assert v in log and "0.5.0" in log, log[-2000:]
        assert not m.targets()[t.name]["last_poll"]


def test_renamed_target_refuses_to_run(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    conf = open(t.conf).read().replace("name = web-1", "name = web-9")
    open(t.conf, "w").write(conf)
    r = cluster.run("cohortd", "-c", t.conf, check=False, timeout=20)
    assert r.returncode != 0
    assert "defect, rename, enlist again" in r.stderr


def test_defect_and_dismantle(cluster):
    m = cluster.master().init().start()
    t1, t2 = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job({"name": "mj", "targets": ["web-1", "web-2"],
                 "steps": [{"command": "true"}]})
    wait_for(lambda: jobs_on(t1) == ["mj"], what="job on web-1")
    t1.stop()
    t1.add_local_job("mine")
    r = cluster.run("cohortctl", "defect", "--state-dir", t1.dir)
    assert "defected" in r.stdout
    assert m.targets()["web-1"]["status"] == "defected"
    assert jobs_on(t1) == ["mine"]            # local jobs stay
    assert not os.path.exists(t1.conf)
    # its certificate is revoked
    cert, key = (os.path.join(t1.dir, "tls", n) for n in ("cert.pem",
                                                          "key.pem"))
    assert not os.path.exists(cert)
    # dismantling is refused while web-2 is enlisted
    m.stop()
    r = cluster.run("cohortctl", "master", "dismantle", "--state-dir",
                    m.dir, check=False)
    assert r.returncode != 0 and "web-2" in r.stderr
    assert os.path.exists(m.conf)
    # --force defects without the master
    t2.stop()
    r = cluster.run("cohortctl", "defect", "--state-dir", t2.dir,
                    check=False)
    assert r.returncode != 0 and "--force" in r.stderr
    cluster.run("cohortctl", "defect", "--state-dir", t2.dir, "--force")
    # a second defect, or none named, says what is wrong
    for args, why in ((["--state-dir", t2.dir], "is not an enlisted "
                       "target's state directory"),
                      (["--state-dir", ""], "defect needs --state-dir")):
        r = cluster.run("cohortctl", "defect", *args, "--force",
                        check=False)
        assert r.returncode != 0 and why in r.stderr, r.stderr
    m.start()
    m.ctl("target", "delete", "web-2")
    m.stop()
    r = cluster.run("cohortctl", "master", "dismantle", "--state-dir",
                    m.dir)
    assert "dismantled" in r.stdout
    assert not os.path.exists(m.conf)
    assert not os.path.exists(os.path.join(m.dir, "tls", "ca.key"))


def test_tables_line_up_in_characters_and_list_names(cluster):
    """A table's columns are counted in characters, so a UTF-8 location
    keeps the rest of its row in line; lists of names read as names."""
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    m.ctl("target", "set", "web-1", "--location", "Zürich 東京")
    m.ctl("target", "set", "web-2", "--location", "rack 9")
    lines = m.ctl("target", "list").stdout.splitlines()
    at = lines[0].index("ENLISTED")
    for ln in lines[1:]:
        # ENLISTED starts with the year in every row, where the header is
        assert ln[at:at + 2] == "20", (at, lines)
    m.ctl("group", "create", "web")
    m.ctl("group", "create", "none")
    for t in ("web-1", "web-2"):
        m.ctl("group", "add", "web", t)
    rows = dict(ln.split(None, 1) for ln in
                m.ctl("group", "list").stdout.splitlines()[1:])
    assert rows == {"web": "web-1, web-2", "none": "-"}, rows
