"""Exactly-once under master crashes: ten targets, START instructions
posted in a loop while the master is killed with SIGKILL at random
moments and started again on the same port. Afterwards every START the
master accepted (cohortctl said so, or it is in the download list, the
truth) ran exactly once on its target: one ledger row, one execution,
one outcome in the history. None lost, none doubled."""
import random
import re
import threading
import time

from cohort import wait_for
from faults import report, soak

POSTED = re.compile(r"posted start to (\S+) \(instruction (\d+)\)")
N_TARGETS = 10


class Poster(threading.Thread):
    """Posts `job start` in a loop; remembers what cohortctl confirmed."""

    def __init__(self, master, job, seed):
        super().__init__(daemon=True)
        self.m, self.job = master, job
        self.stop = threading.Event()
        self.confirmed = {}      # target -> set of instruction ids
        self.ok = self.failed = 0
        self.rng = random.Random(seed)

    def run(self):
        while not self.stop.is_set():
            r = self.m.ctl("job", "start", self.job, check=False)
            if r.returncode == 0:
                self.ok += 1
                for target, iid in POSTED.findall(r.stdout):
                    self.confirmed.setdefault(target, set()).add(int(iid))
            else:
                self.failed += 1
            time.sleep(self.rng.uniform(0.02, 0.2))


def settled(m, ts):
    """Every instruction applied, no run left queued or running, and every
    record uploaded (the last runs may end just before the check)."""
    if any(t["unread_instructions"] for t in m.targets().values()):
        return False
    return all(t.query("SELECT count(*) FROM runs WHERE state != "
                       "'finished'") == [(0,)] and
               t.query("SELECT count(*) FROM outbox") == [(0,)]
               for t in ts)


def test_master_crash_storm_exactly_once(cluster, tmp_path):
    kills_wanted = soak(20, 200)
    m = cluster.master(extra_conf=(
        "downloadlist_keep_applied = 1000000\n"
        "history_max_rows = 10000000\n"
        "history_max_rows_per_job = 10000000\n")).init().start()
    names = [f"s{i:02d}" for i in range(N_TARGETS)]
    ts = cluster.enlisted(m, names)
    marks = tmp_path / "marks"
    marks.mkdir()
    m.apply_job({"name": "tick", "overlap": "queue", "targets": names,
                 "steps": [{"name": "mark", "command":
                            f"echo $COHORT_RUN_ID >> {marks}/$COHORT_TARGET"}]})
    rng = random.Random(1)
    posters = [Poster(m, "tick", seed) for seed in (7, 8)]
    for p in posters:
        p.start()
    kills = 0
    deadline = time.monotonic() + soak(90, 1800)
    try:
        while kills < kills_wanted and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 1.0))    # up, taking posts
            m.restart(crash=True)
            kills += 1
    finally:
        for p in posters:
            p.stop.set()
        for p in posters:
            p.join(60)
    assert kills >= kills_wanted, f"only {kills} kills in the time allowed"

    wait_for(lambda: settled(m, ts), timeout=120, interval=0.5,
             what="every instruction applied and every run finished")
    truth = {}
    for i in m.ctl_json("downloadlist", "--limit", "100000"):
        if i["operation"] == "start":
            truth.setdefault(i["target"], set()).add(i["id"])
    checked = lost = doubled = unconfirmed = 0
    problems = []
    for t in ts:
        want = truth.get(t.name, set())
        confirmed = set().union(*(p.confirmed.get(t.name, set())
                                  for p in posters))
        # posted by a call that failed when the master died after the
        # commit: in the list, so it must run like any other
        unconfirmed += len(want - confirmed)
        # what cohortctl confirmed is in the list: the master lost nothing
        lost += len(confirmed - want)
        problems += [f"{t.name}: confirmed {i} not in the download list"
                     for i in confirmed - want]
        rows = t.query("SELECT instr_id, run_id, state, outcome FROM runs "
                       "WHERE instr_id > 0")
        by_instr = {}
        for iid, run_id, state, outcome in rows:
            by_instr.setdefault(iid, []).append((run_id, state, outcome))
        path = marks / t.name
        execs = path.read_text().split() if path.exists() else []
        runs_of = {}
        for r in execs:
            runs_of[int(r)] = runs_of.get(int(r), 0) + 1
        hist = {}
        for h in m.history("--job", "tick", "--target", t.name, "--limit",
                           "100000"):
            if h["step"] == 0:
                hist[h["run_id"]] = hist.get(h["run_id"], 0) + 1
        for iid in want:
            checked += 1
            got = by_instr.get(iid, [])
            if len(got) != 1 or got[0][1:] != ("finished", "succeeded"):
                lost += 1
                problems.append(f"{t.name}: start {iid}: ledger {got}")
                continue
            run_id = got[0][0]
            n = runs_of.get(run_id, 0)
            if n != 1:
                if n > 1:
                    doubled += 1
                else:
                    lost += 1
                problems.append(f"{t.name}: run {run_id} executed {n}x")
            if hist.get(f"{t.name}:{run_id}", 0) != 1:
                problems.append(f"{t.name}: run {run_id}: history rows "
                                f"{hist.get(f'{t.name}:{run_id}', 0)}")
        extra = set(by_instr) - want
        doubled += len(extra)
        problems += [f"{t.name}: ran start {i} the master never posted"
                     for i in extra]
        if len(execs) != len(want):
            problems.append(f"{t.name}: {len(execs)} executions for "
                            f"{len(want)} starts")
    posts_ok = sum(p.ok for p in posters)
    posts_failed = sum(p.failed for p in posters)
    report("master_crash_storm", faults=kills, posts_ok=posts_ok,
           posts_failed=posts_failed, starts_unconfirmed=unconfirmed,
           runs_checked=checked, lost=lost, duplicated=doubled)
    assert checked >= N_TARGETS * 20, "too few starts to prove anything"
    assert posts_failed > 0, "no post ever met a dead master"
    assert not problems, "\n".join(problems[:40])
    assert lost == 0 and doubled == 0
