"""cohort's own figures: the fleet simulator against a real master
(fan-out, master RSS per idle target, renewals, ingest) and a real
cohortd target (idle memory and CPU, schedule-due to process-started
latency, many jobs due at once, job start to outcome, many starts).

Each function returns a dict of figures; bench.py turns them into the
table and bench/results/latest.json."""
import json
import os
import sqlite3
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "system", "harness"))
from cohort import Cluster  # noqa: E402
from benchlib import (Admin, pct, run, status_kib, cpu_ticks,  # noqa: E402
                      track, wait_for)

# The benchmark measures the master, not its per-client rate limit (the
# admin adds 10,000 group members in a burst), and keeps every history row
# so ingest measures inserts rather than trimming.
MASTER_CONF = ("rate_limit_per_s = 0\n"
               "history_max_rows = 100000000\n"
               "history_max_rows_per_job = 100000000\n")


def start_master(root, build, name):
    c = Cluster(root, build)
    m = c.master(name=name, extra_conf=MASTER_CONF).init().start()
    track(m.proc.pid)
    return c, m


def fleet(build, *args, timeout=900):
    r = run([os.path.join(build, "fleet"), *args], timeout=timeout,
            check=False)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError(f"fleet {args[0]}: no JSON: {r.stderr[-300:]}")
    if r.returncode != 0:
        raise RuntimeError(f"fleet {args[0]}: "
                           f"{out.get('failure') or out.get('last_error')}")
    return out


def fleet_figures(build, root, cfg, nginx_renew):
    """Fan-out, RSS per target, renewals (and nginx's, same client, same
    creds, through nginx_renew(state_dir, creds, n, seconds,
    body_bytes)), ingest."""
    res = {}
    c, m = start_master(root, build, "fleet-master")
    creds = os.path.join(root, "fleet.creds")
    try:
        nmax = max(cfg["fanout_sizes"])
        e = fleet(build, "enlist", "--state", m.dir, "--n", str(nmax),
                  "--creds", creds)
        res["enlist"] = {"targets": e["enlisted"], "seconds": e["enlist_s"]}
        f = fleet(build, "fanout", "--state", m.dir, "--creds", creds,
                  "--n", str(nmax), "--sizes",
                  ",".join(str(s) for s in cfg["fanout_sizes"]),
                  "--rounds", str(cfg["rounds"]), "--pid", str(m.proc.pid),
                  "--hold-s", "2")
        res["fanout"] = f["fanout"]
        res["fanout_connect_s"] = f.get("connect_s")
        res["master_rss"] = dict(f.get("master_rss", {}), targets=nmax)
        res["master_idle_cpu_pct"] = f.get("master_idle_cpu_pct")
        n = cfg["renew_n"]
        r = fleet(build, "renew", "--state", m.dir, "--creds", creds,
                  "--n", str(n), "--seconds", str(cfg["renew_s"]),
                  "--pid", str(m.proc.pid))
        res["renew"] = r
        try:
            res["renew_nginx"] = nginx_renew(
                m.dir, creds, n, cfg["renew_s"],
                round(r.get("reply_body_bytes") or 20))
        except Exception as ex:  # a peer that cannot run is reported
            why = "unavailable" if type(ex).__name__ == "Unavailable" \
                else "failed"
            res["renew_nginx"] = {why: str(ex)}
        i = fleet(build, "ingest", "--state", m.dir, "--creds", creds,
                  "--n", str(cfg["ingest_uploaders"]), "--outcomes",
                  str(cfg["ingest_outcomes"]), "--batch", "100")
        res["ingest"] = i
        res["master_rss_after_kib"] = status_kib(m.proc.pid, "VmRSS")
    finally:
        c.stop_all()
    return res


