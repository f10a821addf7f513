"""Crash at scale converge: N_VPCS consumer VPCs, a provider service behind an NLB
with two listener ports, and several boto3 threads creating, modifying and deleting
endpoints (plus security groups, a third subnet here and there, whole VPCs made and
removed) while the test sends kill -9 to the daemon at KILLS seeded-random moments
and restarts it on the same state directory. Every write the API acknowledged is
journaled. After the last restart:

(a) the store kept every acknowledged write: acknowledged creates are described
    (unless an acknowledged delete came later), acknowledged deletes are deleted or
    gone, acknowledged subnet changes of an endpoint hold;
(b) once no endpoint is pending or deleting, the host matches the store object by
    object: the daemon's namespaces, the addresses on each subnet bridge, the
    listening sockets, the names the VPC resolvers answer (and NXDOMAIN for deleted
    endpoints), and the per-interface chains of nftables table inet lp-sg.

The seed is printed; LP_SCALE_CRASH_SEED=N repeats a run's kill moments.

A second test pins a reconciler race found while writing the first (expected to fail
until the reconciler compares on revision): Describe says `deleted` while the endpoint
is still on the host. Needs root."""

import os
import random
import re
import shutil
import signal
import threading
import time

import botocore.exceptions
import pytest

import host_inventory as hi
from lp import ACCOUNTS, Daemon, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

# The CI size by default; the same test at the size (1,000 endpoints alive
# through the storm) is `LP_SCALE_CRASH_VPCS=100 LP_SCALE_CRASH_ENDPOINTS=1000
# LP_SCALE_CRASH_THREADS=8 pytest test_scale_crash.py -k storm` (docs/scale.md).
def _env_int(name, default):
    return int(os.environ.get(name, default))


N_VPCS = _env_int("LP_SCALE_CRASH_VPCS", 50)      # consumer VPCs made before the storm (10.64.0.0/16 ...)
assert 1 <= N_VPCS <= 130, "consumer CIDRs 10.64/16 .. 10.193/16 stay clear of the provider's 10.200/16"
PRELOAD = _env_int("LP_SCALE_CRASH_ENDPOINTS", 0)  # endpoints made before the storm, which then acts on them too
KILLS = _env_int("LP_SCALE_CRASH_KILLS", 5)        # kill -9 moments during the storm
THREADS = _env_int("LP_SCALE_CRASH_THREADS", 4)    # storm clients
MAX_LIVE_PER_THREAD = 20 + PRELOAD // THREADS     # endpoints a client keeps at most
PORTS = (443, 8443)      # the NLB's listener ports: every endpoint interface listens on both
CONVERGE_SECONDS = 60 + PRELOAD // 10   # bound on "no endpoint pending or deleting" after the last restart
HOST_MATCH_SECONDS = 30 + PRELOAD // 20  # bound on the host catching up with the store after that
PROVIDER_CIDR = "10.200.0.0/16"
EXTRA_VPC_CIDR = "10.250.0.0/16"  # VPCs made and removed during the storm (overlap is legal)

SEED = int(os.environ.get("LP_SCALE_CRASH_SEED", random.SystemRandom().randrange(1 << 31)))

# Connection-level failures: the daemon died under the call, which is unacknowledged.
DIED = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.HTTPClientError)


def base_cidr(i):
    return f"10.{64 + i}.0.0/16"


def resolver_of(cidr):
    a, b, c, _ = cidr.split("/")[0].split(".")
    return f"{a}.{b}.{c}.2"


def router_of(cidr):
    base, plen = cidr.split("/")
    a, b, c, d = (int(x) for x in base.split("."))
    return f"{a}.{b}.{c}.{d + 1}/{plen}"


