"""High availability: two masters on one PostgreSQL store. A standby sends
every caller to the active master, and targets and cohortctl follow it;
the active master killed, a standby takes over within 5 s with nothing
lost; a paused old active cannot write once it wakes and steps down;
under load across failovers every posted START runs exactly once per
target; the failover drill measures a takeover and checks the ledger.
(docs/ha.md. The lease settings are the defaults: lease_ttl_s = 3,
lease_renew_ms = 1000.)"""
import json
import os
import signal
import threading
import time
from datetime import datetime, timezone

import pytest

from cohort import Gate, admin_cert, api, wait_for

TAKEOVER_BOUND_S = 5.0
POLL_S = 1


def jobs_on(t):
    return sorted(n for (n,) in t.query("SELECT name FROM jobs"))


def last_poll(m, profile, name):
    rows = m.cluster.ctl(profile, "target", "list", "--json").stdout
    for t in json.loads(rows):
        if t["name"] == name and t["last_poll"]:
            return datetime.fromisoformat(
                t["last_poll"].replace("Z", "+00:00")).timestamp()
    return 0


def polls_taken(m):
    """cohort_polls_total of m's /metrics: the polls this master process
    took (a standby refuses them before they are counted)."""
    cert, key = admin_cert(m)
    status, text = api(m, "GET", "/metrics", cert=cert, key=key)
    assert status == 200, text
    for line in text.splitlines():
        if line.startswith("cohort_polls_total "):
            return int(float(line.split()[1]))
    raise AssertionError(f"no cohort_polls_total in {text!r}")


def takeover(standby, timeout=10.0):
    """Waits for standby to become active; returns the seconds taken."""
    t0 = time.monotonic()
    wait_for(standby.is_active, timeout=timeout,
             what=f"{standby.name} to take over")
    return time.monotonic() - t0


def ledger(cluster, profile):
    """Per applied START instruction: the number of job rows in the
    history carrying its id; plus the STARTs not yet applied."""
    instrs = json.loads(cluster.ctl(profile, "downloadlist", "--limit",
                                    "100000", "--json").stdout)
    runs = json.loads(cluster.ctl(profile, "history", "--limit", "100000",
                                  "--json").stdout)
    starts = [i for i in instrs if i["operation"] == "start"]
    counts = {i["id"]: 0 for i in starts if i["status"] == "applied"}
    for r in runs:
        if r["step"] == 0 and r.get("instr_id") in counts:
            counts[r["instr_id"]] += 1
    pending = [i["id"] for i in starts if i["status"] != "applied"]
    return counts, pending


@pytest.mark.pg_only
def test_standby_sends_callers_to_the_active_master(pg_cluster):
    c = pg_cluster
    m1, m2 = c.pair()
    status, body = m1.health()
    assert status == 200 and body["state"] == "active"
    assert body["epoch"] >= 1 and body["url"] == m1.url
    status, body = m2.health()
    assert status == 503 and body["state"] == "standby"
    assert body["active_url"] == m1.url
    # every other call on the standby, with a certificate or none
    cert, key = admin_cert(m1)
    for path, kw in (("/v1/targets", {"cert": cert, "key": key}),
                     ("/v1/ca", {})):
        status, body = api(m2, "GET", path, **kw)
        assert status == 503, body
        assert body["error"]["code"] == "not_active"
        assert body["error"]["active_url"] == m1.url
        assert m1.url in body["error"]["message"]
    # cohortctl: a profile with the standby only says where to go ...
    alone = c.profile([m2], "standby.conf")
    r = c.ctl(alone, "target", "list", check=False)
    assert r.returncode != 0
    assert "standby" in r.stderr and m1.url in r.stderr
    # ... and one listing both follows, standby first or not
    both = c.profile([m2, m1])
    c.ctl(both, "group", "create", "web")
    assert "web" in c.ctl(both, "group", "list").stdout
    # the joined master's state dir: the same CA and certificate
    for rel in ("tls/ca.crt", "tls/cert.pem", "tls/ca.key"):
        assert open(os.path.join(m1.dir, rel)).read() == \
            open(os.path.join(m2.dir, rel)).read()
    assert os.stat(os.path.join(m2.dir, "tls/ca.key")).st_mode & 0o077 == 0
    # both listen on 127.0.0.1:0, so both are "the port in the file
    # beside the profile": the joined profile names that URL once
    profile = open(m2.profile).read()
    assert "master = https://127.0.0.1:0\n" in profile, profile
    # a target given the standby first enlists and polls the active one
    (t,) = c.enlisted(m1, ["web-1"], masters=[m2, m1])
    assert "master = " + m2.url + " " + m1.url in open(t.conf).read()
    assert "master_standby" in t.proc.log_text()


