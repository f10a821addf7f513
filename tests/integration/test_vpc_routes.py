"""Routes of route tables carry traffic (docs/vpc-routes.md): a subnet's route to an
address outside the VPC through a router workload, which forwards only with its
source/destination check off, meets the security groups of every interface it is
routed to, stops at DeleteRoute and at a blackhole, leaves subnets on the main table
alone, and keeps working across a crash and a clean restart.

    subnet B (own table: 10.99.0.0/24 -> router)   client  10.85.2.10
    subnet A (own table: 10.99.0.0/24 -> sink)     router  10.85.1.10   forwards
    subnet C (main table, local route only)        sink    10.85.3.10   holds 10.99.0.5 on lo, serves :8080
                                                   other   10.85.3.20

Needs root; drives the daemon with boto3 and the AWS CLI."""

import json
import os
import subprocess
import time

import pytest

from lp import Daemon, serving_with_instances, wait_for

# One TCP attempt: "open" (and the server's greeting), "refused", "timeout" (dropped
# on the way: a security group, the destination check, a blackhole route) or
# "unreachable" (no route: an ICMP error came back).
PROBE = r'''
import errno, json, socket, sys
s = socket.socket(); s.settimeout(float(sys.argv[1]))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    print(json.dumps(["open", s.recv(64).decode()]))
except ConnectionRefusedError:
    print(json.dumps(["refused", ""]))
except socket.timeout:
    print(json.dumps(["timeout", ""]))
except OSError as e:
    print(json.dumps(["unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else str(e), ""]))
'''

# Listens on ADDR:8080, greets each client with the address it came from, and logs it.
SERVER = r'''
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(16)
while True:
    c, peer = s.accept()
    c.sendall(("from " + peer[0]).encode()); c.close()
'''

DST = "10.99.0.5"


def in_ns(ns, *cmd, check=True):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=30,
                          check=check).stdout


def attempt(eni, port=8080, timeout=1.0):
    out = in_ns("lp-" + eni, "/usr/bin/python3", "-c", PROBE, str(timeout), DST, str(port))
    return tuple(json.loads(out))


def eventually(eni, want, port=8080, timeout=10.0):
    got = wait_for(lambda: attempt(eni, port)[0] == want, timeout, 0.2)
    last = attempt(eni, port)
    assert got or last[0] == want, f"{eni} -> {DST}:{port}: {last}, wanted {want}"
    return last


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def our_rules(vpc):
    """The VPC namespace's rules in this code's preference range (route_plan.h)."""
    rules = json.loads(in_ns("lp-" + vpc, "ip", "-j", "rule", "show"))
    return sorted((r["priority"], r.get("iif", ""), str(r.get("table"))) for r in rules
                  if 30000 <= r["priority"] <= 32765)


@pytest.fixture(scope="module")
def d():
    if os.geteuid() != 0:
        pytest.fail("needs root (namespaces, nftables, policy routing)")
    with serving_with_instances(Daemon().start()) as daemon:
        yield daemon


class Sink:
    """The server in the sink workload, holding 10.99.0.5 on its lo; started again
    after a clean restart (which makes the workload's namespace anew)."""

    def __init__(self, eni):
        self.eni, self.proc = eni, None

    def start(self):
        self.stop()
        ns = "lp-" + self.eni
        in_ns(ns, "ip", "addr", "replace", DST + "/32", "dev", "lo")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", SERVER, DST],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def forwarded(eni):
    """Packets the workload's kernel forwarded (Ip: ForwDatagrams)."""
    lines = [line.split() for line in in_ns("lp-" + eni, "cat", "/proc/net/snmp").splitlines()
             if line.startswith("Ip:")]
    return int(lines[1][lines[0].index("ForwDatagrams")])


def three_subnets(ec2, n):
    """VPC 10.N.0.0/16 with subnets a, b, c (10.N.1-3.0/24) and a group admitting all of it."""
    vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
    sub = {s: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.{i}.0/24")["Subnet"]["SubnetId"]
           for s, i in (("a", 1), ("b", 2), ("c", 3))}
    everyone = ec2.create_security_group(GroupName="everyone", Description="all of the VPC", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=everyone, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535, "IpRanges": [{"CidrIp": f"10.{n}.0.0/16"}]}])
    return vpc, sub, everyone