@pytest.fixture
def daemon():
    """A daemon with the data plane on and limits raised, on a state directory that
    survives kill -9; at the end: a clean stop (checked), and if the daemon cannot do
    it, the namespaces of its ledger are removed by hand. Named `daemon` so that
    conftest shows its log when the test fails."""
    state_dir, cfg = write_config(body=(
        'dns_listen = ""\n'
        '[dataplane]\nworkers = 1\n'
        '[limits]\nvpcs_per_account = 500\ninterface_endpoints_per_vpc = 500\n'
        'network_interfaces_per_account = 100000\nsecurity_groups_per_vpc = 1000\n'
        '[throttle]\nenabled = false\n'))  # a storm as fast as the clients go, on purpose
    d = Daemon(state_dir=state_dir, config=cfg)
    rc = "never stopped"
    try:
        yield d.start()
    finally:
        try:
            rc = d.stop(timeout=60)
        except RuntimeError as e:
            rc = str(e)
        left_by_daemon = sorted(hi.daemon_namespaces(state_dir))
        left = hi.remove_namespaces(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        assert not left, f"namespaces that could not be removed: {left}"
    assert rc == 0, f"daemon exited {rc} on SIGTERM"
    assert not left_by_daemon, f"a clean stop left namespaces behind: {left_by_daemon}"


class Journal:
    """What the API acknowledged, per object, for the clients of one test."""

    def __init__(self):
        self.lock = threading.Lock()
        self.endpoints = {}  # id -> {"vpc", "subnets", "state": live|deleted|unsure, "names", "unsure_subnets"}
        self.groups = {}     # id -> live|deleted|unsure
        self.vpcs = {}       # extra VPC id -> live|deleted|unsure
        self.subnets = {}    # extra subnet id -> live|deleted|unsure
        self.errors = {}     # AWS error code -> count (refusals: acknowledged as "nothing changed")
        self.ops = 0
        self.died = 0
        self.server_errors = []  # 5xx answers: never acceptable
        self.log = []            # (seconds, round, operation, object id, "ack" | "cut", detail), in order
        self.t0 = time.monotonic()
        self.round = 0

    def note(self, op, oid, outcome, detail=""):
        with self.lock:
            self.log.append((round(time.monotonic() - self.t0, 3), self.round, op, oid, outcome, detail))

    def history(self, problems, limit=40):
        """The journal lines of the objects that problems name."""
        ids = set(re.findall(r"\b(?:vpce|vpc|subnet|sg|eni)-[0-9a-f]+\b", "\n".join(problems)))
        lines = [f"  {t:8.3f}s round {r} {op} {oid} {outcome} {detail}" for t, r, op, oid, outcome, detail in self.log
                 if oid in ids]
        return "\njournal of those objects:\n" + "\n".join(lines[:limit]) if lines else ""

    def error(self, e):
        code = e.response.get("Error", {}).get("Code", "?")
        with self.lock:
            self.errors[code] = self.errors.get(code, 0) + 1


class Storm:
    """One client thread's loop for one round: its own endpoints, groups, subnets, VPCs."""

    def __init__(self, journal, world, worker, rng):
        self.j, self.w, self.worker, self.rng = journal, world, worker, rng
        self.mine = []         # endpoint ids this client made and may act on
        self.my_groups = []
        self.my_subnets = []   # (subnet id, base vpc index)
        self.my_vpcs = []      # (vpc id, [subnet ids])

    def call(self, fn, unsure):
        """fn() -> True when acknowledged; on a dead daemon, marks unsure() and stops."""
        try:
            fn()
            with self.j.lock:
                self.j.ops += 1
            return True
        except botocore.exceptions.ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500:
                with self.j.lock:
                    self.j.server_errors.append(str(e))
            self.j.error(e)
            return False
        except DIED:
            unsure()
            with self.j.lock:
                self.j.died += 1
            raise

    def run(self, ec2, stop, max_ops=400):
        try:
            for _ in range(max_ops):
                if stop.is_set():
                    return
                self.step(ec2)
        except DIED:
            return

    def live(self):
        return [e for e in self.mine if self.j.endpoints[e]["state"] == "live"]

    def step(self, ec2):
        r = self.rng.random()
        live = self.live()
        if r < 0.45 and len(live) < MAX_LIVE_PER_THREAD:
            self.create_endpoint(ec2)
        elif r < 0.65 and live:
            self.delete_endpoint(ec2, self.rng.choice(live))
        elif r < 0.78 and live:
            self.modify_subnets(ec2, self.rng.choice(live))
        elif r < 0.86:
            self.group_op(ec2)
        elif r < 0.93:
            self.subnet_op(ec2)
        else:
            self.vpc_op(ec2)

    def create_endpoint(self, ec2):
        i = self.rng.randrange(N_VPCS)
        vpc, subs = self.w.vpcs[i], self.w.subnets[i]
        chosen = self.rng.choice([subs[:1], subs[1:], subs])
        args = dict(VpcEndpointType="Interface", VpcId=vpc, ServiceName=self.w.service_name,
                    SubnetIds=chosen, PrivateDnsEnabled=False)
        groups = [g for g in self.my_groups if self.j.groups[g] == "live" and self.w.group_vpc[g] == vpc]
        if groups and self.rng.random() < 0.5:
            args["SecurityGroupIds"] = [self.rng.choice(groups)]
        out = {}

        def go():
            out["e"] = ec2.create_vpc_endpoint(**args)["VpcEndpoint"]
        if self.call(go, lambda: None):
            e = out["e"]
            with self.j.lock:
                self.j.endpoints[e["VpcEndpointId"]] = {
                    "vpc": vpc, "subnets": set(chosen), "state": "live", "unsure_subnets": False,
                    "names": [n["DnsName"] for n in e.get("DnsEntries", [])]}
            self.j.note("CreateVpcEndpoint", e["VpcEndpointId"], "ack", f"in {vpc} subnets {chosen}")
            self.mine.append(e["VpcEndpointId"])

    def delete_endpoint(self, ec2, eid):
        rec = self.j.endpoints[eid]
        out = {}

        def go():
            out["r"] = ec2.delete_vpc_endpoints(VpcEndpointIds=[eid])

        def unsure():
            rec["state"] = "unsure"
            self.j.note("DeleteVpcEndpoints", eid, "cut")
        if self.call(go, unsure):
            if out["r"].get("Unsuccessful"):
                self.j.error(botocore.exceptions.ClientError(
                    {"Error": {"Code": "Unsuccessful:" + out["r"]["Unsuccessful"][0]["Error"]["Code"]}}, "Delete"))
            else:
                rec["state"] = "deleted"
                self.j.note("DeleteVpcEndpoints", eid, "ack")

    def modify_subnets(self, ec2, eid):
        rec = self.j.endpoints[eid]
        subs = self.w.subnets[self.w.vpcs.index(rec["vpc"])]
        have = rec["subnets"]
        args = {"VpcEndpointId": eid}
        if len(have) == 2:
            gone = self.rng.choice(sorted(have))
            args["RemoveSubnetIds"] = [gone]
            after = have - {gone}
        else:
            new = [s for s in subs if s not in have]
            args["AddSubnetIds"] = new
            after = have | set(new)

        def unsure():
            rec["unsure_subnets"] = True
            self.j.note("ModifyVpcEndpoint", eid, "cut", str(args))
        if self.call(lambda: ec2.modify_vpc_endpoint(**args), unsure):
            rec["subnets"] = after
            self.j.note("ModifyVpcEndpoint", eid, "ack", f"{args} -> {sorted(after)}")

    def group_op(self, ec2):
        live = [g for g in self.my_groups if self.j.groups[g] == "live"]
        if live and self.rng.random() < 0.4:
            g = self.rng.choice(live)

            def unsure():
                self.j.groups[g] = "unsure"
                self.j.note("DeleteSecurityGroup", g, "cut")
            if self.call(lambda: ec2.delete_security_group(GroupId=g), unsure):
                self.j.groups[g] = "deleted"
                self.j.note("DeleteSecurityGroup", g, "ack")
            return
        i = self.rng.randrange(N_VPCS)
        out = {}

        def go():
            out["g"] = ec2.create_security_group(VpcId=self.w.vpcs[i], GroupName=f"lp-storm-{self.rng.random()}",
                                                 Description="storm")["GroupId"]
        if self.call(go, lambda: None):
            g = out["g"]
            with self.j.lock:
                self.j.groups[g] = "live"
                self.w.group_vpc[g] = self.w.vpcs[i]
            self.j.note("CreateSecurityGroup", g, "ack", f"in {self.w.vpcs[i]}")
            self.my_groups.append(g)
            self.call(lambda: ec2.authorize_security_group_ingress(
                GroupId=g, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                           "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]), lambda: None)

    def subnet_op(self, ec2):
        """A third subnet in a base VPC (endpoints never use it), made or removed."""
        live = [s for s in self.my_subnets if self.j.subnets[s[0]] == "live"]
        if live and self.rng.random() < 0.5:
            sid, _ = self.rng.choice(live)

            def unsure():
                self.j.subnets[sid] = "unsure"
                self.j.note("DeleteSubnet", sid, "cut")
            if self.call(lambda: ec2.delete_subnet(SubnetId=sid), unsure):
                self.j.subnets[sid] = "deleted"
                self.j.note("DeleteSubnet", sid, "ack")
            return
        i = self.rng.randrange(N_VPCS)
        third = base_cidr(i).replace(".0.0/16", f".{10 + self.worker}.0/24")
        if any(s[1] == i and self.j.subnets[s[0]] == "live" for s in self.my_subnets):
            return
        out = {}

        def go():
            out["s"] = ec2.create_subnet(VpcId=self.w.vpcs[i], CidrBlock=third,
                                         AvailabilityZoneId="use1-az3")["Subnet"]["SubnetId"]
        if self.call(go, lambda: None):
            with self.j.lock:
                self.j.subnets[out["s"]] = "live"
            self.j.note("CreateSubnet", out["s"], "ack", f"{third} in {self.w.vpcs[i]}")
            self.my_subnets.append((out["s"], i))

    def vpc_op(self, ec2):
        """A whole VPC with a subnet, made; or removed (subnet first, as EC2 wants)."""
        live = [v for v in self.my_vpcs if self.j.vpcs[v[0]] == "live"]
        if live and (len(live) >= 2 or self.rng.random() < 0.5):
            vpc, subs = self.rng.choice(live)
            for s in subs:
                if self.j.subnets[s] != "live":
                    continue

                def unsure_s(s=s):
                    self.j.subnets[s] = "unsure"
                    self.j.note("DeleteSubnet", s, "cut")
                if not self.call(lambda s=s: ec2.delete_subnet(SubnetId=s), unsure_s):
                    return
                self.j.subnets[s] = "deleted"
                self.j.note("DeleteSubnet", s, "ack")

            def unsure():
                self.j.vpcs[vpc] = "unsure"
                self.j.note("DeleteVpc", vpc, "cut")
            if self.call(lambda: ec2.delete_vpc(VpcId=vpc), unsure):
                self.j.vpcs[vpc] = "deleted"
                self.j.note("DeleteVpc", vpc, "ack")
            return
        out = {}

        def go():
            out["v"] = ec2.create_vpc(CidrBlock=EXTRA_VPC_CIDR)["Vpc"]["VpcId"]
        if not self.call(go, lambda: None):
            return
        vpc = out["v"]
        with self.j.lock:
            self.j.vpcs[vpc] = "live"
        self.j.note("CreateVpc", vpc, "ack")
        entry = (vpc, [])
        self.my_vpcs.append(entry)

        def go_s():
            out["s"] = ec2.create_subnet(VpcId=vpc, CidrBlock=EXTRA_VPC_CIDR.replace(".0.0/16", ".1.0/24"),
                                         AvailabilityZoneId="use1-az1")["Subnet"]["SubnetId"]
        if self.call(go_s, lambda: None):
            with self.j.lock:
                self.j.subnets[out["s"]] = "live"
            self.j.note("CreateSubnet", out["s"], "ack", f"in {vpc}")
            entry[1].append(out["s"])


class World:
    pass


def build_world(d):
    """The provider's service (NLB in two zones, listeners on PORTS, one workload
    ENI as its target) and the N_VPCS consumer VPCs with two subnets each."""
    w = World()
    pec2, elb, cec2 = d.client("ec2"), d.client("elbv2"), d.client("ec2", account="consumer")
    w.pvpc = pec2.create_vpc(CidrBlock=PROVIDER_CIDR)["Vpc"]["VpcId"]
    w.psubs = [pec2.create_subnet(VpcId=w.pvpc, CidrBlock=f"10.200.{k}.0/24", AvailabilityZoneId=z)["Subnet"]
               ["SubnetId"] for k, z in ((1, "use1-az1"), (2, "use1-az2"))]
    ni = pec2.create_network_interface(SubnetId=w.psubs[0], PrivateIpAddress="10.200.1.10")["NetworkInterface"]
    w.target = ni["NetworkInterfaceId"]
    # As on AWS: the target's group admits the load balancer's nodes (the VPC's CIDR).
    pec2.authorize_security_group_ingress(GroupId=ni["Groups"][0]["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": PROVIDER_CIDR}]}])
    tg = elb.create_target_group(Name="lp-crash", Protocol="TCP", Port=8080, VpcId=w.pvpc,
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.200.1.10"}])
    lb = elb.create_load_balancer(Name="lp-crash", Type="network", Scheme="internal",
                                  Subnets=w.psubs)["LoadBalancers"][0]["LoadBalancerArn"]
    for port in PORTS:
        elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    svc = pec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb], AcceptanceRequired=False)[
        "ServiceConfiguration"]
    w.service_name = svc["ServiceName"]
    pec2.modify_vpc_endpoint_service_permissions(
        ServiceId=svc["ServiceId"], AddAllowedPrincipals=[f"arn:aws:iam::{ACCOUNTS['consumer'][0]}:root"])
    w.vpcs, w.subnets, w.cidrs = [], [], {PROVIDER_CIDR: w.pvpc}
    for i in range(N_VPCS):
        vpc = cec2.create_vpc(CidrBlock=base_cidr(i))["Vpc"]["VpcId"]
        w.vpcs.append(vpc)
        w.subnets.append([cec2.create_subnet(VpcId=vpc, CidrBlock=base_cidr(i).replace(".0.0/16", f".{k}.0/24"),
                                             AvailabilityZoneId=z)["Subnet"]["SubnetId"]
                          for k, z in ((1, "use1-az1"), (2, "use1-az2"))])
    w.group_vpc = {}
    return w


