"""The peers, started privately on 127.0.0.1 in the run's temp dir:
nginx (kept-alive TLS renewals, driven by the fleet simulator), pgAgent
with a private PostgreSQL cluster, and Slurm (slurmctld + slurmd + munged
on one node). Each raises Unavailable with the reason when it cannot be
installed or started; nothing is estimated."""
import os
import pwd
import shutil
import signal
import socket
import time

from benchlib import Spawned, pct, run, tmp, track, wait_for, which, \
    cpu_ticks


class Unavailable(Exception):
    pass


def free_port():
    """A port the kernel gave and took back; a peer that cannot bind it
    fails its start, which is reported."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need(*names):
    paths = []
    for n in names:
        p = which(n)
        if p is None:
            raise Unavailable(f"{n} is not installed "
                              f"(scripts/deps.sh bench installs it)")
        paths.append(p)
    return paths


# ---------------------------------------------------------------- nginx

NGINX_CONF = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_client_certificate {ca};
        ssl_verify_client on;
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""


def nginx_cert(d, master_dir):
    """A P-256 server certificate for 127.0.0.1 made by openssl and signed
    by the master's CA, so the same client verifies both servers."""
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         f"{d}/key.pem", "-out", f"{d}/req.pem", "-subj", "/CN=127.0.0.1"])
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", f"{d}/req.pem", "-CA",
         f"{master_dir}/tls/ca.crt", "-CAkey", f"{master_dir}/tls/ca.key",
         "-set_serial", str(int(time.time())), "-days", "2", "-out",
         f"{d}/cert.pem", "-extfile", f"{d}/ext.cnf"])


def worker_pid(master_pid):
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
        kids = f.read().split()
    return int(kids[0]) if kids else None


def nginx_renew(build, master_dir, creds, n, seconds, body_bytes):
    """The fleet simulator's renewals against nginx answering every
    request with a body of body_bytes bytes (the master's empty poll
    reply), one worker process like the master's one loop."""
    (nginx,) = need("nginx")
    d = os.path.join(tmp(), "nginx")
    os.makedirs(d, exist_ok=True)
    nginx_cert(d, master_dir)
    port = free_port()
    body = '{"instructions":[]}'
    body = body + " " * max(0, body_bytes - len(body) - 1) + "\\n"
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port, body=body,
                                  ca=f"{master_dir}/tls/ca.crt"))
    p = Spawned("nginx", [nginx, "-p", d, "-e", f"{d}/error.log", "-c",
                          f"{d}/nginx.conf"])
    try:
        def up():
            if not p.alive():
                raise Unavailable("nginx did not start: " + p.tail(300))
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, 0.05, "nginx to listen")
        w = wait_for(lambda: worker_pid(p.pid), 10, 0.05, "nginx's worker")
        track(w)
        from bench_cohort import fleet
        out = fleet(build, "renew", "--state", master_dir, "--creds", creds,
                    "--n", str(n), "--seconds", str(seconds), "--url",
                    f"https://127.0.0.1:{port}", "--pid", str(w))
        out["server"] = "nginx, 1 worker"
        return out
    finally:
        p.stop()


# -------------------------------------------------------------- pgAgent

PG_BIN = "/usr/lib/postgresql/15/bin"
# A step's output without its line end (one line per row from psql -At).
OUTPUT = "btrim(s.jsloutput, E' \\r\\n\\t')"


