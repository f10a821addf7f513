"""DNS inside every VPC, end to end: the daemon's resolver at VPC base+2 answers
workloads (`linkplane exec` with `dig` and `getent`) and the host loopback
listener; endpoint-specific names (regional and zonal) resolve from every VPC and
the host, the service's private DNS name only inside the endpoint's VPC and only
while PrivateDnsEnabled; names go away within a second of a modify or delete;
names of endpoints that are not available do not resolve. Needs root."""

import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from lp import LINKPLANE, Daemon, free_port, serving, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

EC2 = "com.amazonaws.us-east-1.ec2"
EC2_NAME = "ec2.us-east-1.amazonaws.com"


class Backend(http.server.BaseHTTPRequestHandler):
    """The host-side backend of the AWS "ec2" service: says who it is."""

    def do_GET(self):
        body = b"ec2 backend says hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def daemon():
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    d = tempfile.mkdtemp(prefix="lp-test-")
    path = os.path.join(d, "linkplane.toml")
    port = free_port()
    with open(path, "w") as f:
        f.write(f'dns_listen = "127.0.0.1:{port}"\n\n[aws_service_backends]\n'
                f'ec2 = "127.0.0.1:{backend.server_address[1]}"\n')
    daemon = Daemon(state_dir=d, config=path).start()
    daemon.dns_port = port
    try:
        yield from serving(daemon)
    finally:
        backend.shutdown()


def wait_for(cond, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return cond()


class Dig:
    """One dig answer: status, A records, and the types in the authority section."""

    def __init__(self, out):
        self.out = out
        m = re.search(r"status: (\w+)", out)
        self.status = m.group(1) if m else "NOANSWER"
        self.flags = (re.search(r";; flags: ([a-z ]+);", out) or [None, ""])[1].split()
        self.a, self.authority = [], []
        section = None
        for line in out.splitlines():
            if line.startswith(";; ANSWER SECTION"):
                section = "an"
            elif line.startswith(";; AUTHORITY SECTION"):
                section = "ns"
            elif line.startswith(";;") or not line.strip():
                section = None if not line.strip() else section
            elif section == "an" and len(line.split()) >= 5 and line.split()[3] == "A":
                self.a.append(line.split()[4])
            elif section == "ns" and len(line.split()) >= 4:
                self.authority.append(line.split()[3])
        self.a.sort()

    def __repr__(self):
        return self.out


DIG_OPTS = ["+time=1", "+tries=2", "+noall", "+comments", "+answer", "+authority"]


def dig_in(eni, name, *opts):
    """dig in the workload's namespace, through its resolv.conf (the VPC resolver)."""
    p = subprocess.run([LINKPLANE, "exec", "--eni", eni, "--", "dig", *DIG_OPTS, *opts, name],
                       capture_output=True, text=True, timeout=30)
    return Dig(p.stdout)


def dig_host(daemon, name, *opts):
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(daemon.dns_port), *DIG_OPTS, *opts, name],
                       capture_output=True, text=True, timeout=30)
    return Dig(p.stdout)


def vpc_with_workload(daemon, cidr, subnets, account="consumer", hostnames=True):
    """A VPC with one subnet per (cidr, zone name or zone id) and a workload ENI in the first.
    Returns (vpc, [subnet ids], workload eni)."""
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", cidr, account=account)["Vpc"]["VpcId"]
    if hostnames:
        daemon.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames",
                   '{"Value":true}', account=account)
    ids = []
    for sub_cidr, zone in subnets:
        where = "--availability-zone-id" if zone.startswith("use1-") else "--availability-zone"
        ids.append(daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", sub_cidr,
                              where, zone, account=account)["Subnet"]["SubnetId"])
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", ids[0],
                     account=account)["NetworkInterface"]["NetworkInterfaceId"]
    return vpc, ids, eni


