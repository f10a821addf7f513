import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from lp import Daemon  # noqa: E402


@pytest.fixture
def daemon():
    """A fresh daemon with an empty state directory, stopped (and checked to stop
    cleanly) after the test."""
    d = Daemon().start()
    yield d
    rc = d.stop()
    shutil.rmtree(d.state_dir, ignore_errors=True)
    assert rc == 0, f"daemon exited {rc} on SIGTERM"
