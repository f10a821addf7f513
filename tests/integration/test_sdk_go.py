"""Terraform's call sequences with the AWS SDK for Go v2, the SDK terraform-provider-aws
is built on (Debian's golang-github-aws-aws-sdk-go-v2-dev, built offline): provider
start, aws_vpc with the reads of every refresh, subnets, route tables and ACLs, an
instance whose UserData starts a TCP server, behind an NLB (a target group of the
default type, instance) published as an endpoint service, a consumer VPC whose endpoint
the provider accepts, bytes from a consumer workload through the endpoint to the
instance, modify, a second plan that finds nothing to change, destroy in reverse order.
The program is tests/sdk/go/*.go. Needs root (the instance and the workload are
namespaces)."""

import glob
import os
import subprocess

import pytest

from lp import BUILD_DIR
from sdk_env import check_flow, sdk_daemon, sdk_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the instance and the workload are namespaces")


@pytest.fixture
def daemon():
    yield from sdk_daemon()

SRC = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "sdk", "go", "*.go")))
SDK = "/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/service/ec2"


@pytest.fixture(scope="module")
def program():
    if not os.path.exists("/usr/bin/go") or not os.path.isdir(SDK):
        pytest.fail("go or golang-github-aws-aws-sdk-go-v2-dev missing: run scripts/install-deps.sh")
    out = os.path.join(os.path.abspath(BUILD_DIR), "sdk-go-terraform-flow")
    # The SDK's ec2 package takes minutes to compile; the cache in the build
    # directory makes later runs take seconds.
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(os.path.abspath(BUILD_DIR), "go-cache"))
    r = subprocess.run(["go", "build", "-o", out] + [os.path.abspath(f) for f in SRC], env=env, capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stderr
    return out


def test_terraform_sequences_with_the_go_sdk(daemon, program):
    r = subprocess.run([program], env=sdk_env(daemon), capture_output=True, text=True, timeout=300)
    check_flow(r)