def create_endpoint(daemon, vpc, subnets, private_dns, service=EC2, account="consumer"):
    args = ["ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc,
            "--service-name", service, "--subnet-ids", *subnets]
    args.append("--private-dns-enabled" if private_dns else "--no-private-dns-enabled")
    return daemon.aws(*args, account=account)["VpcEndpoint"]


def endpoint_ips(daemon, endpoint, account="consumer"):
    """Zone id -> the private IP of the endpoint's interface there."""
    nis = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                     *endpoint["NetworkInterfaceIds"], account=account)["NetworkInterfaces"]
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in
                daemon.aws("ec2", "describe-availability-zones", account=account)["AvailabilityZones"]}
    return {zone_ids[n["AvailabilityZone"]]: n["PrivateIpAddress"] for n in nis}


def names(endpoint):
    """(regional, {zone name suffix -> zonal name}, private or None) from DnsEntries."""
    entries = [d["DnsName"] for d in endpoint["DnsEntries"]]
    regional = entries[0]
    zonal = {}
    private = None
    for n in entries[1:]:
        m = re.match(r"vpce-[0-9a-f]+-[a-z0-9]+-(us-east-1[a-z])\.", n)
        if m:
            zonal[m.group(1)] = n
        else:
            private = n
    return regional, zonal, private


def workload_ready(daemon, eni, name):
    """Waits until the workload's resolver answers for name. Namespaces and the
    resolver's sockets are made asynchronously, and in CI two suites share two cores:
    each try can take two seconds (dig's own timeout), so the wait is generous."""
    return wait_for(lambda: dig_in(eni, name).status in ("NOERROR", "NXDOMAIN"), 20)