def all_of(client, op, key, **kw):
    return client.get_paginator(op).paginate(**kw).build_full_result()[key]


class StoreView:
    """Everything both accounts can describe, as the host should mirror it."""

    def __init__(self, d):
        self.vpcs, self.subnets, self.enis, self.endpoints, self.groups = {}, {}, {}, {}, {}
        for account in ("provider", "consumer"):
            ec2 = d.client("ec2", account=account)
            self.vpcs.update({v["VpcId"]: v for v in all_of(ec2, "describe_vpcs", "Vpcs")})
            self.subnets.update({s["SubnetId"]: s for s in all_of(ec2, "describe_subnets", "Subnets")})
            self.enis.update({n["NetworkInterfaceId"]: n for n in
                              all_of(ec2, "describe_network_interfaces", "NetworkInterfaces")})
            self.groups.update({g["GroupId"]: g for g in all_of(ec2, "describe_security_groups", "SecurityGroups")})
        cec2 = d.client("ec2", account="consumer")
        self.endpoints = {e["VpcEndpointId"]: e for e in
                          all_of(cec2, "describe_vpc_endpoints", "VpcEndpoints", MaxResults=1000)}


def wait_converged(d, timeout):
    """Until no endpoint is pending or deleting (bounded); returns the states seen last."""
    cec2 = d.client("ec2", account="consumer")
    deadline = time.monotonic() + timeout
    while True:
        states = {}
        for e in all_of(cec2, "describe_vpc_endpoints", "VpcEndpoints", MaxResults=1000):
            states[e["State"]] = states.get(e["State"], 0) + 1
        if not states.get("pending") and not states.get("deleting"):
            return states
        if time.monotonic() > deadline:
            pytest.fail(f"not converged after {timeout}s: endpoint states {states}")
        time.sleep(0.5)


