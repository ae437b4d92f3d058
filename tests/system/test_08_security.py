"""Security (PRODUCT.md section 4, issue 5): a table of hostile requests,
each answered with its refusal (status and JSON error code, or a refused
TLS handshake) and each leaving the master's state exactly as it was;
roles per route; certificates issued, listed, revoked and renewed;
an external CA mapped to roles; the target checking the master's name;
the audit log; and no secret in any log or output of the suite."""
import glob
import http.client
import json
import os
import socket
import ssl
import subprocess
import time

import pytest

from cohort import (OUTPUTS, SECRETS, admin_cert, api, build_dir, wait_for)
from faults import log_lines

SLOW_HEADERS_S = 2


# ---- helpers -------------------------------------------------------------

def pki_tool(cluster, *args):
    return cluster.run("testpki", *args)


def tls_context(master, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(master.dir, "tls", "ca.crt"))
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def raw(master, data, cert=None, key=None, pace=None, timeout=30):
    """Sends raw bytes over TLS (pace: (chunk, delay) to dribble them)
    and returns (status, JSON body or text) of the answer, if any."""
    sock = socket.create_connection(("127.0.0.1", master.port), timeout)
    with tls_context(master, cert, key).wrap_socket(
            sock, server_hostname="127.0.0.1") as s:
        try:
            if pace:
                for i in range(0, len(data), pace[0]):
                    s.sendall(data[i:i + pace[0]])
                    time.sleep(pace[1])
            else:
                s.sendall(data)
        except OSError:
            pass  # the master may stop reading once it has refused
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    text = out.decode("utf-8", "replace")
    if not text.startswith("HTTP/1.1 "):
        return None, text
    head, _, body = text.partition("\r\n\r\n")
    try:
        return int(head.split()[1]), json.loads(body)
    except ValueError:
        return int(head.split()[1]), body


def cert_of(target):
    return (os.path.join(target.dir, "tls", "cert.pem"),
            os.path.join(target.dir, "tls", "key.pem"))


def state(m):
    """What a refused request must not change: targets (without the
    fields every poll updates), jobs, the download lists, the history,
    the certificates, the groups. Read through the API with the admin
    certificate (the audit log is left out: a change request that
    reached its handler is recorded even when refused there)."""
    cert, key = admin_cert(m)

    def get(path):
        status, body = api(m, "GET", path, cert=cert, key=key)
        assert status == 200, (path, body)
        return body
    targets = get("/v1/targets")
    for t in targets:
        for volatile in ("last_poll", "local_time", "status"):
            t.pop(volatile, None)
    dl = get("/v1/downloadlist?limit=1000")
    for i in dl:
        i.pop("downloaded_at", None)
    return {"targets": targets, "jobs": get("/v1/jobs"), "downloadlist": dl,
            "history": get("/v1/history?limit=1000"),
            "certs": get("/v1/certs"), "groups": get("/v1/groups")}


def code_of(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) \
        else None


