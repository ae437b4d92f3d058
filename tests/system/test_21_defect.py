"""A defect posted by the master (`cohortctl target defect`): the target
stops its multiserver runs, uploads what it holds, acknowledges, and the
master then marks it defected and revokes its certificate; the target
forgets the master, keeps its local jobs and stops. It can enlist again,
with this master or another, from nothing."""
import os
import shutil

from cohort import admin_cert, api, wait_for


def jobs_on(t):
    return sorted(n for (n,) in t.query("SELECT name FROM jobs"))


def defects(m, target):
    return [i for i in m.ctl_json("downloadlist", "--target", target)
            if i["operation"] == "defect"]


def person(cluster, m, name, role):
    out = os.path.join(cluster.root, name)
    m.ctl("cert", "issue", "--role", role, name, "--out", out)
    profile = os.path.join(out, "profile.conf")
    return lambda *args: cluster.run("cohortctl", "-c", profile, *args,
                                     check=False)


def keep_cert(cluster, t):
    """A copy of the target's certificate and key: defecting removes
    them, and the test then shows the master refuses them."""
    out = os.path.join(cluster.root, t.name + "-old-tls")
    shutil.copytree(os.path.join(t.dir, "tls"), out)
    return os.path.join(out, "cert.pem"), os.path.join(out, "key.pem")


def test_master_posted_defect(cluster):
    m = cluster.master().init().start()
    t1, t2 = cluster.enlisted(m, ["web-1", "web-2"])
    m.ctl("group", "create", "web")
    m.ctl("group", "add", "web", "web-1")
    m.ctl("group", "add", "web", "web-2")
    m.apply_job({"name": "mj", "targets": ["web-1", "web-2"],
                 "steps": [{"command": "true"}]})
    m.apply_job({"name": "slow", "targets": ["web-1"],
                 "steps": [{"command": "sleep 60"}]})
    wait_for(lambda: jobs_on(t1) == ["mj", "slow"], what="jobs on web-1")
    t1.add_local_job("mine")
    old_cert = keep_cert(cluster, t1)
    m.ctl("job", "start", "slow", "--target", "web-1")
    wait_for(lambda: any(r["outcome"] == "running" and r["step"] == 0
                         for r in m.history("--job", "slow")),
             what="slow to run on web-1")

    r = m.ctl("target", "defect", "web-1")
    assert "defect of web-1 posted (instruction" in r.stdout
    wait_for(lambda: not t1.proc.alive(), timeout=30,
             what="web-1's daemon to stop after defecting")
    assert t1.proc.p.returncode == 0
    log = t1.proc.log_text()
    assert "event=defected" in log and "outbox_left=0" in log

    # the master: defected, the instruction applied, the stopped run's
    # outcome uploaded before the certificate was revoked
    assert m.targets()["web-1"]["status"] == "defected"
    (d,) = defects(m, "web-1")
    assert d["status"] == "applied" and d["error"] == ""
    runs = [h for h in m.history("--job", "slow", "--target", "web-1")
            if h["step"] == 0]
    assert [h["outcome"] for h in runs] == ["canceled"]
    assert "defects from its master" in runs[0]["message"]
    status, body = api(m, "GET", "/v1/whoami", cert=old_cert[0],
                       key=old_cert[1])
    assert status == 401 and "revoked" in body["error"]["message"]

    # the target: multiserver jobs gone, local ones kept, the master
    # forgotten (files, acks, outbox, last instruction)
    assert jobs_on(t1) == ["mine"]
    assert not os.path.exists(t1.conf)
    assert os.path.exists(t1.conf + ".defected")
    assert not os.path.exists(os.path.join(t1.dir, "tls", "cert.pem"))
    assert not os.path.exists(os.path.join(t1.dir, "tls", "key.pem"))
    assert t1.query("SELECT COUNT(*) FROM acks") == [(0,)]
    assert t1.query("SELECT COUNT(*) FROM outbox") == [(0,)]
    assert t1.query("SELECT key FROM meta WHERE key IN "
                    "('last_instr', 'defecting')") == []

    # it left every job and group: a job names it no more (and can be
    # applied again as shown), a start posts nothing to it, and it is
    # not put back in a group
    shown = m.ctl_json("job", "show", "mj")["document"]
    assert shown["targets"] == ["web-2"], shown
    assert m.apply_job(shown).returncode == 0
    status, body = api(m, "POST", "/v1/jobs/mj/start", {},
                       *admin_cert(m))
    assert status == 200, body
    assert [p["target"] for p in body["posted"]] == ["web-2"], body
    groups = {g["name"]: g["members"] for g in m.ctl_json("group", "list")}
    assert groups["web"] == ["web-2"], groups
    r = m.ctl("group", "add", "web", "web-1", check=False)
    assert r.returncode != 0 and "has defected" in r.stderr, r.stderr
    assert m.targets()["web-1"]["unread_instructions"] == 0

    # web-2 goes on as before
    m.ctl("job", "start", "mj", "--target", "web-2")
    wait_for(lambda: any(h["outcome"] == "succeeded" and h["step"] == 0
                         for h in m.history("--job", "mj",
                                            "--target", "web-2")),
             what="mj to run on web-2")
    assert m.targets()["web-2"]["status"] == "normal"

    # a second defect of a defected target is refused
    r = m.ctl("target", "defect", "web-1", check=False)
    assert r.returncode != 0 and "has defected already" in r.stderr
    assert len(defects(m, "web-1")) == 1


