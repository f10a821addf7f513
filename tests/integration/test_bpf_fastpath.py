"""The BPF fast path end to end (`[dataplane] path = "bpf"`, issue 18): two
VPCs on the same 10.0.0.0/16 talk through an endpoint, the connection is carried by
the BPF programs (the link's counters in `linkplane status` grow, the splice
forwarder counts nothing), the target sees the load balancer node, and the security
groups of both sides still decide each untracked SYN. The sink's tick: a connection
idle past `idle_timeout_seconds` is reset while one with traffic or keepalive stays,
and the links' figures reach dataplane-counters.json and CloudWatch (a connection to a
target that turns unhealthy is reset: test_dataplane_limits.py, on this path too).
Needs root and a build with the BPF fast path (LP_BPF_BUILT)."""
import os
import re
import select
import subprocess
import time

import pytest

import lp
from lp import LINKPLANE
from test_cloudwatch import ENDPOINTS, endpoint_dims, stat_sum, within_headers
from test_dataplane import (Chat, PORT, PY, TARGET_PORT, bpf_link, build, client, counters,  # noqa: F401
                            create_endpoint, delete_resets_a_held_connection, endpoint_behind_a_closed_group, netns,
                            scripts, servers, serving_on, status, wait_for, wait_state)

IDLE = 5    # [dataplane] idle_timeout_seconds of tick_daemon (PrivateLink's 350 s, shortened)
SWEEP = 5   # the sink sweeps the connection table this often (BpfSinkOptions::sweepEvery)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def daemon():
    yield from serving_on("bpf")


@pytest.fixture
def tick_daemon():
    """The BPF path with a short idle timeout and a sample every second (CloudWatch)."""
    yield from serving_on("bpf", f"idle_timeout_seconds = {IDLE}\n", "sample_seconds = 1\n")


def pin_dir(daemon):
    """Where the daemon pinned the BPF path's maps (its log says, at the first start)."""
    m = re.search(r"bpf path maps made and pinned under (\S+)", daemon.log())
    assert m, daemon.log()
    return m.group(1)


def splice_connections(daemon, endpoint):
    """Connections the splice forwarder carried. dataplane-counters.json counts both
    paths (the BPF links' figures added to the forwarder's), the link in `linkplane
    status` the BPF path's alone. The file lags the link by up to two counters rounds
    and a tick (the sink reads the links, then the file is written, every 2 s each,
    on the 1 s tick): read once two readings 4.5 s apart agree."""
    def read():
        link = bpf_link(daemon, endpoint)
        total = counters(daemon).get("endpoints", {}).get(endpoint, {}).get("connections", 0)
        return total, link["new_connections"] if link else 0
    total, bpf = lp.settled(read, 4.5, 3)
    return total - bpf


def test_overlapping_vpcs_through_bpf_not_splice_and_the_target_sees_the_node(daemon, servers, scripts):
    s = status(daemon)
    assert s["dataplane_path"] == "bpf", s
    t = build(daemon, servers, cidr_p="10.0.0.0/16", cidr_c="10.0.0.0/16")
    assert t.targets[0][1] == t.workload_ip == "10.0.1.10"
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)
    before = bpf_link(daemon, t.endpoint)

    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    n = 4 << 20
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got

    # The programs carried both connections, both ways...
    after = bpf_link(daemon, t.endpoint)
    assert after["new_connections"] - before["new_connections"] == 2, (before, after)
    assert after["bytes_to_target"] - before["bytes_to_target"] >= n, (before, after)
    assert after["bytes_to_client"] - before["bytes_to_client"] >= n, (before, after)
    # ...and the splice forwarder none.
    assert splice_connections(daemon, t.endpoint) == 0, counters(daemon)
    # The target saw the load balancer node's address, not 10.0.1.10 (its own, and the client's).
    out = subprocess.run(["ip", "netns", "exec", "lp-" + t.targets[0][0], "ss", "-tn", "state", "time-wait"],
                         capture_output=True, text=True).stdout
    peers = {line.split()[-1].rsplit(":", 1)[0] for line in out.splitlines()[1:] if line.strip()}
    assert peers == {after["node"]}, (out, after)
    # The plain-text status names the path and the link.
    text = subprocess.run([LINKPLANE, "status", "--state-dir", daemon.state_dir], capture_output=True,
                          text=True).stdout
    assert "path bpf" in text and t.endpoint in text, text