def tls_refused(master, **ctx_opts):
    """True when the master refuses the TLS handshake of a client with
    these settings."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx_opts["minimum"]
    ctx.maximum_version = ctx_opts["maximum"]
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", master.port), 10) as s:
        try:
            with ctx.wrap_socket(s) as tls:
                tls.version()
                return False
        except (ssl.SSLError, OSError):
            return True


def plaintext(master):
    with socket.create_connection(("127.0.0.1", master.port), 10) as s:
        s.sendall(b"GET /v1/targets HTTP/1.1\r\nHost: x\r\n\r\n")
        out = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    return out


def job(name, targets, **step):
    s = {"name": "s1", "subsystem": "shell", "command": "true"}
    s.update(step)
    return {"name": name, "steps": [s], "targets": targets}


# ---- the world the hostile table runs in ---------------------------------

@pytest.fixture
def world(cluster):
    # No rate limit: each case reads the whole state twice through the
    # API (a dozen admin requests), past 50 a second on a fast machine.
    m = cluster.master(extra_conf=f"header_timeout_s = {SLOW_HEADERS_S}\n"
                       "rate_limit_per_s = 0\n")
    m.init().start()
    a, b = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(job("both", ["web-1", "web-2"]))
    wait_for(lambda: all(i["status"] == "applied"
                         for i in m.ctl_json("downloadlist")),
             what="the job to reach both targets")
    # an instruction for web-2 that web-1 will try to acknowledge
    b.stop()
    m.apply_job(job("only-b", ["web-2"]))
    pending = [i for i in m.ctl_json("downloadlist")
               if i["target"] == "web-2" and i["object"] == "only-b"]
    assert pending and pending[0]["status"] in ("pending", "downloaded")
    # certificates the table needs
    d = cluster.root
    pki_tool(cluster, "ca", f"{d}/evil-ca.crt", f"{d}/evil-ca.key", "cohort CA")
    pki_tool(cluster, "issue", f"{d}/evil-ca.crt", f"{d}/evil-ca.key",
            "web-1", "target", f"{d}/evil.crt", f"{d}/evil.key")
    pki_tool(cluster, "issue", f"{m.dir}/tls/ca.crt", f"{m.dir}/tls/ca.key",
            "web-1", "target", f"{d}/old.crt", f"{d}/old.key", "-7200",
            "-3600")
    m.ctl("cert", "issue", "--role", "operator", "carol", "--out",
          f"{d}/carol")
    m.ctl("cert", "revoke", "--name", "carol")
    used = m.token("web-3")
    cluster.target("web-3").enlist(m, token=used)
    expired = m.token("web-4", "--ttl", "10")
    m.sql("UPDATE tokens SET expires_at = expires_at - 3600 "
          "WHERE used_at = 0")
    return {"m": m, "a": a, "b": b, "only_b": pending[0]["id"],
            "used_token": used, "expired_token": expired, "dir": d}


def csr_for(cluster, name):
    key = os.path.join(cluster.root, f"{name}-csr.key")
    out = subprocess.run(["openssl", "req", "-new", "-newkey", "ec",
                          "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", key, "-subj", f"/CN={name}"],
                         capture_output=True, text=True, check=True)
    return out.stdout


# Each case: (name, function(world) -> (status, body or text), expected
# status or None for a refused TLS handshake / no HTTP answer, expected
# code). The functions run in order against one master.
def case_no_client_cert(w):
    return api(w["m"], "GET", "/v1/targets")


def case_no_client_cert_change(w):
    return api(w["m"], "PUT", "/v1/jobs/x", job("x", ["web-1"]))


def case_foreign_ca_named_like_target(w):
    d = w["dir"]
    return api(w["m"], "POST", "/v1/poll", {"name": "web-1",
               "version": "0.1.0"}, cert=f"{d}/evil.crt", key=f"{d}/evil.key")


def case_expired_cert(w):
    d = w["dir"]
    return api(w["m"], "GET", "/v1/whoami", cert=f"{d}/old.crt",
               key=f"{d}/old.key")


def case_revoked_cert(w):
    d = w["dir"]
    return api(w["m"], "GET", "/v1/targets", cert=f"{d}/carol/cert.pem",
               key=f"{d}/carol/key.pem")


def case_target_cert_put_job(w):
    cert, key = cert_of(w["a"])
    return api(w["m"], "PUT", "/v1/jobs/x", job("x", ["web-1"]), cert=cert,
               key=key)


def case_target_cert_token(w):
    cert, key = cert_of(w["a"])
    return api(w["m"], "POST", "/v1/targets/web-9/token", cert=cert, key=key)


def case_target_cert_list_targets(w):
    cert, key = cert_of(w["a"])
    return api(w["m"], "GET", "/v1/targets", cert=cert, key=key)


def case_target_reads_other_downloadlist(w):
    cert, key = cert_of(w["a"])
    return api(w["m"], "GET", "/v1/downloadlist?target=web-2", cert=cert,
               key=key)


def case_target_polls_as_other(w):
    cert, key = cert_of(w["a"])
    return api(w["m"], "POST", "/v1/poll", {"name": "web-2",
               "version": "0.1.0", "wait_s": 0}, cert=cert, key=key)


def case_target_uploads_as_other(w):
    cert, key = cert_of(w["a"])
    item = {"seq": 1, "kind": "run", "body": {
        "target": "web-2", "target_run_id": 1, "job": "only-b",
        "instr_id": 0, "outcome": "succeeded", "exit_code": 0,
        "started_ms": 1, "duration_ms": 1, "tz_offset_s": 0,
        "message": "", "steps": []}}
    status, body = api(w["m"], "POST", "/v1/outbox", {"items": [item]},
                       cert=cert, key=key)
    # accepted as a batch, the record refused: web-1 cannot name web-2
    assert status == 200 and body["acked"] == [] and body["rejected"], body
    return 400, {"error": {"code": "invalid_request",
                           "message": body["rejected"][0]["error"]}}


def case_token_replay(w):
    return api(w["m"], "POST", "/v1/enlist", {
        "name": "web-3", "token": w["used_token"], "version": "0.1.0",
        "csr": w["csr3"]})


def case_expired_token(w):
    return api(w["m"], "POST", "/v1/enlist", {
        "name": "web-4", "token": w["expired_token"], "version": "0.1.0",
        "csr": w["csr4"]})


def case_tls11_client(w):
    refused = tls_refused(w["m"], minimum=ssl.TLSVersion.TLSv1,
                          maximum=ssl.TLSVersion.TLSv1_1)
    return None, "handshake refused" if refused else "handshake accepted"


def case_plaintext_http(w):
    out = plaintext(w["m"])
    return None, "no HTTP answer" if b"HTTP/" not in out else out


def case_oversized_body(w):
    cert, key = admin_cert(w["m"])
    head = (b"PUT /v1/jobs/big HTTP/1.1\r\nHost: m\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: 2097152\r\n\r\n")
    return raw(w["m"], head + b"{" + b" " * 65536, cert, key)


def case_deep_json(w):
    cert, key = admin_cert(w["m"])
    return api(w["m"], "PUT", "/v1/jobs/deep",
               "[" * 100000 + "]" * 100000, cert=cert, key=key)


def case_header_flood(w):
    cert, key = admin_cert(w["m"])
    head = b"GET /v1/targets HTTP/1.1\r\nHost: m\r\n" + b"".join(
        b"X-Flood-%d: y\r\n" % i for i in range(20000)) + b"\r\n"
    return raw(w["m"], head, cert, key)


def case_slow_loris(w):
    cert, key = admin_cert(w["m"])
    head = b"GET /v1/targets HTTP/1.1\r\nHost: m\r\nX-Slow: " + b"z" * 60
    start = time.monotonic()
    status, body = raw(w["m"], head, cert, key, pace=(1, 0.1))
    took = time.monotonic() - start
    assert took < SLOW_HEADERS_S + 5, took
    return status, body


def case_path_traversal_output_file(w):
    cert, key = admin_cert(w["m"])
    return api(w["m"], "PUT", "/v1/jobs/trav",
               job("trav", ["web-1"], output_file="/tmp/../etc/cron.d/x"),
               cert=cert, key=key)


def case_bad_method(w):
    cert, key = admin_cert(w["m"])
    return raw(w["m"], b"PATCH /v1/jobs/x HTTP/1.1\r\nHost: m\r\n\r\n",
               cert, key)


def case_chunked_body(w):
    cert, key = admin_cert(w["m"])
    return raw(w["m"], b"PUT /v1/jobs/x HTTP/1.1\r\nHost: m\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
               cert, key)


def as_admin(method, path, body=None):
    """A case: one request with the admin's certificate."""
    def case(w):
        cert, key = admin_cert(w["m"])
        return api(w["m"], method, path, body, cert=cert, key=key)
    return case


