"""`linkplane demo` walks through the scenario against its own throw-away daemon,
succeeds, shows the ids it made, and leaves nothing behind: no daemon, no state
directory, no namespace."""
import os
import re
import subprocess

from lp import LINKPLANE


def lp_netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("lp-")}


def demo_daemons():
    """Pids of `linkplane serve` processes whose state is a demo temp dir."""
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and any(a.startswith(b"/tmp/linkplane-demo-") for a in args):
            pids.add(pid)
    return pids


def demo_dirs():
    return {d for d in os.listdir("/tmp") if d.startswith("linkplane-demo-")}


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

    # Nothing left behind: no daemon, no temp dir, no namespace of anything the demo
    # made (other tests may be making their own namespaces meanwhile).
    assert not demo_daemons()
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