def test_defected_target_enlists_with_another_master(cluster):
    """Instruction ids are the master's own: a target that kept the last
    id it applied would take a new master's first instructions for ones
    applied already and skip them."""
    m = cluster.master().init().start()
    (t1,) = cluster.enlisted(m, ["web-1"])
    for i in range(5):  # raise the ids past the new master's first ones
        m.apply_job({"name": f"j{i}", "targets": ["web-1"],
                     "steps": [{"command": "true"}]})
    wait_for(lambda: len(jobs_on(t1)) == 5, what="five jobs on web-1")
    m.ctl("target", "defect", "web-1")
    wait_for(lambda: not t1.proc.alive(), timeout=30,
             what="web-1 to defect")
    assert jobs_on(t1) == []
    # started again with the configuration defecting set aside: it says
    # what happened and what to do, not "no such file"
    r = cluster.run("cohortd", "-c", t1.conf + ".defected", check=False,
                    timeout=30)
    assert r.returncode != 0
    assert "has defected from its master" in r.stderr, r.stderr
    assert "cohortctl enlist" in r.stderr, r.stderr

    other = cluster.master(name="other").init().start()
    t1.enlist(other)
    t1.start()
    other.apply_job({"name": "fresh", "targets": ["web-1"],
                     "steps": [{"command": "echo again"}]})
    wait_for(lambda: jobs_on(t1) == ["fresh"], what="fresh on web-1")
    other.ctl("job", "start", "fresh")
    wait_for(lambda: any(h["output"].strip() == "again"
                         for h in other.history("--job", "fresh")
                         if h["step"] == 1),
             what="fresh to run under the new master")
    assert other.targets()["web-1"]["status"] == "normal"


def test_defect_waits_for_a_stopped_target(cluster):
    """Posted while the target is down, it is pending; posting it again
    answers the same instruction; the target defects when it comes
    back."""
    m = cluster.master().init().start()
    (t1,) = cluster.enlisted(m, ["web-1"])
    t1.stop()
    r1 = m.ctl("target", "defect", "web-1")
    r2 = m.ctl("target", "defect", "web-1")
    assert "posted (instruction" in r1.stdout
    assert "was posted before" in r2.stdout
    (d,) = defects(m, "web-1")
    # downloaded when the poll the stopped target left open was woken
    assert d["status"] in ("pending", "downloaded") and d["object"] == ""
    assert f"instruction {d['id']})" in r1.stdout
    assert f"instruction {d['id']})" in r2.stdout
    # not defected until it applies it (and, stopped for more than three
    # poll intervals on a slow machine, perhaps suspected offline)
    assert m.targets()["web-1"]["status"] in ("normal", "suspected offline")
    # a resync would drop a defect the target may have applied already
    before = m.ctl_json("downloadlist", "--target", "web-1")
    r = m.ctl("target", "resync", "web-1", check=False)
    assert r.returncode != 0 and "has a defect on its way" in r.stderr
    assert m.ctl_json("downloadlist", "--target", "web-1") == before
    t1.start()
    wait_for(lambda: not t1.proc.alive(), timeout=30,
             what="web-1 to defect when it comes back")
    assert m.targets()["web-1"]["status"] == "defected"
    assert not os.path.exists(t1.conf)


def test_defect_refusals_change_nothing(cluster):
    m = cluster.master().init().start()
    (t1,) = cluster.enlisted(m, ["web-1"])
    before = m.ctl_json("downloadlist", "--target", "web-1")
    r = m.ctl("target", "defect", "ghost", check=False)
    assert r.returncode != 0 and "ghost" in r.stderr
    r = m.ctl("target", "defect", check=False)
    assert r.returncode != 0
    r = m.ctl("target", "defect", "web-1", "web-2", check=False)
    assert r.returncode != 0
    for role in ("operator", "viewer"):
        ctl = person(cluster, m, "p-" + role, role)
        r = ctl("target", "defect", "web-1")
        assert r.returncode != 0 and "may not call this" in r.stderr, role
    cert, key = admin_cert(m)
    status, body = api(m, "POST", "/v1/targets/web%01x/defect",
                       cert=cert, key=key)
    assert status in (400, 404), body
    # a target may not defect another one
    tcert = os.path.join(t1.dir, "tls", "cert.pem")
    tkey = os.path.join(t1.dir, "tls", "key.pem")
    status, body = api(m, "POST", "/v1/targets/web-1/defect",
                       cert=tcert, key=tkey)
    assert status == 403, body
    assert m.ctl_json("downloadlist", "--target", "web-1") == before
    assert m.targets()["web-1"]["status"] == "normal"
    assert t1.proc.alive()



def test_defect_disables_a_worker(cluster):
    """A worker with a defect posted takes no new execution: it is
    disabled in the posting's transaction."""
    m = cluster.master().init().start()
    (w1,) = cluster.enlisted(m, ["w1"])
    w1.stop()
    w1.start("--worker=yes", "--max_tasks=2")
    wait_for(lambda: [w["name"] for w in m.ctl_json("worker", "list")]
             == ["w1"], what="w1 to register as a worker")
    m.ctl("worker", "enable", "w1")
    w1.stop()
    m.ctl("target", "defect", "w1")
    (w,) = m.ctl_json("worker", "list")
    assert not w["enabled"]
    w1.start("--worker=yes", "--max_tasks=2")
    wait_for(lambda: not w1.proc.alive(), timeout=30,
             what="w1 to defect")
    assert m.targets()["w1"]["status"] == "defected"