def getent_in(eni, name):
    """The first address `getent hosts` gives for name inside the workload (None if none)."""
    out = subprocess.run([LINKPLANE, "exec", "--eni", eni, "--", "getent", "hosts", name],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout.split() else None


def available_and_answering(daemon, endpoint, eni, regional, name):
    """Waits for the endpoint to be available and for name to answer its interface
    addresses inside the workload (dig); returns (endpoint, sorted addresses)."""
    e = daemon.wait_endpoint_state(endpoint["VpcEndpointId"], "available")
    ips = sorted(endpoint_ips(daemon, e).values())
    assert workload_ready(daemon, eni, regional)
    assert wait_for(lambda: dig_in(eni, name).a == ips, 10), dig_in(eni, name)
    return e, ips


def available_endpoint_in_a_new_vpc(daemon, cidr, subnet):
    """A consumer VPC with one subnet (us-east-1a) and a workload, and an available
    endpoint there whose regional name the workload's resolver answers: (vpc, workload,
    endpoint, regional name)."""
    vpc, subs, w = vpc_with_workload(daemon, cidr, [(subnet, "us-east-1a")])
    e = create_endpoint(daemon, vpc, subs, private_dns=False)
    regional, _, _ = names(e)
    e = daemon.wait_endpoint_state(e["VpcEndpointId"], "available")
    assert workload_ready(daemon, w, regional)
    return vpc, w, e, regional


def test_endpoint_names_resolve_from_every_vpc_and_the_host(daemon):
    vpc_c, subs_c, w_c = vpc_with_workload(daemon, "10.121.0.0/16",
                                           [("10.121.1.0/24", "us-east-1a"), ("10.121.2.0/24", "us-east-1b")])
    # Another VPC, another account: the endpoint-specific names are public to the region.
    _, _, w_p = vpc_with_workload(daemon, "10.122.0.0/16", [("10.122.1.0/24", "us-east-1a")], account="provider")
    e = create_endpoint(daemon, vpc_c, subs_c, private_dns=False)
    regional, zonal, private = names(e)
    assert private is None and set(zonal) == {"us-east-1a", "us-east-1b"}
    e = daemon.wait_endpoint_state(e["VpcEndpointId"], "available")
    by_zone = endpoint_ips(daemon, e)
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in
                daemon.aws("ec2", "describe-availability-zones", account="consumer")["AvailabilityZones"]}
    assert workload_ready(daemon, w_c, regional)

    for where in (lambda n, *o: dig_in(w_c, n, *o), lambda n, *o: dig_in(w_p, n, *o),
                  lambda n, *o: dig_host(daemon, n, *o)):
        r = wait_for(lambda: (lambda d: d if d.a else None)(where(regional)), 10)
        assert r and r.status == "NOERROR" and "aa" in r.flags, r
        assert r.a == sorted(by_zone.values()), r
        for zname, name in zonal.items():
            z = where(name)
            assert z.a == [by_zone[zone_ids[zname]]], z
        # Names are case-insensitive; over TCP too.
        assert where(regional.upper()).a == r.a
        assert where(regional, "+tcp").a == r.a
        # IPv4 only: AAAA exists-but-empty, with the zone's SOA for negative caching.
        aaaa = where(regional, "AAAA")
        assert aaaa.status == "NOERROR" and aaaa.a == [] and aaaa.authority == ["SOA"], aaaa
        # A name under the zone that does not exist: NXDOMAIN with the SOA.
        nx = where("vpce-0000000000000000f-nope.ec2.us-east-1.vpce.amazonaws.com")
        assert nx.status == "NXDOMAIN" and nx.authority == ["SOA"], nx
        # Not ours, and no private DNS here: refused, not made up.
        assert where("example.com").status == "REFUSED"
        assert where(EC2_NAME).status == "REFUSED"

    # Ordinary tools in the workload resolve through resolv.conf.
    out = subprocess.run([LINKPLANE, "exec", "--eni", w_c, "--", "getent", "ahostsv4", regional],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert {line.split()[0] for line in out.stdout.splitlines()} == set(by_zone.values())


def test_private_dns_only_in_its_vpc_and_follows_modify_within_a_second(daemon):
    vpc_c, subs_c, w_c = vpc_with_workload(daemon, "10.123.0.0/16",
                                           [("10.123.1.0/24", "us-east-1a"), ("10.123.2.0/24", "us-east-1c")])
    vpc_d, subs_d, w_d = vpc_with_workload(daemon, "10.124.0.0/16", [("10.124.1.0/24", "us-east-1b")])
    e = create_endpoint(daemon, vpc_c, subs_c, private_dns=True)
    regional, _, private = names(e)
    assert private == EC2_NAME
    e, ips = available_and_answering(daemon, e, w_c, regional, EC2_NAME)
    assert getent_in(w_c, EC2_NAME) in ips
    # The private hosted zone is the VPC's alone: other names under it do not exist there.
    assert dig_in(w_c, "nothing." + EC2_NAME).status == "NXDOMAIN"
    # The other VPC (same account) and the host do not see it.
    assert workload_ready(daemon, w_d, regional)
    assert dig_in(w_d, EC2_NAME).status == "REFUSED"
    assert dig_host(daemon, EC2_NAME).status == "REFUSED"

    # Two VPCs, two answers: an endpoint with private DNS in VPC D answers there
    # with D's interface, while C keeps its own.
    e_d = create_endpoint(daemon, vpc_d, subs_d, private_dns=True)
    e_d = daemon.wait_endpoint_state(e_d["VpcEndpointId"], "available")
    ips_d = sorted(endpoint_ips(daemon, e_d).values())
    assert wait_for(lambda: dig_in(w_d, EC2_NAME).a == ips_d, 10)
    assert dig_in(w_c, EC2_NAME).a == ips and set(ips).isdisjoint(ips_d)

    # Off: gone within a second; the endpoint-specific names stay.
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", e["VpcEndpointId"], "--no-private-dns-enabled",
               account="consumer")
    t0 = time.monotonic()
    assert wait_for(lambda: dig_in(w_c, EC2_NAME).status == "REFUSED", 1.0)
    assert time.monotonic() - t0 < 1.5
    assert dig_in(w_c, regional).a == ips
    # On again.
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", e["VpcEndpointId"], "--private-dns-enabled",
               account="consumer")
    assert wait_for(lambda: dig_in(w_c, EC2_NAME).a == ips, 1.5)

    # Delete: every name of the endpoint goes within a second, elsewhere nothing changes.
    daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", e["VpcEndpointId"], account="consumer")
    t0 = time.monotonic()
    assert wait_for(lambda: dig_in(w_c, EC2_NAME).status == "REFUSED" and
                    dig_host(daemon, regional).status == "NXDOMAIN", 1.0)
    assert time.monotonic() - t0 < 1.5
    assert dig_in(w_c, regional).status == "NXDOMAIN"
    assert dig_in(w_d, EC2_NAME).a == ips_d