def as_web1(method, path, body=None):
    """A case: one request with target web-1's certificate."""
    def case(w):
        cert, key = cert_of(w["a"])
        return api(w["m"], method, path, body, cert=cert, key=key)
    return case


# requests whose mistake used to be ignored: each is refused, not half-done
NUL_IN_QUERY = as_admin("GET", "/v1/history?job=both%00x")
SETTINGS_EMPTY = as_admin("POST", "/v1/targets/web-1/settings", {})
PURGE_A_PATH = as_admin("POST", "/v1/history/purge", {"job": "../x"})
POLL_A_DAY_AHEAD = as_web1("POST", "/v1/poll", {
    "name": "web-1", "version": "0.1.0", "wait_s": 0, "after": 0,
    "local_time": 1, "tz_offset_s": 86400, "acks": []})
RESYNC_WITH_BODY = as_admin("POST", "/v1/targets/web-1/resync", {"zzz": 1})
TOKEN_MISSPELT_TTL = as_admin("POST", "/v1/targets/web-9/token",
                              {"ttl": 10})
DEFECT_NAMES_ANOTHER = as_web1("POST", "/v1/defect", {"name": "web-2"})
UPLOAD_EXTRA_FIELD = as_web1("POST", "/v1/outbox", {"items": [], "zzz": 1})


HOSTILE = [
    ("no client certificate", case_no_client_cert, 401, "unauthenticated"),
    ("no client certificate, a change", case_no_client_cert_change, 401,
     "unauthenticated"),
    ("foreign CA, named like a real target",
     case_foreign_ca_named_like_target, 401, "unauthenticated"),
    ("expired certificate", case_expired_cert, 401, "unauthenticated"),
    ("revoked certificate", case_revoked_cert, 401, "unauthenticated"),
    ("target certificate: put a job", case_target_cert_put_job, 403,
     "forbidden"),
    ("target certificate: issue a token", case_target_cert_token, 403,
     "forbidden"),
    ("target certificate: list targets", case_target_cert_list_targets, 403,
     "forbidden"),
    ("target A reads B's download list",
     case_target_reads_other_downloadlist, 403, "forbidden"),
    ("target A polls as B", case_target_polls_as_other, 409, "conflict"),
    ("target A uploads B's outcome", case_target_uploads_as_other, 400,
     "invalid_request"),
    ("token replay", case_token_replay, 403, "bad_token"),
    ("expired token", case_expired_token, 403, "bad_token"),
    ("TLS 1.1 client", case_tls11_client, None, "handshake refused"),
    ("plaintext HTTP to the TLS port", case_plaintext_http, None,
     "no HTTP answer"),
    ("oversized body (2 MiB)", case_oversized_body, 413, "too_large"),
    ("100k-deep JSON", case_deep_json, 400, "invalid_request"),
    ("header flood (20000 headers)", case_header_flood, 413, "too_large"),
    ("slow-loris headers", case_slow_loris, 408, "timeout"),
    ("path traversal in output_file", case_path_traversal_output_file, 400,
     "invalid_request"),
    ("method outside the API (PATCH)", case_bad_method, 400,
     "invalid_request"),
    ("chunked request body", case_chunked_body, 400, "invalid_request"),
    ("NUL in a query value", NUL_IN_QUERY, 400,
     "invalid_request"),
    ("settings with nothing to set", SETTINGS_EMPTY, 400,
     "invalid_request"),
    ("purge of a path", PURGE_A_PATH, 400, "invalid_request"),
    ("a poll a day ahead of UTC", POLL_A_DAY_AHEAD, 400,
     "invalid_request"),
    ("resync with a body", RESYNC_WITH_BODY, 400, "invalid_request"),
    ("token with a misspelt ttl", TOKEN_MISSPELT_TTL, 400,
     "invalid_request"),
    ("target defect naming another", DEFECT_NAMES_ANOTHER, 400,
     "invalid_request"),
    ("upload with an extra field", UPLOAD_EXTRA_FIELD, 400,
     "invalid_request"),
]


