"""The data plane end to end, driven by the real AWS CLI: a provider runs TCP
servers in workload interfaces of its VPC behind an NLB and publishes an endpoint
service; a consumer creates an interface endpoint in its VPC; `linkplane exec` in
the consumer's workload reaches the servers through the endpoint address, and
nowhere else. Needs root (namespaces, nftables)."""
import json
import os
import signal
import struct
import subprocess
import tempfile
import time

import pytest

from lp import LINKPLANE, Daemon, serving, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

PY = "/usr/bin/python3"
PORT = 443          # the NLB listener port, so the endpoint listens there
TARGET_PORT = 8080  # where the provider's servers listen

# A provider server: one line names the request. NAME -> its name; ECHO -> streams
# back everything until EOF; HOLD -> "ok" then waits for EOF or a reset. With
# --raw it records every byte of each connection (PROXY header included) to a file.
SERVER = r'''
import socket, sys, threading
name, port, raw = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port)); ls.listen(64)
print("listening", flush=True)
def line(c):
    b = b""
    while not b.endswith(b"\n"):
        d = c.recv(1)
        if not d: return b
        b += d
    return b.strip()
def serve(c):
    try:
        if raw:
            data = b""
            while True:
                d = c.recv(65536)
                if not d: break
                data += d
            with open(raw, "ab") as f: f.write(data.hex().encode() + b"\n")
            return
        cmd = line(c)
        if cmd == b"NAME":
            c.sendall(name.encode())
        elif cmd == b"ECHO":
            while True:
                d = c.recv(1 << 20)
                if not d: break
                c.sendall(d)
        elif cmd == b"HOLD":
            c.sendall(b"ok\n")
            while c.recv(65536): pass
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''

# The consumer's client. probe -> open/refused/timeout; name -> the server's name;
# echo N -> sends N pseudo-random bytes while reading them back, prints both sha256
# (and with TIMED set, the seconds from the connection to the last byte back);
# hold -> "connected", then how the connection ended; udp -> "nothing" or what came.
CLIENT = r'''
import hashlib, os, socket, sys, threading, time
mode, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5); s.connect((ip, port))
    try:
        s.send(b"hello"); s.recv(100); print("answer")
    except socket.timeout: print("nothing")
    except ConnectionRefusedError: print("icmp-refused")
    sys.exit(0)
s = socket.socket(); s.settimeout(float(os.environ.get("TIMEOUT", "3")))
try:
    s.connect((ip, port))
except socket.timeout:
    print("timeout"); sys.exit(0)
except ConnectionRefusedError:
    print("refused"); sys.exit(0)
except OSError as e:
    print("unreachable", e); sys.exit(0)
if mode == "probe":
    print("open"); sys.exit(0)
if mode == "name":
    s.sendall(b"NAME\n"); out = b""
    while True:
        d = s.recv(100)
        if not d: break
        out += d
    print(out.decode()); sys.exit(0)
if mode == "raw":
    s.sendall(sys.argv[4].encode()); s.close(); print("sent"); sys.exit(0)
if mode == "echo":
    n = int(sys.argv[4]); s.settimeout(30); start = time.monotonic()
    sent, got = hashlib.sha256(), hashlib.sha256()
    def writer():
        s.sendall(b"ECHO\n")
        left, block = n, os.urandom(1 << 20)
        while left:
            chunk = block[: min(left, len(block))]
            sent.update(chunk); s.sendall(chunk); left -= len(chunk)
            block = hashlib.sha256(block[:64]).digest() * (1 << 15)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=writer); t.start()
    total = 0
    while True:
        d = s.recv(1 << 20)
        if not d: break
        got.update(d); total += len(d)
    t.join()
    timed = [f"{time.monotonic() - start:.3f}"] if os.environ.get("TIMED") else []
    print(total, sent.hexdigest(), got.hexdigest(), *timed); sys.exit(0)