@pytest.mark.pg_only
def test_kill_active_standby_takes_over_nothing_lost(pg_cluster):
    c = pg_cluster
    m1, m2 = c.pair()
    prof = c.profile([m1, m2])
    t1, t2 = c.enlisted(m1, ["web-1", "web-2"], masters=[m1, m2])
    m1.apply_job({"name": "slow", "targets": ["web-1"],
                  "steps": [{"command": "sleep 2; echo done"}]})
    wait_for(lambda: jobs_on(t1) == ["slow"], what="slow on web-1")
    # web-2 is away: an instruction for it waits in the store
    t2.stop()
    m1.apply_job({"name": "later", "targets": ["web-2"],
                  "steps": [{"command": "true"}]})
    # web-1 is running a job when the active master dies
    m1.ctl("job", "start", "slow")
    wait_for(lambda: t1.query("SELECT state FROM runs") == [("running",)],
             what="slow running on web-1")
    m1.kill()
    took = takeover(m2)
    assert took < TAKEOVER_BOUND_S, f"takeover took {took:.2f} s"
    active_at = time.time()
    # the target reconnects within one poll interval (+ request slack)
    wait_for(lambda: last_poll(m2, prof, "web-1") >= int(active_at),
             timeout=POLL_S + 3, what="web-1 to poll the new master")
    # the run went on; its outcome, kept in the outbox, is uploaded once
    wait_for(lambda: [(r["outcome"], r["output"].strip()) for r in
                      c.ctl_json_rows(prof, "history", "--job", "slow")
                      if r["step"] == 1] == [("succeeded", "done")],
             what="slow's outcome on the new master")
    rows = [r for r in c.ctl_json_rows(prof, "history", "--job", "slow")
            if r["step"] == 0]
    assert len(rows) == 1 and rows[0]["outcome"] == "succeeded"
    # the instruction posted before the crash is delivered
    t2.start()
    wait_for(lambda: jobs_on(t2) == ["later"], what="later on web-2")
    # the old master comes back as a standby
    m1.restart()
    wait_for(lambda: m1.health()[0] == 503, what="m1 to stand by")
    assert m1.health()[1]["active_url"] == m2.url
    # a call made while the takeover is under way (the active one dead,
    # the standby not active yet) waits for it rather than fail
    m2.kill()
    r = c.ctl(prof, "job", "start", "slow", check=False)
    assert r.returncode == 0 and "posted start to web-1" in r.stdout, \
        r.stdout + r.stderr