def test_hostile_requests_refused_and_change_nothing(cluster, world):
    m = world["m"]
    world["csr3"] = csr_for(cluster, "web-3")
    world["csr4"] = csr_for(cluster, "web-4")
    report = []
    for name, fn, want_status, want_code in HOSTILE:
        before = state(m)
        status, body = fn(world)
        after = state(m)
        got = code_of(body) if want_status is not None else body
        msg = body["error"]["message"] if isinstance(body, dict) \
            and "error" in body else str(body)[:80]
        report.append(f"{name}: {status or '-'} {got}: {msg}")
        assert (status, got) == (want_status, want_code), \
            f"{name}: got {status} {body!r}"
        assert before == after, f"{name}: the master's state changed"
        assert m.proc.alive(), f"{name}: the master died"
    # web-1 acknowledging web-2's instruction: the store has no such
    # instruction for web-1 (not_found, ignored), web-2's stays pending
    cert, key = cert_of(world["a"])
    before = state(m)
    status, _ = api(m, "POST", "/v1/poll", {
        "name": "web-1", "version": "0.1.0", "wait_s": 0, "after": 1 << 40,
        "acks": [{"id": world["only_b"], "ok": False, "error": "forged"}]},
        cert=cert, key=key)
    assert status == 200
    after = state(m)
    # the poll itself is recorded on web-1's row; nothing else moves
    assert after["downloadlist"] == before["downloadlist"]
    assert [t for t in after["targets"] if t["name"] != "web-1"] == \
        [t for t in before["targets"] if t["name"] != "web-1"]
    report.append(f"target A acks B's instruction {world['only_b']}: 200, "
                  "ignored (store: not_found); B's instruction unchanged")
    print("\nhostile cases and the master's answers:\n  " +
          "\n  ".join(report))
    # the refusals were logged with their reasons
    log = m.proc.log_text()
    assert "refused" in log and "code=too_large" in log


# ---- roles --------------------------------------------------------------

def person(cluster, m, name, role):
    """Issues a certificate for a person; returns a ctl function on it."""
    out = os.path.join(cluster.root, name)
    m.ctl("cert", "issue", "--role", role, name, "--out", out)
    profile = os.path.join(out, "profile.conf")

    def ctl(*args, check=False):
        return cluster.run("cohortctl", "-c", profile, *args, check=check)
    return ctl


