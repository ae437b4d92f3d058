"""The system-test harness: start cohortd masters and targets, run
cohortctl, wait for conditions with a deadline. No sleeps stand in for
synchronisation: wait_for() polls a condition until it holds or the deadline
passes, then fails with what it last saw."""
import json
import os
import signal
import subprocess
import time


# Every secret the suite hands out (enlistment tokens, secret environment
# values) and every cohortctl output, so a test can check that no log and
# no output but the one that issued a secret ever shows it (test_08).
SECRETS = set()
OUTPUTS = []


def record_secret_env(doc):
    for step in doc.get("steps", []):
        for v in (step.get("env") or {}).values():
            if isinstance(v, dict) and v.get("secret") and v.get("value"):
                SECRETS.add(v["value"])


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


class Gate:
    """A file that a step waits for: command() is shell code that loops
    until the test opens the gate (creates the file), then runs its
    argument. A step that must still be running at a later point of the
    test waits on a gate, not on a sleep of a guessed length that a slow
    machine can outrun."""

    def __init__(self, root, name="gate"):
        self.path = os.path.join(str(root), name)

    def command(self, then="true"):
        return f"while [ ! -e {self.path} ]; do sleep 0.05; done; {then}"

    def open(self):
        with open(self.path, "w"):
            pass


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