@pytest.mark.pg_only
def test_paused_old_active_is_fenced_and_steps_down(pg_cluster):
    c = pg_cluster
    m1, m2 = c.pair()
    prof = c.profile([m1, m2])
    (t,) = c.enlisted(m1, ["web-1"], masters=[m1, m2])
    m1.apply_job({"name": "j", "targets": ["web-1"],
                  "steps": [{"command": "echo ran"}]})
    wait_for(lambda: jobs_on(t) == ["j"], what="j on web-1")
    m1.proc.signal(signal.SIGSTOP)
    try:
        # an administrator's START reaches the paused master and waits
        # in its socket
        cert, key = admin_cert(m1)
        result = {}
        call = threading.Thread(target=lambda: result.update(
            r=api(m1, "POST", "/v1/jobs/j/start", body={}, cert=cert,
                  key=key, timeout=60)))
        call.start()
        took = takeover(m2)
        assert took < TAKEOVER_BOUND_S, f"takeover took {took:.2f} s"
        # cohortctl with the paused master first in its profile moves on
        # to the next once connecting (the TLS handshake) times out,
        # rather than waiting out its whole request time (120 s)
        t0 = time.monotonic()
        assert "admin" in c.ctl(prof, "whoami").stdout
        assert time.monotonic() - t0 < 30
    finally:
        m1.proc.signal(signal.SIGCONT)
    call.join(60)
    status, body = result["r"]
    assert status == 503 and body["error"]["code"] == "not_active", body
    wait_for(lambda: m1.health()[0] == 503, what="m1 to step down")
    assert "lease_lost" in m1.proc.log_text()
    # nothing the paused master had in flight was applied
    assert not [i for i in c.ctl_json_rows(prof, "downloadlist")
                if i["operation"] == "start"]
    # the target is with the new master; a START through the pair runs
    # once
    c.ctl(prof, "job", "start", "j")
    wait_for(lambda: [r["outcome"] for r in
                      c.ctl_json_rows(prof, "history", "--job", "j")
                      if r["step"] == 0] == ["succeeded"],
             what="one run of j")
    counts, pending = ledger(c, prof)
    assert pending == [] and list(counts.values()) == [1]


@pytest.mark.pg_only
def test_standby_sends_a_browser_to_the_active_dashboard(pg_cluster):
    # A browser shown the API's not_active JSON would print it raw: a
    # dashboard path on a standby is redirected to the active master's,
    # or answered in words when no master is known to be active.
    c = pg_cluster
    m1, m2 = c.pair(extra_conf_m1="lease_ttl_s = 60\n"
                    "lease_renew_ms = 59000\n")
    cert, key = admin_cert(m1)
    for path in ("/ui/", "/ui/app.js", "/ui"):
        got = {}
        status, body = api(m2, "GET", path, cert=cert, key=key,
                           reply_headers=got)
        assert status == 307, (path, status, body)
        assert got["Location"] == m1.url + path, got
        assert f"the active master is {m1.url}" in body, body
    # a page the dashboard does not have is still not found, not sent on
    status, _ = api(m2, "GET", "/ui/nothing.html", cert=cert, key=key)
    assert status == 307  # the active master answers it (404 there)
    status, _ = api(m1, "GET", "/ui/nothing.html", cert=cert, key=key)
    assert status == 404
    # no URL for the holder (as from a master of an older version): no
    # redirect to guess, a page saying so; the API still answers JSON
    m1.sql("UPDATE lease SET url = ''")
    wait_for(lambda: api(m2, "GET", "/ui/", cert=cert, key=key)[0] == 503,
             what="m2 to read the lease without a URL")
    got = {}
    status, body = api(m2, "GET", "/ui/", cert=cert, key=key,
                       reply_headers=got)
    assert status == 503, body
    assert "no master is active at the moment" in body, body
    assert got.get("Retry-After") == "5" and "Location" not in got, got
    status, body = api(m2, "GET", "/v1/targets", cert=cert, key=key)
    assert status == 503 and body["error"]["code"] == "not_active", body


