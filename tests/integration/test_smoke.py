"""The daemon answers the real AWS CLI and boto3, and refuses bad credentials."""

import resource
import shutil

import pytest

from lp import ACCOUNTS, Daemon


def test_cli_creates_and_describes_a_vpc(daemon):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
    found = daemon.aws("ec2", "describe-vpcs", "--vpc-ids", vpc["VpcId"])["Vpcs"]
    assert [v["CidrBlock"] for v in found] == ["10.0.0.0/16"]


def test_boto3_get_caller_identity_names_each_account(daemon):
    for name, (account_id, _, _) in ACCOUNTS.items():
        ident = daemon.client("sts", account=name).get_caller_identity()
        assert ident["Account"] == account_id
        assert ident["Arn"] == f"arn:aws:iam::{account_id}:root"


def test_started_under_a_low_open_file_limit_it_raises_its_own():
    """A forwarded connection holds six descriptors: under the common soft limit of 1024
    the data plane would stop near 170 connections, so the daemon lifts it to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    if hard <= low:
        pytest.skip(f"hard open-file limit is only {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:
        d = Daemon().start()  # inherits the low soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with open(f"/proc/{d.proc.pid}/limits") as f:
            line = next(x for x in f if x.startswith("Max open files"))
        assert line.split()[3:5] == [str(hard), str(hard)], line
        assert f"open-file limit raised from {low} to {hard}" in d.log()
    finally:
        assert d.stop() == 0
        shutil.rmtree(d.state_dir, ignore_errors=True)
