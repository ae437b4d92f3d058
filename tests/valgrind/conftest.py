"""The valgrind memcheck run (make valgrind, part of make check): real
daemons of the normal build under valgrind. It shares the system tests'
harness and fixtures (tests/system/conftest.py, loaded under another
name)."""
import importlib.util
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
system = os.path.join(here, "..", "system")
sys.path.insert(0, os.path.join(system, "harness"))
_spec = importlib.util.spec_from_file_location(
    "system_conftest", os.path.join(system, "conftest.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

bins = _mod.bins
cluster = _mod.cluster
pytest_runtest_makereport = _mod.pytest_runtest_makereport
pytest_addoption = _mod.pytest_addoption
pytest_configure = _mod.pytest_configure
