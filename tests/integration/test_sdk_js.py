"""Terraform's call sequences with the AWS SDK for JavaScript v3 (@aws-sdk/client-ec2,
client-elastic-load-balancing-v2, client-sts from npm, locked in
tests/sdk/js/package-lock.json): the same sequence as test_sdk_go.py. The program is
tests/sdk/js/terraform_flow.mjs."""

import os
import subprocess

import pytest

from sdk_env import check_flow, sdk_daemon, sdk_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the instance and the workload are namespaces")


@pytest.fixture
def daemon():
    yield from sdk_daemon()


JS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "sdk", "js"))


def test_terraform_sequences_with_the_js_sdk(daemon):
    if not os.path.isdir(os.path.join(JS, "node_modules", "@aws-sdk", "client-ec2")):
        pytest.fail("the JavaScript SDK is not installed: run scripts/install-deps.sh (npm ci in tests/sdk/js)")
    r = subprocess.run(["node", "terraform_flow.mjs"], cwd=JS, env=sdk_env(daemon), capture_output=True, text=True,
                       timeout=300)
    check_flow(r)
