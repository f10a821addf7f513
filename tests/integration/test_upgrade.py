"""Upgrades keep everything: a state directory written by the release before the
state recorded its schema history (fixtures/state-v1, made with b7d7782) is migrated
at start and every object in it is served; a state from a newer release is refused
with exit status 3 and left as it was; `linkplane backup` copies the state of a
running daemon, and a daemon started on the restored copy serves it and rebuilds the
host (namespaces) from it."""
import json
import os
import shutil
import sqlite3
import subprocess
import threading
from contextlib import closing
import time

import pytest

from lp import LINKPLANE, Daemon, free_port, serving, write_config

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "state-v1")


def schema(state_dir):
    with closing(sqlite3.connect(os.path.join(state_dir, "linkplane.db"))) as db:
        version = db.execute("SELECT version FROM schema_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        history = db.execute("SELECT version, linkplane_version FROM migrations").fetchall() \
            if "migrations" in tables else []
    return version, history


def test_state_of_the_previous_release_is_migrated_and_every_object_served():
    state_dir, cfg = write_config()
    shutil.copy(os.path.join(FIXTURE, "linkplane.db"), state_dir)
    with open(os.path.join(FIXTURE, "expected.json")) as f:
        want = json.load(f)
    assert schema(state_dir) == (1, [])

    d = Daemon(state_dir=state_dir, config=cfg).start()
    for _ in serving(d):
        p, c = want["provider"], want["consumer"]
        assert [v["VpcId"] for v in d.aws("ec2", "describe-vpcs", "--vpc-ids", p["vpc"])["Vpcs"]] == [p["vpc"]]
        assert d.aws("ec2", "describe-subnets", "--subnet-ids", p["subnet"])["Subnets"][0]["CidrBlock"] == "10.1.1.0/24"
        sg = d.aws("ec2", "describe-security-groups", "--group-ids", p["security_group"])["SecurityGroups"][0]
        assert sg["IpPermissions"][0]["FromPort"] == 443
        eni = d.aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                    p["network_interface"])["NetworkInterfaces"][0]
        assert eni["PrivateIpAddress"] == "10.1.1.10"
        assert d.aws("elbv2", "describe-target-groups", "--target-group-arns",
                     p["target_group"])["TargetGroups"][0]["Port"] == 8080
        assert d.aws("elbv2", "describe-load-balancers", "--load-balancer-arns",
                     p["load_balancer"])["LoadBalancers"][0]["Type"] == "network"
        assert d.aws("elbv2", "describe-listeners", "--listener-arns",
                     p["listener"])["Listeners"][0]["Port"] == 443
        svc = d.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                    p["service"])["ServiceConfigurations"][0]
        assert svc["AcceptanceRequired"] is True
        principals = d.aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id",
                           p["service"])["AllowedPrincipals"]
        assert [x["Principal"] for x in principals] == ["arn:aws:iam::222222222222:root"]
        assert p["topic"] in [t["TopicArn"] for t in d.aws("sns", "list-topics")["Topics"]]
        assert d.aws("ec2", "describe-vpcs", "--vpc-ids", c["vpc"], account="consumer")["Vpcs"]
        assert d.aws("ec2", "describe-subnets", "--subnet-ids", c["subnet"], account="consumer")["Subnets"]
        endpoint = d.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", c["endpoint"],
                         account="consumer")["VpcEndpoints"][0]
        assert endpoint["State"] == "pendingAcceptance"
        # And the migrated state takes new writes.
        d.aws("ec2", "create-tags", "--resources", p["vpc"], "--tags", "Key=upgraded,Value=yes")

        version, history = schema(state_dir)
        assert version == 3
        assert [h[0] for h in history] == [2, 3]
        assert not os.path.exists(os.path.join(state_dir, "linkplane.db.pre-migration"))
        assert "from schema version 1 to 3" in d.log()


def test_state_of_a_newer_release_is_refused_with_exit_status_3_and_left_untouched():
    state_dir, cfg = write_config()
    shutil.copy(os.path.join(FIXTURE, "linkplane.db"), state_dir)
    with closing(sqlite3.connect(os.path.join(state_dir, "linkplane.db"))) as db:
        db.execute("UPDATE schema_version SET version = 42")
        db.commit()
    before = open(os.path.join(state_dir, "linkplane.db"), "rb").read()
    try:
        p = subprocess.run([LINKPLANE, "serve", "--config", cfg, "--state-dir", state_dir, "--listen",
                            f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 3, p.stderr
        assert "schema version 42, written by a newer linkplane" in p.stderr
        assert "reads versions up to 3" in p.stderr
        assert open(os.path.join(state_dir, "linkplane.db"), "rb").read() == before
        assert schema(state_dir)[0] == 42
    finally:
        shutil.rmtree(state_dir)


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


@pytest.mark.skipif(os.geteuid() != 0, reason="the restored daemon rebuilds namespaces: needs root")
def test_backup_of_a_running_daemon_restores_into_a_daemon_that_rebuilds_the_host():
    state_dir, cfg = write_config(body='dns_listen = ""\n')  # data plane on
    d = Daemon(state_dir=state_dir, config=cfg).start()
    backup = state_dir.rstrip("/") + "-backup.db"
    restored_dir, restored_cfg = write_config(body='dns_listen = ""\n')
    try:
        for _ in serving(d):
            vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.7.0.0/16")["Vpc"]["VpcId"]
            subnet = d.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.7.1.0/24",
                           "--availability-zone-id", "use1-az1")["Subnet"]["SubnetId"]
            eni = d.aws("ec2", "create-network-interface", "--subnet-id", subnet,
                        "--private-ip-address", "10.7.1.20")["NetworkInterface"]["NetworkInterfaceId"]
            # Writes keep coming while the backup runs.
            ec2 = d.client("ec2")
            stop = threading.Event()
            made = []

            def writer():
                while not stop.is_set() and len(made) < 200:
                    made.append(ec2.create_security_group(VpcId=vpc, GroupName=f"g{len(made)}",
                                                          Description="x")["GroupId"])

            t = threading.Thread(target=writer)
            t.start()
            time.sleep(0.3)
            p = subprocess.run([LINKPLANE, "backup", "--state-dir", state_dir, backup], capture_output=True, text=True,
                               timeout=60)
            stop.set()
            t.join()
            assert p.returncode == 0, p.stderr
            assert f"backed up {state_dir} to {backup}" in p.stdout
        # The original daemon stopped cleanly and took its namespaces with it.
        assert "lp-" + vpc not in netns()

        shutil.copy(backup, os.path.join(restored_dir, "linkplane.db"))
        r = Daemon(state_dir=restored_dir, config=restored_cfg).start()
        for _ in serving(r):
            assert r.aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                         eni)["NetworkInterfaces"][0]["PrivateIpAddress"] == "10.7.1.20"
            groups = {g["GroupName"] for g in r.aws("ec2", "describe-security-groups", "--filters",
                                                    f"Name=vpc-id,Values={vpc}")["SecurityGroups"]}
            # A consistent prefix of the writes: g0..gN-1 with no gap, plus the default group.
            n = len(groups) - 1
            assert groups == {"default"} | {f"g{i}" for i in range(n)}, groups
            assert wait_for(lambda: {"lp-" + vpc, "lp-" + eni} <= netns(), 20), netns()
    finally:
        shutil.rmtree(restored_dir, ignore_errors=True)
        if os.path.exists(backup):
            os.remove(backup)
