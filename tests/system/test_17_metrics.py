"""Metrics: GET /metrics answers readers in the Prometheus text format
0.0.4 (a scraper gets a viewer certificate); the counts follow what the
master did: targets by status, polls, instructions, runs by outcome, HTTP
replies and their latency, and each target's outbox drops. A target's
certificate and a caller without one are refused. A standby answers
too, with cohort_lease_active 0."""
import http.client
import os
import re
import ssl

import pytest

from cohort import admin_cert, api, wait_for

JOB = {"name": "hello", "targets": ["web-1", "web-2"],
       "steps": [{"name": "s", "command": "true"}]}

SAMPLE = re.compile(r'^([a-z_]+)(?:\{([a-z_]+)="((?:[^"\\]|\\.)*)"\})? '
                    r'([0-9.e+-]+|\+Inf)$')


def scrape(m, cert, key):
    """GET /metrics; returns (status, content type, text)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(m.dir, "tls", "ca.crt"))
    ctx.load_cert_chain(cert, key)
    conn = http.client.HTTPSConnection("127.0.0.1", m.port, context=ctx,
                                       timeout=30)
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


def parse(text):
    """{name: {label value or None: value}}, checking that every sample
    follows the HELP and TYPE lines of its family."""
    out, typed = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            typed[name] = kind
            continue
        got = SAMPLE.match(line)
        assert got, f"malformed line: {line!r}"
        name, _, value, n = got.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name) \
            if name not in typed else name
        assert family in typed, f"{name} before its TYPE line"
        out.setdefault(name, {})[value] = float(n)
    return out


def metrics(m, cert):
    status, ctype, text = scrape(m, *cert)
    assert status == 200, text
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    return parse(text)


def test_metrics(cluster):
    m = cluster.master().init().start()
    t1, t2 = cluster.enlisted(m, ["web-1", "web-2"])
    m.apply_job(JOB)
    m.ctl("job", "start", "hello")
    wait_for(lambda: len([r for r in m.history("--job", "hello")
                          if r.get("step") == 0 and
                          r.get("outcome") == "succeeded"]) == 2,
             what="both runs to succeed")
    # a scraper's certificate: a viewer's
    out = os.path.join(cluster.root, "prometheus")
    m.ctl("cert", "issue", "--role", "viewer", "prometheus", "--out", out)
    viewer = (os.path.join(out, "cert.pem"), os.path.join(out, "key.pem"))
    # the acks of the starts may follow the uploads of the runs
    wait_for(lambda: metrics(m, viewer)["cohort_instructions_unread"][None]
             == 0, what="every instruction acknowledged")
    mx = metrics(m, viewer)
    assert sum(mx["cohort_targets"].values()) == 2
    assert set(mx["cohort_targets"]) == {"normal", "blocked",
                                         "suspected_offline", "defected"}
    assert mx["cohort_runs_total"]["succeeded"] >= 2
    assert mx["cohort_polls_total"][None] > 0
    # the job's inserts and starts, each applied
    assert mx["cohort_instructions_posted_total"][None] >= 4
    assert mx["cohort_instructions_applied_total"][None] >= 4
    assert mx["cohort_instructions_failed_total"][None] == 0
    assert mx["cohort_lease_active"][None] == 1
    assert list(mx["cohort_build_info"].values()) == [1]
    assert mx["cohort_http_requests_total"]["200"] > 0
    buckets = mx["cohort_http_request_duration_seconds_bucket"]
    counts = list(buckets.values())
    assert counts == sorted(counts) and "+Inf" in buckets
    assert buckets["+Inf"] == \
        mx["cohort_http_request_duration_seconds_count"][None] > 0
    assert mx["cohort_target_outbox_dropped_total"] == {"web-1": 0,
                                                        "web-2": 0}
    # the admin's certificate reads it too; a target's may not
    assert metrics(m, admin_cert(m))["cohort_polls_total"][None] > 0
    status, body = api(m, "GET", "/metrics",
                       cert=os.path.join(t1.dir, "tls", "cert.pem"),
                       key=os.path.join(t1.dir, "tls", "key.pem"))
    assert status == 403 and body["error"]["code"] == "forbidden", body
    status, body = api(m, "GET", "/metrics")
    assert status == 401, body
    # the refusals are counted by code
    mx = metrics(m, viewer)
    assert mx["cohort_http_requests_total"]["403"] >= 1
    assert mx["cohort_http_requests_total"]["401"] >= 1


def test_outbox_drops_reported(cluster):
    """A target reports its outbox drops in every poll (test_13 produces
    real ones); here web-2 is stopped and its poll, sent with its own
    certificate, says 5 were dropped."""
    m = cluster.master().init().start()
    t1, t2 = cluster.enlisted(m, ["web-1", "web-2"])
    t2.stop()
    version = m.targets()["web-2"]["version"]
    status, body = api(m, "POST", "/v1/poll",
                       {"name": "web-2", "version": version, "after": 0,
                        "wait_s": 0, "outbox_dropped": 5},
                       cert=os.path.join(t2.dir, "tls", "cert.pem"),
                       key=os.path.join(t2.dir, "tls", "key.pem"))
    assert status == 200, body
    mx = metrics(m, admin_cert(m))
    assert mx["cohort_target_outbox_dropped_total"] == {"web-1": 0,
                                                        "web-2": 5}
    assert m.targets()["web-2"]["outbox_dropped"] == 5


@pytest.mark.pg_only
def test_standby_answers_metrics(pg_cluster):
    m1, m2 = pg_cluster.pair()
    cert = admin_cert(m1)
    assert metrics(m1, cert)["cohort_lease_active"][None] == 1
    mx = metrics(m2, cert)
    assert mx["cohort_lease_active"][None] == 0
    assert sum(mx["cohort_targets"].values()) == 0
    # everything else on the standby still goes to the active master
    status, body = api(m2, "GET", "/v1/targets", cert=cert[0], key=cert[1])
    assert status == 503 and body["error"]["code"] == "not_active"