def check_store(journal, view):
    """(a): every acknowledged write is in the store."""
    problems = []
    for eid, rec in journal.endpoints.items():
        e = view.endpoints.get(eid)
        if rec["state"] == "live":
            if not e:
                problems.append(f"acknowledged endpoint {eid} is gone")
            elif e["State"] != "available":
                problems.append(f"endpoint {eid} is {e['State']}, not available")
            elif any(n not in view.enis for n in e["NetworkInterfaceIds"]):
                problems.append(f"endpoint {eid}: interfaces {e['NetworkInterfaceIds']} not all described")
            elif not rec["unsure_subnets"] and set(e["SubnetIds"]) != rec["subnets"]:
                problems.append(f"endpoint {eid} subnets {sorted(e['SubnetIds'])} != acknowledged "
                                f"{sorted(rec['subnets'])}")
        elif rec["state"] == "deleted" and e and e["State"] not in ("deleting", "deleted"):
            problems.append(f"endpoint {eid} deleted (acknowledged) but {e['State']}")
    for what, table, have in (("group", journal.groups, view.groups), ("vpc", journal.vpcs, view.vpcs),
                              ("subnet", journal.subnets, view.subnets)):
        for oid, state in table.items():
            if state == "live" and oid not in have:
                problems.append(f"acknowledged {what} {oid} is gone")
            if state == "deleted" and oid in have:
                problems.append(f"{what} {oid} deleted (acknowledged) but still described")
    return problems