class Pg:
    """A private PostgreSQL cluster owned by the postgres user, on
    127.0.0.1 at a free port, its socket in its own directory."""

    def __init__(self):
        for b in ("initdb", "postgres"):
            if not os.access(os.path.join(PG_BIN, b), os.X_OK):
                raise Unavailable(f"{PG_BIN}/{b} is missing (Debian "
                                  "postgresql)")
        need("psql")
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("no postgres user (Debian postgresql)")
        self.dir = os.path.join(tmp(), "pg")
        os.makedirs(self.dir, exist_ok=True)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.user = "postgres"
        data = os.path.join(self.dir, "data")
        r = run([os.path.join(PG_BIN, "initdb"), "-D", data, "-U",
                 "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                check=False, user=self.user)
        if r.returncode != 0:
            raise Unavailable("initdb failed: " + r.stderr.strip()[-200:])
        self.port = free_port()
        self.proc = Spawned("postgres", [
            os.path.join(PG_BIN, "postgres"), "-D", data, "-p",
            str(self.port), "-k", self.dir, "-c",
            "listen_addresses=127.0.0.1", "-c", "max_connections=1000"],
            user=self.user)
        wait_for(lambda: self.ready(), 30, 0.1, "PostgreSQL to accept")

    def ready(self):
        if not self.proc.alive():
            raise Unavailable("postgres did not start: " +
                              self.proc.tail(300))
        return run(["psql", "-X", "-h", "127.0.0.1", "-p", str(self.port),
                    "-U", "postgres", "-c", "SELECT 1"],
                   check=False).returncode == 0

    def sql(self, statement):
        r = run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h",
                 "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "-d", "postgres", "-c", statement])
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def stop(self):
        # SIGINT: PostgreSQL's fast shutdown. SIGTERM (smart) waits for
        # every session to end, and with hundreds just closed by pgAgent
        # the wait ran into the SIGKILL.
        self.proc.stop(timeout=30, sig=signal.SIGINT)


def pgagent_figures(trials, n_due):
    """pgAgent with `-t 1` (its shortest poll): due -> step started for
    one job (trials times) and n_due jobs due at once. A job becomes due
    when its jobnextrun is set to a whole second just ahead; its one
    batch step prints `date +%s.%N`."""
    (pgagent,) = need("pgagent")
    pg = Pg()
    agent = None
    try:
        pg.sql("CREATE EXTENSION pgagent")
        pg.sql("INSERT INTO pgagent.pga_job (jobjclid, jobname, jobenabled)"
               " SELECT 1, 'pj-' || g, true FROM generate_series(0, "
               f"{n_due}) g")
        pg.sql("INSERT INTO pgagent.pga_jobstep (jstjobid, jstname, jstkind,"
               " jstcode) SELECT jobid, 's', 'b', 'date +%s.%N' FROM "
               "pgagent.pga_job WHERE jobname LIKE 'pj-%'")
        agent = Spawned("pgagent", [
            pgagent, "-f", "-t", "1", "-l", "1",
            f"hostaddr=127.0.0.1 port={pg.port} dbname=postgres "
            "user=postgres"], user=pg.user)
        wait_for(lambda: pg.sql("SELECT count(*) FROM pgagent.pga_jobagent")
                 [0][0] != "0", 20, 0.1, "pgagent to register")
        lat = []
        for i in range(trials):
            due = int(time.time()) + 1
            pg.sql("UPDATE pgagent.pga_job SET jobnextrun = "
                   f"to_timestamp({due}) WHERE jobname = 'pj-0'")
            wait_for(lambda: done_runs(pg, "pj-0") >= i + 1, 30, 0.05,
                     "pgagent's run")
            lat.append(last_output(pg, "pj-0") * 1000 - due * 1000.0)
        single = {"n": trials, "p50_ms": pct(lat, 50),
                  "p99_ms": pct(lat, 99), "max_ms": max(lat)}
        due = int(time.time()) + 2
        pg.sql("UPDATE pgagent.pga_job SET jobnextrun = "
               f"to_timestamp({due}) WHERE jobname LIKE 'pj-%' "
               "AND jobname <> 'pj-0'")
        wait_for(lambda: done_jobs(pg) >= n_due, 600, 0.2,
                 f"{n_due} pgagent runs")
        # The first run of each job: its step's start and its end.
        rows = pg.sql(
            "SELECT DISTINCT ON (l.jlgjobid) " + OUTPUT + ", "
            "extract(epoch FROM l.jlgstart + l.jlgduration) FROM "
            "pgagent.pga_joblog l JOIN pgagent.pga_job j ON j.jobid = "
            "l.jlgjobid LEFT JOIN pgagent.pga_jobsteplog s ON s.jsljlgid = "
            "l.jlgid WHERE j.jobname <> 'pj-0' AND l.jlgstatus <> 'r' "
            "ORDER BY l.jlgjobid, l.jlgid")
        lat = [float(o) * 1000 - due * 1000.0 for o, _ in rows if o]
        span = max(float(e) for _, e in rows if e) - due
        runs, bad = pg.sql(
            "SELECT count(*), count(*) FILTER (WHERE jlgstatus <> 's') "
            "FROM pgagent.pga_joblog l JOIN pgagent.pga_job j ON j.jobid = "
            "l.jlgjobid WHERE j.jobname <> 'pj-0'")[0]
        many = {"jobs": n_due, "n": len(lat), "p50_ms": pct(lat, 50),
                "p99_ms": pct(lat, 99), "max_ms": max(lat),
                "last_done_s": span, "jobs_per_s": n_due / span,
                "runs": int(runs), "not_succeeded": int(bad),
                "extra_runs": int(runs) - n_due}
        return {"single": single, "due_at_once": many,
                "config": "pgagent -t 1, PostgreSQL 15 (private cluster, "
                "max_connections 1000: pgAgent holds one per running job)"}
    finally:
        if agent is not None:
            agent.stop()
        pg.stop()


def done_jobs(pg):
    """Jobs other than pj-0 with a finished run."""
    return int(pg.sql(
        "SELECT count(DISTINCT l.jlgjobid) FROM pgagent.pga_joblog l JOIN "
        "pgagent.pga_job j ON j.jobid = l.jlgjobid WHERE j.jobname <> "
        "'pj-0' AND l.jlgstatus <> 'r'")[0][0])


def done_runs(pg, like):
    return int(pg.sql(
        "SELECT count(*) FROM pgagent.pga_joblog l JOIN pgagent.pga_job j "
        f"ON j.jobid = l.jlgjobid WHERE j.jobname LIKE '{like}' AND "
        "l.jlgstatus <> 'r'")[0][0])


def last_output(pg, name):
    rows = pg.sql(
        "SELECT " + OUTPUT + " FROM pgagent.pga_jobsteplog s JOIN "
        "pgagent.pga_joblog l ON s.jsljlgid = l.jlgid JOIN pgagent.pga_job j"
        f" ON j.jobid = l.jlgjobid WHERE j.jobname = '{name}' ORDER BY "
        "s.jslid DESC LIMIT 1")
    return float(rows[0][0])


# ---------------------------------------------------------------- Slurm

SLURM_CONF = """ClusterName=bench
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={d}/munge/sock
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MaxJobCount=100000
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
{partition}
"""
PARTITION = ("PartitionName=bench Nodes=localhost Default=YES "
             "MaxTime=INFINITE State=UP OverSubscribe=FORCE:64")


def slurm_figures(jobs, trials):
    """A one-node Slurm (munged, slurmctld, slurmd, all private): `sbatch
    --wrap true` jobs submitted one after another until all have left
    the queue, and `srun true` wall time. OverSubscribe=FORCE:64 lets
    trivial jobs share the node's cores (without it Slurm ran 2 at a
    time, about 0.7 jobs/s here)."""
    munged, mungekey, ctld, slurmd, sbatch, srun, squeue, sinfo = need(
        "munged", "mungekey", "slurmctld", "slurmd", "sbatch", "srun",
        "squeue", "sinfo")
    d = os.path.join(tmp(), "slurm")
    for sub in ("munge", "state", "spool"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chmod(os.path.join(d, "munge"), 0o700)
    run([mungekey, "-c", "-k", f"{d}/munge/munge.key"])
    procs = []
    try:
        m = Spawned("munged", [munged, "-F", "--force",
                               f"--key-file={d}/munge/munge.key",
                               f"--socket={d}/munge/sock",
                               f"--pid-file={d}/munge/pid",
                               f"--log-file={d}/munge/log",
                               f"--seed-file={d}/munge/seed"])
        procs.append(m)
        wait_for(lambda: os.path.exists(f"{d}/munge/sock") or
                 not m.alive(), 10, 0.05, "munged's socket")
        if not m.alive():
            raise Unavailable("munged did not start: " + m.tail(300))
        conf = f"{d}/slurm.conf"
        with open(conf, "w") as f:
            f.write(SLURM_CONF.format(d=d, ctld_port=free_port(),
                                      slurmd_port=free_port(),
                                      cpus=os.cpu_count(),
                                      partition=PARTITION))
        env = {"SLURM_CONF": conf}
        c = Spawned("slurmctld", [ctld, "-D", "-i", "-f", conf], env=env)
        procs.append(c)
        s = Spawned("slurmd", [slurmd, "-D", "-f", conf, "-N", "localhost"],
                    env=env)
        procs.append(s)

        def idle():
            for p in (c, s):
                if not p.alive():
                    raise Unavailable(f"{p.name} did not start: " +
                                      p.tail(300))
            r = run([sinfo, "-h", "-o", "%t"], check=False, env=env)
            return r.returncode == 0 and r.stdout.strip() == "idle"
        wait_for(idle, 30, 0.1, "the Slurm node to be idle")
        lat = []
        for _ in range(trials):
            t0 = time.monotonic()
            run([srun, "true"], env=env)
            lat.append((time.monotonic() - t0) * 1000)
        t0 = time.monotonic()
        for _ in range(jobs):
            run([sbatch, "-Q", "-o", "/dev/null", "--wrap", "true"], env=env)
        submit_s = time.monotonic() - t0
        held = wait_for(lambda: queue_settled(squeue, env), 1800, 0.1,
                        "the Slurm queue to empty")[1]
        span = time.monotonic() - t0
        return {"srun_true": {"trials": trials, "p50_ms": pct(lat, 50),
                              "p99_ms": pct(lat, 99), "max_ms": max(lat)},
                "batch": {"jobs": jobs, "submit_s": submit_s,
                          "seconds": span, "held": held,
                          "jobs_per_s": (jobs - held) / span},
                "config": "slurm 22.05 one node, select/cons_tres, "
                          "OverSubscribe=FORCE:64, no accounting"}
    finally:
        for p in reversed(procs):
            p.stop()


def queue_settled(squeue, env):
    """(True, held) once every job left in the queue is held (Slurm holds
    a job whose launch failed, e.g. slurmd too slow under load); those
    are counted, not waited for."""
    r = run([squeue, "-h", "-o", "%t %r"], env=env)
    left = [x for x in r.stdout.splitlines() if x.strip()]
    held = sum(1 for x in left if "held" in x.lower())
    return (True, held) if held == len(left) else False
