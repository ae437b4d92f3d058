"""Fixtures for cohort's system tests: real daemons on 127.0.0.1.

Every daemon is started by the harness (tests/system/harness/), listens on
port 0 and reports the port it got through its state dir; every wait polls
to a deadline; every process is stopped by PID in a finaliser, and its log
is printed when the test failed.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "harness"))

from cohort import Cluster, build_dir  # noqa: E402


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


@pytest.fixture
def cluster(request, tmp_path, bins):
    """A master (not yet started) under tmp_path; tests add targets."""
    c = Cluster(tmp_path, bins)
    yield c
    failed = getattr(request.node, "rep_call", None)
    c.stop_all(dump_logs=bool(failed and failed.failed))
