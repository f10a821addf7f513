"""What the data plane refuses, and that it says so, end to end on both kernel paths
(`[dataplane] path` = kernel: conntrack NAT; bpf: the tc programs, issue 18): connections past `[dataplane] max_connections_per_interface` are refused
with a reset (not a hang), counted as dropped packets of that endpoint interface,
and the daemon keeps serving; packets an endpoint's security groups refuse are its
PacketsDropped in CloudWatch (and nobody else's); a connection held to a target
that turns unhealthy ends with a reset (connection_termination) while new
connections go to the healthy target. One daemon per path for the file. Needs root."""
import datetime
import os
import select
import signal
import subprocess
import time

import pytest

import lp
from lp import LINKPLANE
from test_dataplane import (Chat, PORT, PY, bpf_link, build, client, counters, create_endpoint, in_kernel,  # noqa: F401
                            scripts, servers, serving_on, start_health_responders, target_health, wait_for, wait_state)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LIMIT = 3          # connections per endpoint interface, small for the test (default 50,000)
HEALTH_PORT = 8081  # health checks go here, so stopping it leaves the traffic server running
ENDPOINTS = "AWS/PrivateLinkEndpoints"


@pytest.fixture(scope="module", params=["kernel", "bpf"])
def daemon(request):
    yield from serving_on(request.param, f"max_connections_per_interface = {LIMIT}\n", "sample_seconds = 1\n")


def interface_counters(daemon, eni):
    return counters(daemon).get("interfaces", {}).get(eni, {})