def test_roles_operator_and_viewer(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1"])
    m.apply_job(job("slow", ["web-1"], command="sleep 30"))
    op = person(cluster, m, "olga", "operator")
    view = person(cluster, m, "vic", "viewer")
    path = os.path.join(cluster.root, "job-slow.json")
    assert "olga (operator)" in op("whoami").stdout
    # operator: start and stop, read; never apply, delete, tokens, certs
    assert op("job", "start", "slow").returncode == 0
    wait_for(lambda: any(r["outcome"] == "running"
                         for r in m.history("--job", "slow")),
             what="the job to run")
    assert op("job", "stop", "slow").returncode == 0
    for args in (("job", "apply", path), ("job", "delete", "slow"),
                 ("target", "token", "web-9"), ("target", "delete", "web-1"),
                 ("cert", "issue", "--role", "admin", "mallory", "--out",
                  os.path.join(cluster.root, "mallory"))):
        r = op(*args)
        assert r.returncode != 0 and \
            "may not call this: it takes an admin" in r.stderr, args
    # the refused issue left no folder behind
    assert not os.path.exists(os.path.join(cluster.root, "mallory"))
    # reads, the audit log too (PRODUCT.md section 4: "start/stop jobs,
    # read")
    for args in (("job", "list"), ("history",), ("audit",)):
        assert op(*args).returncode == 0, args
    # viewer: reads (the audit log too), changes nothing
    for args in (("job", "list"), ("target", "list"), ("history",),
                 ("downloadlist",), ("cert", "list"), ("audit",)):
        assert view(*args).returncode == 0, args
    for args in (("job", "start", "slow"), ("job", "stop", "slow"),
                 ("job", "apply", path), ("job", "delete", "slow"),
                 ("group", "create", "g")):
        r = view(*args)
        assert r.returncode != 0 and "may not call this" in r.stderr, args
        if args[1] in ("start", "stop"):
            assert "it takes an admin or an operator" in r.stderr, r.stderr
    assert [j["name"] for j in m.ctl_json("job", "list")] == ["slow"]


# ---- certificates and the audit log --------------------------------------

def test_cert_issue_list_revoke_and_audit(cluster):
    m = cluster.master().init().start()
    alice = person(cluster, m, "alice", "operator")
    certs = {c["name"]: c for c in m.ctl_json("cert", "list")}
    assert set(certs) == {"admin", "alice"}
    assert certs["alice"]["role"] == "operator"
    assert certs["alice"]["revoked"] is False and certs["alice"]["not_after"]
    key = os.path.join(cluster.root, "alice", "key.pem")
    assert os.stat(key).st_mode & 0o077 == 0
    # the key never travelled: it is nowhere in the master's state dir
    secret = open(key).read().split("-----")[2].strip()
    for path in glob.glob(os.path.join(m.dir, "**"), recursive=True):
        if os.path.isfile(path):
            assert secret.encode() not in open(path, "rb").read(), path
    # refusals
    r = m.ctl("cert", "issue", "--role", "root", "bob", check=False)
    assert r.returncode != 0 and "not admin, operator or viewer" in r.stderr
    r = m.ctl("cert", "issue", "--role", "viewer", "alice", "--out",
              os.path.join(cluster.root, "alice"), check=False)
    assert r.returncode != 0 and "never overwritten" in r.stderr
    own = [c for c in m.ctl_json("cert", "list") if c["name"] == "admin"]
    r = m.ctl("cert", "revoke", own[0]["serial"], check=False)
    assert r.returncode != 0 and "this request came with" in r.stderr
    r = m.ctl("cert", "revoke", "zz:12", check=False)
    assert r.returncode != 0 and "not a hexadecimal serial" in r.stderr
    r = m.ctl("cert", "revoke", "--name", "nobody", check=False)
    assert r.returncode != 0 and "no valid certificate" in r.stderr
    # revoked by serial, spelled as openssl prints it (capitals, and a
    # leading zero when the top bit is set): refused at its next request
    assert alice("whoami").returncode == 0
    pem = glob.glob(os.path.join(cluster.root, "alice", "*cert*.pem"))
    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-serial", "-in", pem[0]],
        capture_output=True, text=True, check=True).stdout
    printed = printed.strip().split("=", 1)[1]
    assert printed != certs["alice"]["serial"]
    # the same number: the listing keeps a byte's leading zero digit (as
    # openssl does), so compare without leading zeros on both sides
    assert printed.lower().lstrip("0") == \
        certs["alice"]["serial"].lstrip("0")
    m.ctl("cert", "revoke", ":".join(
        printed[i:i + 2] for i in range(0, len(printed), 2)))
    r = alice("whoami")
    assert r.returncode != 0 and "revoked" in r.stderr
    listed = {c["name"]: c for c in m.ctl_json("cert", "list")}
    assert listed["alice"]["revoked"] is True
    # ... and still after a restart (revocations are in the store)
    m.stop()
    m.start()
    assert alice("whoami").returncode != 0
    # the audit log: who, what, outcome; newest first
    audit = m.ctl_json("audit")
    assert [(a["method"], a["path"], a["code"]) for a in audit[:2]] == [
        ("POST", "/v1/certs/revoke", "ok"), ("POST", "/v1/certs/revoke",
                                             "not_found")]
    issued = [a for a in audit if a["path"] == "/v1/certs" and
              a["object"] == "alice"]
    assert issued and issued[-1]["who"] == "admin" and \
        issued[-1]["role"] == "admin" and issued[-1]["serial"] == \
        own[0]["serial"] and issued[-1]["status"] == 200
    assert "/v1/certs" in m.ctl("audit").stdout
    later = m.ctl_json("audit", "--since", "2999-01-01T00:00:00Z")
    assert later == []


def test_a_serial_this_master_never_issued_is_revoked_with_a_warning(
        cluster):
    """A serial the master has no record of is revoked all the same (a
    certificate of an external CA), exit status 0, but with a warning on
    stderr: a mistyped serial must not pass for a revoked certificate.
    One the master issued is revoked without it."""
    m = cluster.master().init().start()
    person(cluster, m, "alice", "operator")
    r = m.ctl("cert", "revoke", "0B:AD:C0:DE")
    assert "revoked 0badc0de" in r.stdout, r.stdout
    assert "warning: this master issued no certificate with serial " \
        "0badc0de" in r.stderr, r.stderr
    (alice,) = [c for c in m.ctl_json("cert", "list")
                if c["name"] == "alice"]
    r = m.ctl("cert", "revoke", alice["serial"])
    assert f"revoked {alice['serial']}" in r.stdout, r.stdout
    assert "warning" not in r.stderr, r.stderr


