"""The daemon answers the real AWS CLI and boto3, and refuses bad credentials."""

import os
import resource
import shutil
import subprocess
import sys
import time

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
    the data plane would stop near 170 connections, so the daemon lifts it to the hard limit;
    as root it first lifts the hard limit to fs.nr_open (at most 1,048,576), since 10,000
    endpoints hold about 40,000 listening sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    if hard <= low:
        pytest.skip(f"hard open-file limit is only {hard}")
    expected, held_back = hard, False
    if os.geteuid() == 0:
        with open("/proc/sys/fs/nr_open") as f:
            want = min(int(f.read()), 1048576)
        # Root without CAP_SYS_RESOURCE (some containers) may not raise it: the daemon says so.
        probe = f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, ({want}, {want}))"
        if want > hard and subprocess.run([sys.executable, "-c", probe], stderr=subprocess.DEVNULL).returncode == 0:
            expected = want
        else:
            held_back = want > hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:
        d = Daemon().start()  # inherits the low soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with open(f"/proc/{d.proc.pid}/limits") as f:
            line = next(x for x in f if x.startswith("Max open files"))
        assert line.split()[3:5] == [str(expected), str(expected)], line
        assert f"open-file limit raised from {low} to {expected}" in d.log()
        if held_back:
            assert f"open-file hard limit stays at {hard}" in d.log()
    finally:
        assert d.stop() == 0
        shutil.rmtree(d.state_dir, ignore_errors=True)


def _nft_helpers_of(pid):
    """Pids of the daemon's nftables helper processes (comm linkplane-nft, parent pid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "linkplane-nft" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _gone(pid, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["stop", "kill -9"])
def test_its_nftables_helper_process_ends_with_it(how):
    """nftables runs in a helper process (libnftables uses select(), which aborted the
    daemon past 1023 descriptors); stopped or killed, the daemon leaves no helper behind."""
    d = Daemon().start()
    try:
        helpers = _nft_helpers_of(d.proc.pid)
        assert len(helpers) == 1, helpers
        if how == "stop":
            assert d.stop() == 0
        else:
            d.kill()
        assert _gone(helpers[0]), f"helper {helpers[0]} outlived the daemon ({how})"
    finally:
        d.kill()
        shutil.rmtree(d.state_dir, ignore_errors=True)
