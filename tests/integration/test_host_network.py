"""The network model made real: VPCs, subnets and interfaces created with the AWS
CLI become namespaces, bridges and addresses on this host; `linkplane exec` runs
in a workload; stop, kill -9 and restart leave nothing behind. Needs root."""
import os
import subprocess
import time

import pytest

from lp import LINKPLANE

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def wait_for(cond, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def reach(eni, ip, port=9):
    """0 when a SYN from the workload gets an answer (accept or RST)."""
    code = ("import socket,sys\ns=socket.socket();s.settimeout(1.5)\n"
            f"try: s.connect(('{ip}',{port}))\nexcept ConnectionRefusedError: sys.exit(0)\n")
    return subprocess.run(["ip", "netns", "exec", "lp-" + eni, "/usr/bin/python3", "-c", code],
                          capture_output=True).returncode


def setup_vpc(daemon, cidr, subnet_cidr, ips):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", cidr)["Vpc"]["VpcId"]
    subnet = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", subnet_cidr)["Subnet"]["SubnetId"]
    enis = [daemon.aws("ec2", "create-network-interface", "--subnet-id", subnet,
                       "--private-ip-address", ip)["NetworkInterface"]["NetworkInterfaceId"] for ip in ips]
    return vpc, subnet, enis


def test_workloads_get_namespaces_exec_and_cleanup(daemon):
    vpc, subnet, (a, b) = setup_vpc(daemon, "10.61.0.0/16", "10.61.1.0/24", ["10.61.1.10", "10.61.1.11"])
    assert wait_for(lambda: {"lp-" + vpc, "lp-" + a, "lp-" + b} <= netns(), 1.5)
    addr = subprocess.run(["ip", "-n", "lp-" + a, "-o", "-4", "addr"], capture_output=True, text=True).stdout
    assert "10.61.1.10/24" in addr
    # exec: the workload's address and resolver, and the command's exit code.
    out = subprocess.run([LINKPLANE, "exec", "--eni", a, "--", "sh", "-c",
                          "ip -o -4 addr show eth0; cat /etc/resolv.conf; exit 3"],
                         capture_output=True, text=True)
    assert out.returncode == 3
    assert "10.61.1.10/24" in out.stdout and "nameserver 10.61.0.2" in out.stdout
    bad = subprocess.run([LINKPLANE, "exec", "--eni", "eni-0123456789abcdef0", "--", "true"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "eni-0123456789abcdef0" in bad.stderr
    # A signal sent to `linkplane exec` reaches the command: it becomes the command,
    # as `ip netns exec` does, so nothing keeps running once it is stopped.
    p = subprocess.Popen([LINKPLANE, "exec", "--eni", a, "--", "sleep", "31.337"])
    time.sleep(0.5)
    p.terminate()
    assert p.wait(5) == -15
    left = subprocess.run(["pgrep", "-f", "sleep 31.337"], capture_output=True, text=True).stdout
    assert left == "", f"the command outlived linkplane exec: {left}"
    # Same subnet: workloads reach each other (default group allows members).
    assert reach(a, "10.61.1.11") == 0

    # Another VPC with the same addresses: nothing crosses.
    vpc2, _, (c,) = setup_vpc(daemon, "10.62.0.0/16", "10.62.1.0/24", ["10.62.1.10"])
    assert wait_for(lambda: "lp-" + c in netns(), 1.5)
    assert reach(c, "10.61.1.10") != 0

    daemon.aws("ec2", "delete-network-interface", "--network-interface-id", b)
    assert wait_for(lambda: "lp-" + b not in netns(), 1.5)

    # kill -9, delete in the store meanwhile impossible: restart converges anyway.
    daemon.kill()
    daemon.start()
    assert wait_for(lambda: {"lp-" + vpc, "lp-" + a, "lp-" + vpc2, "lp-" + c} <= netns(), 3)
    assert "lp-" + b not in netns()

    # SIGTERM removes every namespace the daemon made.
    assert daemon.stop() == 0
    assert not ({"lp-" + vpc, "lp-" + a, "lp-" + vpc2, "lp-" + c} & netns())
    daemon.start()
    assert wait_for(lambda: {"lp-" + vpc, "lp-" + a} <= netns(), 3)