class TargetBench:
    """One master and one real cohortd target for the target figures and
    for cohort's side of the peer comparisons."""

    def __init__(self, build, root):
        self.c, self.m = start_master(root, build, "t-master")
        t = self.c.target("bt-1")
        t.enlist(self.m, poll_interval=60)
        with open(t.conf, "a") as f:
            # every run of a figure stays countable (tick takes 121)
            f.write("history_max_rows = 100000\n"
                    "history_max_rows_per_job = 100000\n")
        t.start()
        track(t.proc.pid)
        self.t = t
        self.admin = Admin(self.m.dir, self.m.port)
        wait_for(lambda: self.admin.call("GET", "/v1/targets/bt-1")
                 .get("last_poll"), 20, 0.05, "the target's first poll")

    def close(self):
        self.admin.close()
        self.c.stop_all()

    def idle(self, seconds):
        """RssAnon, RssFile and CPU of the idle target daemon."""
        pid = self.t.proc.pid
        wait_for(lambda: self.t.query("SELECT count(*) FROM outbox")[0][0]
                 == 0, 20, 0.05, "an empty outbox")
        time.sleep(1)  # let start-up work (first poll, store) finish
        c0, t0 = cpu_ticks(pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_ticks(pid), time.monotonic()
        tck = os.sysconf("SC_CLK_TCK")
        return {"rss_anon_kib": status_kib(pid, "RssAnon"),
                "rss_file_kib": status_kib(pid, "RssFile"),
                "vm_rss_kib": status_kib(pid, "VmRSS"),
                "cpu_s": (c1 - c0) / tck, "seconds": t1 - t0,
                "cpu_pct": 100.0 * (c1 - c0) / tck / (t1 - t0)}

    def put_job(self, doc):
        self.admin.call("PUT", "/v1/jobs/" + doc["name"], doc)

    def delivered(self, names):
        """Waits until the target's store holds every job in names."""
        want = set(names)

        def have():
            rows = self.t.query("SELECT name FROM jobs")
            return want <= {r[0] for r in rows}
        wait_for(have, 120, 0.05, f"{len(want)} jobs on the target")

    def runs(self, job_like):
        """(due_s, report) of finished runs whose job matches."""
        rows = self.t.query(
            "SELECT r.due_at, h.report FROM history h JOIN runs r "
            "ON r.run_id = h.run_id WHERE h.job LIKE ?", (job_like,))
        return [(d, json.loads(rep)) for d, rep in rows]

    def count_runs(self, job_like):
        return self.t.query("SELECT count(*) FROM history WHERE job LIKE ?",
                            (job_like,))[0][0]

    def sched_latency(self, count):
        """A job on an every-second schedule whose step prints its start
        time; latency = that time minus the due instant of its run."""
        self.put_job({"name": "tick", "targets": ["bt-1"],
                      "schedules": [{"name": "s", "kind": "daily",
                                     "every_days": 1, "repeat_every_s": 1,
                                     "time_zone": "UTC"}],
                      "steps": [{"name": "t", "subsystem": "exec",
                                 "command": ["/bin/date", "+%s.%N"]}]})
        wait_for(lambda: self.count_runs("tick") >= count + 1,
                 count + 30, 0.1, f"{count} runs of tick")
        self.admin.call("DELETE", "/v1/jobs/tick")
        lat = started_minus_due(self.runs("tick"))[1:]  # first: warm-up
        out = lat_figures(lat)
        out["exec_baseline"] = exec_baseline(count)
        out["fsync_baseline"] = fsync_baseline(self.t.dir, count)
        return out

    def due_at_once(self, n, lead_s):
        """n jobs due at the same instant, each starting /bin/date:
        due -> start latency and jobs completed per second."""
        names = [f"due-{i:04d}" for i in range(n)]
        t_due = int(time.time()) + lead_s
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_due))
        t0 = time.monotonic()
        for name in names:
            self.put_job({"name": name, "targets": ["bt-1"],
                          "schedules": [{"name": "once", "kind": "once",
                                         "at": at, "time_zone": "UTC"}],
                          "steps": [{"name": "t", "subsystem": "exec",
                                     "command": ["/bin/date", "+%s.%N"]}]})
        self.delivered(names)
        setup_s = time.monotonic() - t0
        if time.time() >= t_due:
            raise RuntimeError(f"setting up {n} jobs took {setup_s:.1f} s, "
                               f"past their due time")
        wait_for(lambda: self.count_runs("due-%") >= n,
                 t_due - time.time() + 120, 0.1, f"{n} runs")
        runs = self.runs("due-%")
        lat = started_minus_due(runs)
        ends = [(r["started_ms"] + r["duration_ms"]) / 1000.0
                for _, r in runs if "started_ms" in r]
        span = max(ends) - t_due
        out = lat_figures(lat)
        out.update({"jobs": n, "last_done_s": span,
                    "jobs_per_s": n / span if span > 0 else None,
                    "setup_s": setup_s})
        return out

    def ended(self, job):
        """The job's runs whose outcome has come (not "running")."""
        rows = self.admin.call(
            "GET", f"/v1/history?job={job}&jobs_only=1&limit=1000")
        return [r for r in rows if r["outcome"] != "running"]

    def start_to_outcome(self, trials):
        """POST job start -> the run's outcome in the master's history
        (one target; what `srun true` does on one node)."""
        self.put_job({"name": "lat", "targets": ["bt-1"],
                      "steps": [{"name": "t", "command": "true"}]})
        self.delivered(["lat"])
        times = []
        for i in range(trials):
            t0 = time.monotonic()
            self.admin.call("POST", "/v1/jobs/lat/start")
            wait_for(lambda: len(self.ended("lat")) >= i + 1, 30, 0.002,
                     "the outcome")
            times.append((time.monotonic() - t0) * 1000)
        return {"trials": trials, "p50_ms": pct(times, 50),
                "p99_ms": pct(times, 99), "max_ms": max(times)}

    def many_starts(self, n):
        """n one-step `true` jobs (made and delivered beforehand), each
        started once through the API; time from the first start call to
        the n-th outcome in the master's history."""
        names = [f"sb-{i:04d}" for i in range(n)]
        for name in names:
            self.put_job({"name": name, "targets": ["bt-1"],
                          "steps": [{"name": "t", "command": "true"}]})
        self.delivered(names)
        t0 = time.monotonic()
        for name in names:
            self.admin.call("POST", f"/v1/jobs/{name}/start")
        submit_s = time.monotonic() - t0

        def done():
            rows = self.m.sql("SELECT count(*) FROM runs WHERE job "
                              "LIKE 'sb-%' AND step = 0 AND outcome <> "
                              "'running'")
            return rows[0][0] >= n
        wait_for(done, 300, 0.02, f"{n} outcomes in the master's history")
        span = time.monotonic() - t0
        return {"jobs": n, "submit_s": submit_s, "seconds": span,
                "jobs_per_s": n / span}


