"""A private PostgreSQL server for the system tests: initdb into a
temporary directory, started on a free port of 127.0.0.1 only (trust
authentication, loopback only), stopped by pg_ctl at the end of the test
session. Each master store is a schema of its own in the one database
(the store's URL puts that schema first in the search_path), so tests do
not see each other's tables and a store costs a CREATE SCHEMA, not a
CREATE DATABASE. The same as tests/pg/run-with-pg.sh, for pytest."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile


def pg_bindir():
    """The newest installed server's binaries, or None."""
    d = os.environ.get("COHORT_PG_BINDIR")
    if d:
        return d
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda p: [int(x) if x.isdigit() else x
                                 for x in p.split("/")], reverse=True)
    for d in dirs:
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    return None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgServer:
    """One throw-away cluster; start() then new_store() per master."""

    def __init__(self):
        self.bindir = pg_bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (install the "
                               "Debian package postgresql)")
        self.dir = tempfile.mkdtemp(prefix="cohort-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = None
        self.started = False
        self.watchdog = None
        self.stores = 0
        # initdb refuses to run as root: then the server is postgres's.
        self.as_pg = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def start(self):
        subprocess.run(self.as_pg + [
            self._bin("initdb"), "-D", self.data, "-U", "postgres", "-A",
            "trust", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True)
        # If pytest is killed outright, no finaliser runs: a watchdog
        # stops the server once this process is gone.
        stop = self.as_pg + [self._bin("pg_ctl"), "-D", self.data, "-m",
                             "immediate", "stop"]
        self.watchdog = subprocess.Popen(
            ["sh", "-c", 'tail --pid="$1" -f /dev/null; dir="$2"; '
             'shift 2; "$@"; rm -rf "$dir"', "watchdog", str(os.getpid()),
             self.dir] + stop,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        log = os.path.join(self.dir, "server.log")
        for _ in range(5):
            self.port = _free_port()
            r = subprocess.run(self.as_pg + [
                self._bin("pg_ctl"), "-D", self.data, "-l", log, "-w",
                "-t", "60", "-o",
                f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-k {self.dir} -c max_connections=200 "
                f"-c fsync=off -c full_page_writes=off",
                "start"], capture_output=True)
            if r.returncode == 0:
                self.started = True
                return self
            text = open(log).read() if os.path.exists(log) else ""
            if "could not bind" not in text and "in use" not in text:
                break
        raise RuntimeError("PostgreSQL did not start:\n" +
                           (open(log).read() if os.path.exists(log) else ""))

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def psql(self, sql):
        """Runs SQL as the superuser; returns its output (unaligned)."""
        r = subprocess.run([
            self._bin("psql"), "-X", "-q", "-A", "-t", "-v",
            "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", "-d", "postgres", "-c", sql],
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"psql {sql!r}: {r.stderr}")
        return r.stdout

    def new_store(self, label="m"):
        """An empty schema and the store URL that uses it."""
        self.stores += 1
        schema = f"{label.replace('-', '_')}_{self.stores}_{os.getpid()}"
        self.psql(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options=-csearch_path%3D{schema}", schema

    def stop(self):
        if self.started:
            subprocess.run(self.as_pg + [
                self._bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                "stop"], capture_output=True)
            self.started = False
        if self.watchdog is not None:
            # the watchdog's own session: its shell and its tail
            os.killpg(self.watchdog.pid, signal.SIGKILL)
            self.watchdog.wait()
            self.watchdog = None
        shutil.rmtree(self.dir, ignore_errors=True)