def test_dns_support_off_stops_the_vpc_resolver(daemon):
    vpc, w, e, regional = available_endpoint_in_a_new_vpc(daemon, "10.125.0.0/16", "10.125.1.0/24")
    daemon.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--no-enable-dns-support", account="consumer")
    assert wait_for(lambda: dig_in(w, regional).status == "NOANSWER", 3)
    # The host still resolves the endpoint's names.
    assert dig_host(daemon, regional).a
    daemon.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-support", account="consumer")
    assert wait_for(lambda: dig_in(w, regional).a, 10)


def test_a_connection_by_name_through_the_endpoint(daemon):
    vpc, subs, w = vpc_with_workload(daemon, "10.126.0.0/16", [("10.126.1.0/24", "us-east-1a")])
    e = create_endpoint(daemon, vpc, subs, private_dns=True)
    regional, _, _ = names(e)
    daemon.wait_endpoint_state(e["VpcEndpointId"], "available")
    assert workload_ready(daemon, w, regional)
    # curl resolves through the VPC resolver and connects to the endpoint's
    # interface; the data plane carries the bytes to the service's backend.
    for name in (EC2_NAME, regional):
        out = subprocess.run([LINKPLANE, "exec", "--eni", w, "--", "curl", "-sS", "-m", "5",
                              f"http://{name}:443/"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and out.stdout == "ec2 backend says hello\n", (name, out)


def test_endpoints_that_are_not_available_have_no_names(daemon):
    # Provider: an NLB behind a service that requires acceptance, open to the consumer.
    pvpc, psubs, _ = vpc_with_workload(daemon, "10.127.0.0/16", [("10.127.1.0/24", "us-east-1a")],
                                       account="provider")
    lb = daemon.aws("elbv2", "create-load-balancer", "--name", "dns-svc", "--type", "network", "--scheme",
                    "internal", "--subnets", *psubs)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = daemon.aws("elbv2", "create-target-group", "--name", "dns-svc-tg", "--protocol", "TCP", "--port", "8080",
                    "--vpc-id", pvpc, "--target-type", "ip")["TargetGroups"][0]["TargetGroupArn"]
    daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "TCP", "--port", "443",
               "--default-actions", f"Type=forward,TargetGroupArn={tg}")
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                     "--acceptance-required")["ServiceConfiguration"]
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", "arn:aws:iam::222222222222:root")

    vpc, subs, w = vpc_with_workload(daemon, "10.128.0.0/16", [("10.128.1.0/24", "us-east-1a")])
    e = create_endpoint(daemon, vpc, subs, private_dns=False, service=svc["ServiceName"])
    assert e["State"] == "pendingAcceptance"
    regional, zonal, _ = names(e)
    assert regional.endswith("." + svc["ServiceId"] + ".us-east-1.vpce.amazonaws.com")
    # The resolver answers, but the names of a pending endpoint do not exist.
    assert wait_for(lambda: dig_in(w, regional).status == "NXDOMAIN", 5)
    time.sleep(0.5)
    assert dig_in(w, regional).status == "NXDOMAIN"
    assert dig_host(daemon, list(zonal.values())[0]).status == "NXDOMAIN"

    daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids",
               e["VpcEndpointId"])
    e = daemon.wait_endpoint_state(e["VpcEndpointId"], "available")
    ips = sorted(endpoint_ips(daemon, e).values())
    assert wait_for(lambda: dig_in(w, regional).a == ips, 2)
    assert dig_host(daemon, list(zonal.values())[0]).a == ips

    # Rejected after being available: the names go.
    daemon.aws("ec2", "reject-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids",
               e["VpcEndpointId"])
    daemon.wait_endpoint_state(e["VpcEndpointId"], "rejected")
    assert wait_for(lambda: dig_host(daemon, regional).status == "NXDOMAIN", 1.0)


