"""Security groups on every interface and network ACLs in the data path (issue 15),
end to end: the real AWS CLI and boto3 change groups and ACLs of a running daemon,
and TCP connections from workload namespaces show what a user would see. A workload's
own groups decide what reaches it, from workloads of its own subnet too and whatever
the VPC namespace's br_netfilter sysctl says; a group named as a source means its
members; egress rules decide what leaves; the default group's members reach each
other. Network ACLs are stateless: a deny blocks at once, its removal restores, and
the answers of a connection need an outbound rule for the client's ephemeral ports.
Needs root (namespaces, nftables)."""
import json
import os
import subprocess
import time

import pytest

from lp import Daemon, serving

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

# Connects to every ip:port given, at once; prints {target: open|refused|timeout}.
PROBE = r'''
import json, socket, sys, threading
res = {}
def one(t):
    ip, port = t.rsplit(":", 1)
    s = socket.socket(); s.settimeout(float(sys.argv[1]))
    try:
        s.connect((ip, int(port))); res[t] = "open"
    except ConnectionRefusedError:
        res[t] = "refused"
    except socket.timeout:
        res[t] = "timeout"
    except OSError as e:
        res[t] = "error " + str(e)
    finally:
        s.close()
ts = [threading.Thread(target=one, args=(t,)) for t in sys.argv[2:]]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(res))
'''


@pytest.fixture(scope="module")
def daemon():
    yield from serving(Daemon().start())


def probe(eni, *targets, timeout=1.0):
    """{"ip:port": True when a SYN got an answer (accept or RST), False when dropped}."""
    p = subprocess.run(["ip", "netns", "exec", "lp-" + eni, "/usr/bin/python3", "-c", PROBE, str(timeout),
                        *targets], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return {t: r in ("open", "refused") for t, r in json.loads(p.stdout).items()}


def reaches(eni, target):
    return probe(eni, target)[target]


def settles(cond, timeout=3.0):
    """Seconds until cond() held (polled), or fails after timeout."""
    start = time.monotonic()
    while not cond():
        assert time.monotonic() - start < timeout, "not in effect after %.1f s" % timeout
        time.sleep(0.05)
    return time.monotonic() - start


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


class Vpc:
    """A VPC 10.N.0.0/16 with subnets a (10.N.1.0/24) and b (10.N.2.0/24)."""

    def __init__(self, daemon, n):
        self.d, self.n = daemon, n
        self.ec2 = daemon.client("ec2")
        self.cidr = f"10.{n}.0.0/16"
        self.id = self.ec2.create_vpc(CidrBlock=self.cidr)["Vpc"]["VpcId"]
        self.a = self.ec2.create_subnet(VpcId=self.id, CidrBlock=f"10.{n}.1.0/24")["Subnet"]["SubnetId"]
        self.b = self.ec2.create_subnet(VpcId=self.id, CidrBlock=f"10.{n}.2.0/24")["Subnet"]["SubnetId"]
        self.default_group = self.ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [self.id]}, {"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"][0]["GroupId"]

    def group(self, name):
        return self.ec2.create_security_group(GroupName=name, Description=name, VpcId=self.id)["GroupId"]

    def workload(self, subnet, ip, groups=()):
        kw = {"Groups": list(groups)} if groups else {}
        return self.ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=ip, **kw)[
            "NetworkInterface"]["NetworkInterfaceId"]

    def ready(self, *enis):
        assert settles(lambda: {"lp-" + e for e in enis} <= netns(), 10) < 10

    def br_netfilter(self, value):
        """Sets net.bridge.bridge-nf-call-iptables in the VPC namespace; False when the
        kernel has no br_netfilter there (then nothing can depend on it anyway)."""
        p = subprocess.run(["ip", "netns", "exec", "lp-" + self.id, "sysctl", "-qw",
                            f"net.bridge.bridge-nf-call-iptables={value}"], capture_output=True, text=True)
        return p.returncode == 0


def test_same_subnet_ingress_rules_and_source_groups_whatever_br_netfilter_says(daemon):
    v = Vpc(daemon, 81)
    client, web = v.group("client"), v.group("web")
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "8080",
               "--source-group", client)
    c1 = v.workload(v.a, "10.81.1.10", [client])
    w1 = v.workload(v.a, "10.81.1.20", [web])
    d1 = v.workload(v.a, "10.81.1.30")  # the default group
    v.ready(c1, w1, d1)
    for setting in (0, 1):
        present = v.br_netfilter(setting)
        # A member of "client" on the rule's port; not on another port; not from a non-member.
        assert probe(c1, "10.81.1.20:8080", "10.81.1.20:8081") == {"10.81.1.20:8080": True,
                                                                    "10.81.1.20:8081": False}, setting
        assert not reaches(d1, "10.81.1.20:8080"), setting
        # "web"'s member is no member of the default group: the default group's members refuse it.
        assert not reaches(w1, "10.81.1.30:22"), setting
        if not present:
            break
    # A new rule is in effect for new connections within a second or so.
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "8081",
               "--cidr", "10.81.1.30/32")
    took = settles(lambda: probe(d1, "10.81.1.20:8081", timeout=0.5)["10.81.1.20:8081"])
    print(f"a new rule was in effect {took:.2f} s after the API answered (probes included)")
    assert took < 2.5, took
    assert not reaches(c1, "10.81.1.20:8081")  # the rule names d1's address only
    # The source group's rule revoked: its members are refused again.
    daemon.aws("ec2", "revoke-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "8080",
               "--source-group", client)
    settles(lambda: not probe(c1, "10.81.1.20:8080", timeout=0.5)["10.81.1.20:8080"])
    # A workload that joins "client" later is a member at once (the group means its members).
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "8080",
               "--source-group", client)
    c2 = v.workload(v.b, "10.81.2.10", [client])
    v.ready(c2)
    settles(lambda: reaches(c2, "10.81.1.20:8080"))