def eni(ec2, subnet, ip, groups):
    return ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=ip, Groups=groups)[
        "NetworkInterface"]["NetworkInterfaceId"]


def route_states(ec2, rtb):
    [t] = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
    return [(r["DestinationCidrBlock"], r["State"]) for r in t["Routes"]]


def test_routes_carry_traffic_through_a_router_workload(d):
    ec2 = d.client("ec2")
    vpc, sub, everyone = three_subnets(ec2, 85)
    # The router's own groups admit 8080 only: what is routed through it meets them.
    routers = ec2.create_security_group(GroupName="router", Description="8080 only", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=routers, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.85.0.0/16"}]}])
    router = eni(ec2, sub["a"], "10.85.1.10", [routers])
    client = eni(ec2, sub["b"], "10.85.2.10", [everyone])
    sink = eni(ec2, sub["c"], "10.85.3.10", [everyone])
    other = eni(ec2, sub["c"], "10.85.3.20", [everyone])
    assert wait_for(lambda: {"lp-" + e for e in (router, client, sink, other)} <= netns(), 15)
    # The sink answers for 10.99.0.5: its check off, as the router's will be.
    ec2.modify_network_interface_attribute(NetworkInterfaceId=sink, SourceDestCheck={"Value": False})
    s = Sink(sink)
    try:
        s.start()
        # No route yet: the VPC has no route to 10.99.0.0/24 (ICMP unreachable).
        eventually(client, "unreachable")

        rtb_b = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        rtb_a = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb_b, SubnetId=sub["b"])
        d.aws("ec2", "associate-route-table", "--route-table-id", rtb_a, "--subnet-id", sub["a"])
        d.aws("ec2", "create-route", "--route-table-id", rtb_b, "--destination-cidr-block", "10.99.0.0/24",
              "--network-interface-id", router)
        ec2.create_route(RouteTableId=rtb_a, DestinationCidrBlock="10.99.0.0/24", NetworkInterfaceId=sink)

        # The router's source/destination check is on (the default): AWS drops what is
        # routed to it but not addressed to it, and it does not forward.
        eventually(client, "timeout")
        assert in_ns("lp-" + router, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "0"

        # Off: the client reaches 10.99.0.5 through the router, from its own address.
        ec2.modify_network_interface_attribute(NetworkInterfaceId=router, SourceDestCheck={"Value": False})
        before = forwarded(router)
        assert eventually(client, "open") == ("open", "from 10.85.2.10")
        assert forwarded(router) > before, "the router's kernel forwarded nothing"
        assert in_ns("lp-" + router, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "1"
        assert in_ns("lp-" + client, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "0"
        # Routed through the router, 8081 meets its groups (8080 only) and is dropped;
        # the sink's own groups would have let it reach the sink (a refusal: no server).
        assert attempt(client, 8081)[0] == "timeout"
        # Subnet C is on the main table (local route only): no route for its workloads.
        assert attempt(other)[0] == "unreachable"
        assert route_states(ec2, rtb_b) == [("10.85.0.0/16", "active"), ("10.99.0.0/24", "active")]

        # What the VPC namespace holds: a rule per subnet with a table of its own.
        rules = our_rules(vpc)
        assert len(rules) == 2 and {r[0] for r in rules} == {30000}, rules

        # The group now admits 8081 too: in effect for new connections.
        ec2.authorize_security_group_ingress(GroupId=routers, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8081, "ToPort": 8081, "IpRanges": [{"CidrIp": "10.85.0.0/16"}]}])
        eventually(client, "refused", port=8081)

        # A crash: everything stays in place, and the next start converges on it
        # (no second rule, the route still carries).
        d.kill()
        d.start(port=d.port)
        ec2 = d.client("ec2")
        assert eventually(client, "open") == ("open", "from 10.85.2.10")
        assert wait_for(lambda: our_rules(vpc) == rules, 5), our_rules(vpc)

        # A blackhole: the route's target deleted. AWS keeps the route, blackhole, and
        # drops what matches it (no fallback, no ICMP).
        hole = eni(ec2, sub["a"], "10.85.1.30", [everyone])
        d.aws("ec2", "replace-route", "--route-table-id", rtb_b, "--destination-cidr-block", "10.99.0.0/24",
              "--network-interface-id", hole)
        ec2.delete_network_interface(NetworkInterfaceId=hole)
        assert route_states(ec2, rtb_b)[1] == ("10.99.0.0/24", "blackhole")
        eventually(client, "timeout")
        # The router is no route's target any more: it stops forwarding.
        assert wait_for(lambda: in_ns("lp-" + router, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "0", 5)

        # Back through the router, then DeleteRoute: no route at all again.
        ec2.replace_route(RouteTableId=rtb_b, DestinationCidrBlock="10.99.0.0/24", NetworkInterfaceId=router)
        assert eventually(client, "open") == ("open", "from 10.85.2.10")
        ec2.delete_route(RouteTableId=rtb_b, DestinationCidrBlock="10.99.0.0/24")
        eventually(client, "unreachable")
        assert len(our_rules(vpc)) == 1  # subnet A's table stays, subnet B is back on the main one
        ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.99.0.0/24", NetworkInterfaceId=router)
        assert eventually(client, "open") == ("open", "from 10.85.2.10")

        # A clean restart makes every namespace anew; the routes come back with them.
        s.stop()
        d.restart()
        ec2 = d.client("ec2")
        assert wait_for(lambda: {"lp-" + e for e in (router, client, sink)} <= netns(), 15)
        assert wait_for(lambda: "10.85.3.10/24" in in_ns("lp-" + sink, "ip", "-o", "addr", check=False), 15)
        s.start()
        assert eventually(client, "open", timeout=15) == ("open", "from 10.85.2.10")
        assert attempt(other)[0] == "unreachable"
        assert our_rules(vpc) == rules
    finally:
        s.stop()


def test_a_route_to_an_instance_follows_its_state(d):
    """An instance as the router: ModifyInstanceAttribute turns its check off; stopped,
    its route is a blackhole that drops; started again, the route carries again."""
    ec2 = d.client("ec2")
    vpc, sub, everyone = three_subnets(ec2, 86)
    ami = ec2.describe_images(Owners=["136693071363"], Filters=[
        {"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=ami, InstanceType="t3.nano", MinCount=1, MaxCount=1, SubnetId=sub["a"],
                            SecurityGroupIds=[everyone], PrivateIpAddress="10.86.1.10")["Instances"][0]["InstanceId"]
    client = eni(ec2, sub["b"], "10.86.2.10", [everyone])
    sink = eni(ec2, sub["c"], "10.86.3.10", [everyone])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=sink, SourceDestCheck={"Value": False})
    d.aws("ec2", "modify-instance-attribute", "--instance-id", iid, "--no-source-dest-check")
    router = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["NetworkInterfaces"][0][
        "NetworkInterfaceId"]
    rtb_b = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    rtb_a = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb_b, SubnetId=sub["b"])
    ec2.associate_route_table(RouteTableId=rtb_a, SubnetId=sub["a"])
    ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.99.0.0/24", InstanceId=iid)
    ec2.create_route(RouteTableId=rtb_a, DestinationCidrBlock="10.99.0.0/24", NetworkInterfaceId=sink)
    assert wait_for(lambda: {"lp-" + e for e in (router, client, sink)} <= netns(), 15)
    s = Sink(sink)
    try:
        s.start()
        assert wait_for(lambda: ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
            "State"]["Name"] == "running", 30, 0.2)
        assert eventually(client, "open") == ("open", "from 10.86.2.10")

        ec2.stop_instances(InstanceIds=[iid])
        assert wait_for(lambda: route_states(ec2, rtb_b)[1] == ("10.99.0.0/24", "blackhole"), 30, 0.2)
        eventually(client, "timeout")
        assert wait_for(lambda: in_ns("lp-" + router, "sysctl", "-n", "net.ipv4.ip_forward").strip() == "0", 5)

        ec2.start_instances(InstanceIds=[iid])
        assert wait_for(lambda: route_states(ec2, rtb_b)[1] == ("10.99.0.0/24", "active"), 30, 0.2)
        assert eventually(client, "open") == ("open", "from 10.86.2.10")
    finally:
        s.stop()