class Master:
    """A master's state dir, its daemon and its admin profile."""

    def __init__(self, cluster, name="master", extra_conf="", host="127.0.0.1",
                 state_dir=None, prefix=()):
        self.cluster = cluster
        self.name = name
        self.dir = state_dir or os.path.join(cluster.root, name)
        self.proc = None
        self.extra_conf = extra_conf
        self.host = host
        self.prefix = tuple(prefix)  # e.g. ("valgrind", ...)
        self.store_url = None  # PostgreSQL: the store's URL
        self.schema = None     # PostgreSQL: the store's schema

    @property
    def profile(self):
        return os.path.join(self.dir, "admin.conf")

    @property
    def conf(self):
        return os.path.join(self.dir, "cohortd.conf")

    def init(self, *extra, join=None):
        """master init; on the PostgreSQL store (cluster.pg) a fresh
        schema of its own, or with join the store and certificates of
        that master (the second master of a pair)."""
        if join is not None:
            extra = extra + ("--join", join.dir)
            self.store_url, self.schema = join.store_url, join.schema
        elif self.cluster.pg is not None:
            self.store_url, self.schema = self.cluster.pg.new_store(self.name)
            extra = extra + ("--store", self.store_url)
        self.cluster.run("cohortctl", "master", "init", "--state-dir",
                         self.dir, "--listen", f"{self.host}:0", *extra)
        if self.extra_conf:
            with open(self.conf, "a") as f:
                f.write(self.extra_conf)
        return self

    def start(self, *flags, env=None, timeout=20.0):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.proc = self.cluster.start(self.name, "-c", self.conf, *flags,
                                       env=env, prefix=self.prefix)
        wait_for(lambda: os.path.exists(port_file) or not self.proc.alive(),
                 timeout=timeout, what=f"{self.name} to write its port")
        assert self.proc.alive(), self.proc.log_text()
        return self

    @property
    def port(self):
        with open(os.path.join(self.dir, "port")) as f:
            return int(f.read())

    @property
    def url(self):
        return f"https://{self.host}:{self.port}"

    def restart(self, *flags, crash=False):
        """Stops the master if it runs (SIGKILL when crash) and starts it
        again on the port it had (targets and profiles keep their URLs)."""
        port = self.port
        if crash:
            self.kill()
        else:
            self.stop()
        return self.start(f"--listen={self.host}:{port}", *flags)

    def stop(self, timeout=10.0):
        if self.proc is not None:
            rc = self.proc.stop(timeout)
            self.cluster.procs.remove(self.proc)
            self.proc = None
            return rc
        return None

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.cluster.procs.remove(self.proc)
            self.proc = None


    def sql(self, statement):
        """Runs SQL on this master's store, SQLite or PostgreSQL (a
        second connection beside the running daemon)."""
        if self.store_url is None:
            import sqlite3
            con = sqlite3.connect(os.path.join(self.dir, "cohort.db"),
                                  timeout=10)
            try:
                rows = con.execute(statement).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        out = self.cluster.pg.psql(
            f"SET search_path TO {self.schema}; {statement}")
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    def health(self):
        """GET /v1/health (anonymous): (status, body), (0, None) when
        the master does not answer."""
        try:
            return api(self, "GET", "/v1/health", timeout=2)
        except OSError:
            return 0, None

    def is_active(self):
        return self.health()[0] == 200

    def ctl(self, *args, check=True, env=None):
        return self.cluster.run("cohortctl", "-c", self.profile, *args,
                                check=check, env=env)

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args, "--json").stdout)

    def targets(self):
        return {t["name"]: t for t in self.ctl_json("target", "list")}

    def history(self, *args):
        return self.ctl_json("history", *args)

    def token(self, name, *extra):
        token = self.ctl("target", "token", name, *extra).stdout.strip()
        SECRETS.add(token)
        return token

    def apply_job(self, doc, check=True):
        record_secret_env(doc)
        path = os.path.join(self.cluster.root, f"job-{doc['name']}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return self.ctl("job", "apply", path, check=check)


class Target:
    """A target's state dir and daemon."""

    def __init__(self, cluster, name, state_dir=None, prefix=()):
        self.cluster = cluster
        self.name = name
        self.dir = state_dir or os.path.join(cluster.root, "t-" + name)
        self.proc = None
        self.prefix = tuple(prefix)  # e.g. ("ip", "netns", "exec", NS)

    @property
    def conf(self):
        return os.path.join(self.dir, "cohortd.conf")

    @property
    def db(self):
        return os.path.join(self.dir, "target.db")

    def enlist(self, master, token=None, poll_interval=1, check=True,
               env=None, masters=None):
        """Enlists with master; masters (a list) puts all their URLs in
        the target's master setting (a pair: the target follows the
        active one)."""
        token = token or master.token(self.name)
        urls = " ".join(m.url for m in masters) if masters else master.url
        return self.cluster.run(
            "cohortctl", "enlist", "--state-dir", self.dir, "--name",
            self.name, "--master", urls, "--token", token,
            "--poll-interval", str(poll_interval), check=check, env=env)

    def start(self, *flags, env=None):
        self.proc = self.cluster.start(self.name, "-c", self.conf, *flags,
                                       env=env, prefix=self.prefix)
        return self

    def stop(self, timeout=10.0):
        if self.proc is not None:
            rc = self.proc.stop(timeout)
            self.cluster.procs.remove(self.proc)
            self.proc = None
            return rc
        return None

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.cluster.procs.remove(self.proc)
            self.proc = None

    def query(self, sql, args=()):
        """Reads the target's local store (WAL allows a reader beside the
        running daemon)."""
        import sqlite3
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True,
                              timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def write(self, sql, args=()):
        """Writes the target's local store beside the running daemon, as a
        second writer (cohortctl local does the same)."""
        import sqlite3
        con = sqlite3.connect(self.db, timeout=10)
        try:
            con.execute(sql, args)
            con.commit()
        finally:
            con.close()

    def add_local_job(self, name):
        """A local job row (an empty document) the master's job of the
        same name will clash with."""
        self.write("INSERT INTO jobs(name, origin, doc, updated_at) "
                   "VALUES (?, 'local', '{}', 0)", (name,))

    def drop_local_job(self, name):
        self.write("DELETE FROM jobs WHERE name = ? AND origin = 'local'",
                   (name,))


class Cluster:
    """One master (or a pair) and its targets under a temporary
    directory. With pg (a harness.pg.PgServer) masters get PostgreSQL
    stores."""

    def __init__(self, root, bins, pg=None):
        self.root = str(root)
        self.bins = bins
        self.pg = pg
        self.procs = []
        self.masters = []
        self.targets = []

    # -- running the binaries -------------------------------------------
    def bin(self, name):
        return os.path.join(self.bins, name)

    def run(self, name, *args, check=True, timeout=60, env=None, input=None):
        """Runs a binary to completion; returns CompletedProcess (text)."""
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([self.bin(name), *args], capture_output=True,
                           text=True, timeout=timeout, env=e, input=input)
        OUTPUTS.append((args, r.stdout, r.stderr))
        if check and r.returncode != 0:
            raise AssertionError(
                f"{name} {' '.join(args)} exited {r.returncode}\n"
                f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def start(self, label, *args, env=None, prefix=()):
        e = dict(os.environ)
        e.update(env or {})
        log = os.path.join(self.root, f"{label}.log")
        p = Proc(label, [*prefix, self.bin("cohortd"), *args], log, env=e)
        self.procs.append(p)
        return p

    # -- the cast ---------------------------------------------------------
    def master(self, **kw):
        m = Master(self, **kw)
        self.masters.append(m)
        return m

    def target(self, name, **kw):
        t = Target(self, name, **kw)
        self.targets.append(t)
        return t

    def pair(self, extra_conf="", extra_conf_m1=None):
        """Two masters on one PostgreSQL store, the second joined to
        the first; both started, the first one active."""
        m1 = self.master(name="m1", extra_conf=extra_conf if
                         extra_conf_m1 is None else extra_conf_m1)
        m1.init().start()
        wait_for(m1.is_active, what="m1 to be active")
        m2 = self.master(name="m2", extra_conf=extra_conf)
        m2.init(join=m1).start()
        wait_for(lambda: m2.health()[0] == 503, what="m2 to stand by")
        return m1, m2

    def profile(self, masters, name="pair.conf"):
        """An admin profile listing masters' URLs in that order."""
        first = masters[0]
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write("master = " + " ".join(m.url for m in masters) + "\n"
                    f"ca = {first.dir}/tls/ca.crt\n"
                    f"cert = {first.dir}/admin/cert.pem\n"
                    f"key = {first.dir}/admin/key.pem\n")
        return path

    def ctl(self, profile, *args, check=True, timeout=60):
        return self.run("cohortctl", "-c", profile, *args, check=check,
                        timeout=timeout)

    def ctl_json_rows(self, profile, *args):
        return json.loads(self.ctl(profile, *args, "--json").stdout)

    def enlisted(self, master, names, poll_interval=1, masters=None):
        """Enlists and starts targets; waits until each has polled."""
        out = []
        for n in names:
            t = self.target(n)
            t.enlist(master, poll_interval=poll_interval, masters=masters)
            t.start()
            out.append(t)
        wait_for(lambda: all(master.targets().get(n, {}).get("last_poll")
                             for n in names), what=f"{names} to poll")
        return out

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


def api(master, method, path, body=None, cert=None, key=None, ca=True,
        headers=None, timeout=30, reply_headers=None):
    """One raw HTTPS request to a master (for what cohortctl cannot send:
    no certificate, a foreign one, malformed bodies). Returns (status,
    parsed JSON or raw text); reply_headers, a dict, gets the reply's
    headers."""
    import http.client
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(os.path.join(master.dir, "tls", "ca.crt"))
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    conn = http.client.HTTPSConnection("127.0.0.1", master.port,
                                       context=ctx, timeout=timeout)
    data = body if isinstance(body, (bytes, str)) or body is None \
        else json.dumps(body)
    try:
        conn.request(method, path, body=data, headers=headers or {})
        r = conn.getresponse()
        raw = r.read().decode("utf-8", "replace")
        if reply_headers is not None:
            reply_headers.update(r.getheaders())
    finally:
        conn.close()
    try:
        return r.status, json.loads(raw)
    except ValueError:
        return r.status, raw


def admin_cert(master):
    return (os.path.join(master.dir, "admin", "cert.pem"),
            os.path.join(master.dir, "admin", "key.pem"))
