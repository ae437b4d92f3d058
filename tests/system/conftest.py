"""Fixtures for cohort's system tests: real daemons on 127.0.0.1.

Every daemon is started by the harness (tests/system/harness/), listens on
port 0 and reports the port it got through its state dir; every wait polls
to a deadline; every process is stopped by PID in a finaliser, and its log
is printed when the test failed.

The masters' store is SQLite, or with --store=postgresql (or
COHORT_TEST_STORE=postgresql) a private PostgreSQL server started once
per session (harness/pg.py): make check runs the suite both ways. Tests
marked pg_only (the HA tests: a pair of masters needs PostgreSQL) always
use it, and the SQLite pass leaves them out (-m "not pg_only").
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "harness"))

from cohort import Cluster, build_dir  # noqa: E402
from pg import PgServer  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--store", choices=("sqlite", "postgresql"),
        default=os.environ.get("COHORT_TEST_STORE", "sqlite"),
        help="the masters' store in the system tests")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "pg_only: needs the PostgreSQL store (a pair of masters)")


@pytest.fixture(scope="session")
def pg_server():
    """A private PostgreSQL server for the whole session."""
    server = PgServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bins():
    """Paths of the binaries under test (COHORT_BUILD, default build/)."""
    d = build_dir()
    for name in ("cohortd", "cohortctl"):
        path = os.path.join(d, name)
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: run make first")
    return d


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _cluster(request, tmp_path, bins, pg):
    c = Cluster(tmp_path, bins, pg=pg)
    yield c
    failed = getattr(request.node, "rep_call", None)
    c.stop_all(dump_logs=bool(failed and failed.failed))


@pytest.fixture
def cluster(request, tmp_path, bins):
    """Masters and targets under tmp_path, on the store --store names."""
    pg = None
    if request.config.getoption("--store") == "postgresql":
        pg = request.getfixturevalue("pg_server")
    yield from _cluster(request, tmp_path, bins, pg)


@pytest.fixture
def pg_cluster(request, tmp_path, bins, pg_server):
    """The same, always on PostgreSQL (the HA tests)."""
    yield from _cluster(request, tmp_path, bins, pg_server)
