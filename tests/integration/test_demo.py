"""`linkplane demo` walks through the scenario against its own throw-away daemon,
succeeds, shows the ids it made, runs the provider's backend on an EC2 instance whose
UserData starts it, sends real traffic through the endpoint to it (as root), and
leaves nothing behind: no daemon, no state directory, no namespace, no instance, no
backend server."""
import os
import re
import signal
import subprocess
import time

import pytest

from lp import LINKPLANE


def lp_netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("lp-")}


def pids_where(pred):
    """Pids of processes whose argument list (bytes) satisfies pred."""
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if pred(args):
            pids.add(pid)
    return pids


def demo_daemons():
    """Pids of `linkplane serve` processes whose state is a demo temp dir."""
    return pids_where(lambda args: b"serve" in args and any(a.startswith(b"/tmp/linkplane-demo-") for a in args))


def demo_dirs():
    return {d for d in os.listdir("/tmp") if d.startswith(("linkplane-demo-", "lp-demo-"))}


def demo_backends():
    """Pids of the backend servers the demo's instance runs (its UserData writes them
    to /tmp/lp-demo-backend-<instance id>.py)."""
    return pids_where(lambda args: any(a.startswith(b"/tmp/lp-demo-backend-") for a in args))


def run_demo(timeout, env=None):
    """Runs `linkplane demo` to the end (a CompletedProcess). Past TIMEOUT it is stopped
    with SIGTERM, as a user's Ctrl-C would, so that it still terminates its instance and
    stops its daemon (SIGKILL would leave both running), and the test fails."""
    p = subprocess.Popen([LINKPLANE, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=90)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        pytest.fail(f"the demo did not finish in {timeout} s:\n{out[-3000:]}\n{err[-2000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def between(out, start, end):
    """The demo's output from the section titled START up to the one titled END."""
    return out[out.index(start):out.index(end)]


def line(pattern, text):
    """The first line of TEXT matching PATTERN whole (after the demo's indent); fails if none."""
    m = re.search(r"^\s+" + pattern + r"$", text, re.M)
    assert m, f"no line matching {pattern!r} in:\n{text}"
    return m


def check_instance_section(out):
    """The provider's backend is an instance: launched with UserData, pending, then
    running; as root the UserData's output is its console and the backend listens in
    it. Returns the instance id."""
    inst = between(out, "== The provider's backend: an EC2 instance ==", "== Publishing a service")
    line(r"ami-[0-9a-f]{17}\tdebian-12-amd64-\S+", inst)
    assert "--user-data file:///tmp/lp-demo-userdata-" in inst and "| #!/bin/sh" in inst, inst
    iid = line(r"(i-[0-9a-f]{17})\tpending\t10\.0\.1\.10\t(eni-[0-9a-f]{17})", inst).group(1)
    line(iid + r"\trunning\t16\t10\.0\.1\.10\tus-east-1[a-f]", inst)
    if os.geteuid() == 0:
        line(r"user-data: backend started on 10\.0\.1\.10:8080", inst)
        line(r"backend listening on 10\.0\.1\.10:8080", inst)
        assert re.search(r"exec --instance " + iid + r" -- ss .*\n\s+LISTEN .*10\.0\.1\.10:8080", inst), inst
    else:
        assert "Skipped: the instance's UserData runs in its namespace, which needs root." in inst
    # Published behind a target group of the default type, instance, by instance id.
    ep = between(out, "== Publishing a service and connecting to it", "== Traffic through the endpoint ==")
    line(r"arn:aws:elasticloadbalancing:\S+:targetgroup/backend/\w+\tinstance", ep)
    assert "register-targets --target-group-arn arn:" in ep and f"--targets Id={iid}\n" in ep, ep
    # Terminated at the end: shutting-down, terminated, no longer a target.
    end = out[out.index("== Terminating the instance =="):]
    line(iid + r"\trunning\tshutting-down", end)
    line(iid + r"\tterminated\t48", end)
    return iid


def check_endpoints_section(out):
    """The seed walkthrough: publish, allow, request, accept, add a subnet. Returns
    (service id, endpoint id, regional name, the endpoint's interface addresses)."""
    ep = between(out, "== Publishing a service and connecting to it", "== Traffic through the endpoint ==")
    svc = line(r"(vpce-svc-[0-9a-f]{17})\t(com\.amazonaws\.vpce\.us-east-1\.\1)\tAvailable", ep)
    svc_id, svc_name = svc.groups()
    # Invisible to the consumer until the provider allows its account, then found by name.
    refused = ep.index("(InvalidServiceName)")
    allowed = line(r"Account\tarn:aws:iam::222222222222:root", ep).start()
    found = line(re.escape(svc_name) + r"\t111111111111\tTrue\tus-east-1[a-f],us-east-1[a-f]", ep).start()
    assert svc.start() < refused < allowed < found

    # The endpoint: pendingAcceptance (as the consumer and the provider see it), the
    # provider cannot delete it, accepts it, it becomes available, then spans two subnets.
    created = line(r"(vpce-[0-9a-f]{17})\tpendingAcceptance", ep)
    ep_id = created.group(1)
    seen = line(ep_id + r"\t222222222222\tpendingAcceptance", ep).start()
    not_found = line(r"InvalidVpcEndpoint\.NotFound", ep).start()
    accepted = ep.index(f"accept-vpc-endpoint-connections --service-id {svc_id} --vpc-endpoint-ids {ep_id}")
    available = line(ep_id + r"\tavailable", ep).start()
    add_subnet = ep.index(f"modify-vpc-endpoint --vpc-endpoint-id {ep_id} --add-subnet-id subnet-")
    spans = line(r"available\t(subnet-[0-9a-f]{17}),(subnet-[0-9a-f]{17})\t(eni-[0-9a-f]{17}),(eni-[0-9a-f]{17})", ep)
    assert created.start() < seen < not_found < accepted < available < add_subnet < spans.start(), ep
    enis = set(spans.groups()[2:])
    ips = {m.group(2) for m in re.finditer(r"^\s+(eni-[0-9a-f]{17})\t(10\.1\.[12]\.\d+)\tTrue\tVPC Endpoint Interface "
                                           + ep_id + "$", ep, re.M) if m.group(1) in enis}
    assert len(ips) == 2, ep
    regional = line(r"(" + ep_id + r"-\w+\." + svc_id + r"\.us-east-1\.vpce\.amazonaws\.com)\t.*", ep).group(1)
    return svc_id, ep_id, regional, ips


def check_dns_section(out, regional, ips):
    """The consumer's workload resolves the endpoint's names; the host listener too;
    the provider's private DNS name only inside the consumer VPC, and only while on."""
    dns = between(out, "== Names inside the VPC", "== AWS services through an interface endpoint")
    assert "nameserver 10.1.0.2" in dns
    answer = {m.group(1) for m in re.finditer(r"^\s+" + re.escape(regional) + r"\.\s+60\s+IN\s+A\s+(\S+)$", dns, re.M)}
    assert answer == ips, dns
    # Zonal names: each answers with the one interface in its zone.
    zones = dict(re.findall(r"^\s+(us-east-1[a-f])\t(10\.1\.[12]\.\d+)$", dns, re.M))
    assert set(zones.values()) == ips, dns
    zonal = re.findall(r"dig \+short (vpce-\S+-(us-east-1[a-f])\.\S+)\n\s+(\S+)\n\s+-> \3, the interface in \2\.", dns)
    assert {(z, ip) for _, z, ip in zonal} == set(zones.items()), dns
    assert "status: NXDOMAIN" in dns and "IN\tSOA\t" in dns
    # The host listener answers the same (unless another process holds its port).
    if "Skipped: the host listener" not in dns:
        host = re.search(r"dig @127\.0\.0\.1 -p 5353 \+short " + re.escape(regional) + r"\n((?:\s+\S+\n)+)", dns)
        assert host and set(host.group(1).split()) == ips, dns
    # Private DNS: verified, on, resolves in the consumer VPC to the endpoint's interfaces.
    line(r"api\.example\.internal\tverified", dns)
    line(r"True\tapi\.example\.internal", dns)
    inside = re.search(r"-- dig \+short api\.example\.internal\n((?:\s+\S+\n)+)", dns)
    assert inside and set(inside.group(1).split()) == ips, dns
    # Not in the provider's VPC, not on the host; a second claim in the VPC refused;
    # private DNS off: gone.
    elsewhere = re.search(r"--instance (i-[0-9a-f]{17}) -- dig \+noall \+comments api\.example\.internal\n(.*?)\n\n",
                          dns, re.S)
    assert elsewhere and "status: REFUSED" in elsewhere.group(2) and elsewhere.group(1) not in regional, dns
    if "Skipped: the host listener" not in dns:
        assert re.search(r"dig @127\.0\.0\.1 -p 5353 \+short api\.example\.internal\n\n", dns), dns
    assert "conflicting DNS domain for api.example.internal" in dns
    off = dns[dns.index("--no-private-dns-enabled"):]
    assert "status: REFUSED" in off and "status: NOERROR" not in off, off


def check_aws_services_section(out):
    """STS through an endpoint with private DNS: the unmodified CLI in the workload is
    answered (the consumer's account), CloudWatch counts the bytes, and once the
    endpoint is deleted the same command cannot connect."""
    aws = between(out, "== AWS services through an interface endpoint", "== Connection notifications over SNS ==")
    assert "--endpoint-url" not in aws[aws.index("exec --eni"):], aws
    assert line(r"222222222222", aws)
    bytes_processed = re.search(r"get-metric-statistics .*\n\s+(\d+(?:\.\d+)?)$", aws, re.M)
    assert bytes_processed and float(bytes_processed.group(1)) > 0, aws
    assert 'Could not connect to the endpoint URL: "https://sts.us-east-1.amazonaws.com/"' in aws, aws


def check_notifications_section(out, svc_id):
    """A second endpoint's Connect, Accept, Reject and Delete arrive, in that order, as
    signed SNS Notifications at the subscribed receiver."""
    notes = between(out, "== Connection notifications over SNS ==", "== Everything each account has ==")
    assert "(InvalidConnectionNotification)" in notes  # the topic policy must allow vpce.amazonaws.com
    assert re.search(r"ConfirmSubscription.*\n\s+200$", notes, re.M), notes
    second = line(r"(vpce-[0-9a-f]{17})\tpendingAcceptance", notes).group(1)
    events = re.findall(r"^\s+(Connect|Accept|Reject|Delete)\s+\S+Z\s+endpoint (vpce-[0-9a-f]{17}) \((\w+), owner "
                        r"222222222222\)\s+service (vpce-svc-[0-9a-f]{17})\s+signed v1$", notes, re.M)
    assert [e[0] for e in events] == ["Connect", "Accept", "Reject", "Delete"], notes
    assert {(e[1], e[3]) for e in events} == {(second, svc_id)}, notes
    states = [e[2] for e in events]
    assert states[0] == "pendingAcceptance" and states[1] in ("pending", "available") and states[2] == "rejected"
    assert states[3] in ("deleting", "deleted")


def test_demo_runs_end_to_end_and_cleans_up():
    netns_before, dirs_before = lp_netns(), demo_dirs()
    p = run_demo(600)
    out = p.stdout
    assert p.returncode == 0, f"demo failed ({p.returncode}):\n{out}\n{p.stderr}"
    assert "demo OK" in out

    # Both accounts introduced themselves, and the VPCs they created are named in
    # the narration (created, then found again by the closing describe-vpcs).
    assert "111111111111" in out and "222222222222" in out
    vpcs = set(re.findall(r"\bvpc-[0-9a-f]{17}\b", out))
    assert len(vpcs) == 2, vpcs
    for v in vpcs:
        assert len(re.findall(re.escape(v), out)) >= 3, f"{v} not described"
    assert "10.0.0.0/16" in out and "10.1.0.0/16" in out
    assert re.search(r"\bsg-[0-9a-f]{17}\b", out) and re.search(r"\beni-[0-9a-f]{17}\b", out)
    assert "(InvalidVpcID.NotFound)" in out  # isolation step
    iid = check_instance_section(out)
    svc_id, _, regional, endpoint_ips = check_endpoints_section(out)
    check_notifications_section(out, svc_id)
    if os.geteuid() != 0:
        assert "Skipped: the VPC resolvers live in the VPC namespaces, which need root." in out
    if os.geteuid() == 0:
        check_dns_section(out, regional, endpoint_ips)
        check_aws_services_section(out)
        assert "(data plane on)" in out
        for v in vpcs:
            assert f"lp-{v}" in out  # the namespaces were shown

        # Traffic: the provider's backend instance answered the consumer's curl through
        # the endpoint. Its body only exists in the backend's answer (the demo elides
        # the server's source from the UserData it shows), and the backend logged the
        # request (to the instance's console) as coming from a load balancer node in
        # the provider VPC, not from the consumer.
        traffic = out[out.index("== Traffic through the endpoint =="):out.index("== Names inside the VPC")]
        assert re.search(r"^\s+" + iid + r"\s+8080\s+healthy$", traffic, re.M), traffic
        assert re.search(r"^\s+hello from the provider backend 10\.0\.1\.10:8080 \(" + iid + r"\)$", traffic,
                         re.M), traffic
        assert re.search(r"^\s+connected to 10\.1\.[12]\.\d+:443$", traffic, re.M), traffic
        m = re.search(r'^\s+backend: "GET / HTTP/1\.1" 200 - from (10\.0\.[12]\.\d+):\d+$', traffic, re.M)
        assert m, traffic
        assert f"-> {m.group(1)} is the load balancer's node in us-east-1" in traffic
        assert re.search(r"^\s+vpce-[0-9a-f]{17}\s+1 connection\(s\), 0 active, 0 reset, [1-9]\d* bytes in, "
                         r"[1-9]\d* bytes out$", traffic, re.M), traffic

    # Nothing left behind: no daemon, no temp dir, no namespace of anything the demo
    # made (other tests may be making their own namespaces meanwhile).
    assert not demo_daemons()
    assert not demo_backends()
    assert demo_dirs() <= dirs_before
    made = set(re.findall(r"\b(?:vpc|eni)-[0-9a-f]{17}\b", out))
    left = {n for n in lp_netns() - netns_before if n[3:] in made}
    assert not left, f"namespaces left behind: {left}"


def test_demo_fails_when_a_step_fails():
    """A broken AWS CLI makes the demo fail (non-zero), still cleaning up."""
    dirs_before = demo_dirs()
    env = dict(os.environ, LP_DEMO_AWS="/bin/false")
    p = run_demo(120, env=env)
    assert p.returncode != 0
    assert "demo FAILED" in p.stderr
    assert not demo_daemons()
    assert demo_dirs() <= dirs_before


def test_demo_stopped_during_the_traffic_section_leaves_nothing():
    """SIGTERM while the backend server runs: the demo stops it with everything else."""
    if os.geteuid() != 0:
        pytest.skip("needs root: without it the demo has no traffic section")
    netns_before, dirs_before = lp_netns(), demo_dirs()
    p = subprocess.Popen([LINKPLANE, "demo"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = ""
    try:
        deadline = time.monotonic() + 540
        for line in p.stdout:
            out += line
            if "two passes in a row make it healthy" in line or time.monotonic() > deadline:
                break
        assert "two passes in a row" in out, out
        assert demo_backends(), "the backend server is not running"
        p.send_signal(signal.SIGTERM)
        out += p.stdout.read()
        assert p.wait(timeout=120) != 0
    finally:
        # A failed assertion above: SIGTERM still lets the demo terminate its instance
        # and stop its daemon (SIGKILL would leave both running).
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.communicate(timeout=120)  # draining its output, so it never blocks writing
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    # The backend's watchdog notices within half a second, the trap at once.
    deadline = time.monotonic() + 5
    while demo_backends() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not demo_backends()
    assert not demo_daemons()
    assert demo_dirs() <= dirs_before
    made = set(re.findall(r"\b(?:vpc|eni)-[0-9a-f]{17}\b", out))
    left = {n for n in lp_netns() - netns_before if n[3:] in made}
    assert not left, f"namespaces left behind: {left}"