if mode == "chat":
    # One echo connection kept open; every line on stdin goes through it and back.
    s.sendall(b"ECHO\n"); s.settimeout(10)
    if os.environ.get("KEEPALIVE"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    print("connected", flush=True)
    for line in sys.stdin:
        data, got = line.encode(), b""
        try:
            s.sendall(data)
            while len(got) < len(data):
                d = s.recv(100)
                if not d:
                    print("eof", flush=True); sys.exit(0)
                got += d
            print("ok" if got == data else "bad", flush=True)
        except (ConnectionResetError, BrokenPipeError):
            print("reset", flush=True); sys.exit(0)
        except socket.timeout:
            print("timeout", flush=True); sys.exit(0)
    sys.exit(0)
if mode == "hold":
    s.sendall(b"HOLD\n"); s.settimeout(60)
    assert s.recv(3) == b"ok\n"
    print("connected", flush=True)
    try:
        d = s.recv(100)
        print("eof" if not d else "data")
    except ConnectionResetError:
        print("reset")
    except socket.timeout:
        print("timeout")
'''


def serving_on(path, dataplane="", metrics=""):
    """A daemon on `[dataplane] path` (daemon.path says which), with more keys of its
    [dataplane] and [metrics] sections; serves while the caller's fixture yields."""
    body = f'dns_listen = ""\n[dataplane]\npath = "{path}"\n{dataplane}' + (f"[metrics]\n{metrics}" if metrics else "")
    state_dir, config = write_config(body=body)
    d = Daemon(state_dir=state_dir, config=config)
    d.path = path
    yield from serving(d.start())


@pytest.fixture(params=["kernel", "bpf", "splice"])
def daemon(request):
    """Every test here runs on the three paths (`[dataplane] path`): the conntrack fast
    path (NAT between the two VPC namespaces), the BPF fast path (tc programs and
    maps, issue 18) and the splice forwarder."""
    yield from serving_on(request.param)


def on_fast_path(t):
    """Whether the consumer VPC's fast-path table translates the endpoint's address."""
    p = subprocess.run(["ip", "netns", "exec", "lp-" + t.cvpc, "nft", "list", "map", "ip", "lp-fast", "eps"],
                       capture_output=True, text=True)
    return p.returncode == 0 and f"{t.endpoint_ip} : jump" in p.stdout


def status(daemon):
    """`linkplane status --json`."""
    p = subprocess.run([LINKPLANE, "status", "--state-dir", daemon.state_dir, "--json"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def bpf_link(daemon, endpoint):
    """The endpoint's link on the BPF path, as `linkplane status` reports it (None: not on it)."""
    for link in status(daemon).get("bpf_fastpath", {}).get("links", []):
        if link["endpoint"] == endpoint:
            return link
    return None


def in_kernel(daemon, t):
    """Whether the endpoint's connections are carried by the daemon's kernel path
    (conntrack NAT or the BPF programs), rather than the splice forwarder."""
    if daemon.path == "kernel":
        return on_fast_path(t)
    if daemon.path == "bpf":
        return bpf_link(daemon, t.endpoint) is not None
    return False


@pytest.fixture
def scripts():
    d = tempfile.mkdtemp(prefix="lp-dp-scripts-")
    for name, text in (("server.py", SERVER), ("client.py", CLIENT)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    yield d
    subprocess.run(["rm", "-rf", d])


def wait_for(cond, timeout=3.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


class Servers:
    """Server processes started in workload namespaces; all stopped at the end."""

    def __init__(self, scripts):
        self.scripts = scripts
        self.procs = {}

    def start(self, eni, name, raw=""):
        args = [LINKPLANE, "exec", "--eni", eni, "--", PY, os.path.join(self.scripts, "server.py"), name,
                str(TARGET_PORT)] + ([raw] if raw else [])
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        assert p.stdout.readline().strip() == b"listening"
        self.procs[name] = p
        return p

    def stop(self, name):
        p = self.procs.pop(name)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


@pytest.fixture
def servers(scripts):
    s = Servers(scripts)
    yield s
    s.stop_all()


def start_health_responders(scripts, t, port):
    """A server on port in each target's namespace, for build(health_port=port)'s
    checks, by target index (new process groups: stop one with os.killpg)."""
    checks = {}
    for i, (eni, _) in enumerate(t.targets):
        p = subprocess.Popen([LINKPLANE, "exec", "--eni", eni, "--", PY, os.path.join(scripts, "server.py"),
                              f"health{i}", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        checks[i] = p
        assert p.stdout.readline().strip() == b"listening"
    return checks


def target_health(daemon, t):
    """Target address -> its state, as DescribeTargetHealth says."""
    out = daemon.aws("elbv2", "describe-target-health", "--target-group-arn", t.tg)
    return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in out["TargetHealthDescriptions"]}


def client(scripts, eni, *args, timeout=60, env=None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([LINKPLANE, "exec", "--eni", eni, "--", PY, os.path.join(scripts, "client.py")] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=e)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


class Chat:
    """A `client.py chat` process: one echo connection, a line at a time."""

    def __init__(self, scripts, eni, ip, env=None):
        self.p = subprocess.Popen([LINKPLANE, "exec", "--eni", eni, "--", PY, os.path.join(scripts, "client.py"),
                                   "chat", ip, str(PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=dict(os.environ, **(env or {})))
        assert self.p.stdout.readline().strip() == "connected"

    def say(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        self.p.kill()
        self.p.wait()


class Topology:
    pass


def build(daemon, servers, *, cidr_p, cidr_c, n_targets=1, proxy=False, health_interval=None, acceptance=False,
          health_port=None):
    """Provider VPC (subnets in zones use1-az1 and use1-az2, targets alternating
    between them, srv0 in use1-az1) with n target workloads running the
    server behind an NLB listener on PORT; an endpoint service for it, open to the
    consumer; a consumer VPC with one workload in use1-az1. With health_port, health
    checks go to that port, not the traffic port (the caller starts what answers
    there). Returns a Topology."""
    t = Topology()
    p2 = cidr_p.split(".")[1]
    c2 = cidr_c.split(".")[1]
    t.pvpc = daemon.aws("ec2", "create-vpc", "--cidr-block", cidr_p)["Vpc"]["VpcId"]
    t.psubs = [daemon.aws("ec2", "create-subnet", "--vpc-id", t.pvpc, "--cidr-block", f"10.{p2}.{i}.0/24",
                          "--availability-zone-id", z)["Subnet"]["SubnetId"]
               for i, z in ((1, "use1-az1"), (2, "use1-az2"))]
    t.targets = []
    for i in range(n_targets):
        ip = f"10.{p2}.{1 + i % 2}.{10 + i}"
        ni = daemon.aws("ec2", "create-network-interface", "--subnet-id", t.psubs[i % 2], "--private-ip-address",
                        ip)["NetworkInterface"]
        t.targets.append((ni["NetworkInterfaceId"], ip))
        t.target_group_id = ni["Groups"][0]["GroupId"]  # the VPC's default group
    # As on AWS: the targets' group admits the load balancer's nodes and health
    # checks, which come from the nodes' addresses in the provider VPC.
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", t.target_group_id, "--protocol", "tcp",
               "--port", str(TARGET_PORT), "--cidr", cidr_p)
    args = []
    if health_port:
        daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", t.target_group_id, "--protocol", "tcp",
                   "--port", str(health_port), "--cidr", cidr_p)
        args += ["--health-check-port", str(health_port)]
    if health_interval:
        args += ["--health-check-interval-seconds", str(health_interval), "--health-check-timeout-seconds",
                str(max(2, health_interval - 1)), "--healthy-threshold-count", "2", "--unhealthy-threshold-count",
                "2"]
    t.tg = daemon.aws("elbv2", "create-target-group", "--name", f"dp-{p2}", "--protocol", "TCP", "--port",
                      str(TARGET_PORT), "--vpc-id", t.pvpc, "--target-type", "ip",
                      *args)["TargetGroups"][0]["TargetGroupArn"]
    if proxy:
        daemon.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", t.tg, "--attributes",
                   "Key=proxy_protocol_v2.enabled,Value=true")
    daemon.aws("elbv2", "register-targets", "--target-group-arn", t.tg, "--targets",
               *[f"Id={ip}" for _, ip in t.targets])
    t.lb = daemon.aws("elbv2", "create-load-balancer", "--name", f"dp-{p2}", "--type", "network", "--scheme",
                      "internal", "--subnets", *t.psubs)["LoadBalancers"][0]["LoadBalancerArn"]
    daemon.aws("elbv2", "create-listener", "--load-balancer-arn", t.lb, "--protocol", "TCP", "--port", str(PORT),
               "--default-actions", f"Type=forward,TargetGroupArn={t.tg}")
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", t.lb,
                     "--acceptance-required" if acceptance else "--no-acceptance-required")["ServiceConfiguration"]
    t.service_id, t.service_name = svc["ServiceId"], svc["ServiceName"]
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", t.service_id,
               "--add-allowed-principals", "arn:aws:iam::222222222222:root")

    t.cvpc = daemon.aws("ec2", "create-vpc", "--cidr-block", cidr_c, account="consumer")["Vpc"]["VpcId"]
    t.csub = daemon.aws("ec2", "create-subnet", "--vpc-id", t.cvpc, "--cidr-block", f"10.{c2}.1.0/24",
                        "--availability-zone-id", "use1-az1", account="consumer")["Subnet"]["SubnetId"]
    t.workload_ip = f"10.{c2}.1.10"
    t.workload = daemon.aws("ec2", "create-network-interface", "--subnet-id", t.csub, "--private-ip-address",
                            t.workload_ip, account="consumer")["NetworkInterface"]["NetworkInterfaceId"]
    assert wait_for(lambda: {"lp-" + e for e, _ in t.targets} | {"lp-" + t.workload} <= netns(), 5)
    for i, (eni, _) in enumerate(t.targets):
        servers.start(eni, f"srv{i}")
    return t


def create_endpoint(daemon, t, groups=()):
    args = ["ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", t.cvpc, "--service-name",
            t.service_name, "--subnet-ids", t.csub]
    if groups:
        args += ["--security-group-ids", *groups]
    e = daemon.aws(*args, account="consumer")["VpcEndpoint"]
    t.endpoint = e["VpcEndpointId"]
    ni = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids", *e["NetworkInterfaceIds"],
                    account="consumer")["NetworkInterfaces"][0]
    t.endpoint_eni, t.endpoint_ip = ni["NetworkInterfaceId"], ni["PrivateIpAddress"]
    return e


def state(daemon, endpoint):
    return daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", endpoint,
                      account="consumer")["VpcEndpoints"][0]


def wait_state(daemon, endpoint, want, timeout=5):
    assert wait_for(lambda: state(daemon, endpoint)["State"] == want, timeout, 0.1), state(daemon, endpoint)


def counters(daemon):
    try:
        with open(os.path.join(daemon.state_dir, "dataplane-counters.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def test_traffic_flows_through_the_endpoint_and_nowhere_else(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.150.0.0/16", cidr_c="10.151.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    w = t.workload

    if daemon.path != "splice":  # the link is made within a pass of the endpoint's available
        assert wait_for(lambda: in_kernel(daemon, t), 3, 0.1)
    else:
        assert not on_fast_path(t)
    assert client(scripts, w, "name", t.endpoint_ip, PORT) == "srv0"
    # 64 MiB both ways at once, checked end to end.
    n = 64 << 20
    total, sent, got = client(scripts, w, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got

    # Counted per endpoint and per interface (published every couple of seconds).
    def counted():
        c = counters(daemon)
        e = c.get("endpoints", {}).get(t.endpoint, {})
        i = c.get("interfaces", {}).get(t.endpoint_eni, {})
        return e.get("bytesIn", 0) >= n and e.get("bytesOut", 0) >= n and e.get("connections") == 2 and \
            i.get("bytesIn") == e.get("bytesIn")
    assert wait_for(counted, 5, 0.2), counters(daemon)

    # Only TCP: UDP to the endpoint gets nothing, not even an ICMP error.
    assert client(scripts, w, "udp", t.endpoint_ip, PORT) == "nothing"
    # No path to the provider's addresses except through the endpoint.
    for _, ip in t.targets:
        assert client(scripts, w, "probe", ip, TARGET_PORT, env={"TIMEOUT": "1.5"}) != "open"
    # And the provider can never open a connection into the consumer VPC.
    assert client(scripts, t.targets[0][0], "probe", t.workload_ip, 22, env={"TIMEOUT": "1.5"}) in (
        "timeout", "unreachable [Errno 101] Network is unreachable")
    assert client(scripts, t.targets[0][0], "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1.5"}) != "open"

    # Deleting the endpoint cuts a live connection and closes the address within a second.
    delete_resets_a_held_connection(daemon, scripts, t)


def delete_resets_a_held_connection(daemon, scripts, t, while_held=lambda: None):
    """A `hold` client on the endpoint (while_held() runs once it is connected), then
    DeleteVpcEndpoints: the client sees a reset within 1.5 s and the address closes."""
    p = subprocess.Popen([LINKPLANE, "exec", "--eni", t.workload, "--", PY, os.path.join(scripts, "client.py"), "hold",
                          t.endpoint_ip, str(PORT)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "connected"
        while_held()
        daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", t.endpoint, account="consumer")
        start = time.monotonic()
        assert p.stdout.readline().strip() == "reset"
        assert time.monotonic() - start < 1.5
    finally:
        p.kill()
        p.wait()
    wait_state(daemon, t.endpoint, "deleted")
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1"}) != "open"


def endpoint_behind_a_closed_group(daemon, t):
    """An available endpoint whose only security group admits nothing; returns the group."""
    sg = daemon.aws("ec2", "create-security-group", "--group-name", "closed", "--description", "no ingress",
                    "--vpc-id", t.cvpc, account="consumer")["GroupId"]
    create_endpoint(daemon, t, groups=[sg])
    wait_state(daemon, t.endpoint, "available")
    return sg


def test_security_group_without_the_rule_blocks_and_adding_it_opens(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.152.0.0/16", cidr_c="10.153.0.0/16")
    sg = endpoint_behind_a_closed_group(daemon, t)
    # The SYN is dropped: the client times out (no reset, as in AWS).
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1.5"}) == "timeout"
    daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", str(PORT),
               "--cidr", "10.153.1.0/24", account="consumer")
    start = time.monotonic()
    assert wait_for(lambda: client(scripts, t.workload, "probe", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "0.3"}) == "open", 3, 0)
    assert time.monotonic() - start < 2.5
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    # Another port stays closed by the group.
    assert client(scripts, t.workload, "probe", t.endpoint_ip, 80, env={"TIMEOUT": "1"}) == "timeout"


def test_network_acls_meet_every_packet_of_an_endpoints_connections(daemon, servers, scripts):
    """Network ACLs are stateless: every packet that crosses a subnet's boundary meets
    them, the answers of a connection too. An endpoint in a VPC whose ACLs filter stays
    off both fast paths (the BPF path passes only a connection's first packet through
    the VPC's stack, the conntrack path's answers meet the ACLs already translated) and
    says why; on every path a deny added while a connection is open stops its data, and
    removing the deny lets new connections through."""
    t = build(daemon, servers, cidr_p="10.186.0.0/16", cidr_c="10.187.0.0/16")
    # The client in a second subnet: the endpoint's subnet boundary lies between them.
    sub2 = daemon.aws("ec2", "create-subnet", "--vpc-id", t.cvpc, "--cidr-block", "10.187.2.0/24",
                      "--availability-zone-id", "use1-az1", account="consumer")["Subnet"]["SubnetId"]
    far = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub2, "--private-ip-address", "10.187.2.10",
                     account="consumer")["NetworkInterface"]["NetworkInterfaceId"]
    assert wait_for(lambda: "lp-" + far in netns(), 5)
    acl = daemon.aws("ec2", "create-network-acl", "--vpc-id", t.cvpc, account="consumer")["NetworkAcl"]["NetworkAclId"]
    entry = ["ec2", "create-network-acl-entry", "--network-acl-id", acl, "--protocol", "tcp", "--rule-action"]
    daemon.aws(*entry, "allow", "--ingress", "--rule-number", "100", "--port-range", f"From={PORT},To={PORT}",
               "--cidr-block", "10.187.2.0/24", account="consumer")
    daemon.aws(*entry, "allow", "--egress", "--rule-number", "100", "--port-range", "From=1024,To=65535",
               "--cidr-block", "10.187.2.0/24", account="consumer")
    assoc = daemon.aws("ec2", "describe-network-acls", "--filters", f"Name=association.subnet-id,Values={t.csub}",
                       account="consumer")["NetworkAcls"][0]["Associations"]
    assoc = next(a["NetworkAclAssociationId"] for a in assoc if a["SubnetId"] == t.csub)
    daemon.aws("ec2", "replace-network-acl-association", "--association-id", assoc, "--network-acl-id", acl,
               account="consumer")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert wait_for(lambda: client(scripts, far, "name", t.endpoint_ip, PORT) == "srv0", 5, 0.2)
    assert not in_kernel(daemon, t)
    if daemon.path == "bpf":
        refused = status(daemon).get("bpf_fastpath", {}).get("refused", {})
        assert "network ACL" in refused.get(t.endpoint, ""), refused
    chat = Chat(scripts, far, t.endpoint_ip)
    try:
        assert chat.say("before") == "ok"
        # A deny below the allow for the answers: the open connection's data stops.
        daemon.aws(*entry, "deny", "--egress", "--rule-number", "50", "--port-range", "From=1024,To=65535",
                   "--cidr-block", "10.187.2.0/24", account="consumer")
        time.sleep(1.0)
        assert chat.say("after") == "timeout"
    finally:
        chat.close()
    assert client(scripts, far, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1"}) == "timeout"
    daemon.aws("ec2", "delete-network-acl-entry", "--network-acl-id", acl, "--egress", "--rule-number", "50",
               account="consumer")
    assert wait_for(lambda: client(scripts, far, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "0.5"}) == "open",
                    5, 0)


def test_reject_cuts_a_live_connection(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.154.0.0/16", cidr_c="10.155.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    p = subprocess.Popen([LINKPLANE, "exec", "--eni", t.workload, "--", PY, os.path.join(scripts, "client.py"),
                          "hold", t.endpoint_ip, str(PORT)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "connected"
        daemon.aws("ec2", "reject-vpc-endpoint-connections", "--service-id", t.service_id, "--vpc-endpoint-ids",
                   t.endpoint)
        start = time.monotonic()
        assert p.stdout.readline().strip() == "reset"
        assert time.monotonic() - start < 2
    finally:
        p.kill()
        p.wait()
    assert state(daemon, t.endpoint)["State"] == "rejected"
    assert client(scripts, t.workload, "probe", t.endpoint_ip, PORT, env={"TIMEOUT": "1"}) != "open"


def test_health_checks_move_traffic_off_a_stopped_target(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.156.0.0/16", cidr_c="10.157.0.0/16", n_targets=2, health_interval=5)
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")

    def health():
        out = daemon.aws("elbv2", "describe-target-health", "--target-group-arn", t.tg)
        return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in out["TargetHealthDescriptions"]}
    ips = [ip for _, ip in t.targets]
    assert wait_for(lambda: health() == {ip: "healthy" for ip in ips}, 15, 0.5), health()
    # As an NLB does: the healthy target in the endpoint's zone (use1-az1) takes it all.
    seen = {client(scripts, t.workload, "name", t.endpoint_ip, PORT) for _ in range(8)}
    assert seen == {"srv0"}

    servers.stop("srv0")
    assert wait_for(lambda: health()[ips[0]] == "unhealthy", 20, 0.5), health()
    d = daemon.aws("elbv2", "describe-target-health", "--target-group-arn", t.tg, "--targets",
                   f"Id={ips[0]}")["TargetHealthDescriptions"][0]["TargetHealth"]
    assert d["Reason"] == "Target.FailedHealthChecks"
    # No healthy target left in the zone: the other zone serves.
    for _ in range(8):
        assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv1"


def test_proxy_protocol_v2_header_is_exactly_as_aws_sends_it(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.158.0.0/16", cidr_c="10.159.0.0/16", proxy=True)
    servers.stop("srv0")
    raw = os.path.join(scripts, "raw.txt")
    servers.start(t.targets[0][0], "srv0", raw=raw)
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    assert client(scripts, t.workload, "raw", t.endpoint_ip, PORT, "hi") == "sent"
    assert not in_kernel(daemon, t)  # the header must be written by someone: the forwarder
    assert wait_for(lambda: os.path.exists(raw) and open(raw).read().strip(), 3)
    data = bytes.fromhex(open(raw).read().split()[0])
    vpce = t.endpoint.encode()
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    assert data[:12] == sig
    assert data[12:14] == b"\x21\x11"  # v2 PROXY, TCP over IPv4
    length = struct.unpack("!H", data[14:16])[0]
    assert length == 12 + 3 + 1 + len(vpce)
    src, dst = data[16:20], data[20:24]
    sport, dport = struct.unpack("!HH", data[24:28])
    assert src == bytes(int(x) for x in t.workload_ip.split("."))
    assert dst == bytes(int(x) for x in t.endpoint_ip.split("."))
    assert sport > 1024 and dport == PORT
    assert data[28:31] == b"\xea" + struct.pack("!H", 1 + len(vpce))
    assert data[31:32] == b"\x01" and data[32:16 + length] == vpce
    assert data[16 + length:] == b"hi"


def test_aws_service_without_a_backend_fails_with_a_clear_error(daemon):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.160.0.0/16", account="consumer")["Vpc"]["VpcId"]
    sub = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.160.1.0/24",
                     account="consumer")["Subnet"]["SubnetId"]
    e = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc,
                   "--service-name", "com.amazonaws.us-east-1.kms", "--subnet-ids", sub, "--no-private-dns-enabled",
                   account="consumer")["VpcEndpoint"]
    wait_state(daemon, e["VpcEndpointId"], "failed")
    err = state(daemon, e["VpcEndpointId"])["LastError"]
    assert err["Code"] == "ServiceBackendUnavailable"
    assert "com.amazonaws.us-east-1.kms" in err["Message"] and "aws_service_backends" in err["Message"]


def test_kill9_and_restart_keep_forwarding_and_stop_leaves_nothing(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.161.0.0/16", cidr_c="10.162.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    if daemon.path != "splice":
        assert wait_for(lambda: in_kernel(daemon, t), 3, 0.1)
    assert client(scripts, t.workload, "name", t.endpoint_ip, PORT) == "srv0"
    ours = {"lp-" + t.pvpc, "lp-" + t.cvpc, "lp-" + t.workload} | {"lp-" + e for e, _ in t.targets}

    # A connection open across the kill: on the fast path it lives in the kernel,
    # so it carries data while no daemon runs, and after the restart adopted it.
    chat = Chat(scripts, t.workload, t.endpoint_ip)
    assert chat.say("before") == "ok"
    daemon.kill()
    if daemon.path != "splice":
        assert chat.say("while down") == "ok"
    # The server lives in its workload namespace, which survives the daemon.
    daemon.start()
    assert wait_for(lambda: client(scripts, t.workload, "name", t.endpoint_ip, PORT,
                                   env={"TIMEOUT": "0.5"}) == "srv0", 5, 0.1)
    assert state(daemon, t.endpoint)["State"] == "available"
    if daemon.path != "splice":
        time.sleep(2.5)  # a reconciler pass and a counters round over what it adopted
        assert chat.say("after restart") == "ok"
        assert in_kernel(daemon, t)
    chat.close()

    servers.stop_all()
    assert daemon.stop() == 0
    assert not (ours & netns()), ours & netns()
    daemon.start()  # the fixture expects a running daemon to stop