def packets_dropped(daemon, t, endpoint=None):
    """Sum of PacketsDropped of one endpoint over the last minutes, from CloudWatch."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    start, end = now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2)
    dims = ["Name=Endpoint Type,Value=Interface", f"Name=Service Name,Value={t.service_name}",
            f"Name=VPC Endpoint Id,Value={endpoint or t.endpoint}", f"Name=VPC Id,Value={t.cvpc}"]
    out = daemon.aws("cloudwatch", "get-metric-statistics", "--namespace", ENDPOINTS, "--metric-name",
                     "PacketsDropped", "--dimensions", *dims, "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "--end-time", end.strftime("%Y-%m-%dT%H:%M:%SZ"), "--period", "60", "--statistics", "Sum",
                     account="consumer")
    return sum(d["Sum"] for d in out["Datapoints"])


def settled(read):
    """read() once two readings a counters round (2 s) apart agree."""
    return lp.settled(read, 2.2, 5)


def test_connections_over_the_limit_are_refused_counted_and_the_rest_keep_working(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.180.0.0/16", cidr_c="10.181.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: in_kernel(daemon, t), 3, 0.1)
    held = [Chat(scripts, t.workload, t.endpoint_ip) for _ in range(LIMIT)]
    try:
        assert all(c.say("hi") == "ok" for c in held)
        # Over the limit: refused at once with a reset, not left to time out.
        for _ in range(2):
            start = time.monotonic()
            assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "5"}) == "refused"
            assert time.monotonic() - start < 4  # `linkplane exec` and Python start included
        # Counted: two refused SYNs are two dropped packets of this interface.
        assert wait_for(lambda: interface_counters(daemon, t.endpoint_eni).get("dropped") == 2, 6, 0.2), \
            counters(daemon)
        assert wait_for(lambda: packets_dropped(daemon, t) == 2, 10, 1)
        # The daemon keeps serving, and the connections under the limit keep working.
        assert daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", t.endpoint,
                          account="consumer")["VpcEndpoints"][0]["State"] == "available"
        assert all(c.say("again") == "ok" for c in held)
        # One ends: a new connection fits again.
        held.pop().close()
        assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT) == "open", 5, 0.2)
        assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    finally:
        for c in held:
            c.close()


def test_packets_a_security_group_refuses_are_that_endpoints_packets_dropped(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.182.0.0/16", cidr_c="10.183.0.0/16")
    closed = daemon.aws("ec2", "create-security-group", "--group-name", "closed", "--description", "no ingress",
                        "--vpc-id", t.cvpc, account="consumer")["GroupId"]
    create_endpoint(daemon, t)  # the VPC's default group: the workload is a member, so it may connect
    open_endpoint, open_eni, open_ip = t.endpoint, t.endpoint_eni, t.endpoint_ip
    create_endpoint(daemon, t, groups=[closed])
    wait_state(daemon, t.endpoint, "available")
    wait_state(daemon, open_endpoint, "available")
    assert wait_for(lambda: in_kernel(daemon, t), 3, 0.1)  # the closed one: groups apply before the path

    # Refused by the group: the SYN (and its retransmission) is dropped, the client times out.
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1.5"}) == "timeout"
    assert wait_for(lambda: interface_counters(daemon, t.endpoint_eni).get("dropped", 0) >= 1, 6, 0.2), \
        counters(daemon)
    dropped = settled(lambda: interface_counters(daemon, t.endpoint_eni)["dropped"])
    assert 1 <= dropped <= 3  # the SYN and at most two retransmissions in 1.5 s
    # The other endpoint carries traffic and drops nothing.
    assert client(scripts, t.workload, "name", open_ip, PORT) == "srv0"
    assert wait_for(lambda: packets_dropped(daemon, t) == dropped, 10, 1)
    assert packets_dropped(daemon, t, endpoint=open_endpoint) == 0
    assert interface_counters(daemon, open_eni).get("dropped", 0) == 0

    # A rule change makes the VPC's filter table anew (its counters from zero): the
    # total carries on from what was counted before.
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", closed, "--protocol", "tcp", "--port", "80",
               "--cidr", "10.183.1.0/24", account="consumer")
    time.sleep(1.5)  # a reconciler pass and a counters round
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1"}) == "timeout"
    assert wait_for(lambda: interface_counters(daemon, t.endpoint_eni).get("dropped", 0) > dropped, 6, 0.2), \
        counters(daemon)


def test_a_connection_to_a_target_that_turns_unhealthy_is_reset_and_new_ones_go_elsewhere(daemon, servers,
                                                                                           scripts):
    t = build(daemon, servers, cidr_p="10.184.0.0/16", cidr_c="10.185.0.0/16", n_targets=2, health_interval=5,
              health_port=HEALTH_PORT)
    checks = {}
    try:
        checks = start_health_responders(scripts, t, HEALTH_PORT)
        create_endpoint(daemon, t)
        wait_state(daemon, t.endpoint, "available")
        assert wait_for(lambda: in_kernel(daemon, t), 3, 0.1)

        def health():
            return target_health(daemon, t)
        ips = [ip for _, ip in t.targets]
        assert wait_for(lambda: health() == {ip: "healthy" for ip in ips}, 20, 0.5), health()
        assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"  # the endpoint's zone

        # A connection held to srv0 through the kernel, idle (the client only reads).
        hold = subprocess.Popen([LINKPLANE, "exec", "--eni", t.workload, "--", PY,
                                 os.path.join(scripts, "client.py"), "hold", t.endpoint_ip, str(PORT)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert hold.stdout.readline().strip() == "connected"
            before = bpf_link(daemon, t.endpoint)["new_connections"] if daemon.path == "bpf" else None
            # srv0's health check stops answering; srv0 itself keeps serving.
            os.killpg(checks.pop(0).pid, signal.SIGKILL)
            assert wait_for(lambda: health()[ips[0]] == "unhealthy", 25, 0.5), health()
            # connection_termination (on by default): the held connection is reset
            # within a couple of seconds, not left hanging until its 60 s timeout
            # (the BPF path ends it at the tick after the turn: 3 s).
            ready, _, _ = select.select([hold.stdout], [], [], 3 if daemon.path == "bpf" else 5)
            assert ready, "the connection to the unhealthy target is still open"
            assert hold.stdout.readline().strip() == "reset"
        finally:
            hold.kill()
            hold.wait()
        # New connections go to the healthy target, in the other zone (on the BPF path still).
        for _ in range(4):
            assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv1"
        if before is not None:
            assert bpf_link(daemon, t.endpoint)["new_connections"] >= before + 4
        assert "srv0" in servers.procs  # the traffic server was never stopped
    finally:
        for p in checks.values():
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