def exec_baseline(trials):
    """The physical floor of "process started" on this machine: the time
    from just before a plain spawn of /bin/date +%s.%N (Python's
    subprocess: vfork+exec, nothing recorded anywhere) to the time it
    prints."""
    lat = []
    for _ in range(trials):
        t0 = time.time()
        r = run(["/bin/date", "+%s.%N"], timeout=10)
        lat.append((float(r.stdout) - t0) * 1000.0)
    return lat_figures(lat)


def fsync_baseline(directory, trials):
    """The other floor: a run is marked running in the target's store,
    durably, before its step may exec (exactly once across a crash), so
    the latency holds one fdatasync of the disk the store is on. Timed
    here on 4 KiB rewritten in place in that directory, as SQLite's
    reused WAL is (a file that grows also waits for its metadata)."""
    path = os.path.join(directory, "fsync-baseline")
    lat = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0" * 65536)
        os.fsync(fd)
        for i in range(trials):
            os.pwrite(fd, b"\1" * 4096, (i % 16) * 4096)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t0) * 1000.0)
    finally:
        os.close(fd)
        os.unlink(path)
    return lat_figures(lat)


def started_minus_due(runs):
    """Each run's step output (its start, seconds since the epoch) minus
    its due instant, in ms."""
    lat = []
    for due, rep in runs:
        steps = rep.get("steps") or []
        out = (steps[0].get("output") or "").strip() if steps else ""
        if due and out:
            lat.append((float(out) - due) * 1000.0)
    return lat


def lat_figures(lat):
    if not lat:
        raise RuntimeError("no runs with a start time")
    return {"n": len(lat), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "max_ms": max(lat)}