def expected_host(view):
    """The host the store asks for: ns -> {"bridges", "listen", "in", "eg", "lo"}, and
    (ns, resolver, name) -> addresses for the names of available endpoints. A subnet
    has a bridge (with its router address) only while it has workloads; endpoint and
    load balancer node addresses are /32s on the VPC namespace's lo, beside the resolver."""
    want = {}
    eni_vpc = {}
    for vpc_id, v in view.vpcs.items():
        cidr = v["CidrBlock"]
        want["lp-" + vpc_id] = {"bridges": {}, "listen": {(resolver_of(cidr), 53)}, "in": set(), "eg": set(),
                                "resolver": resolver_of(cidr), "cidr": cidr,
                                "lo": {resolver_of(cidr) + "/32", "127.0.0.1/8"}}
    for nid, n in view.enis.items():
        ns = "lp-" + n["VpcId"]
        eni_vpc[nid] = ns
        if n["InterfaceType"] in ("vpc_endpoint", "network_load_balancer"):
            want[ns]["lo"].add(n["PrivateIpAddress"] + "/32")
            want[ns]["in"].add(nid)
        else:
            want[ns]["in"].add(nid)  # a workload's own groups guard it (issue 15)
            want[ns]["eg"].add(nid)
            want["lp-" + nid] = {"workload": True}
            sid = n["SubnetId"]
            want[ns]["bridges"]["lp-br-" + sid[-9:]] = {router_of(view.subnets[sid]["CidrBlock"])}
    names = {}
    for eid, e in view.endpoints.items():
        ns = "lp-" + e["VpcId"]
        if e["State"] in ("pending", "available"):
            # One socket per VPC namespace and port takes every endpoint address's
            # connections there (the data plane resets those of other addresses).
            for port in PORTS:
                want[ns]["listen"].add(("0.0.0.0", port))
        if e["State"] != "available":
            continue
        ips = sorted(view.enis[n]["PrivateIpAddress"] for n in e["NetworkInterfaceIds"] if n in view.enis)
        names[(ns, want[ns]["resolver"], e["DnsEntries"][0]["DnsName"])] = ips
    return want, names