def test_the_providers_group_decides_the_untracked_syn(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.160.0.0/16", cidr_c="10.161.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT) == "open"
    # Without the rule that admits the load balancer's nodes, the target's group
    # drops the SYN in the provider's namespace: the client times out.
    rule = ["--group-id", t.target_group_id, "--protocol", "tcp", "--port", str(TARGET_PORT), "--cidr",
            "10.160.0.0/16"]
    daemon.aws("ec2", "revoke-security-group-ingress", *rule)
    assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "1"}) == "timeout", 5, 0)
    daemon.aws("ec2", "authorize-security-group-ingress", *rule)
    assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "0.5"}) == "open", 5, 0)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    assert splice_connections(daemon, t.endpoint) == 0


def test_the_endpoints_group_decides_the_untracked_syn(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.162.0.0/16", cidr_c="10.163.0.0/16")
    sg = endpoint_behind_a_closed_group(daemon, t)
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)
    # The endpoint's group has no rule for the port: the SYN is dropped, the client times out.
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1.5"}) == "timeout"
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", str(PORT),
               "--cidr", "10.163.1.0/24", account="consumer")
    assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "0.3"}) == "open", 3, 0)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    assert bpf_link(daemon, t.endpoint)["new_connections"] >= 2
    assert splice_connections(daemon, t.endpoint) == 0


def rules(ns):
    out = subprocess.run(["ip", "-n", ns, "rule"], capture_output=True, text=True).stdout
    return {line.split(":")[0] for line in out.splitlines() if ":" in line}


def test_kill9_restart_takes_the_endpoint_back_and_a_start_on_splice_removes_the_bpf_setup(daemon, servers,
                                                                                            scripts):
    t = build(daemon, servers, cidr_p="10.164.0.0/16", cidr_c="10.165.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    cns = "lp-" + t.cvpc
    assert rules(cns) >= {"100", "150", "200"} and "0" not in rules(cns)
    link_id = bpf_link(daemon, t.endpoint)["id"]

    # kill -9, then the same path: the link keeps its id and carries new connections.
    daemon.kill()
    daemon.start(port=daemon.port)
    assert wait_for(lambda: (bpf_link(daemon, t.endpoint) or {}).get("id") == link_id, 10, 0.2), status(daemon)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    assert bpf_link(daemon, t.endpoint)["new_connections"] >= 1

    # kill -9, then path = "splice": the rules, routes and programs the BPF run left
    # go at start, so the forwarder's listener takes the endpoint's connections.
    daemon.kill()
    with open(daemon.config) as f:
        text = f.read()
    with open(daemon.config, "w") as f:
        f.write(text.replace('path = "bpf"', 'path = "splice"'))
    daemon.start(port=daemon.port)
    assert status(daemon)["dataplane_path"] == "splice"
    assert "0" in rules(cns) and not rules(cns) & {"100", "150", "200"}, rules(cns)
    assert not os.path.exists(os.path.join(daemon.state_dir, "bpf-fastpath-ids.json"))
    assert not os.path.exists(pin_dir(daemon))  # the maps' pins went too
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "0.5"}) == "open", 5, 0)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    assert wait_for(lambda: splice_connections(daemon, t.endpoint) >= 2, 5, 0.2), counters(daemon)
    # No linkplane program left on any device of the consumer's namespace.
    devices = subprocess.run(["ip", "-n", cns, "-o", "link"], capture_output=True, text=True).stdout
    for name in (line.split(": ")[1].split("@")[0] for line in devices.splitlines()):
        for hook in ("ingress", "egress"):
            out = subprocess.run(["tc", "-n", cns, "filter", "show", "dev", name, hook], capture_output=True,
                                 text=True).stdout
            assert "lp_" not in out, (name, hook, out)


def test_deleting_the_endpoint_resets_its_live_connection(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.166.0.0/16", cidr_c="10.167.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)

    def held_on_bpf():
        assert bpf_link(daemon, t.endpoint)["new_connections"] == 1, bpf_link(daemon, t.endpoint)

    # The link's entries go and both ends are reset, so the reading client learns at once.
    delete_resets_a_held_connection(daemon, scripts, t, while_held=held_on_bpf)
    assert bpf_link(daemon, t.endpoint) is None


