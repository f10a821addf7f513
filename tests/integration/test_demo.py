"""`linkplane demo` walks through the scenario against its own throw-away daemon,
succeeds, shows the ids it made, sends real traffic through the endpoint (as root),
and leaves nothing behind: no daemon, no state directory, no namespace, no backend
server."""
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
    """Pids of the traffic section's backend servers (and their `linkplane exec`)."""
    return pids_where(lambda args: any(a.startswith(b"/tmp/lp-demo-backend-") for a in args))


def test_demo_runs_end_to_end_and_cleans_up():
    netns_before, dirs_before = lp_netns(), demo_dirs()
    p = subprocess.run([LINKPLANE, "demo"], capture_output=True, text=True, timeout=300)
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
    if os.geteuid() == 0:
        assert "(data plane on)" in out
        for v in vpcs:
            assert f"lp-{v}" in out  # the namespaces were shown

        # Traffic: the provider's backend answered the consumer's curl through the
        # endpoint. Its body only exists in the backend's answer (the demo prints the
        # server's command, not its source), and the backend logged the request as
        # coming from a load balancer node in the provider VPC, not from the consumer.
        traffic = out[out.index("== Traffic through the endpoint =="):out.index("== Names inside the VPC")]
        assert re.search(r"^\s+10\.0\.1\.10\s+8080\s+healthy$", traffic, re.M), traffic
        assert re.search(r"^\s+hello from the provider backend 10\.0\.1\.10:8080 \(eni-[0-9a-f]{17}\)$", traffic,
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
    p = subprocess.run([LINKPLANE, "demo"], capture_output=True, text=True, timeout=120, env=env)
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
        deadline = time.monotonic() + 240
        for line in p.stdout:
            out += line
            if "two passes in a row make it healthy" in line or time.monotonic() > deadline:
                break
        assert "two passes in a row" in out, out
        assert demo_backends(), "the backend server is not running"
        p.send_signal(signal.SIGTERM)
        out += p.stdout.read()
        assert p.wait(timeout=60) != 0
    finally:
        if p.poll() is None:
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