def test_every_change_is_audited(cluster):
    m = cluster.master().init().start()
    cluster.enlisted(m, ["web-1"])
    m.apply_job(job("j", ["web-1"]))
    m.ctl("job", "start", "j")
    m.ctl("job", "stop", "j", check=False)
    m.ctl("group", "create", "g")
    m.ctl("group", "add", "g", "web-1")
    m.ctl("group", "remove", "g", "web-1")
    m.ctl("target", "set", "web-1", "--location", "rack 9")
    m.ctl("target", "resync", "web-1")
    m.ctl("target", "token", "web-2")
    m.ctl("job", "delete", "j")
    m.ctl("target", "delete", "web-1")
    got = {(a["method"], a["path"]) for a in m.ctl_json("audit")}
    for want in [("PUT", "/v1/jobs/j"), ("POST", "/v1/jobs/j/start"),
                 ("POST", "/v1/jobs/j/stop"), ("POST", "/v1/groups"),
                 ("POST", "/v1/groups/g/members"),
                 ("DELETE", "/v1/groups/g/members/web-1"),
                 ("POST", "/v1/targets/web-1/settings"),
                 ("POST", "/v1/targets/web-1/resync"),
                 ("POST", "/v1/targets/web-2/token"),
                 ("DELETE", "/v1/jobs/j"), ("DELETE", "/v1/targets/web-1"),
                 ("POST", "/v1/enlist")]:
        assert want in got, want
    # a target's polls and uploads are not admin changes
    assert not any(p in ("/v1/poll", "/v1/outbox") for _, p in got)
    enlist = [a for a in m.ctl_json("audit") if a["path"] == "/v1/enlist"]
    assert enlist[0]["role"] == "anonymous" and enlist[0]["object"] == "web-1"


# ---- renewal -------------------------------------------------------------

def serial_of(path):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in",
                          path], capture_output=True, text=True, check=True)
    return out.stdout.strip().split("=")[1].lower().lstrip("0")