def compare_host(d, view, journal, prober, stats):
    """(b): the host against the store; returns the differences found (and counts
    what it checked in stats)."""
    want, names = expected_host(view)
    problems = []
    have_ns = hi.daemon_namespaces(d.state_dir)
    if have_ns != set(want):
        problems.append(f"namespaces: missing {sorted(set(want) - have_ns)}, extra {sorted(have_ns - set(want))}")
    # A namespace named after an object we made, that the ledger does not own: leaked.
    ours = {"lp-" + i for i in list(journal.endpoints) + list(journal.vpcs) + list(view.vpcs) + list(view.enis)}
    stray = (hi.host_namespaces() & ours) - set(want)
    if stray:
        problems.append(f"namespaces on the host for objects no longer in the store: {sorted(stray)}")
    vpc_ns = sorted(ns for ns, w in want.items() if not w.get("workload") and ns in have_ns)
    inv = prober.inventory(vpc_ns, nft=True)
    for ns in vpc_ns:
        w, item = want[ns], inv[ns]
        if "error" in item:
            problems.append(f"{ns}: {item['error']}")
            continue
        bridges = hi.bridge_addresses(item)
        if bridges != w["bridges"]:
            for b in sorted(set(bridges) | set(w["bridges"])):
                h, x = bridges.get(b), w["bridges"].get(b)
                if h != x:
                    problems.append(f"{ns} {b}: host {sorted(h) if h is not None else None}, "
                                    f"store {sorted(x) if x is not None else None}")
        lo = set(item["addrs"].get("lo", []))
        if lo != w["lo"]:
            problems.append(f"{ns} lo: extra {sorted(lo - w['lo'])}, missing {sorted(w['lo'] - lo)}")
        if item["listen"] != w["listen"]:
            problems.append(f"{ns} listeners: extra {sorted(item['listen'] - w['listen'])}, "
                            f"missing {sorted(w['listen'] - item['listen'])}")
        sg = hi.sg_table(item)
        if sg is None:
            problems.append(f"{ns}: no table inet lp-sg")
            continue
        chains_in = {c[3:] for c in sg["chains"] if c.startswith("in-")}
        chains_eg = {c[3:] for c in sg["chains"] if c.startswith("eg-")}
        if chains_in != w["in"]:
            problems.append(f"{ns} lp-sg ingress chains: extra {sorted(chains_in - w['in'])}, "
                            f"missing {sorted(w['in'] - chains_in)}")
        if chains_eg != w["eg"]:
            problems.append(f"{ns} lp-sg egress chains: extra {sorted(chains_eg - w['eg'])}, "
                            f"missing {sorted(w['eg'] - chains_eg)}")
        jumps = {(addr, t[3:]) for chain, addr, t in sg["jumps"] if chain == "prerouting" and t.startswith("in-")}
        want_jumps = {(view.enis[n]["PrivateIpAddress"], n) for n in w["in"]}
        if jumps != want_jumps:
            problems.append(f"{ns} lp-sg prerouting jumps: extra {sorted(jumps - want_jumps)}, "
                            f"missing {sorted(want_jumps - jumps)}")
    # DNS: available endpoints answer exactly their addresses; deleted ones NXDOMAIN,
    # asked in their own VPC's namespace when it is there.
    jobs = [(ns, r, name) for (ns, r, name) in names if ns in have_ns]
    gone = []
    for eid, rec in journal.endpoints.items():
        e = view.endpoints.get(eid)
        if rec["names"] and (e is None or e["State"] == "deleted"):
            ns = "lp-" + rec["vpc"]
            if ns in have_ns:
                gone.append((ns, want[ns]["resolver"], rec["names"][0]))
    answers = prober.dns(jobs + gone, timeout=3)
    stats.update(namespaces=len(have_ns), listeners=sum(len(inv[ns].get("listen", ())) for ns in vpc_ns),
                 names=len(jobs), nxdomain=len(gone))
    for job, (rcode, ips) in zip(jobs, answers[:len(jobs)]):
        if rcode != "NOERROR" or ips != names[job]:
            problems.append(f"dns {job[2]} in {job[0]}: {rcode} {ips}, store says {names[job]}")
    for job, (rcode, ips) in zip(gone, answers[len(jobs):]):
        if rcode != "NXDOMAIN":
            problems.append(f"dns {job[2]} (deleted endpoint) in {job[0]}: {rcode} {ips}, want NXDOMAIN")
    return problems