@pytest.mark.pg_only
def test_deposed_master_that_has_not_noticed_cannot_write(pg_cluster):
    # m1 renews rarely, so it has not noticed when its lease is gone and
    # m2 has taken over: its first write is what finds out (the fence)
    c = pg_cluster
    m1, m2 = c.pair(extra_conf_m1="lease_ttl_s = 60\n"
                    "lease_renew_ms = 59000\n")
    prof = c.profile([m1, m2])
    # Every new poll writes to the store, so with the usual 1 s interval
    # the target's next poll could find the fence before the start below.
    # A 30 s interval holds its poll (carrying j's acknowledgement) over
    # the whole window; m1's step-down answers it at once.
    (t,) = c.enlisted(m1, ["web-1"], masters=[m1, m2], poll_interval=30)
    m1.apply_job({"name": "j", "targets": ["web-1"],
                  "steps": [{"command": "true"}]})
    wait_for(lambda: jobs_on(t) == ["j"], what="j on web-1")
    # The target acknowledges j in its next poll: let that write land
    # first, or it is the write that finds the lease gone, before the
    # start below.
    wait_for(lambda: [i["status"] for i in
                      c.ctl_json_rows(prof, "downloadlist")] == ["applied"],
             what="j's instruction acknowledged")
    m1.sql("UPDATE lease SET expires_at = 'epoch'")
    takeover(m2)
    assert m1.health()[0] == 200  # it still believes it is active
    r = m1.ctl("job", "start", "j", check=False)
    assert r.returncode != 0 and "another master is active" in r.stderr
    wait_for(lambda: m1.health()[0] == 503, what="m1 to step down")
    assert "a write was fenced" in m1.proc.log_text()
    assert not [i for i in c.ctl_json_rows(prof, "downloadlist")
                if i["operation"] == "start"]
    # its held poll was answered: the target went on to m2. It goes at
    # once, so its poll may be recorded before any time taken here, and
    # last_poll has whole seconds: m2's own count of the polls it took
    # (none while it stood by) says it. Well inside the 30 s the poll
    # was held for, so the step-down answered it, not its time running
    # out.
    wait_for(lambda: polls_taken(m2) >= 1, timeout=10,
             what="web-1 to poll m2")


@pytest.mark.pg_only
def test_failover_under_load_every_start_runs_once(pg_cluster):
    c = pg_cluster
    m1, m2 = c.pair()
    prof = c.profile([m1, m2])
    names = ["web-1", "web-2", "web-3"]
    targets = c.enlisted(m1, names, masters=[m1, m2])
    m1.apply_job({"name": "tick", "targets": names,
                  "steps": [{"command": "true"}]})
    wait_for(lambda: all(jobs_on(t) == ["tick"] for t in targets),
             what="tick on every target")
    ok = failed = 0
    for i in range(36):
        r = c.ctl(prof, "job", "start", "tick", check=False)
        if r.returncode == 0:
            ok += 1
        else:
            failed += 1
        if i == 10:
            m1.kill()          # failover 1: the active master dies
            # m1's session ended with it, so m2 takes over at its next
            # check; m1 restarted before that would win the lease back
            wait_for(lambda: m2.health()[0] == 200, what="m2 active")
        if i == 20:
            m1.restart()
        if i == 26:            # failover 2: the drill, back to m1
            wait_for(lambda: m1.health()[0] == 503, what="m1 standby")
            r = c.ctl(prof, "drill", "failover", check=False)
            assert r.returncode == 0, r.stdout + r.stderr
            assert "0 lost, 0 doubled" in r.stdout
    assert ok >= 30, f"{ok} starts posted, {failed} refused"

    def settled():
        counts, pending = ledger(c, prof)
        return not pending and counts and \
            all(n >= 1 for n in counts.values()) and counts

    counts = wait_for(settled, timeout=60, what="every START to run")
    assert len(counts) >= ok * len(names)
    doubled = {i: n for i, n in counts.items() if n != 1}
    assert doubled == {}, f"STARTs not run exactly once: {doubled}"
    per_target = {}
    for r in c.ctl_json_rows(prof, "history", "--job", "tick",
                             "--limit", "100000"):
        if r["step"] == 0:
            per_target[r["target"]] = per_target.get(r["target"], 0) + 1
    assert set(per_target) == set(names)
    assert sum(per_target.values()) == len(counts)


