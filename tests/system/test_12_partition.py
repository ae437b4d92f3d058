"""Partitions: a target in its own network namespace, joined to the
master by a veth pair that the test cuts. While cut, the target keeps
running its work (runs started before the cut, queued behind each other,
finish during it) and its outbox holds the outcomes; the master shows
the target `suspected offline`. When the link returns, the outbox
uploads every outcome once, and the status is `normal` again.

(Scheduled jobs are not in this tree yet; the work here is START
instructions delivered before the cut, with overlap "queue" so that
they run one after another through the partition.)"""
import time

from cohort import wait_for
from faults import NetNs, report, soak

POLL_S = 1


def status(m, name):
    return m.targets()[name]["status"]


def test_partition_outbox_drains_without_duplicates(cluster, tmp_path):
    net = NetNs()
    try:
        run_partition(cluster, net, tmp_path)
    finally:
        cluster.stop_all()
        net.close()


def run_partition(cluster, net, tmp_path):
    cut_s = soak(6, 60)
    runs = soak(4, 20)
    m = cluster.master(host=net.host_addr).init(
        "--san", net.host_addr, "--san", "127.0.0.1").start()
    t = cluster.target("far-1", prefix=net.prefix)
    t.enlist(m, poll_interval=POLL_S)
    t.start()
    wait_for(lambda: m.targets()["far-1"]["last_poll"], what="first poll")
    each_s = cut_s / runs
    m.apply_job({"name": "work", "overlap": "queue", "targets": ["far-1"],
                 "steps": [{"name": "s", "command":
                            f"sleep {each_s:.2f}; echo $COHORT_RUN_ID >> "
                            f"{tmp_path}/marks"}]})
    for _ in range(runs):
        m.ctl("job", "start", "work")
    wait_for(lambda: t.query("SELECT count(*) FROM runs") == [(runs,)],
             what="every start applied before the cut")
    net.cut()
    cut_at = time.monotonic()
    try:
        wait_for(lambda: status(m, "far-1") == "suspected offline",
                 timeout=3 * POLL_S + 15,
                 what="the master to suspect the target offline")
        # the target works on alone; outcomes pile up in its outbox
        wait_for(lambda: t.query("SELECT count(*) FROM runs WHERE state "
                                 "= 'finished'") == [(runs,)],
                 timeout=cut_s + 30, what="every run to finish while cut")
        held = t.query("SELECT count(*) FROM outbox")[0][0]
        assert held > 0, "nothing waited in the outbox"
        left = cut_s - (time.monotonic() - cut_at)
        if left > 0:
            time.sleep(left)  # keep the link down for the planned time
    finally:
        net.restore()
    wait_for(lambda: t.query("SELECT count(*) FROM outbox") == [(0,)],
             timeout=60, what="the outbox to drain after the partition")
    wait_for(lambda: status(m, "far-1") == "normal", timeout=30,
             what="status normal again")
    rows = [r for r in m.history("--job", "work", "--limit", "1000")
            if r["step"] == 0]
    ids = [r["run_id"] for r in rows]
    marks = (tmp_path / "marks").read_text().split()
    dup = len(ids) - len(set(ids)) + len(marks) - len(set(marks))
    lost = runs - len(set(ids))
    report("partition", faults=1, cut_s=cut_s, outbox_held=held,
           runs_checked=runs, lost=lost, duplicated=dup)
    assert all(r["outcome"] == "succeeded" for r in rows), rows
    assert lost == 0 and dup == 0 and len(marks) == runs