def test_kill9_keeps_established_connections_and_a_restart_adopts_them(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.168.0.0/16", cidr_c="10.169.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)
    pins = pin_dir(daemon)
    assert os.path.exists(os.path.join(pins, "lp_conns"))
    ours = {"lp-" + t.pvpc, "lp-" + t.cvpc, "lp-" + t.workload} | {"lp-" + e for e, _ in t.targets}

    chat = Chat(scripts, t.workload, t.endpoint_ip)
    try:
        assert chat.say("before") == "ok"
        before = bpf_link(daemon, t.endpoint)
        assert before["new_connections"] == 1, before

        # No daemon: the filters hold the programs, the pins the maps; the
        # connection carries data both ways (an echo of each line).
        daemon.kill()
        for i in range(3):
            assert chat.say(f"while down {i}") == "ok"
            time.sleep(0.3)

        # A start on the same state directory adopts the maps, writes its plan over
        # them and replaces the filters in place: the connection goes on.
        daemon.start(port=daemon.port)
        restarted = time.time()
        assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 10, 0.2), status(daemon)
        assert f"adopted the maps pinned under {pins}" in daemon.log()
        for i in range(3):
            assert chat.say(f"after restart {i}") == "ok"
            time.sleep(0.3)
        assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
        # The counters went on from where they were (fresh maps would count 1).
        after = bpf_link(daemon, t.endpoint)
        assert after["new_connections"] == 2, (before, after)
        assert after["bytes_to_target"] > before["bytes_to_target"], (before, after)
        assert after["bytes_to_client"] > before["bytes_to_client"], (before, after)
        assert after["drops"] == before["drops"], (before, after)
        # Past the sweep of what the killed run left (10 s in), which keeps the plan's.
        time.sleep(max(0.0, restarted + 11 - time.time()))
        assert chat.say("after the sweep") == "ok"
        assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    finally:
        chat.close()

    # A clean stop leaves no pins and none of the namespaces (so no filter).
    servers.stop_all()
    assert daemon.stop() == 0
    assert not os.path.exists(pins), os.listdir(pins)
    assert not (ours & netns()), ours & netns()
    daemon.start()  # the fixture expects a running daemon to stop


def endpoint_on_bpf(daemon, t):
    """Creates t's endpoint and waits until it is available and on the BPF path."""
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)