@pytest.mark.pg_only
def test_drill_failover(pg_cluster):
    c = pg_cluster
    m1, m2 = c.pair()
    prof = c.profile([m1, m2])
    (t,) = c.enlisted(m1, ["web-1"], masters=[m1, m2])
    gate = Gate(c.root)
    # j queues its starts: three in a row are each posted and run, where
    # under "refuse" the master may refuse one while the last run's end
    # is on its way up (a few ms)
    m1.apply_job({"name": "j", "targets": ["web-1"], "overlap": "queue",
                  "steps": [{"command": "true"}]})
    m1.apply_job({"name": "q", "targets": ["web-1"], "overlap": "queue",
                  "steps": [{"command": gate.command()}]})
    wait_for(lambda: jobs_on(t) == ["j", "q"], what="j and q on web-1")
    for _ in range(3):
        c.ctl(prof, "job", "start", "j")
    r = c.ctl(prof, "drill", "failover", "--json")
    out = json.loads(r.stdout)
    assert out["from"] == m1.url and out["to"] == m2.url
    assert out["epoch"] > out["released_epoch"]
    assert out["takeover_ms"] < TAKEOVER_BOUND_S * 1000
    assert out["lost"] == 0 and out["doubled"] == 0
    assert out["starts"] == 3 and out["runs"] == 3
    assert m2.health()[0] == 200 and m1.health()[0] == 503
    # the release is in the audit log, written before the lease went
    audit = json.loads(c.ctl(prof, "audit", "--json").stdout)
    assert [a for a in audit if a["path"] == "/v1/lease/release"
            and a["status"] == 200], audit
    assert "audit_failed" not in m1.proc.log_text()
    # a person's certificate through the pair's profile: the dashboard's
    # address is one master's, not the profile's list
    issued = c.ctl(prof, "cert", "issue", "--role", "viewer", "vic",
                   "--out", os.path.join(c.root, "vic"), "--p12").stdout
    assert f"(the dashboard, {m1.url}/ui/)" in issued, issued

    def listed(job, status):
        rows = json.loads(c.ctl(prof, "downloadlist", "--json").stdout)
        return [i for i in rows if i["operation"] == "start"
                and i["object"] == job and i["status"] == status]

    # Runs the history no longer holds were not lost: the store counted
    # them as they came. A start that waits behind a run of its job is
    # not lost either.
    c.ctl(prof, "history", "purge", "--job", "j")
    c.ctl(prof, "job", "start", "q")
    wait_for(lambda: [r for r in json.loads(c.ctl(
        prof, "history", "--job", "q", "--json").stdout)
        if r["step"] == 0 and r["outcome"] == "running"],
        what="q's first run reported running")
    # q's overlap policy queues: a second start waits on the target
    c.ctl(prof, "job", "start", "q")
    wait_for(lambda: len(listed("q", "applied")) == 2,
             what="q's second start applied")
    # each instruction names the lease epoch it was posted under
    assert {i["epoch"] for i in listed("j", "applied")} == \
        {out["released_epoch"]}
    assert {i["epoch"] for i in listed("q", "applied")} == {out["epoch"]}
    r = c.ctl(prof, "drill", "failover")
    assert f"{m2.url} -> {m1.url}" in r.stdout and "takeover:" in r.stdout
    assert "5 START instructions: 5 applied" in r.stdout, r.stdout
    assert "0 lost, 0 doubled; 2 running or waiting behind a run" in \
        r.stdout, r.stdout
    gate.open()
    wait_for(lambda: [i["runs"] for i in listed("q", "applied")] == [1, 1],
             what="q's second run reported")
    # a profile naming one master cannot drill
    r = c.ctl(c.profile([m1], "one.conf"), "drill", "failover", check=False)
    assert r.returncode != 0 and "every master of the pair" in r.stderr
    # with no standby answering the drill does not start: giving the lease
    # up would leave the fleet without a master, and prove nothing
    m2.stop()
    r = c.ctl(prof, "drill", "failover", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no other master of the profile answers" in r.stderr, r.stderr
    assert m1.health()[0] == 200


def test_one_master_per_sqlite_store(cluster):
    m = cluster.master().init()
    if m.store_url is not None:
        pytest.skip("the SQLite store's rule")
    m.start()
    port = m.port
    second = cluster.start("second", "-c", m.conf, "--listen=127.0.0.1:0")
    wait_for(lambda: not second.alive(), what="the second master to exit")
    assert second.p.returncode != 0
    assert "another master uses this SQLite store" in second.log_text()
    assert m.port == port and m.is_active()
    # the drill says why it cannot run here
    r = m.ctl("drill", "failover", check=False)
    assert r.returncode != 0 and "every master of the pair" in r.stderr
    cert, key = admin_cert(m)
    status, body = api(m, "POST", "/v1/lease/release", cert=cert, key=key)
    assert status == 409 and "SQLite store" in body["error"]["message"]


def test_join_needs_postgresql_and_the_first_masters_names(cluster):
    first = os.path.join(cluster.root, "first")
    cluster.run("cohortctl", "master", "init", "--state-dir", first,
                "--listen", "127.0.0.1:0")
    second = os.path.join(cluster.root, "second")
    r = cluster.run("cohortctl", "master", "init", "--state-dir", second,
                    "--listen", "127.0.0.1:0", "--join", first, check=False)
    assert r.returncode != 0 and "PostgreSQL store" in r.stderr
    assert not os.path.exists(os.path.join(second, "cohortd.conf"))
    assert not os.path.exists(os.path.join(second, "tls", "ca.key"))
    r = cluster.run("cohortctl", "master", "init", "--state-dir", second,
                    "--listen", "127.0.0.1:0", "--join", first, "--san",
                    "m2.example", check=False)
    assert r.returncode != 0 and "--san" in r.stderr
    r = cluster.run("cohortctl", "master", "init", "--state-dir", second,
                    "--listen", "127.0.0.1:0", "--store", "nope",
                    check=False)
    assert r.returncode != 0 and "--store" in r.stderr


@pytest.mark.pg_only
def test_join_profiles_name_each_master_as_its_certificate_does(pg_cluster):
    # Written only (no daemon binds these ports): a profile must name a
    # host the shared certificate names, or cohortctl cannot verify it,
    # and must not name one master twice.
    c = pg_cluster

    def init(name, listen, *extra):
        d = os.path.join(c.root, name)
        c.run("cohortctl", "master", "init", "--state-dir", d, "--listen",
              listen, *extra)
        return d, open(os.path.join(d, "admin.conf")).read()

    store, _ = c.pg.new_store("join")
    first, prof = init("first", "127.0.0.1:47001", "--store", store)
    assert "master = https://127.0.0.1:47001\n" in prof, prof
    _, prof = init("second", "127.0.0.1:47002", "--join", first)
    assert "master = https://127.0.0.1:47002 https://127.0.0.1:47001\n" \
        in prof, prof
    # a wildcard listen: a name the certificate has that the first
    # master's profile does not use (here: 127.0.0.1, localhost, ...)
    _, prof = init("third", "0.0.0.0:47003", "--join", first)
    assert "master = https://localhost:47003 https://127.0.0.1:47001\n" \
        in prof, prof
    # docs/ha.md's pair: a name for each master in the one certificate
    store, _ = c.pg.new_store("pair")
    first, prof = init("a", "0.0.0.0:8443", "--store", store, "--san",
                       "a.example.com", "--san", "b.example.com")
    assert "master = https://a.example.com:8443\n" in prof, prof
    assert "port 0" not in prof
    _, prof = init("b", "0.0.0.0:8443", "--join", first)
    assert "master = https://b.example.com:8443 https://a.example.com:8443" \
        "\n" in prof, prof
    # a pair on one shared name (the certificate names nothing else), on
    # two hosts with the same wildcard listen: that name, once, and a note
    store, _ = c.pg.new_store("shared")
    first, prof = init("s1", "0.0.0.0:8443", "--store", store, "--san",
                       "cohort.example.net")
    assert "master = https://cohort.example.net:8443\n" in prof, prof
    d = os.path.join(c.root, "s2")
    r = c.run("cohortctl", "master", "init", "--state-dir", d, "--listen",
              "0.0.0.0:8443", "--join", first)
    assert "names no host for this master" in r.stderr, r.stderr
    prof = open(os.path.join(d, "admin.conf")).read()
    assert "master = https://cohort.example.net:8443\n" in prof, prof
