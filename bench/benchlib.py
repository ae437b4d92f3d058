"""Shared pieces of the benchmark scripts: processes started and
recorded by PID (bench/run.sh kills whatever is left on exit), waiting by
polling to a deadline, /proc readings and percentiles.

Every process a bench script starts goes through spawn() or track(), which
append its PID to $BENCH_TMP/pids; run.sh's EXIT trap signals each one."""
import math
import os
import signal
import subprocess
import sys
import time


def as_user(user):
    """Popen arguments running a child as user (uid, gid, no
    supplementary groups), from a directory it can enter."""
    if user is None:
        return {}
    import pwd
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [],
            "cwd": "/"}


def tmp():
    return os.environ["BENCH_TMP"]


def start_time(pid):
    """Field 22 of /proc/PID/stat: with the PID it names one process."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[19]


def track(pid):
    """Records a PID (and its start time) for run.sh's EXIT trap."""
    try:
        start = start_time(pid)
    except OSError:
        return  # gone already
    with open(os.path.join(tmp(), "pids"), "a") as f:
        f.write(f"{pid} {start}\n")


class Spawned:
    """A long-running process with its output in a log file."""

    def __init__(self, name, argv, env=None, user=None):
        self.name = name
        self.log_path = os.path.join(tmp(), f"{name}.log")
        self.log = open(self.log_path, "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(argv, stdout=self.log,
                                  stderr=subprocess.STDOUT, env=e,
                                  start_new_session=True, **as_user(user))
        track(self.p.pid)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """sig, then SIGKILL after timeout. Never raises: a process that
        outlives SIGKILL (stuck on the disk under a peer's load) is
        reported and left to run.sh's exit trap, and whatever the caller
        measured before stopping it is kept."""
        if self.alive():
            os.kill(self.p.pid, sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                try:
                    self.p.wait(30)
                except subprocess.TimeoutExpired:
                    print(f"bench: {self.name} (pid {self.p.pid}) still "
                          "there 30 s after SIGKILL", file=sys.stderr)
        self.log.close()

    def tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""


def run(argv, timeout=120, check=True, env=None, input=None, user=None):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       env=e, input=input, **as_user(user))
    if check and r.returncode != 0:
        why = (r.stderr or r.stdout).strip()[-300:]
        raise RuntimeError(f"{os.path.basename(argv[0])} exited "
                           f"{r.returncode}: {why}")
    return r


def wait_for(cond, timeout, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what} "
                       f"(last: {last!r})")


def status_kib(pid, key):
    """A kB field of /proc/PID/status (VmRSS, RssAnon, RssFile...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def cpu_ticks(pid):
    """utime + stime of /proc/PID/stat, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    v = sorted(values)
    if not v:
        return None
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def which(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin",
              "/usr/lib/postgresql/15/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


class Admin:
    """A kept-alive HTTPS connection to a master with its admin
    certificate (one TLS handshake for many calls)."""

    def __init__(self, state_dir, port):
        import http.client
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(state_dir, "tls", "ca.crt"))
        ctx.load_cert_chain(os.path.join(state_dir, "admin", "cert.pem"),
                            os.path.join(state_dir, "admin", "key.pem"))
        self.conn = http.client.HTTPSConnection("127.0.0.1", port,
                                                context=ctx, timeout=60)
        self.used = time.monotonic()

    # The master closes a kept-alive connection idle for a while; a call
    # after a long wait (the schedule latency's two minutes) would meet a
    # closed socket. Past this idle time the next call connects anew.
    IDLE_S = 20

    def call(self, method, path, body=None):
        import json
        if time.monotonic() - self.used > self.IDLE_S:
            self.conn.close()  # http.client connects again on request
        self.used = time.monotonic()
        data = None if body is None else json.dumps(body)
        self.conn.request(method, path, body=data,
                          headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        raw = r.read().decode("utf-8", "replace")
        if r.status != 200:
            raise RuntimeError(f"{method} {path}: {r.status} {raw[:300]}")
        return json.loads(raw) if raw.strip() else None

    def close(self):
        self.conn.close()
