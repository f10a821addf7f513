"""The BPF fast path's connection table full, end to end (`[dataplane] path = "bpf"`,
issue 18 item 4): with a tiny `[dataplane] bpf_connection_table`, the connections
that fit are held, the next connect is refused at once (a reset from the
endpoint's address: ECONNREFUSED, not a hang), counted as the endpoint's dropped
packets (dataplane-counters.json and PacketsDropped in CloudWatch), the daemon logs
the full table once and keeps serving, the held connections still carry bytes
(the table's LRU evicted none of them), and once one closes and is swept a new
connection works. Needs root and a build with the BPF fast path (LP_BPF_BUILT)."""
import os
import re
import time

import pytest

from test_cloudwatch import ENDPOINTS, endpoint_dims, stat_sum
from test_dataplane import (Chat, PORT, bpf_link, build, client, counters, create_endpoint, scripts,  # noqa: F401
                            servers, serving_on, status, wait_for, wait_state)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LIMIT = 3   # connections the tiny table serves
SWEEP = 5   # the sink sweeps (and gives closed connections' slots back) this often (BpfSinkOptions::sweepEvery)


def possible_cpus():
    """The CPUs the kernel keeps LRU free lists for (/sys/devices/system/cpu/possible: "0-1,4")."""
    with open("/sys/devices/system/cpu/possible") as f:
        n = 0
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
        return n


def table_for(limit):
    """The smallest bpf_connection_table whose host-wide limit is `limit` on this host:
    net/bpf/bpf_fastpath.h's connectionLimitFor keeps 128 entries per possible CPU
    and 1/64 of the table free, and counts two entries per connection. The daemon's
    log states the limit it derived; the test checks it there."""
    entries = 128 * possible_cpus()
    while (entries - 128 * possible_cpus() - entries // 64) // 2 < limit:
        entries += 1
    return entries


@pytest.fixture
def daemon():
    yield from serving_on("bpf", f"bpf_connection_table = {table_for(LIMIT)}\n", "sample_seconds = 1\n")


def dropped(daemon, t):
    return counters(daemon).get("interfaces", {}).get(t.endpoint_eni, {}).get("dropped", 0)


def full_warnings(daemon):
    return re.findall(r"the BPF connection table is full: (\d+) connections refused \((\d+) in it, at most (\d+)\); "
                      r"raise \[dataplane\] bpf_connection_table", daemon.log())


def test_a_full_connection_table_refuses_new_connections_and_keeps_the_ones_it_holds(daemon, servers, scripts):
    assert status(daemon)["dataplane_path"] == "bpf"
    m = re.search(r"the connection table holds (\d+) entries: at most (\d+) connections at once", daemon.log())
    assert m and int(m.group(1)) == table_for(LIMIT) and int(m.group(2)) == LIMIT, daemon.log()
    t = build(daemon, servers, cidr_p="10.186.0.0/16", cidr_c="10.187.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: bpf_link(daemon, t.endpoint) is not None, 3, 0.1), status(daemon)

    held = [Chat(scripts, t.workload, t.endpoint_ip) for _ in range(LIMIT)]
    try:
        assert all(c.say("hi") == "ok" for c in held)
        assert bpf_link(daemon, t.endpoint)["new_connections"] == LIMIT  # the BPF path carries them
        # The table is full: the next connect is refused at once with a reset, not
        # left to retry its SYN (the per-interface limit, 50,000, is far off).
        for _ in range(2):
            start = time.monotonic()
            assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "5"}) == "refused"
            assert time.monotonic() - start < 4  # `linkplane exec` and Python start included
        # Counted: two refused SYNs are two dropped packets of this endpoint.
        assert wait_for(lambda: dropped(daemon, t) == 2, 6, 0.2), counters(daemon)
        assert wait_for(lambda: stat_sum(daemon, ENDPOINTS, "PacketsDropped", endpoint_dims(t), "consumer")[0] == 2,
                        10, 1)
        # Said once, at the next sweep, with what to raise.
        assert wait_for(lambda: full_warnings(daemon), SWEEP + 3, 0.5), daemon.log()
        refused, live, limit = map(int, full_warnings(daemon)[0])
        assert 1 <= refused <= 2 and live == LIMIT and limit == LIMIT, full_warnings(daemon)
        # The daemon keeps serving, and every held connection still carries bytes:
        # none was evicted to make room.
        assert daemon.proc.poll() is None
        assert daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", t.endpoint,
                          account="consumer")["VpcEndpoints"][0]["State"] == "available"
        assert all(c.say("still here") == "ok" for c in held)
        assert len(full_warnings(daemon)) == 1, "one warning for the episode"

        # One closes; once the sweep removes it (closed: within 15 s of its last
        # packet) a new connection fits, and carries bytes.
        held.pop().close()

        def reconnect():
            try:
                held.append(Chat(scripts, t.workload, t.endpoint_ip))
                return True
            except AssertionError:  # refused: not swept yet
                return False
        assert wait_for(reconnect, 3 * SWEEP + 10, 1), (counters(daemon), daemon.log()[-2000:])
        assert all(c.say("and again") == "ok" for c in held)
        assert wait_for(lambda: "the BPF connection table has room again" in daemon.log(), 2 * SWEEP + 3, 0.5)
        assert daemon.proc.poll() is None
    finally:
        for c in held:
            c.close()
