"""Enlisting targets: tokens are single-use and expiring, an enlisted state
dir is refused (defect first), the master's CA is pinned by the token, and
enlisted targets poll and show up as normal."""
import os
import re

from cohort import wait_for


def test_enlist_two_targets_and_status(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1", "web-2"])
    targets = m.ctl_json("target", "list")
    assert [t["name"] for t in targets] == ["web-1", "web-2"]
    for t in targets:
        for field in ("name", "status", "last_poll", "unread_instructions",
                      "version", "location", "enlisted_at",
                      "poll_interval_s", "time_zone_offset_s"):
            assert field in t, field
        assert t["status"] == "normal"
        assert t["poll_interval_s"] == 1
        assert t["unread_instructions"] == 0
    text = m.ctl("target", "list").stdout
    assert "web-1" in text and "normal" in text
    # OFFSET reads as a zone's offset, not in seconds
    head, row = text.splitlines()[:2]
    at = head.index("OFFSET")
    assert re.fullmatch(r"[+-]\d\d:\d\d", row[at:].split()[0]), text
    # the target's files
    t1 = os.path.join(cluster.root, "t-web-1")
    conf = open(os.path.join(t1, "cohortd.conf")).read()
    assert "role = target" in conf and "name = web-1" in conf
    assert os.stat(os.path.join(t1, "tls", "key.pem")).st_mode & 0o077 == 0


def test_token_is_single_use(cluster):
    m = cluster.master().init().start()
    token = m.token("web-1")
    a = cluster.target("web-1")
    a.enlist(m, token=token)
    b = cluster.target("web-1b")
    b.name = "web-1"
    b.dir = os.path.join(cluster.root, "t-web-1-again")
    r = b.enlist(m, token=token, check=False)
    assert r.returncode != 0
    assert "enlisted already" in r.stderr or "used" in r.stderr
    assert not os.path.exists(b.conf)
    # the refused enlistment left nothing behind: not even its directory
    assert not os.path.exists(b.dir), os.listdir(b.dir)


def test_token_reuse_after_delete_refused(cluster):
    m = cluster.master().init().start()
    token = m.token("web-1")
    cluster.target("web-1").enlist(m, token=token)
    r = m.ctl("target", "delete", "web-1")
    assert "note" not in r.stderr, r.stderr  # an enlisted one: no map line
    b = cluster.target("web-1")
    b.dir = os.path.join(cluster.root, "t-web-1-again")
    r = b.enlist(m, token=token, check=False)
    assert r.returncode != 0
    assert "already used" in r.stderr
    assert not os.path.exists(b.conf)
    assert "web-1" not in m.targets()


def test_token_expires(cluster):
    m = cluster.master().init().start()
    token = m.token("web-1", "--ttl", "10")
    # age the token in the store instead of waiting ten seconds
    m.sql("UPDATE tokens SET expires_at = expires_at - 3600")
    r = cluster.target("web-1").enlist(m, token=token, check=False)
    assert r.returncode != 0 and "expired" in r.stderr


def test_token_for_other_name_refused(cluster):
    m = cluster.master().init().start()
    token = m.token("web-1")
    r = cluster.target("web-2").enlist(m, token=token, check=False)
    assert r.returncode != 0
    assert "web-2" not in m.targets()


def test_reenlist_refused_defect_first(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    before = open(os.path.join(t.dir, "tls", "cert.pem")).read()
    # refused on the target before any token is looked at
    r = t.enlist(m, token="ct1." + "a" * 64 + "." + "b" * 64, check=False)
    assert r.returncode != 0
    assert "defect first" in r.stderr
    assert open(os.path.join(t.dir, "tls", "cert.pem")).read() == before


def test_token_from_another_master_refused(cluster):
    m = cluster.master().init().start()
    other = cluster.master(name="other").init().start()
    token = other.token("web-1")
    r = cluster.target("web-1").enlist(m, token=token, check=False)
    assert r.returncode != 0
    assert "does not match the token" in r.stderr
    assert "web-1" not in m.targets()


def test_bad_tokens_refused(cluster):
    m = cluster.master().init().start()
    for bad in ("", "nonsense", "ct1." + "0" * 64 + "." + "0" * 64):
        r = cluster.target("web-1").enlist(m, token=bad or "x",
                                           check=False)
        assert r.returncode != 0
    assert m.targets() == {}


def test_deleted_target_stops_polling(cluster):
    m = cluster.master().init().start()
    (t, _) = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job({"name": "both", "targets": ["web-1", "web-2"],
                 "steps": [{"command": "true"}]})
    m.ctl("target", "delete", "web-1")
    assert "web-1" not in m.targets()
    # the job names it no more, and can be applied again as shown
    shown = m.ctl_json("job", "show", "both")["document"]
    assert shown["targets"] == ["web-2"], shown
    assert m.apply_job(shown).returncode == 0
    wait_for(lambda: "poll_stopped" in t.proc.log_text(),
             what="the target to stop polling")
    # its certificate is revoked: it may not call in any more
    from cohort import api
    cert = os.path.join(t.dir, "tls", "cert.pem")
    key = os.path.join(t.dir, "tls", "key.pem")
    status, body = api(m, "GET", "/v1/whoami", cert=cert, key=key)
    assert status == 401 and "revoked" in body["error"]["message"]


def test_target_deleted_while_down_stops_polling(cluster):
    """Deleted while its daemon was down (no poll held to answer): its
    next poll is told so, and it stops polling, not retrying a 401."""
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    t.stop()
    m.ctl("target", "delete", "web-1")
    t.start()
    wait_for(lambda: "poll_stopped" in t.proc.log_text(),
             what="the target to stop polling")
    assert "was deleted on the master" in t.proc.log_text()
    assert "status=410" in t.proc.log_text()
    # to anything but its own calls it is a revoked certificate
    from cohort import api
    cert = os.path.join(t.dir, "tls", "cert.pem")
    key = os.path.join(t.dir, "tls", "key.pem")
    status, body = api(m, "GET", "/v1/whoami", cert=cert, key=key)
    assert status == 401 and "revoked" in body["error"]["message"]


def test_suspected_offline(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    t.stop()
    wait_for(lambda: m.targets()["web-1"]["status"] == "suspected offline",
             timeout=15, what="suspected offline")
    t.start()
    wait_for(lambda: m.targets()["web-1"]["status"] == "normal",
             what="normal again")


def test_token_read_from_stdin(cluster):
    """--token - reads the token from standard input (kept out of the
    process list); nothing on it is refused and leaves nothing behind."""
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    args = ["enlist", "--state-dir", t.dir, "--name", "web-1",
            "--master", m.url, "--token", "-"]
    r = cluster.run("cohortctl", *args, input="", check=False)
    assert r.returncode != 0
    assert "no token on standard input" in r.stderr, r.stderr
    assert not os.path.exists(t.dir)
    r = cluster.run("cohortctl", *args, input="x" * 400 + "\n", check=False)
    assert r.returncode != 0
    assert "longer than a token" in r.stderr, r.stderr
    r = cluster.run("cohortctl", *args, input=m.token("web-1") + "\r\n")
    assert "enlisted web-1" in r.stdout, r.stdout
    t.start()
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="web-1 to poll")
