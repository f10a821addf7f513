"""Every call that returned success survives kill -9: resources created with the AWS
CLI are all there, described identically, after a SIGKILL and a restart on the
same state directory; and while a client hammers CreateSecurityGroup and the daemon
is killed mid-stream, every group whose create was acknowledged exists afterwards."""
import threading
import time

import botocore.exceptions
import pytest

from lp import Daemon, serving, write_config


@pytest.fixture
def durable():
    # The store is what is under test: no data plane, so a SIGKILL leaves nothing on
    # the host (test_host_network covers kill -9 with namespaces). The load loop
    # creates more groups than the default quota of 500 per VPC.
    state_dir, cfg = write_config(body='dataplane = false\ndns_listen = ""\n'
                                       '[limits]\nsecurity_groups_per_vpc = 100000\n'
                                       '[throttle]\nenabled = false\n')  # writes as fast as they go, on purpose
    yield from serving(Daemon(state_dir=state_dir, config=cfg).start())


def describe_all(d):
    """Everything both accounts can see, as the CLI prints it."""
    out = {}
    for account in ("provider", "consumer"):
        for what, key in (("describe-vpcs", "Vpcs"), ("describe-subnets", "Subnets"),
                          ("describe-security-groups", "SecurityGroups"),
                          ("describe-network-interfaces", "NetworkInterfaces"), ("describe-tags", "Tags")):
            out[(account, what)] = d.aws("ec2", what, account=account)[key]
        out[(account, "vpc-attr")] = [
            d.aws("ec2", "describe-vpc-attribute", "--vpc-id", v["VpcId"], "--attribute", "enableDnsHostnames",
                  account=account)["EnableDnsHostnames"] for v in out[(account, "describe-vpcs")]]
    return out


def test_acknowledged_resources_survive_kill_9(durable):
    d = durable
    made = {}
    for account, n in (("provider", 20), ("consumer", 21)):
        vpc = d.aws("ec2", "create-vpc", "--cidr-block", f"10.{n}.0.0/16", "--tag-specifications",
                    f"ResourceType=vpc,Tags=[{{Key=Name,Value={account}-vpc}}]", account=account)["Vpc"]["VpcId"]
        d.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", account=account)
        subnet = d.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", f"10.{n}.1.0/24",
                       "--availability-zone-id", "use1-az2", account=account)["Subnet"]["SubnetId"]
        sg = d.aws("ec2", "create-security-group", "--vpc-id", vpc, "--group-name", "web", "--description", "web",
                   account=account)["GroupId"]
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "443",
              "--cidr", "10.0.0.0/8", account=account)
        d.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "udp", "--port",
              "1000-2000", "--source-group", sg, account=account)
        d.aws("ec2", "revoke-security-group-egress", "--group-id", sg, "--protocol", "-1", "--cidr", "0.0.0.0/0",
              account=account)
        eni = d.aws("ec2", "create-network-interface", "--subnet-id", subnet, "--groups", sg,
                    "--private-ip-address", f"10.{n}.1.10", account=account)["NetworkInterface"]["NetworkInterfaceId"]
        d.aws("ec2", "create-tags", "--resources", eni, sg, subnet, "--tags", "Key=team,Value=a", "Key=env,Value=",
              account=account)
        d.aws("ec2", "delete-tags", "--resources", sg, "--tags", "Key=env", account=account)
        made[account] = (vpc, subnet, sg, eni)
    before = describe_all(d)
    d.kill()  # SIGKILL right after the last acknowledged call

    d.start()
    after = describe_all(d)
    for account, (vpc, subnet, sg, eni) in made.items():
        assert vpc in [v["VpcId"] for v in after[(account, "describe-vpcs")]]
        assert subnet in [s["SubnetId"] for s in after[(account, "describe-subnets")]]
        assert sg in [g["GroupId"] for g in after[(account, "describe-security-groups")]]
        assert eni in [e["NetworkInterfaceId"] for e in after[(account, "describe-network-interfaces")]]
        tags = {(t["ResourceId"], t["Key"]) for t in after[(account, "describe-tags")]}
        assert (eni, "env") in tags and (sg, "team") in tags and (sg, "env") not in tags
        assert after[(account, "vpc-attr")] == [{"Value": True}]
    for key in before:
        assert after[key] == before[key], f"{key} changed across kill -9"


def test_acknowledged_creates_survive_kill_9_under_load(durable):
    d = durable
    vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.30.0.0/16")["Vpc"]["VpcId"]
    acked = []
    lock = threading.Lock()

    def hammer(ec2, stop, worker, round_):
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                g = ec2.create_security_group(VpcId=vpc, GroupName=f"r{round_}-w{worker}-{i}", Description="load")
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                return  # the daemon died under us: in-flight calls are unacknowledged
            with lock:
                acked.append(g["GroupId"])

    for round_ in range(3):
        stop = threading.Event()
        # Clients made here: creating boto3 clients is not thread-safe.
        workers = [threading.Thread(target=hammer, args=(d.client("ec2"), stop, w, round_)) for w in range(2)]
        n0 = len(acked)
        for w in workers:
            w.start()
        time.sleep(1.0)
        d.kill()
        stop.set()
        for w in workers:
            w.join(timeout=30)
        assert not any(w.is_alive() for w in workers)
        assert len(acked) > n0, "no create was acknowledged in this round"
        d.start()
        have = {g["GroupId"] for g in d.client("ec2").get_paginator("describe_security_groups").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}]).build_full_result()["SecurityGroups"]}
        lost = [g for g in acked if g not in have]
        assert not lost, f"round {round_}: {len(lost)} of {len(acked)} acknowledged groups lost after kill -9"
