#!/usr/bin/env python3
"""The master's RSS per idle target, alone and quickly: one master, N
virtual targets enlisted and holding idle polls (bench/fleet), the figure
as `make bench` takes it: (VmRSS with N held polls - VmRSS before) / N.

  bench/rss_probe.py [--build DIR] [--n N] [--hold-s S] [--wrap CMD]
                     [--env K=V ...] [--gdb EXPR] [--heap]

--wrap runs the master under a profiler (e.g. "heaptrack -o /tmp/ht" or
"valgrind --tool=massif --massif-out-file=/tmp/ms"); --env sets the
master's environment (e.g. MALLOC_ARENA_MAX=1); --gdb calls EXPR in the
master (e.g. "(int)malloc_trim(0)") while the polls are held and reports
VmRSS before and after it; --heap adds glibc's live heap bytes per target
(malloc_stats() before connecting and while held), a steadier figure than
RSS for levers of a few hundred bytes. Prints one JSON line.
Every process started here is stopped by PID before it returns."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "system", "harness"))
from cohort import Cluster  # noqa: E402

MASTER_CONF = "rate_limit_per_s = 0\n"


def fleet(build, *args, timeout=600):
    r = subprocess.run([os.path.join(build, "fleet"), *args],
                       capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError(f"fleet {args[0]}: no JSON: {r.stderr[-300:]}")
    if r.returncode != 0:
        raise RuntimeError(f"fleet {args[0]}: {out}")
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def descendants(pid):
    """PIDs of pid's children, theirs, and so on (from /proc)."""
    parent = {}
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat") as f:
                parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError):
            continue
    out, queue = [], [pid]
    while queue:
        p = queue.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        queue += kids
    return out


def stop_wrapped(wrapper, timeout_s=60):
    """A wrapper (heaptrack's script) does not pass SIGTERM on: the master
    under it is stopped by its own PID, and the wrapper is waited for, so
    it writes its profile and ends by itself. Its other children (the
    profiler's own) are left to it."""
    for p in descendants(wrapper.pid):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{p}/exe"))
        except OSError:
            continue
        if exe == "cohortd":
            os.kill(p, signal.SIGTERM)
    try:
        wrapper.p.wait(timeout_s)
    except subprocess.TimeoutExpired:
        pass  # stop_all() then stops it


def gdb_call(pid, expr):
    """Calls expr in the process pid (stopped meanwhile); gdb's answer."""
    g = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex",
                        f"print {expr}"], capture_output=True, text=True,
                       timeout=120)
    return [ln for ln in g.stdout.splitlines() if ln.startswith("$1")]


def heap_in_use(m):
    """glibc's live heap bytes in the master (malloc_stats() writes them
    to its stderr, the log)."""
    gdb_call(m.proc.pid, "(void)malloc_stats()")
    text = m.proc.log_text()
    total = text.rsplit("Total (incl. mmap):", 1)[-1]
    for line in total.splitlines():
        if line.startswith("in use bytes"):
            return int(line.split("=")[1])
    return -1


def while_held(build, args, m, n, expr, heap):
    """Runs fleet with args (a hold long enough to act in); once the
    master's RSS has grown by 8 KiB per target (the polls are arriving)
    and then stopped growing for 3 s, calls expr in it and/or reads its
    live heap. Returns those figures and fleet's JSON."""
    pid = m.proc.pid
    start = rss_kib(pid)
    p = subprocess.Popen([os.path.join(build, "fleet"), *args],
                         stdout=subprocess.PIPE, text=True)
    res = {}
    try:
        last, since = start, time.monotonic()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.5)
            now = rss_kib(pid)
            if now != last or now - start < 8 * n:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= 3:
                break
        if heap:
            res["heap_held"] = heap_in_use(m)
        if expr:
            res["rss_before_kib"] = rss_kib(pid)
            res["result"] = gdb_call(pid, expr)
            res["rss_after_kib"] = rss_kib(pid)
        out, _ = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    res["fleet"] = json.loads(out)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--hold-s", type=int, default=1)
    ap.add_argument("--wrap", default="")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--gdb", default="")
    ap.add_argument("--heap", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    env = dict(kv.split("=", 1) for kv in a.env)
    with tempfile.TemporaryDirectory(prefix="rss-probe-") as root:
        c = Cluster(root, build)
        m = c.master(name="m", extra_conf=MASTER_CONF,
                     prefix=tuple(a.wrap.split()))
        try:
            m.init().start(env=env, timeout=120)
            creds = os.path.join(root, "creds")
            fleet(build, "enlist", "--state", m.dir, "--n", str(a.n),
                  "--creds", creds)
            # The master's PID (with --wrap, the wrapper's: no figures).
            pid = m.proc.pid
            args = ["fanout", "--state", m.dir, "--creds", creds,
                    "--n", str(a.n), "--sizes", "10", "--rounds", "1",
                    "--pid", str(pid), "--hold-s", str(a.hold_s)]
            out = {"n": a.n, "env": env, "wrap": a.wrap}
            if a.gdb or a.heap:
                heap0 = heap_in_use(m) if a.heap else None
                held = while_held(build, args, m, a.n, a.gdb, a.heap)
                f = held.pop("fleet")
                if a.heap:
                    held["heap_per_target_bytes"] = \
                        (held["heap_held"] - heap0) / a.n
                out["held"] = held
            else:
                f = fleet(build, *args)
            out.update({"master_rss": f.get("master_rss"),
                        "held_polls": f.get("held_polls")})
            print(json.dumps(out))
        finally:
            if a.wrap:
                stop_wrapped(m.proc)
            c.stop_all()


if __name__ == "__main__":
    main()
