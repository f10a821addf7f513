import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from lp import Daemon, serving  # noqa: E402


@pytest.fixture
def daemon():
    """A fresh daemon with an empty state directory, stopped (and checked to stop
    cleanly) after the test."""
    yield from serving(Daemon().start())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows the end of its daemon's log: in CI that log is the only
    record of what the daemon saw (its state directory is removed at teardown)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    d = item.funcargs.get("daemon") if hasattr(item, "funcargs") else None
    if isinstance(d, Daemon) and os.path.exists(d.log_path):
        with open(d.log_path, errors="replace") as f:
            tail = f.readlines()[-80:]
        report.sections.append(("daemon log (last 80 lines)", "".join(tail)))
