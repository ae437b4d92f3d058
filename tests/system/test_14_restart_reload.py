"""Restarts and reloads. A master that restarts (cleanly or killed) has
its long-polling targets back within one poll interval. SIGHUP reloads
the configuration of a running master and target: live keys take effect,
keys that need a restart are named in the log and keep their value, a
broken file changes nothing; connections and running jobs carry on."""
import calendar
import json
import signal
import subprocess
import time

from cohort import api, admin_cert, wait_for
from faults import log_lines, report

POLL_S = 2


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def polled_since(m, names, since):
    ts = m.targets()
    return all(ts[n]["last_poll"] and epoch(ts[n]["last_poll"]) >= since
               for n in names)


def test_master_restart_targets_back_within_poll_interval(cluster):
    m = cluster.master().init().start()
    names = ["web-1", "web-2", "web-3"]
    cluster.enlisted(m, names, poll_interval=POLL_S)
    worst = 0.0
    for crash in (False, True):
        port = m.port
        if crash:
            m.kill()
        else:
            m.stop()
        # down long enough for every target's retry wait to reach its
        # longest (the poll interval)
        time.sleep(2 * POLL_S)
        m.start(f"--listen=127.0.0.1:{port}")
        up = time.time()
        wait_for(lambda: polled_since(m, names, int(up)), timeout=30,
                 interval=0.1, what="every target to poll again")
        took = time.time() - up
        worst = max(worst, took)
        # last_poll has whole seconds, and a listing takes a moment
        assert took <= POLL_S + 1.5, f"targets came back after {took:.1f}s"
        assert all(t["status"] == "normal" for t in m.targets().values())
    report("master_restart", faults=2, poll_interval_s=POLL_S,
           worst_reconnect_s=f"{worst:.2f}")


def connections(pid, port):
    """Local ports of pid's established TCP connections to port."""
    out = subprocess.run(["ss", "-Htnp", "state", "established",
                          f"( dport = :{port} )"], capture_output=True,
                         text=True).stdout
    return {line.split()[2].rsplit(":", 1)[1] for line in out.splitlines()
            if f"pid={pid}," in line}


def reloaded(proc, n):
    return len(log_lines(proc, "reloaded")) >= n


def test_sighup_reloads_without_dropping(cluster):
    m = cluster.master().init().start()
    (t,) = cluster.enlisted(m, ["web-1"])
    m.apply_job({"name": "slow", "targets": ["web-1"], "steps": [
        {"name": "s", "command": "sleep 3; echo done"}]})
    m.ctl("job", "start", "slow")
    wait_for(lambda: t.query("SELECT state FROM runs") == [("running",)],
             what="the job running")
    wait_for(lambda: connections(t.proc.pid, m.port), what="a connection")
    before = connections(t.proc.pid, m.port)
    port = m.port
    with open(m.conf, "a") as f:
        f.write("max_body_bytes = 2048\nlisten = 127.0.0.1:1\n")
    with open(t.conf, "a") as f:
        f.write("poll_interval_s = 3\n")
    m.proc.signal(signal.SIGHUP)
    t.proc.signal(signal.SIGHUP)
    wait_for(lambda: reloaded(m.proc, 1) and reloaded(t.proc, 1),
             what="both reloaded")
    need = log_lines(m.proc, "reload_restart_needed")
    assert len(need) == 1 and "listen: changed" in need[0], need
    # live: the master's body limit and the target's poll interval
    big = {"name": "big", "targets": ["web-1"], "description": "x" * 3000,
           "steps": [{"name": "s", "command": "true"}]}
    status, body = api(m, "PUT", "/v1/jobs/big", json.dumps(big),
                       *admin_cert(m))
    assert status == 413, (status, body)
    wait_for(lambda: m.targets()["web-1"]["poll_interval_s"] == 3,
             what="the new poll interval reported")
    # not live: still on the same port
    assert m.port == port and m.ctl("target", "list").returncode == 0
    # the job ran through it; the long-poll connection is still there
    wait_for(lambda: t.query("SELECT outcome FROM runs") ==
             [("succeeded",)], what="the job to succeed")
    after = connections(t.proc.pid, m.port)
    assert before <= after, (before, after)
    # a broken file changes nothing
    with open(m.conf, "a") as f:
        f.write("bogus = 1\n")
    m.proc.signal(signal.SIGHUP)
    wait_for(lambda: log_lines(m.proc, "reload_failed"),
             what="the refusal logged")
    line = log_lines(m.proc, "reload_failed")[0]
    assert "bogus: unknown key" in line
    # the report's line breaks are not printed as '?'
    assert "?" not in line.split("detail=", 1)[1], line
    assert m.proc.alive()
    status, _ = api(m, "PUT", "/v1/jobs/big", json.dumps(big),
                    *admin_cert(m))
    assert status == 413
    assert before <= connections(t.proc.pid, m.port)
    # a target's refused reload is a daemon error its master hears of
    with open(t.conf, "a") as f:
        f.write("bogus = 1\n")
    t.proc.signal(signal.SIGHUP)
    errors = wait_for(lambda: [e for e in m.ctl_json("event", "list")
                               if e["kind"] == "daemon_error"],
                      what="the target's daemon_error event")
    assert errors[0]["target"] == "web-1", errors
    assert errors[0]["severity"] == "error", errors
    assert "configuration reload" in errors[0]["message"], errors
    assert "bogus: unknown key" in errors[0]["message"], errors
    assert t.proc.alive()
    report("sighup", faults=4, connections_kept=len(before),
           runs_checked=1, lost=0, duplicated=0)
