"""Terraform's call sequences with boto3 (Debian's python3-boto3): the same steps as
test_sdk_go.py and test_sdk_js.py, with an instance whose UserData starts a TCP server
behind an NLB (a target group of the default type, instance), bytes from a consumer
workload through the endpoint to it, and a second plan that finds nothing to change.
The program is tests/sdk/boto3/terraform_flow.py. Needs root (the instance and the
workload are namespaces)."""

import os
import subprocess

import pytest

from sdk_env import check_flow, sdk_daemon, sdk_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the instance and the workload are namespaces")

FLOW = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "sdk", "boto3", "terraform_flow.py"))


@pytest.fixture
def daemon():
    yield from sdk_daemon()


def test_terraform_sequences_with_boto3(daemon):
    r = subprocess.run(["/usr/bin/python3", FLOW], env=sdk_env(daemon), capture_output=True, text=True, timeout=300)
    check_flow(r)