def test_default_group_members_reach_each_other_and_egress_rules_decide_what_leaves(daemon):
    v = Vpc(daemon, 82)
    d1 = v.workload(v.a, "10.82.1.10")
    d2 = v.workload(v.a, "10.82.1.11")
    d3 = v.workload(v.b, "10.82.2.10")
    v.ready(d1, d2, d3)
    v.br_netfilter(0)
    assert probe(d1, "10.82.1.11:22", "10.82.2.10:5432") == {"10.82.1.11:22": True, "10.82.2.10:5432": True}
    # The default egress rule (all to 0.0.0.0/0) revoked: nothing leaves any member.
    ec2 = v.ec2
    ec2.revoke_security_group_egress(GroupId=v.default_group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    settles(lambda: probe(d1, "10.82.1.11:22", timeout=0.5) == {"10.82.1.11:22": False})
    assert not reaches(d3, "10.82.1.10:22")
    # One port back, to the group itself: only that leaves.
    daemon.aws("ec2", "authorize-security-group-egress", "--group-id", v.default_group, "--ip-permissions",
               json.dumps([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                            "UserIdGroupPairs": [{"GroupId": v.default_group}]}]))
    settles(lambda: reaches(d1, "10.82.2.10:5432"))
    assert probe(d1, "10.82.1.11:22", "10.82.2.10:5433") == {"10.82.1.11:22": False, "10.82.2.10:5433": False}


def acl_of(ec2, subnet):
    acl = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
    assoc = next(a for a in acl["Associations"] if a["SubnetId"] == subnet)
    return acl["NetworkAclId"], assoc["NetworkAclAssociationId"]


def test_network_acls_are_stateless_ordered_and_need_ephemeral_return_ports(daemon):
    v = Vpc(daemon, 83)
    # The server's group admits the whole VPC: only the ACL decides below.
    srv_group = v.group("server")
    v.ec2.authorize_security_group_ingress(GroupId=srv_group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": v.cidr}]}])
    c1 = v.workload(v.a, "10.83.1.10")
    c2 = v.workload(v.a, "10.83.1.11")
    s1 = v.workload(v.b, "10.83.2.10", [srv_group])
    v.ready(c1, c2, s1)
    v.br_netfilter(0)
    assert reaches(c1, "10.83.2.10:8080")  # the default ACL allows everything

    default_acl, assoc = acl_of(v.ec2, v.b)
    acl = daemon.aws("ec2", "create-network-acl", "--vpc-id", v.id)["NetworkAcl"]["NetworkAclId"]
    out = daemon.aws("ec2", "replace-network-acl-association", "--association-id", assoc, "--network-acl-id", acl)
    assoc = out["NewAssociationId"]
    # A new ACL denies everything ("*"): subnet b is cut off, inside subnet a nothing changes.
    settles(lambda: not probe(c1, "10.83.2.10:8080", timeout=0.5)["10.83.2.10:8080"])
    assert reaches(c1, "10.83.1.11:22")

    daemon.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "100",
               "--protocol", "tcp", "--port-range", "From=8080,To=8080", "--cidr-block", "10.83.1.0/24",
               "--rule-action", "allow")
    # Stateless: the SYN gets in, its answer may not leave (no outbound rule yet).
    time.sleep(1.0)
    assert not probe(c1, "10.83.2.10:8080")["10.83.2.10:8080"]
    daemon.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, "--egress", "--rule-number", "100",
               "--protocol", "tcp", "--port-range", "From=1024,To=65535", "--cidr-block", "10.83.1.0/24",
               "--rule-action", "allow")
    settles(lambda: probe(c1, "10.83.2.10:8080", timeout=0.5)["10.83.2.10:8080"])
    assert not reaches(c1, "10.83.2.10:8081")  # only the allowed port

    # A lower-numbered deny wins over the allow, for one address only; removing it restores.
    daemon.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "90",
               "--protocol", "tcp", "--port-range", "From=8080,To=8080", "--cidr-block", "10.83.1.10/32",
               "--rule-action", "deny")
    settles(lambda: not probe(c1, "10.83.2.10:8080", timeout=0.5)["10.83.2.10:8080"])
    assert reaches(c2, "10.83.2.10:8080")
    daemon.aws("ec2", "delete-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "90")
    settles(lambda: probe(c1, "10.83.2.10:8080", timeout=0.5)["10.83.2.10:8080"])

    # Back to the default ACL: everything again.
    daemon.aws("ec2", "replace-network-acl-association", "--association-id", assoc, "--network-acl-id", default_acl)
    settles(lambda: probe(c1, "10.83.2.10:8081", timeout=0.5)["10.83.2.10:8081"])
