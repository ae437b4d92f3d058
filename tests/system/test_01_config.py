"""cohortd's configuration check: every bad line reported as file:line,
nothing started, non-zero exit."""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def test_check_only_accepts_good_config(cluster, tmp_path):
    conf = write(tmp_path / "good.conf",
                 "role = master\nstate_dir = %s\nlisten = 127.0.0.1:0\n"
                 % tmp_path)
    r = cluster.run("cohortd", "-n", "-c", conf)
    assert "configuration ok" in r.stdout


def test_check_only_reports_every_bad_line(cluster, tmp_path):
    conf = write(tmp_path / "bad.conf",
                 "role = master\nstate_dir = /x\nbogus = 1\n"
                 "poll_interval_s = 0\n")
    r = cluster.run("cohortd", "-n", "-c", conf, check=False)
    assert r.returncode != 0
    assert f"{conf}:3: bogus: unknown key" in r.stderr
    assert f"{conf}:4: poll_interval_s: 0 is out of range" in r.stderr


def test_flag_errors_are_reported(cluster, tmp_path):
    conf = write(tmp_path / "good.conf",
                 "role = master\nstate_dir = %s\n" % tmp_path)
    r = cluster.run("cohortd", "-n", "-c", conf, "--max_body_bytes=12",
                    check=False)
    assert r.returncode != 0
    assert "command line: max_body_bytes: 12 is out of range" in r.stderr


def test_version_flag(cluster):
    r = cluster.run("cohortd", "--version")
    assert r.stdout.startswith("cohortd ")


def test_an_unreadable_config_is_named(cluster, tmp_path):
    """A missing file or a directory is said so on stderr, not a silent
    exit (nor "role: not set")."""
    missing = str(tmp_path / "missing.conf")
    for path, why in ((missing, "No such file or directory"),
                      (str(tmp_path), "is a directory")):
        for mode in (["-n"], []):
            r = cluster.run("cohortd", *mode, "-c", path, check=False)
            assert r.returncode == 1, r
            assert f"{path}: {why}" in r.stderr, r.stderr
            assert "role" not in r.stderr, r.stderr
