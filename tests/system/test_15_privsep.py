"""Privilege separation (needs root): a target started as root with
`user = nobody` forks a runner process that stays root; the network side
runs as nobody. A step naming a proxy runs as the proxy's user (its
output file opened as that user), a step without one as nobody, and
killing the network side ends the runner process and its steps."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from cohort import wait_for
from faults import group_members, need_root, wait_group_running

# One user per test process: make check runs two suites side by side.
PROXY_USER = f"cohortp15-{os.getpid()}"


def status_ids(pid, key):
    """The four ids of /proc/<pid>/status's Uid: or Gid: line."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return [int(x) for x in line.split()[1:5]]
    raise AssertionError(f"no {key} line for pid {pid}")


def stat_fields(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return fields[0], int(fields[1])


def alive(pid):
    st = stat_fields(pid)
    return st is not None and st[0] != "Z"


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_fields(int(d))
            if st is not None and st[1] == ppid and st[0] != "Z":
                out.append(int(d))
    return out


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def add_proxy_user():
    """True once PROXY_USER is added; False while another useradd holds
    /etc/passwd's lock (make check runs two suites side by side)."""
    r = subprocess.run(["useradd", "--system", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", PROXY_USER],
                       capture_output=True, text=True)
    assert r.returncode == 0 or "lock" in r.stderr, \
        f"useradd {PROXY_USER}: {r.stderr.strip()}"
    return r.returncode == 0


def remove_proxy_user():
    """True once PROXY_USER is gone; False while /etc/passwd is locked."""
    r = subprocess.run(["userdel", PROXY_USER], capture_output=True,
                       text=True)
    return r.returncode in (0, 6) or "lock" not in r.stderr


@pytest.fixture
def proxy_user():
    """A throwaway system user for the proxy, removed afterwards."""
    need_root("privilege separation")
    if shutil.which("useradd") is None or shutil.which("userdel") is None:
        pytest.skip("useradd/userdel are not installed")
    wait_for(remove_proxy_user, timeout=30, what=f"userdel {PROXY_USER}")
    wait_for(add_proxy_user, timeout=30, what=f"useradd {PROXY_USER}")
    try:
        yield pwd.getpwnam(PROXY_USER)
    finally:
        wait_for(remove_proxy_user, timeout=30,
                 what=f"userdel {PROXY_USER}")


def step_rows(m, job):
    rows = m.history("--job", job)
    done = [r for r in rows if r["step"] == 0 and r["outcome"] != "running"]
    return rows if done else None


def test_privilege_separation(cluster, proxy_user):
    nobody = pwd.getpwnam("nobody")
    m = cluster.master().init().start()
    # outside pytest's 0700 tmp dir, so that nobody can reach its state dir
    root = tempfile.mkdtemp(prefix="cohort-t15-")
    os.chmod(root, 0o755)
    outdir = os.path.join(root, "out")
    os.mkdir(outdir)
    os.chown(outdir, proxy_user.pw_uid, proxy_user.pw_gid)
    pgid = None
    try:
        t = cluster.target("priv-1", state_dir=os.path.join(root, "t"))
        t.enlist(m)
        with open(t.conf, "a") as f:
            f.write(f"user = nobody\nproxy p15 = {PROXY_USER}\n")
        t.start()
        wait_for(lambda: m.targets().get("priv-1", {}).get("last_poll"),
                 what="the separated target to poll")
        net = t.proc.pid
        runner = wait_for(lambda: [p for p in children(net)
                                   if comm(p) == "cohortd-runner"],
                          what="the runner process")[0]
        assert status_ids(net, "Uid") == [nobody.pw_uid] * 4
        assert status_ids(net, "Gid") == [nobody.pw_gid] * 4
        assert status_ids(runner, "Uid") == [0] * 4
        assert os.stat(t.dir).st_uid == nobody.pw_uid
        assert os.stat(os.path.join(t.dir, "tls", "key.pem")).st_uid == \
            nobody.pw_uid

        out_file = os.path.join(outdir, "who.log")
        m.apply_job({"name": "who", "targets": ["priv-1"], "steps": [
            {"name": "proxy", "command": "id -u; id -g", "proxy": "p15",
             "output_file": out_file},
            {"name": "self", "command": "id -u"}]})
        m.ctl("job", "start", "who")
        rows = wait_for(lambda: step_rows(m, "who"), what="who's outcome")
        by_step = {r["step"]: r for r in rows}
        assert by_step[0]["outcome"] == "succeeded", rows
        assert by_step[1]["output"].split() == [
            str(proxy_user.pw_uid), str(proxy_user.pw_gid)]
        assert by_step[2]["output"].split() == [str(nobody.pw_uid)]
        st = os.stat(out_file)
        assert st.st_uid == proxy_user.pw_uid
        with open(out_file) as f:
            assert str(proxy_user.pw_uid) in f.read()

        m.apply_job({"name": "nap", "targets": ["priv-1"], "steps": [
            {"name": "s", "command": "sleep 120 & sleep 120; wait",
             "proxy": "p15"}]})
        m.ctl("job", "start", "nap")
        pgid = wait_for(lambda: (t.query(
            "SELECT pgid FROM runs WHERE job = 'nap'") or [(0,)])[0][0],
            what="nap's process group recorded")
        wait_group_running(pgid)          # let go, exec'd, forked
        assert status_ids(pgid, "Uid") == [proxy_user.pw_uid] * 4
        assert stat_fields(pgid)[1] == runner

        t.kill()                       # the network side, outright
        wait_for(lambda: not alive(runner), what="the runner process to end")
        wait_for(lambda: not group_members(pgid),
                 what="the runner process's steps killed")
    finally:
        if pgid and group_members(pgid):
            os.killpg(pgid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def test_privsep_unreachable_state_dir(cluster):
    """A state dir under a directory the user cannot enter: chown cannot
    fix that, so the daemon refuses to start and says why."""
    need_root("privilege separation")
    m = cluster.master().init().start()
    root = tempfile.mkdtemp(prefix="cohort-t15-")   # 0700, root's
    try:
        t = cluster.target("priv-2", state_dir=os.path.join(root, "t"))
        t.enlist(m)
        with open(t.conf, "a") as f:
            f.write("user = nobody\n")
        t.start()
        wait_for(lambda: not t.proc.alive(), what="the daemon to refuse")
        assert t.proc.p.returncode != 0
        log = t.proc.log_text()
        assert "user nobody cannot use state_dir" in log, log
        # the runner process it had forked sees EOF and ends too
        runner = int(re.search(r"runner_pid=(\d+)", log).group(1))
        wait_for(lambda: not alive(runner), what="the runner process to end")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_proxy_orphans_killed_at_restart(cluster, proxy_user):
    """Both processes die (the runner first, so it cannot kill its steps):
    a step left running as the proxy user can only be killed as root, so
    the restarted target kills it before it drops to `user`, and records
    the run interrupted."""
    m = cluster.master().init().start()
    root = tempfile.mkdtemp(prefix="cohort-t15-")
    os.chmod(root, 0o755)
    pgid = None
    try:
        t = cluster.target("priv-3", state_dir=os.path.join(root, "t"))
        t.enlist(m)
        with open(t.conf, "a") as f:
            f.write(f"user = nobody\nproxy p15 = {PROXY_USER}\n")
        t.start()
        net = t.proc.pid
        runner = wait_for(lambda: [p for p in children(net)
                                   if comm(p) == "cohortd-runner"],
                          what="the runner process")[0]
        m.apply_job({"name": "nap", "targets": ["priv-3"], "steps": [
            {"name": "s", "command": "sleep 120 & sleep 120; wait",
             "proxy": "p15"}]})
        m.ctl("job", "start", "nap")
        pgid = wait_for(lambda: (t.query(
            "SELECT pgid FROM runs WHERE job = 'nap'") or [(0,)])[0][0],
            what="nap's process group recorded")
        wait_group_running(pgid)
        assert status_ids(pgid, "Uid") == [proxy_user.pw_uid] * 4
        os.kill(runner, signal.SIGKILL)
        wait_for(lambda: not t.proc.alive(),
                 what="the network side to stop without its runner")
        assert t.proc.p.returncode != 0
        assert "the runner process ended" in t.proc.log_text()
        t.kill()
        assert group_members(pgid), "the step outlived both processes"
        t.start()
        wait_for(lambda: not group_members(pgid),
                 what="the orphaned proxy step killed at restart")
        run = wait_for(lambda: [r for r in m.history("--job", "nap")
                                if r["step"] == 0 and
                                r["outcome"] == "interrupted"],
                       what="nap recorded interrupted")
        assert "interrupted" in run[0]["message"]
        assert "orphan_killed" in t.proc.log_text()
    finally:
        if pgid and group_members(pgid):
            os.killpg(pgid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
