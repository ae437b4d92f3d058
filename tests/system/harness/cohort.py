"""The system-test harness: start cohortd masters and targets, run
cohortctl, wait for conditions with a deadline. No sleeps stand in for
synchronisation: wait_for() polls a condition until it holds or the deadline
passes, then fails with what it last saw."""
import json
import os
import signal
import subprocess
import time


def build_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", "..", ".."))
    return os.environ.get("COHORT_BUILD", os.path.join(root, "build"))


def wait_for(cond, timeout=20.0, interval=0.05, what="condition"):
    """Polls cond() until it returns a truthy value; returns that value.
    Fails with the last value seen when the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                         f"last value: {last!r}")


class Proc:
    """A daemon started by the harness, stopped by PID."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=self.log,
                                  stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL at the deadline; returns the exit code."""
        if self.alive():
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        self.log.close()
        return self.p.returncode

    def kill(self):
        if self.alive():
            os.kill(self.p.pid, signal.SIGKILL)
            self.p.wait(5)
        self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Cluster:
    """One master and its targets under a temporary directory."""

    def __init__(self, root, bins):
        self.root = str(root)
        self.bins = bins
        self.procs = []

    # -- running the binaries -------------------------------------------
    def bin(self, name):
        return os.path.join(self.bins, name)

    def run(self, name, *args, check=True, timeout=60, env=None, input=None):
        """Runs a binary to completion; returns CompletedProcess (text)."""
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([self.bin(name), *args], capture_output=True,
                           text=True, timeout=timeout, env=e, input=input)
        if check and r.returncode != 0:
            raise AssertionError(
                f"{name} {' '.join(args)} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def start(self, label, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        log = os.path.join(self.root, f"{label}.log")
        p = Proc(label, [self.bin("cohortd"), *args], log, env=e)
        self.procs.append(p)
        return p

    def stop_all(self, dump_logs=False):
        for p in self.procs:
            try:
                p.stop()
            except Exception:  # keep stopping the others
                p.kill()
            if dump_logs:
                print(f"\n----- log of {p.name} (pid {p.pid}) -----")
                print(p.log_text()[-20000:])
        self.procs = []


def load_json(text):
    return json.loads(text) if text.strip() else None
