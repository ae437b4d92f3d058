"""master init and the master's HTTPS front: files and modes, whoami with
and without certificates, refusal to re-initialise, requests read whole
however their TLS records arrive."""
import json
import os
import socket
import ssl
import stat
import time

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
    # the store is SQLite in WAL mode, readable by its owner alone
    import sqlite3
    assert mode(os.path.join(m.dir, "cohort.db")) == 0o600
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
    # a failure after the directories were made takes them away again,
    # and leaves a directory that was there before (and what is in it)
    for made_before in (False, True):
        if made_before:
            d.mkdir()
            (d / "keep").write_text("mine")
        r = cluster.run("cohortctl", "master", "init", "--state-dir",
                        str(d), "--listen", "127.0.0.1:0", "--san", "",
                        check=False)
        assert r.returncode != 0 and "san" in r.stderr, r.stderr
        if made_before:
            assert sorted(os.listdir(d)) == ["keep"]
        else:
            assert not d.exists(), os.listdir(d)


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


def test_tls13_prefers_chacha20(cluster):
    """A client offering every TLS 1.3 suite (Python's default order puts
    AES-256-GCM first) gets ChaCha20-Poly1305, the master's choice: its
    cipher state is the smaller one each held long-poll keeps."""
    import socket
    import ssl
    m = cluster.master().init().start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with socket.create_connection(("127.0.0.1", m.port), timeout=10) as s:
        with ctx.wrap_socket(s) as tls:
            assert tls.version() == "TLSv1.3"
            assert tls.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"


# ---- TLS records packed at will ------------------------------------------

def tls_session(master, cert, key, timeout=10):
    """A TLS client over memory BIOs, its handshake done but its last
    message not yet sent: what the client sends next goes out with it,
    records packed as the caller chooses."""
    sock = socket.create_connection(("127.0.0.1", master.port), timeout)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(master.dir, "tls", "ca.crt"))
    ctx.load_cert_chain(cert, key)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    for _ in range(20):
        try:
            tls.do_handshake()
            return sock, tls, incoming, outgoing
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            data = sock.recv(65536)
            assert data, "the master closed during the handshake"
            incoming.write(data)
    raise AssertionError("handshake not done in 20 round trips")


def send_records(sock, tls, outgoing, pieces):
    """Each piece its own TLS record, all of them (and whatever the
    handshake left to send) in one send(), so they reach the master
    together."""
    for piece in pieces:
        tls.write(piece)
    sock.sendall(outgoing.read())


def read_answers(sock, tls, incoming, count, deadline_s):
    """The status and JSON body of the next count answers, or fails once
    deadline_s has passed without them."""
    text, answers = b"", []
    deadline = time.monotonic() + deadline_s
    while len(answers) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(answers)} of {count} answers: {text!r}"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        assert data, f"closed after {len(answers)} answers: {text!r}"
        incoming.write(data)
        while True:
            try:
                text += tls.read(65536)
            except ssl.SSLWantReadError:
                break
        while b"\r\n\r\n" in text:
            head, rest = text.split(b"\r\n\r\n", 1)
            length = int(head.lower().split(b"content-length:")[1]
                         .split(b"\r\n")[0])
            if len(rest) < length:
                break
            answers.append((int(head.split()[1]),
                            json.loads(rest[:length])))
            text = rest[length:]
    return answers


def test_requests_read_whole_however_their_records_arrive(cluster):
    """The master reads ahead: one read() takes what the socket holds.
    Records that arrive together must all be read, not left in the TLS
    library until the client sends more: a first request sent with the
    handshake's last message, a body in records of its own, two requests
    sent together. A record left behind would wait out the 60 s request
    deadlines set here; every answer is due long before."""
    m = cluster.master(extra_conf="header_timeout_s = 60\n"
                       "request_timeout_s = 60\n").init().start()
    cert, key = admin_cert(m)
    whoami = b"GET /v1/whoami HTTP/1.1\r\nHost: m\r\n\r\n"
    doc = json.dumps({"name": "records", "steps": [
        {"name": "s", "subsystem": "exec", "command": ["/bin/true"]}]})
    half = len(doc) // 2
    put = (b"PUT /v1/jobs/records HTTP/1.1\r\nHost: m\r\n"
           b"Content-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n" % len(doc))
    sock, tls, incoming, outgoing = tls_session(m, cert, key)
    with sock:
        send_records(sock, tls, outgoing, [whoami])
        [(status, body)] = read_answers(sock, tls, incoming, 1, 20)
        assert status == 200 and body["role"] == "admin", body
        send_records(sock, tls, outgoing,
                     [put, doc[:half].encode(), doc[half:].encode()])
        [(status, body)] = read_answers(sock, tls, incoming, 1, 20)
        assert status in (200, 201), body
        send_records(sock, tls, outgoing, [whoami] * 6)
        answers = read_answers(sock, tls, incoming, 6, 20)
        assert [a[0] for a in answers] == [200] * 6, answers
    assert m.ctl_json("job", "show", "records")["name"] == \
        "records"


def test_admin_profile_names_a_host_the_certificate_names(cluster):
    # With --san, the certificate names only those: the profile must use
    # one of them, not the listen address, or cohortctl cannot verify
    m = cluster.master()
    m.init("--san", "localhost")
    prof = open(m.profile).read()
    assert "master = https://localhost:0\n" in prof, prof
    m.start()
    assert "admin" in m.ctl("whoami").stdout
    # a wildcard listen and a name of the operator's: that name
    d = os.path.join(cluster.root, "wild")
    cluster.run("cohortctl", "master", "init", "--state-dir", d, "--listen",
                "0.0.0.0:8443", "--san", "cohort.example.net")
    prof = open(os.path.join(d, "admin.conf")).read()
    assert "master = https://cohort.example.net:8443\n" in prof, prof
    assert "port 0" not in prof, prof


def test_status_lines_carry_the_standard_reason(cluster):
    # "HTTP/1.1 301 OK" and "403 Error" read wrong to curl -v and proxies
    import http.client
    m = cluster.master().init().start()
    ctx = ssl.create_default_context(cafile=os.path.join(m.dir, "tls",
                                                         "ca.crt"))
    cert, key = admin_cert(m)
    ctx.load_cert_chain(cert, key)
    seen = {}
    for path in ("/v1/health", "/ui", "/v1/nothing", "/v1/targets?x=1"):
        conn = http.client.HTTPSConnection("127.0.0.1", m.port, context=ctx,
                                           timeout=30)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            seen[path] = (r.status, r.reason)
        finally:
            conn.close()
    assert seen == {"/v1/health": (200, "OK"),
                    "/ui": (301, "Moved Permanently"),
                    "/v1/nothing": (404, "Not Found"),
                    "/v1/targets?x=1": (400, "Bad Request")}, seen
