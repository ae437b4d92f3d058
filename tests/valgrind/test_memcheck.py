"""valgrind memcheck of one master + target scenario: enlist, apply a
job, start it, its outcome uploaded, both daemons stopped with SIGTERM.
Passes with 0 errors and 0 bytes definitely lost in each daemon."""
import os
import re
import shutil

import pytest

from cohort import wait_for

SLOW = 120.0  # valgrind runs the daemons some 20-50 times slower


def valgrind(log):
    return ("valgrind", "--tool=memcheck", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--child-silent-after-fork=yes", "--num-callers=30",
            "--error-exitcode=99", f"--log-file={log}")


def summary(log):
    with open(log) as f:
        text = f.read()
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    lost = re.search(r"definitely lost: ([\d,]+) bytes", text)
    return (int(errors.group(1)) if errors else None,
            int(lost.group(1).replace(",", "")) if lost else 0, text)


def test_memcheck_master_and_target(cluster, tmp_path):
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is missing: scripts/deps.sh test")
    mlog, tlog = str(tmp_path / "vg-master.log"), str(tmp_path / "vg-t.log")
    m = cluster.master(prefix=valgrind(mlog)).init().start(timeout=SLOW)
    t = cluster.target("web-1", prefix=valgrind(tlog))
    t.enlist(m)
    t.start()
    wait_for(lambda: m.targets()["web-1"]["last_poll"], timeout=SLOW,
             what="the target's first poll")
    m.apply_job({"name": "hello", "targets": ["web-1"], "steps": [
        {"name": "greet", "command": "echo hello"},
        {"name": "fail", "command": "exit 3", "on_failure": "next"},
        {"name": "env", "subsystem": "exec", "command": ["/bin/echo", "x"],
         "env": {"K": {"value": "secret-v", "secret": True}}}]})
    m.ctl("job", "start", "hello")
    wait_for(lambda: any(r["step"] == 0 and r["outcome"] != "running"
                         for r in m.history("--job", "hello")),
             timeout=SLOW, what="the outcome uploaded")
    wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
             timeout=SLOW, what="the outbox drained")
    assert t.stop(timeout=SLOW) == 0
    assert m.stop(timeout=SLOW) == 0
    for name, log in (("master", mlog), ("target", tlog)):
        errors, lost, text = summary(log)
        print(f"\nVALGRIND {name}: errors={errors} definitely_lost={lost}")
        assert errors == 0 and lost == 0, text[-6000:]
