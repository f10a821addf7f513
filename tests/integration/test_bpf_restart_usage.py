"""Bytes a BPF-path endpoint moved are billed and published once across a `kill -9`
and the restart that adopts the pinned maps (issue 18): the link's counters
(lp_link_stats) outlive the daemon and the next run reads them on from where they
were, while the usage ledger and the CloudWatch series already hold what the killed
run counted (up to the ledger's last checkpoint, the series' last closed minute).
Both must end with exactly the bytes the counters show, neither the killed run's
share twice nor the traffic moved while no daemon ran lost. Needs root and a build
with the BPF fast path."""
import json
import os
import subprocess

import pytest

import lp
from lp import LINKPLANE
from test_cloudwatch import ENDPOINTS, endpoint_dims, stat_sum
from test_dataplane import (PORT, build, client, counters, create_endpoint, scripts, servers, serving_on,  # noqa: F401
                            status, wait_for, wait_state)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def daemon():
    # A sample every second: the ledger's hour under way is checkpointed every 6 s.
    yield from serving_on("bpf", metrics="sample_seconds = 1\n")


def checkpointed(daemon, endpoint):
    """The bytes of the hour under way in the ledger's checkpoint."""
    try:
        with open(os.path.join(daemon.state_dir, "usage.jsonl.open")) as f:
            return sum(json.loads(line).get("b", 0) for line in f if f'"{endpoint}"' in line)
    except (OSError, ValueError):
        return 0


def on_file(daemon, eni):
    """The bytes of the closed minutes of the interface in the CloudWatch series file."""
    try:
        with open(os.path.join(daemon.state_dir, "metrics.jsonl")) as f:
            points = [json.loads(line) for line in f if f'"i":"{eni}"' in line and '"m":' in line]
    except (OSError, ValueError):
        return 0
    return sum({p["m"]: p.get("b", 0) for p in points}.values())


def billed(daemon, endpoint):
    """Bytes processed of the endpoint this month, as `linkplane usage` reports them."""
    p = subprocess.run([LINKPLANE, "usage", "--state-dir", daemon.state_dir, "--format", "json"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return round(sum(e["gigabytesProcessed"] for e in json.loads(p.stdout)["endpoints"]
                     if e["vpcEndpointId"] == endpoint) * 1e9)


def interface_bytes(daemon, eni):
    i = counters(daemon).get("interfaces", {}).get(eni, {})
    return i.get("bytesIn", 0) + i.get("bytesOut", 0)


def test_a_kill9_and_restart_neither_bills_bytes_twice_nor_loses_those_moved_meanwhile(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.192.0.0/16", cidr_c="10.193.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: any(link["endpoint"] == t.endpoint
                                for link in status(daemon).get("bpf_fastpath", {}).get("links", [])), 3, 0.1)
    n = 4 << 20
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    # The killed run's ledger holds these bytes (its checkpoint says so).
    assert wait_for(lambda: interface_bytes(daemon, t.endpoint_eni) >= 2 * n, 10, 0.2), counters(daemon)
    before = lp.settled(lambda: interface_bytes(daemon, t.endpoint_eni), 2.2, 5)
    assert wait_for(lambda: checkpointed(daemon, t.endpoint) == before, 15, 0.5), \
        (checkpointed(daemon, t.endpoint), before)
    # And the series file its minutes (the one under way closes within a minute).
    assert wait_for(lambda: on_file(daemon, t.endpoint_eni) == before, 65, 0.5), \
        (on_file(daemon, t.endpoint_eni), before)

    daemon.kill()
    # While no daemon runs, the programs carry a new connection and count it.
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    daemon.start()
    assert wait_for(lambda: interface_bytes(daemon, t.endpoint_eni) >= before + 2 * n, 10, 0.2), counters(daemon)
    after = lp.settled(lambda: interface_bytes(daemon, t.endpoint_eni), 2.2, 5)
    # A few sampling rounds over the figures the restart adopted, then a clean stop
    # writes the hour under way to the ledger.
    assert wait_for(lambda: checkpointed(daemon, t.endpoint) >= after, 15, 0.5)
    assert daemon.stop() == 0
    try:
        assert billed(daemon, t.endpoint) == after, (billed(daemon, t.endpoint), before, after)
    finally:
        daemon.start()  # the fixture stops it
    # CloudWatch, read back from the series file: BytesProcessed both ways together.
    published = stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "consumer")[0]
    assert published == after, (published, before, after)