def test_target_renews_its_certificate(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    cert = os.path.join(t.dir, "tls", "cert.pem")
    old = serial_of(cert)
    # renew when less than ten years are left: at once
    t.start("--cert_renew_before_s=315360000")
    wait_for(lambda: serial_of(cert) != old, what="the renewed certificate")
    new = serial_of(cert)
    wait_for(lambda: "reconnected" in t.proc.log_text(),
             what="the target to reconnect")
    assert not os.path.exists(cert + ".new")
    # the master recorded it and revoked the old one once the new was used
    wait_for(lambda: {c["serial"].lstrip("0"): c["revoked"]
                      for c in m.ctl_json("cert", "list")
                      if c["name"] == "web-1"} == {old: True, new: False},
             what="the old certificate revoked")
    status, body = api(m, "GET", "/v1/whoami",
                       cert=os.path.join(t.dir, "tls", "cert.pem"),
                       key=os.path.join(t.dir, "tls", "key.pem"))
    assert status == 200 and body["serial"].lstrip("0") == new
    # still a working target: it gets and runs a job
    m.apply_job(job("after", ["web-1"], command="echo renewed"))
    m.ctl("job", "start", "after")
    wait_for(lambda: any(r["outcome"] == "succeeded" for r in
                         m.history("--job", "after")), what="the run")
    assert "enlist" not in t.proc.log_text()


def test_renewal_swap_cut_short_is_finished_at_start(cluster):
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    tls = os.path.join(t.dir, "tls")
    # a renewal that wrote its new pair and died before renaming both:
    # the new key is in place, the new certificate still beside it
    for f in ("cert.pem", "key.pem"):
        os.rename(os.path.join(tls, f), os.path.join(tls, f + ".new"))
    with open(os.path.join(tls, "cert.pem"), "w") as f:
        f.write("not the right certificate\n")
    os.rename(os.path.join(tls, "key.pem.new"), os.path.join(tls, "key.pem"))
    t.start()
    wait_for(lambda: m.targets().get("web-1", {}).get("last_poll"),
             what="the target to poll")
    assert "cert_swap_resumed" in t.proc.log_text()
    assert not os.path.exists(os.path.join(tls, "cert.pem.new"))


# ---- an external CA --------------------------------------------------------

def test_external_ca_names_mapped_to_roles(cluster):
    d = cluster.root
    pki_tool(cluster, "ca", f"{d}/corp.crt", f"{d}/corp.key", "corp CA")
    m = cluster.master(extra_conf=f"client_ca = {d}/corp.crt\n"
                       "map erin = operator\nmap web-7 = target\n")
    m.init().start()
    pki_tool(cluster, "issue", f"{d}/corp.crt", f"{d}/corp.key", "erin",
             "admin", f"{d}/erin.crt", f"{d}/erin.key")
    pki_tool(cluster, "issue", f"{d}/corp.crt", f"{d}/corp.key", "frank",
             "admin", f"{d}/frank.crt", f"{d}/frank.key")
    # the mapping decides the role, never the certificate's own OU=admin
    status, body = api(m, "GET", "/v1/whoami", cert=f"{d}/erin.crt",
                       key=f"{d}/erin.key")
    assert status == 200 and body["role"] == "operator", body
    status, body = api(m, "PUT", "/v1/jobs/x", job("x", []),
                       cert=f"{d}/erin.crt", key=f"{d}/erin.key")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = api(m, "GET", "/v1/targets", cert=f"{d}/frank.crt",
                       key=f"{d}/frank.key")
    assert status == 403 and "map frank = ROLE" in body["error"]["message"]
    # a target of the external CA enlists by polling
    t = cluster.target("web-7")
    os.makedirs(os.path.join(t.dir, "tls"))
    pki_tool(cluster, "issue", f"{d}/corp.crt", f"{d}/corp.key", "web-7",
             "target", f"{t.dir}/tls/cert.pem", f"{t.dir}/tls/key.pem")
    import shutil
    shutil.copy(os.path.join(m.dir, "tls", "ca.crt"),
                os.path.join(t.dir, "tls", "ca.crt"))
    with open(t.conf, "w") as f:
        f.write(f"role = target\nstate_dir = {t.dir}\nname = web-7\n"
                f"master = {m.url}\npoll_interval_s = 1\n")
    t.start()
    wait_for(lambda: m.targets().get("web-7", {}).get("last_poll"),
             what="the mapped target to poll")
    m.apply_job(job("ext", ["web-7"], command="echo external"))
    m.ctl("job", "start", "ext")
    wait_for(lambda: any(r["outcome"] == "succeeded" for r in
                         m.history("--job", "ext")), what="the run")
    # deleting it revokes its (external) certificate, and says that its
    # map line would admit the next certificate its CA issues
    r = m.ctl("target", "delete", "web-7")
    assert "remove 'map web-7 = target'" in r.stderr, r.stderr
    status, body = api(m, "GET", "/v1/whoami", cert=f"{t.dir}/tls/cert.pem",
                       key=f"{t.dir}/tls/key.pem")
    assert status == 401 and "revoked" in body["error"]["message"]


# ---- the channel -----------------------------------------------------------

def test_target_checks_the_masters_name(cluster):
    m = cluster.master().init().start()
    verify = cluster.target("web-1")
    verify.enlist(m)
    lax = cluster.target("web-2")
    lax.enlist(m)
    with open(lax.conf, "a") as f:
        f.write("tls = encrypt-only\n")
    # the master's certificate now names another host only
    port = m.port
    m.stop()
    tls = os.path.join(m.dir, "tls")
    pki_tool(cluster, "server", f"{tls}/ca.crt", f"{tls}/ca.key",
             "elsewhere.example", f"{tls}/cert.pem", f"{tls}/key.pem")
    m.start(f"--listen=127.0.0.1:{port}")
    verify.start()
    lax.start()
    cert, key = admin_cert(m)

    def polled(name):   # cohortctl checks the name too: not here
        status, body = api(m, "GET", f"/v1/targets/{name}", cert=cert,
                           key=key, ca=False)
        return body.get("last_poll")
    wait_for(lambda: polled("web-2"), what="the encrypt-only target to poll")
    wait_for(lambda: "does not match" in verify.proc.log_text() or
             "no alternative certificate subject name" in
             verify.proc.log_text(), what="the name check to refuse")
    assert polled("web-1") is None
    assert "encrypt-only" in lax.proc.log_text()
    assert "NOT checked" in lax.proc.log_text()
    # the warning comes at every start
    lax.stop()
    lax.start()
    wait_for(lambda: lax.proc.log_text().count("NOT checked") >= 2,
             what="the warning again")


def test_rate_limit_per_certificate(cluster):
    m = cluster.master(extra_conf="rate_limit_per_s = 1\n"
                       "rate_limit_burst = 3\n").init().start()
    cert, key = admin_cert(m)
    answers = [api(m, "PUT", "/v1/jobs/flood", job("flood", []), cert=cert,
                   key=key) for _ in range(8)]
    limited = [b for s, b in answers if s == 429]
    served = [b for s, b in answers if s == 200]
    assert limited and len(served) + len(limited) == 8, answers
    assert all(b["error"]["code"] == "rate_limited" for b in limited)
    assert "at most 1 per second" in limited[0]["error"]["message"]
    # the bucket refills; only the served requests reached the store
    def audit_now():
        status, body = api(m, "GET", "/v1/audit", cert=cert, key=key)
        return body if status == 200 else None
    audit = wait_for(audit_now, timeout=10, interval=1.1,
                     what="the bucket to refill")
    assert len([a for a in audit if a["path"] == "/v1/jobs/flood"]) == \
        len(served)
    assert m.proc.alive()


def test_a_certificate_ending_on_a_kept_alive_connection_is_refused(
        cluster, tmp_path):
    """The handshake checks a certificate's dates once; the master checks
    the end date again on every request, so a connection kept alive past
    it (a dashboard, a long-poll renewed for hours) gets 401."""
    m = cluster.master().init().start()
    d = str(tmp_path)
    lifetime_s = 4
    pki_tool(cluster, "issue", f"{m.dir}/tls/ca.crt", f"{m.dir}/tls/ca.key",
             "dave", "operator", f"{d}/short.crt", f"{d}/short.key", "-60",
             str(lifetime_s))
    issued = time.time()
    conn = http.client.HTTPSConnection(
        "127.0.0.1", m.port, timeout=30,
        context=tls_context(m, f"{d}/short.crt", f"{d}/short.key"))
    try:
        conn.request("GET", "/v1/whoami")
        r = conn.getresponse()
        assert r.status == 200, r.read()
        assert json.loads(r.read())["name"] == "dave"
        sock = conn.sock
        # wall-clock time has to pass the end date: nothing to poll for
        while time.time() < issued + lifetime_s + 1.5:
            time.sleep(0.25)
        conn.request("GET", "/v1/whoami")
        r = conn.getresponse()
        body = json.loads(r.read())
        assert conn.sock is sock, "the connection was not kept alive"
        assert r.status == 401, body
        assert "expired" in body["error"]["message"], body
    finally:
        conn.close()


def test_revoking_a_target_certificate_cuts_its_held_poll(cluster):
    """A poll held with a certificate that is then revoked is answered
    401 at once, not with whatever is posted before its hold ends."""
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m, poll_interval=60)  # each poll is held up to 60 s
    t.start()
    cert = admin_cert(m)
    wait_for(lambda: "\ncohort_polls_held 1\n" in api(
        m, "GET", "/metrics", cert=cert[0], key=cert[1])[1],
        what="web-1's poll held")
    serial = [c["serial"] for c in m.ctl_json("cert", "list")
              if c["name"] == "web-1"]
    assert len(serial) == 1, serial
    m.ctl("cert", "revoke", serial[0])
    lines = wait_for(lambda: [ln for ln in log_lines(t.proc, "poll_failing")
                              if "status=401" in ln], timeout=15,
                     what="the held poll answered 401")
    assert "revoked" in lines[0], lines
    assert "\ncohort_polls_held 0\n" in api(
        m, "GET", "/metrics", cert=cert[0], key=cert[1])[1]


