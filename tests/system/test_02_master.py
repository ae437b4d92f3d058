"""master init and the master's HTTPS front: files and modes, whoami with
and without certificates, refusal to re-initialise."""
import os
import stat

from cohort import admin_cert, api


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_master_init_makes_state_dir(cluster):
    m = cluster.master().init()
    for rel in ("cohortd.conf", "admin.conf", "tls/ca.crt",
                "tls/ca.key", "tls/cert.pem", "tls/key.pem",
                "admin/cert.pem", "admin/key.pem"):
        assert os.path.exists(os.path.join(m.dir, rel)), rel
    assert mode(os.path.join(m.dir, "tls/ca.key")) == 0o600
    assert mode(os.path.join(m.dir, "tls/key.pem")) == 0o600
    assert mode(os.path.join(m.dir, "admin/key.pem")) == 0o600
    conf = open(m.conf).read()
    assert "role = master" in conf
    profile = open(m.profile).read()
    for key in ("master = https://", "ca = ", "cert = ", "key = "):
        assert key in profile
    if m.store_url is not None:
        # --store: the PostgreSQL store, created and migrated
        assert f"store = {m.store_url}" in conf
        assert not os.path.exists(os.path.join(m.dir, "cohort.db"))
        assert m.sql("SELECT version FROM cohort_schema")[0][0] != "0"
        return
    # the store is SQLite in WAL mode
    import sqlite3
    con = sqlite3.connect(os.path.join(m.dir, "cohort.db"))
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_master_init_refuses_initialised_dir(cluster):
    m = cluster.master().init()
    before = open(os.path.join(m.dir, "tls/ca.crt")).read()
    r = cluster.run("cohortctl", "master", "init", "--state-dir", m.dir,
                    "--listen", "127.0.0.1:0", check=False)
    assert r.returncode != 0
    assert "initialised already" in r.stderr
    assert open(os.path.join(m.dir, "tls/ca.crt")).read() == before


def test_master_init_bad_listen_changes_nothing(cluster, tmp_path):
    d = tmp_path / "m2"
    r = cluster.run("cohortctl", "master", "init", "--state-dir", str(d),
                    "--listen", "nowhere", check=False)
    assert r.returncode != 0 and "--listen" in r.stderr
    assert not (d / "cohortd.conf").exists()


def test_whoami_and_certificates(cluster):
    m = cluster.master().init().start()
    r = m.ctl("whoami", "--json")
    assert '"role": "admin"' in r.stdout
    cert, key = admin_cert(m)
    status, body = api(m, "GET", "/v1/whoami", cert=cert, key=key)
    assert status == 200 and body["name"] == "admin"
    # no client certificate: 401 with a JSON error naming the reason
    status, body = api(m, "GET", "/v1/whoami")
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"
    assert "no client certificate" in body["error"]["message"]


def test_foreign_certificate_refused(cluster):
    m = cluster.master().init().start()
    other = cluster.master(name="other").init()
    cert, key = admin_cert(other)      # same names, another CA
    status, body = api(m, "GET", "/v1/whoami", cert=cert, key=key)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"


def test_unknown_path_and_method(cluster):
    m = cluster.master().init().start()
    cert, key = admin_cert(m)
    status, body = api(m, "GET", "/v1/nothing", cert=cert, key=key)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api(m, "DELETE", "/v1/whoami", cert=cert, key=key)
    assert status == 400


def test_port_file_and_tls12_minimum(cluster):
    import socket
    import ssl
    m = cluster.master().init().start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", m.port), timeout=10) as s:
        try:
            with ctx.wrap_socket(s) as tls:
                refused = False
                tls.version()
        except (ssl.SSLError, OSError):
            refused = True
    assert refused, "a TLS 1.1 client was accepted"