def hold(scripts, t):
    """A `client.py hold` connection (it only reads), once connected."""
    p = subprocess.Popen([LINKPLANE, "exec", "--eni", t.workload, "--", PY, os.path.join(scripts, "client.py"), "hold",
                          t.endpoint_ip, str(PORT)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "connected"
    return p


def ended_within(p, seconds):
    """How p's held connection ended, if it did within seconds."""
    ready, _, _ = select.select([p.stdout], [], [], seconds)
    return p.stdout.readline().strip() if ready else None


def test_an_idle_connection_is_reset_after_the_idle_timeout_and_live_ones_stay(tick_daemon, servers, scripts):
    daemon = tick_daemon
    t = build(daemon, servers, cidr_p="10.178.0.0/16", cidr_c="10.179.0.0/16")
    endpoint_on_bpf(daemon, t)
    quiet = hold(scripts, t)
    start = time.monotonic()
    talker = Chat(scripts, t.workload, t.endpoint_ip)
    alive = Chat(scripts, t.workload, t.endpoint_ip, env={"KEEPALIVE": "1"})  # probes every second
    try:
        assert talker.say("a") == "ok" and alive.say("a") == "ok"
        assert bpf_link(daemon, t.endpoint)["new_connections"] == 3  # all three on the BPF path
        # The talker sends a line a second; the held one and the keepalive one send no data.
        ended = None
        while time.monotonic() - start < IDLE + SWEEP + 2 and ended is None:
            assert talker.say("x") == "ok"
            ended = ended_within(quiet, 1)
        waited = time.monotonic() - start
        # Reset (not left to hang, not a FIN), after the timeout and within a sweep of it.
        assert ended == "reset", (ended, waited)
        assert IDLE - 0.5 <= waited <= IDLE + SWEEP + 2, waited
        # The connection with traffic and the one with keepalive probes outlive it (the
        # talker keeps talking: a reset that came early left it time to go idle itself).
        while time.monotonic() - start < IDLE + SWEEP + 1:
            assert talker.say("x") == "ok"
            time.sleep(1.0)
        assert talker.say("b") == "ok"
        assert alive.say("b") == "ok"
        # The reset linkplane sent is counted as the endpoint's.
        assert wait_for(lambda: counters(daemon).get("endpoints", {}).get(t.endpoint, {}).get("resets", 0) >= 1,
                        5, 0.2), counters(daemon)
    finally:
        quiet.kill()
        quiet.wait()
        talker.close()
        alive.close()


def test_bpf_traffic_shows_in_the_counters_file_and_cloudwatch(tick_daemon, servers, scripts):
    daemon = tick_daemon
    t = build(daemon, servers, cidr_p="10.172.0.0/16", cidr_c="10.173.0.0/16")
    endpoint_on_bpf(daemon, t)
    n = 3 << 20
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    assert bpf_link(daemon, t.endpoint)["new_connections"] == 1

    # dataplane-counters.json: per endpoint and per interface, IP bytes each way
    # (payload plus headers), one connection; the forwarder carried none of it.
    def figures(kind, key):
        return counters(daemon).get(kind, {}).get(key, {})
    assert wait_for(lambda: figures("endpoints", t.endpoint).get("bytesOut", 0) >= n, 6, 0.2), counters(daemon)
    e = lp.settled(lambda: figures("endpoints", t.endpoint), 4.5, 3)  # the closing packets counted too
    i = figures("interfaces", t.endpoint_eni)
    assert e == i, (e, i)
    assert within_headers(e["bytesIn"], n + 5) and within_headers(e["bytesOut"], n), e
    assert e["connections"] == 1 and e["dropped"] == 0, e
    # CloudWatch, as for the other paths: BytesProcessed both ways together, NewConnections.
    consumer_sum = lambda: stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "consumer")[0]  # noqa: E731
    want = e["bytesIn"] + e["bytesOut"]
    assert wait_for(lambda: consumer_sum() == want, 10, 0.5), (consumer_sum(), want)
    assert stat_sum(daemon, ENDPOINTS, "NewConnections", endpoint_dims(t), "consumer")[0] == 1


def set_endpoint_state_in_store(state_dir, endpoint, state):
    """What a RejectVpcEndpointConnections committed just before a kill -9 leaves when
    the reconciler had not applied it yet (no daemon runs: the API is down too)."""
    import json
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(os.path.join(state_dir, "linkplane.db"))) as db:
        (body,) = db.execute("SELECT body FROM objects WHERE kind = 'vpc-endpoint' AND id = ?", (endpoint,)).fetchone()
        e = json.loads(body)
        assert e["state"] == "available", e["state"]
        e["state"] = state
        db.execute("UPDATE objects SET body = ? WHERE kind = 'vpc-endpoint' AND id = ?", (json.dumps(e), endpoint))
        db.commit()


def test_a_link_the_restart_no_longer_plans_loses_its_entries_and_its_connection_is_reset(daemon, servers, scripts):
    """The maps a kill -9 leaves pinned hold the endpoint's link; the next start plans
    without it (rejected meanwhile). The start-up sweep (10 s in) removes its
    lp_endpoints/lp_targets entries and the link, and resets the connection it
    carried, as a reject with the daemon running does; the connection used to be left
    hanging (its entries ended, no reset)."""
    t = build(daemon, servers, cidr_p="10.218.0.0/16", cidr_c="10.219.0.0/16")
    endpoint_on_bpf(daemon, t)
    p = hold(scripts, t)
    try:
        assert bpf_link(daemon, t.endpoint)["new_connections"] == 1
        daemon.kill()
        set_endpoint_state_in_store(daemon.state_dir, t.endpoint, "rejected")
        daemon.start(port=daemon.port)
        started = time.monotonic()
        assert ended_within(p, 25) == "reset"
        assert time.monotonic() - started >= 9, "reset before the start-up sweep"
        assert bpf_link(daemon, t.endpoint) is None  # a rejected endpoint has no listener, so no link
        # Logged once the resets are sent: the client may see its reset first.
        assert lp.wait_for(lambda: "1 links of the last run are no longer planned: their entries went" in daemon.log(),
                           5), daemon.log()
    finally:
        p.kill()
        p.wait()
    # The address is no longer the BPF path's: a new connection is not carried by a link.
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1"}) != "open"