def preload(d, storms):
    """PRELOAD endpoints made by the storm clients before the first round (each its
    share, in its own thread), so that the storm and the kills happen at that size."""
    t0 = time.monotonic()

    def fill(storm, ec2):
        for _ in range(3 * (PRELOAD // len(storms)) + 10):  # bounded: refusals do not loop forever
            if len(storm.live()) >= PRELOAD // len(storms):
                return
            storm.create_endpoint(ec2)
    clients = [d.client("ec2", account="consumer") for _ in storms]
    threads = [threading.Thread(target=fill, args=(s, c)) for s, c in zip(storms, clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "preloading hung"
    live = sum(len(s.live()) for s in storms)
    assert live >= PRELOAD - len(storms), f"only {live} of {PRELOAD} endpoints made before the storm"
    states = wait_converged(d, CONVERGE_SECONDS)
    print(f"preloaded {live} endpoints in {time.monotonic() - t0:.1f}s, converged: {states}")


def test_kill_9_during_an_endpoint_storm_then_host_matches_store(daemon):
    d = daemon
    rng = random.Random(SEED)
    moments = [round(rng.uniform(0.3, 4.0), 2) for _ in range(KILLS)]
    print(f"seed {SEED}: kill -9 after {moments} s of storm (LP_SCALE_CRASH_SEED={SEED} repeats)")
    t0 = time.monotonic()
    w = build_world(d)
    print(f"world built in {time.monotonic() - t0:.1f}s: {N_VPCS} consumer VPCs, service {w.service_name}")
    journal = Journal()
    storms = [Storm(journal, w, k, random.Random(SEED * 31 + k)) for k in range(THREADS)]
    if PRELOAD:
        preload(d, storms)
    for round_, moment in enumerate(moments):
        stop = threading.Event()
        clients = [d.client("ec2", account="consumer") for _ in storms]  # not thread-safe to make in threads
        threads = [threading.Thread(target=s.run, args=(c, stop)) for s, c in zip(storms, clients)]
        ops0 = journal.ops
        for t in threads:
            t.start()
        time.sleep(moment)
        os.kill(d.proc.pid, signal.SIGKILL)
        journal.note("kill -9", "", "", f"after {moment}s")
        d.proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a storm client hung"
        print(f"round {round_}: killed after {moment}s, {journal.ops - ops0} acknowledged writes")
        d.start(port=d.port, timeout=60)
        journal.round = round_ + 1
    print(f"storm: {journal.ops} acknowledged writes, {journal.died} calls cut by a kill, "
          f"refusals {journal.errors}; endpoints {sum(r['state'] == 'live' for r in journal.endpoints.values())} "
          f"live, {sum(r['state'] == 'deleted' for r in journal.endpoints.values())} deleted")
    assert journal.ops > 50, "the storm hardly wrote anything"
    assert not journal.server_errors, f"server errors during the storm: {journal.server_errors[:10]}"

    t1 = time.monotonic()
    states = wait_converged(d, CONVERGE_SECONDS)
    print(f"converged {time.monotonic() - t1:.1f}s after the last restart: {states}")
    view = StoreView(d)
    problems = check_store(journal, view)
    assert not problems, "store lost acknowledged writes:\n" + "\n".join(problems) + journal.history(problems)

    stats = {}
    with hi.Prober() as prober:
        deadline = time.monotonic() + HOST_MATCH_SECONDS
        while True:
            view = StoreView(d)
            problems = compare_host(d, view, journal, prober, stats)
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(1)
    print(f"host checked against {len(view.vpcs)} VPCs, {len(view.endpoints)} endpoints, {len(view.enis)} ENIs: "
          f"{stats}")
    assert not problems, f"host != store (seed {SEED}):\n" + "\n".join(problems[:60]) + journal.history(problems[:60])


DELETES = 20  # endpoints deleted one by one in the regression test below, of
MADE = 60     # endpoints made first (a pass over more objects takes longer)


def test_describe_says_deleted_only_once_the_endpoint_is_off_the_host(daemon):
    """Once DescribeVpcEndpoints says `deleted`, the endpoint's addresses are off the
    VPC namespace and nothing listens on them (a client can no longer connect)."""
    d = daemon
    w = build_world(d)
    c = d.client("ec2", account="consumer")
    made = []
    for k in range(MADE):
        i = k % N_VPCS
        e = c.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=w.vpcs[i], ServiceName=w.service_name,
                                  SubnetIds=w.subnets[i], PrivateDnsEnabled=False)["VpcEndpoint"]
        made.append((e, "lp-" + w.vpcs[i]))
    wait_converged(d, CONVERGE_SECONDS)
    ips = {n["NetworkInterfaceId"]: n["PrivateIpAddress"]
           for n in all_of(c, "describe_network_interfaces", "NetworkInterfaces")}
    late = []
    with hi.Prober() as prober:
        for e, ns in made[:DELETES]:
            eid, mine = e["VpcEndpointId"], {ips[n] for n in e["NetworkInterfaceIds"]}
            c.delete_vpc_endpoints(VpcEndpointIds=[eid])
            deadline = time.monotonic() + 10
            while c.describe_vpc_endpoints(VpcEndpointIds=[eid])["VpcEndpoints"][0]["State"] != "deleted":
                assert time.monotonic() < deadline, f"{eid} never deleted"
                time.sleep(0.01)
            item = prober.inventory([ns])[ns]
            on_host = sorted(a.split("/")[0] for link in item["addrs"].values() for a in link
                             if a.split("/")[0] in mine)
            connects = prober.tcp([(ns, a, PORTS[0], False) for a in sorted(mine)], timeout=0.5)
            if on_host or any(r.startswith("open") or r.startswith("banner") for r in connects):
                late.append(f"{eid} deleted, yet connect: {connects}, addresses {on_host} in its namespace")
    assert not late, f"{len(late)} of {DELETES} endpoints said deleted while on the host:\n" + "\n".join(late)