@pytest.fixture
def upstream():
    """dnsmasq on loopback, authoritative-like for corp.internal: the upstream the
    VPC resolvers forward names they do not own to."""
    if not shutil.which("dnsmasq"):
        pytest.skip("dnsmasq not installed (scripts/install-deps.sh)")
    d = tempfile.mkdtemp(prefix="lp-test-dnsmasq-")
    port = free_port()
    proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", f"--port={port}", "--listen-address=127.0.0.1",
                             "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root",
                             f"--pid-file={d}/pid", "--host-record=db.corp.internal,10.50.0.9",
                             "--local=/corp.internal/"], stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", "+time=1",
                                                "db.corp.internal"], capture_output=True,
                                               text=True).stdout.strip() == "10.50.0.9", 5)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def test_names_it_does_not_own_go_to_the_configured_upstream(upstream):
    d = tempfile.mkdtemp(prefix="lp-test-")
    path = os.path.join(d, "linkplane.toml")
    with open(path, "w") as f:
        # The ec2 backend is never dialled here; the endpoint needs one to be available.
        f.write(f'dns_listen = ""\ndns_upstream = "127.0.0.1:{upstream}"\n\n'
                f'[aws_service_backends]\nec2 = "127.0.0.1:{free_port()}"\n')
    daemon = Daemon(state_dir=d, config=path).start()
    try:
        vpc, subs, w = vpc_with_workload(daemon, "10.129.0.0/16", [("10.129.1.0/24", "us-east-1a")])
        e = create_endpoint(daemon, vpc, subs, private_dns=True)
        regional, _, _ = names(e)
        daemon.wait_endpoint_state(e["VpcEndpointId"], "available")
        assert workload_ready(daemon, w, regional)
        r = dig_in(w, "db.corp.internal")
        assert r.status == "NOERROR" and r.a == ["10.50.0.9"], r
        assert getent_in(w, "db.corp.internal") == "10.50.0.9"
        assert dig_in(w, "db.corp.internal", "+tcp").a == ["10.50.0.9"]
        assert dig_in(w, "nothing.corp.internal").status == "NXDOMAIN"
        # Its own names never leave: the private name and the endpoint's names.
        ips = sorted(endpoint_ips(daemon, e).values())
        assert dig_in(w, EC2_NAME).a == ips
        assert dig_in(w, regional).a == ips
        assert dig_in(w, "nothing.us-east-1.vpce.amazonaws.com").status == "NXDOMAIN"
    finally:
        rc = daemon.stop()
        shutil.rmtree(d, ignore_errors=True)
    assert rc == 0


PRIVATE_NAME = "api.example.internal"


def provider_service(daemon, cidr, name, *args):
    """The provider's side: a VPC with a subnet in use1-az1, an internal NLB there with a
    TCP listener in front of a target group, published as an endpoint service (ARGS
    added to the create call) that the consumer account may use. Returns the service."""
    pvpc, psubs, _ = vpc_with_workload(daemon, cidr, [(cidr.replace(".0.0/16", ".1.0/24"), "use1-az1")],
                                       account="provider")
    lb = daemon.aws("elbv2", "create-load-balancer", "--name", name, "--type", "network", "--scheme", "internal",
                    "--subnets", *psubs)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = daemon.aws("elbv2", "create-target-group", "--name", name + "-tg", "--protocol", "TCP", "--port", "8080",
                    "--vpc-id", pvpc, "--target-type", "ip")["TargetGroups"][0]["TargetGroupArn"]
    daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "TCP", "--port", "443",
               "--default-actions", f"Type=forward,TargetGroupArn={tg}")
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                     *args)["ServiceConfiguration"]
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", "arn:aws:iam::222222222222:root")
    return svc


