"""The documentation keeps up with the code: every configuration key is in
cohortd.conf(5), every cohortctl command in cohortctl(8), every API
route in docs/api.md and every job document key and value in
docs/jobs.md."""
import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def conf_keys():
    text = open(os.path.join(ROOT, "src/common/conf_keys.c")).read()
    return re.findall(r"^\s+(?:STR|INT|BOOL|ENUM)\((\w+),", text, re.M)


def test_every_config_key_documented():
    page = open(os.path.join(ROOT, "docs/man/cohortd.conf.5")).read()
    keys = conf_keys()
    assert len(keys) > 10
    missing = [k for k in keys if f".It Ic {k} " not in page]
    assert not missing, f"not in cohortd.conf.5: {missing}"
    assert ".It Ic proxy " in page


def test_every_command_documented(bins):
    usage = subprocess.run([os.path.join(bins, "cohortctl"), "help"],
                           capture_output=True, text=True).stdout
    page = open(os.path.join(ROOT, "docs/man/cohortctl.8")).read()
    commands = re.findall(r"^  cohortctl (\w+)(?: (\w+))?", usage, re.M)
    assert len(commands) > 10
    missing = []
    for noun, verb in commands:
        # a lower-case second word is a verb ("job show"); an upper-case
        # one is an argument ("history [--job NAME]" has none)
        words = f"{noun} {verb}" if verb and verb.islower() else noun
        if words not in page:
            missing.append(words)
    assert not missing, f"not in cohortctl.8: {missing}"


def test_every_route_documented():
    """docs/api.md lists every route of the one table, with its method."""
    text = open(os.path.join(ROOT, "src/master/routes.c")).read()
    routes = re.findall(r"RQ?\((GET|POST|PUT|DELETE), \"([^\"]+)\"", text)
    assert len(routes) > 30
    page = open(os.path.join(ROOT, "docs/api.md")).read()
    missing = [f"{m} {p}" for m, p in routes
               if f"| {m} | `{p}` |" not in page]
    assert not missing, f"not in docs/api.md: {missing}"


# A C table of strings: `static const char *const NAME[...] = {...};`, the
# row tables of schedule.c's kind_keys ([KIND] = {"at", NULL}, ...) and
# the designated ones ([SCHED_DAILY] = "every_days") included.
C_TABLE = re.compile(
    r"static const char \*const (\w+)(?:\[[^\]]*\])+ = \{(.*?)\};", re.S)


def c_tables(path):
    """{table name: [its strings]} of one source file."""
    text = open(os.path.join(ROOT, path)).read()
    return {name: re.findall(r'"([^"\\]*)"', body)
            for name, body in C_TABLE.findall(text)}


def job_doc_words():
    """Every key and every choice value of the job document: the key and
    name tables of jobdoc.c (the step actions' names included) and the
    key, kind and name tables of schedule.c."""
    jobdoc = c_tables("src/common/jobdoc.c")
    schedule = c_tables("src/common/schedule.c")
    for name in ("top_keys", "step_keys", "notify_keys", "env_keys",
                 "subsystem_names", "notify_names", "overlap_names",
                 "misfire_names", "names"):
        assert jobdoc.get(name), f"jobdoc.c: table {name} not found"
    for name in ("kind_names", "which_names", "relday_names",
                 "weekday_names", "common_keys", "all_keys", "kind_keys",
                 "every_key"):
        assert schedule.get(name), f"schedule.c: table {name} not found"
    words = {w for t in (jobdoc, schedule) for v in t.values() for w in v}
    return jobdoc, schedule, words


def test_every_job_key_documented():
    """docs/jobs.md names every key and choice of the job document in
    backticks; the tables are parsed from the code, so a key added there
    and not here fails, and a parse that finds too little fails too."""
    jobdoc, schedule, words = job_doc_words()
    assert len(jobdoc["top_keys"]) >= 15 and len(jobdoc["step_keys"]) >= 13
    assert len(schedule["all_keys"]) >= 19
    assert len(schedule["kind_names"]) >= 8
    assert len(words) > 80, sorted(words)
    for known in ("history_max_age_s", "timeout_s", "output_file", "secret",
                  "quit_failure", "repeat_every_s", "monthly_relative",
                  "weekend_day", "idle_for_s", "every_months", "sun"):
        assert known in words, f"{known} not parsed from the code"
    page = open(os.path.join(ROOT, "docs/jobs.md")).read()
    missing = sorted(w for w in words if f"`{w}`" not in page)
    assert not missing, f"not in docs/jobs.md: {missing}"


def test_usage_of_one_command(bins):
    """--help after a command prints its usage line; a command line it
    cannot take prints the error, then that usage; a noun alone or with
    an unknown verb lists that noun's commands, not all sixty."""
    def ctl(*args):
        return subprocess.run([os.path.join(bins, "cohortctl"), *args],
                              capture_output=True, text=True, timeout=30)
    r = ctl("history", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: cohortctl history [--job NAME]")
    # a noun and --help: that noun's commands, on stdout
    r = ctl("worker", "--help")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.splitlines()[1:] == [
        "  cohortctl worker list [--json]", "  cohortctl worker enable NAME",
        "  cohortctl worker disable NAME"], r.stdout
    r = ctl("-c", "/nonexistent", "group", "add", "web")
    assert r.returncode == 2
    assert r.stderr == ("cohortctl: missing argument\n"
                        "usage: cohortctl group add G TARGET\n"), r.stderr
    for args, first in ((("job",), "cohortctl: 'job' needs a command"),
                        (("job", "frob"),
                         "cohortctl: unknown command 'job frob'")):
        r = ctl(*args)
        lines = r.stderr.splitlines()
        assert r.returncode == 2 and lines[0] == first, r.stderr
        assert all(ln.startswith("  cohortctl job ") for ln in lines[2:])
        assert "  cohortctl job show NAME [--json]" in lines
    r = ctl("bogus")
    assert r.returncode == 2
    assert r.stderr.startswith("cohortctl: unknown command 'bogus'\n"
                               "usage: cohortctl [-c PROFILE] COMMAND")