def test_revoke_by_name_refuses_a_name_shared_by_a_person_and_a_target(
        cluster):
    """People and targets share one namespace of names: revoking the
    person 'backup' by name must not cut off the target 'backup'."""
    m = cluster.master().init().start()
    t = cluster.target("backup")
    t.enlist(m)
    person(cluster, m, "backup", "viewer")
    before = m.ctl_json("cert", "list")
    r = m.ctl("cert", "revoke", "--name", "backup", check=False)
    assert r.returncode != 0
    assert "names both a person's and a target's" in r.stderr, r.stderr
    assert m.ctl_json("cert", "list") == before  # nothing revoked
    viewer = [c["serial"] for c in before
              if c["name"] == "backup" and c["role"] == "viewer"]
    m.ctl("cert", "revoke", viewer[0])
    after = {c["role"]: c["revoked"] for c in m.ctl_json("cert", "list")
             if c["name"] == "backup"}
    assert after == {"viewer": True, "target": False}, after


def test_renewals_are_capped_and_every_other_certificate_revoked(
        cluster, tmp_path):
    """A target renewing in a loop gets at most six certificates an hour
    (its enlistment's included), then 429 and nothing recorded; the first
    poll with its current certificate revokes every other one, unused
    renewals included, whatever the master did in between (a restart)."""
    m = cluster.master().init().start()
    t = cluster.target("web-1")
    t.enlist(m)
    cert = os.path.join(t.dir, "tls", "cert.pem")
    key = os.path.join(t.dir, "tls", "key.pem")
    d = str(tmp_path)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    f"{d}/k.pem"], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", f"{d}/k.pem", "-subj",
                    "/CN=web-1/OU=target", "-out", f"{d}/r.csr"],
                   check=True, capture_output=True)
    csr = open(f"{d}/r.csr").read()
    issued = []
    for _ in range(5):
        status, body = api(m, "POST", "/v1/renew", {"csr": csr}, cert=cert,
                           key=key)
        assert status == 200, body
        issued.append(body)
    status, body = api(m, "POST", "/v1/renew", {"csr": csr}, cert=cert,
                       key=key)
    assert status == 429 and "6 certificates in the last hour" in \
        body["error"]["message"], body
    certs = [c for c in m.ctl_json("cert", "list") if c["name"] == "web-1"]
    assert len(certs) == 6 and not any(c["revoked"] for c in certs), certs
    # the master restarts: nothing about the renewals lived in memory
    m.stop()
    m.start(f"--listen=127.0.0.1:{m.port}")
    newest = issued[-1]
    with open(f"{d}/new.crt", "w") as f:
        f.write(newest["cert"])
    status, body = api(m, "POST", "/v1/poll",
                       {"name": "web-1", "version": "0.1.0",
                        "after": 0, "wait_s": 0},
                       cert=f"{d}/new.crt", key=f"{d}/k.pem")
    assert status == 200, body
    revoked = {c["serial"]: c["revoked"] for c in m.ctl_json("cert", "list")
               if c["name"] == "web-1"}
    assert revoked.pop(newest["serial"]) is False
    assert len(revoked) == 5 and all(revoked.values()), revoked