def test_a_providers_private_dns_name_resolves_only_in_the_endpoints_vpc(daemon):
    svc = provider_service(daemon, "10.130.0.0/16", "named-svc", "--no-acceptance-required", "--private-dns-name",
                           PRIVATE_NAME)
    assert svc["PrivateDnsName"] == PRIVATE_NAME
    assert svc["PrivateDnsNameConfiguration"]["State"] == "pendingVerification"
    daemon.aws("ec2", "start-vpc-endpoint-service-private-dns-verification", "--service-id", svc["ServiceId"])
    conf = daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                      svc["ServiceId"])["ServiceConfigurations"][0]
    assert conf["PrivateDnsNameConfiguration"]["State"] == "verified"

    vpc_c, subs_c, w_c = vpc_with_workload(daemon, "10.131.0.0/16", [("10.131.1.0/24", "use1-az1")])
    _, _, w_d = vpc_with_workload(daemon, "10.132.0.0/16", [("10.132.1.0/24", "use1-az1")])
    e = create_endpoint(daemon, vpc_c, subs_c, private_dns=True, service=svc["ServiceName"])
    regional, _, private = names(e)
    assert private == PRIVATE_NAME
    e, ips = available_and_answering(daemon, e, w_c, regional, PRIVATE_NAME)
    r = dig_in(w_c, PRIVATE_NAME.upper())
    assert r.status == "NOERROR" and "aa" in r.flags and r.a == ips, r
    assert getent_in(w_c, PRIVATE_NAME) in ips
    # The other VPC (same account) and the host do not own the name.
    assert workload_ready(daemon, w_d, regional)
    assert dig_in(w_d, PRIVATE_NAME).status == "REFUSED"
    assert dig_host(daemon, PRIVATE_NAME).status == "REFUSED"

    # A second endpoint in the same VPC claiming the name is refused, at create and at
    # modify; the first endpoint's name keeps answering with its own interface.
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc_c,
                           "--service-name", svc["ServiceName"], "--subnet-ids", *subs_c, "--private-dns-enabled",
                           account="consumer")
    assert err.code == "InvalidParameter" and "conflicting DNS domain" in err.message, err
    second = create_endpoint(daemon, vpc_c, subs_c, private_dns=False, service=svc["ServiceName"])
    second = daemon.wait_endpoint_state(second["VpcEndpointId"], "available")
    err = daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", second["VpcEndpointId"],
                           "--private-dns-enabled", account="consumer")
    assert err.code == "InvalidParameter" and "conflicting DNS domain" in err.message, err
    assert not daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", second["VpcEndpointId"],
                          account="consumer")["VpcEndpoints"][0]["PrivateDnsEnabled"]
    second_ips = sorted(endpoint_ips(daemon, second).values())
    assert set(second_ips).isdisjoint(ips)
    time.sleep(0.3)  # a publish the refused calls caused would be served by now
    assert dig_in(w_c, PRIVATE_NAME).a == ips
    assert dig_in(w_c, PRIVATE_NAME, "+tcp").a == ips


