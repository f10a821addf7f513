"""The kernel fast path end to end, beyond what test_dataplane.py checks on both
paths: two VPCs with the same addresses talk through an endpoint, and a connection
idle past `[dataplane] idle_timeout_seconds` is dropped unless TCP keepalive keeps
it alive. Needs root (namespaces, nftables, conntrack)."""
import os
import subprocess
import time

import pytest

from lp import Daemon, serving, write_config
from test_dataplane import (PORT, Chat, build, client, create_endpoint, counters, on_fast_path, scripts,  # noqa: F401
                            servers, wait_for, wait_state)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

IDLE = 3  # seconds; PrivateLink's 350 s, shortened for the test


@pytest.fixture
def daemon():
    state_dir, path = write_config(
        body=f'dns_listen = ""\n[dataplane]\npath = "kernel"\nidle_timeout_seconds = {IDLE}\n')
    d = Daemon(state_dir=state_dir, config=path)
    d.path = "kernel"
    yield from serving(d.start())


def test_overlapping_vpcs_reach_each_other_only_through_the_endpoint(daemon, servers, scripts):
    # Both VPCs 10.0.0.0/16: the target and the consumer's workload even share 10.0.1.10.
    t = build(daemon, servers, cidr_p="10.0.0.0/16", cidr_c="10.0.0.0/16")
    assert t.targets[0][1] == t.workload_ip == "10.0.1.10"
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    # Available once the forwarder listens; the kernel path takes new connections
    # once the endpoint's link is made, within a pass.
    assert wait_for(lambda: on_fast_path(t), 3, 0.1)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    n = 8 << 20
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    # The target saw the load balancer node's address, not 10.0.1.10 (its own).
    out = subprocess.run(["ip", "netns", "exec", "lp-" + t.targets[0][0], "ss", "-tn", "state", "time-wait"],
                         capture_output=True, text=True).stdout
    peers = {line.split()[-1].rsplit(":", 1)[0] for line in out.splitlines()[1:] if line.strip()}
    assert peers and "10.0.1.10" not in peers, out
    # Counted: the counters file carries the kernel's figures.
    assert wait_for(lambda: counters(daemon).get("endpoints", {}).get(t.endpoint, {}).get("bytesIn", 0) >= n, 5, 0.2)


def test_idle_connections_are_dropped_unless_keepalive_flows(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.170.0.0/16", cidr_c="10.171.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: on_fast_path(t), 3, 0.1)
    quiet = Chat(scripts, t.workload, t.endpoint_ip)
    alive = Chat(scripts, t.workload, t.endpoint_ip, env={"KEEPALIVE": "1"})
    try:
        assert quiet.say("a") == "ok" and alive.say("a") == "ok"
        time.sleep(IDLE + 2.5)
        # The flow without packets is gone: its next segment is answered with a reset.
        assert quiet.say("b") == "reset"
        # Keepalive probes (every second) kept the other one.
        assert alive.say("b") == "ok"
    finally:
        quiet.close()
        alive.close()