def test_edns0_and_junk_from_a_workload(daemon):
    vpc, w, e, regional = available_endpoint_in_a_new_vpc(daemon, "10.133.0.0/16", "10.133.1.0/24")

    # EDNS0: asked with OPT, the answer carries OPT (version 0, 1232 bytes); without, none.
    r = dig_in(w, regional, "+edns=0", "+bufsize=4096")
    assert r.a and "OPT PSEUDOSECTION" in r.out and "EDNS: version: 0" in r.out and "udp: 1232" in r.out, r
    r = dig_in(w, regional, "+noedns")
    assert r.a and "OPT PSEUDOSECTION" not in r.out, r
    assert dig_in(w, regional, "+edns=1", "+noednsnegotiation").status == "BADVERS"

    # Junk at the resolver: bytes shorter than a header, a header promising a question
    # that is not there, random bytes, and a response (QR set) get no answer at all;
    # a query from the same socket right after is answered.
    probe = r"""
import json, os, random, socket, struct, sys
addr, name = sys.argv[1], sys.argv[2]
def query(qid, qr=False):
    q = struct.pack(">HHHHHH", qid, 0x8100 if qr else 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return q + struct.pack(">HH", 1, 1)
rng = random.Random(5)
junk = [b"\x12\x34garbage", struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x3fabc",
        bytes(rng.randrange(256) for _ in range(300)), query(8, qr=True)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
got = []
for j in junk:
    s.sendto(j, (addr, 53))
    try:
        got.append(s.recv(4096).hex())
    except socket.timeout:
        got.append(None)
s.settimeout(2)
s.sendto(query(9), (addr, 53))
a = s.recv(4096)
print(json.dumps({"junk": got, "id": struct.unpack(">H", a[:2])[0], "ancount": struct.unpack(">H", a[6:8])[0]}))
"""
    out = subprocess.run([LINKPLANE, "exec", "--eni", w, "--", "/usr/bin/python3", "-c", probe, "10.133.0.2",
                          regional], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["junk"] == [None] * 4, res
    assert res["id"] == 9 and res["ancount"] == 1, res
    assert dig_in(w, regional).a == sorted(endpoint_ips(daemon, e).values())


def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp():
    """The largest answer the daemon's data can give: the regional name of an endpoint
    with an interface in each of 26 zones (the most a region may have), to the AWS
    service with the longest name. 26 A records after an 83-byte name are 515 bytes,
    more than the 512 a client without EDNS0 accepts."""
    zones = [f"use1-az{i}" for i in range(1, 27)]
    d, path = write_config(body='dns_listen = ""\nzone_ids = [%s]\n\n[aws_service_backends]\n'
                                'elasticloadbalancing = "127.0.0.1:%d"\n' % (", ".join(f'"{z}"' for z in zones),
                                                                              free_port()))
    daemon = Daemon(state_dir=d, config=path).start()
    try:
        ec2 = daemon.client("ec2", account="consumer")
        vpc = ec2.create_vpc(CidrBlock="10.134.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.134.{i}.0/24", AvailabilityZoneId=z)["Subnet"]["SubnetId"]
                   for i, z in enumerate(zones, 1)]
        w = ec2.create_network_interface(SubnetId=subnets[0])["NetworkInterface"]["NetworkInterfaceId"]
        e = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc, SubnetIds=subnets,
                                    ServiceName="com.amazonaws.us-east-1.elasticloadbalancing",
                                    PrivateDnsEnabled=False)["VpcEndpoint"]
        regional = e["DnsEntries"][0]["DnsName"]
        e = daemon.wait_endpoint_state(e["VpcEndpointId"], "available", timeout=30)
        ips = sorted(endpoint_ips(daemon, e).values())
        assert len(ips) == 26
        assert wait_for(lambda: dig_in(w, regional, "+tcp").a == ips, 20), dig_in(w, regional, "+tcp")

        # UDP without EDNS0 (dig told not to retry over TCP): TC, no records.
        r = dig_in(w, regional, "+noedns", "+ignore")
        assert r.status == "NOERROR" and "tc" in r.flags and r.a == [], r
        # dig as usual falls back to TCP on TC and gets all of it.
        r = dig_in(w, regional, "+noedns")
        assert "tc" not in r.flags and r.a == ips, r
        # An EDNS0 client that takes 1232 bytes gets it whole over UDP; one that says
        # 512 gets TC (with OPT).
        r = dig_in(w, regional, "+bufsize=1232", "+ignore")
        assert "tc" not in r.flags and r.a == ips, r
        r = dig_in(w, regional, "+bufsize=512", "+ignore")
        assert "tc" in r.flags and r.a == [] and "OPT PSEUDOSECTION" in r.out, r
    finally:
        rc = daemon.stop()
        shutil.rmtree(d, ignore_errors=True)
    assert rc == 0
