"""Data plane benchmark: the same two-VPC topology, four ways, in one run.

  direct     client namespace -> router namespace -> server namespace (kernel routing only)
  fast       consumer workload -> endpoint -> provider workload through linkplane's kernel
             fast path: FAST_PATH="bpf" (default, what the daemon's path = "auto" takes;
             tc programs and maps, issue 18) or FAST_PATH="kernel" (conntrack NAT on both
             sides of a veth link)
  linkplane  the same through the splice forwarder (`path = "splice"`: linkplane's listener
             in the consumer VPC, outgoing socket in the provider VPC)
  haproxy    the same namespaces and addresses as linkplane, HAProxy 2.6 in TCP mode with
             splice, `namespace` on bind (consumer VPC) and server (provider VPC), source =
             the NLB node address. Splice is forced for the iperf3 frontends: with only
             `option splice-auto` HAProxy 2.6 copies through user space on this kernel
             (strace shows recvfrom/sendto), which halved its throughput. The run fails
             unless HAProxy's own counters show it made pipes.

For each: iperf3 single-stream and 4-stream throughput, wrk against nginx with
`Connection: close` (new connections per second, latency), and the CPU the proxy used
(and the iperf3 client: one thread, which a proxy can make the limit; see docs/dataplane.md),
also as CPU per Gbit/s and per thousand new connections per second (host CPU, which is
where the fast path's cost is, and the proxy process's).

Then, on the fast path, IDLE_CONNS (default 10,000) concurrent idle connections through
the one endpoint, then a message echoed on every one of them: how many were lost, and
the memory per connection (the kernel's conntrack entries, from /proc/slabinfo, plus
what the daemon's RSS grew by; on the BPF path the connection table is a preallocated
map, so the kernel's share is its entry size, printed instead). Bounded: at most 90 s to open them, 90 s for the echo.
Every run is bounded (DURATION seconds); everything made is removed at the end, even on
failure. Needs root, linkplane built (LP_BUILD_DIR), iperf3, wrk, nginx, haproxy.
Run with /usr/bin/python3 (boto3)."""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD_DIR = os.environ.get("LP_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
LINKPLANE = os.path.abspath(os.path.join(BUILD_DIR, "src", "daemon", "linkplane"))
DURATION = int(os.environ.get("DURATION", "5"))
REPEAT = int(os.environ.get("REPEAT", "3"))
WRK_CONNS = int(os.environ.get("WRK_CONNS", "32"))
TAG = f"{os.getpid():x}"[-5:]
IPERF_PORT, HTTP_PORT = 5201, 8080          # on the provider workload
PROCS = 4                                   # iperf3 servers on IPERF_PORT.. (one client each)
LP_IPERF, LP_HTTP = 5201, 80                # NLB listener ports (linkplane endpoint)
IDLE_PORT = 7000                            # the idle connections' echo server and listener
IDLE_CONNS = int(os.environ.get("IDLE_CONNS", "10000"))
FAST_PATH = os.environ.get("FAST_PATH", "bpf")  # the daemon's path for the "fast" contender
HA_IPERF, HA_HTTP = 15201, 10080            # HAProxy's ports on the same endpoint address
# [metrics] sample_seconds for the daemon (1-60; unset: the daemon's default, 10).
# bench/dataplane/metrics_on_off.sh runs the bench at 1 and at 60 and compares the ratios.
METRICS_SAMPLE_SECONDS = int(os.environ.get("LP_METRICS_SAMPLE_SECONDS", "0"))

procs = []
cleanups = []


def sh(*args, check=True, **kw):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{args}: {p.stderr.strip()}")
    return p.stdout


def spawn(*args, **kw):
    p = subprocess.Popen([str(a) for a in args], start_new_session=True, **kw)
    procs.append(p)
    return p


def cpu_seconds(pid):
    """User+system CPU of a process and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """User+system CPU of every waited-for child so far (the iperf3 client: `ip netns exec` execs it)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def host_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)  # busy, total jiffies


LOADS = ("iperf1", "iperf4", "iperf4p", "wrk")


def measure(load, ns, target_ip, iperf_port, http_port, proxy_pid):
    """Runs one load from namespace ns; returns a dict of results."""
    out = {}
    if load != "wrk":
        # One stream; 4 streams from one process (iperf3 3.12 runs them on one
        # thread); 4 processes of one stream each.
        nproc, streams = {"iperf1": (1, 1), "iperf4": (1, 4), "iperf4p": (PROCS, 1)}[load]
        c0 = cpu_seconds(proxy_pid) if proxy_pid else 0
        h0 = host_cpu()
        k0 = children_cpu()
        clients = [subprocess.Popen(["ip", "netns", "exec", ns, "iperf3", "-c", target_ip, "-p", str(iperf_port + i),
                                     "-t", str(DURATION), "-P", str(streams), "-J"], stdout=subprocess.PIPE, text=True)
                   for i in range(nproc)]
        results = [c.communicate(timeout=DURATION + 30)[0] for c in clients]
        if any(c.returncode != 0 for c in clients):
            raise RuntimeError(f"iperf3 failed: {results}")
        h1 = host_cpu()
        out[f"{load}_client_cpu"] = (children_cpu() - k0) / DURATION
        out[f"{load}_gbps"] = sum(json.loads(r)["end"]["sum_received"]["bits_per_second"] for r in results) / 1e9
        out[f"{load}_proxy_cpu"] = ((cpu_seconds(proxy_pid) - c0) / DURATION) if proxy_pid else 0.0
        out[f"{load}_host_cpu"] = (h1[0] - h0[0]) / max(1, h1[1] - h0[1]) * os.cpu_count()
        time.sleep(0.5)
        return out
    c0 = cpu_seconds(proxy_pid) if proxy_pid else 0
    h0 = host_cpu()
    s0 = syn_retransmissions(ns)
    text = sh("ip", "netns", "exec", ns, "wrk", "-t", "2", "-c", WRK_CONNS, "-d", f"{DURATION}s", "--latency",
              "-H", "Connection: close", f"http://{target_ip}:{http_port}/", timeout=DURATION + 30)
    h1 = host_cpu()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", text)
        lat[pct] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")
    errors = re.search(r"Socket errors: (.*)", text)
    out.update(conn_per_s=rps, p50_ms=lat["50"], p99_ms=lat["99"], wrk_errors=errors.group(1) if errors else "",
               wrk_syn_retrans=float(syn_retransmissions(ns) - s0),
               wrk_proxy_cpu=((cpu_seconds(proxy_pid) - c0) / DURATION) if proxy_pid else 0.0,
               wrk_host_cpu=(h1[0] - h0[0]) / max(1, h1[1] - h0[1]) * os.cpu_count())
    time.sleep(0.5)
    return out


def syn_retransmissions(ns):
    """SYNs the client namespace sent again (each a connection that waited 1 s or more in
    connect, which wrk's latency does not include: it times a request from its write)."""
    v = json.loads(sh("ip", "netns", "exec", ns, "nstat", "-asz", "--json"))
    return int(v.get("kernel", v).get("TcpExtTCPSynRetrans", 0))


def derive(x):
    """CPU per unit of work, from one round's figures of one contender: per Gbit/s of
    throughput and per thousand new connections per second (in cores)."""
    for load in ("iperf1", "iperf4p"):
        gbps = x.get(f"{load}_gbps")
        for who in ("host", "proxy"):
            if gbps:
                x[f"{load}_{who}_cpu_per_gbps"] = x[f"{load}_{who}_cpu"] / gbps
    if x.get("conn_per_s"):
        for who in ("host", "proxy"):
            x[f"wrk_{who}_cpu_per_kconn"] = x[f"wrk_{who}_cpu"] / (x["conn_per_s"] / 1000)


# The idle connections' server (provider workload) and client (consumer workload):
# one thread each, epoll, descriptors raised to fit.
IDLE_SERVER = r'''
import resource, selectors, socket, sys
n = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, max(n + 256, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1]))); ls.listen(4096); ls.setblocking(False)
sel = selectors.DefaultSelector(); sel.register(ls, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            try:
                while True:
                    c, _ = ls.accept(); c.setblocking(False); sel.register(c, selectors.EVENT_READ)
            except BlockingIOError:
                pass
            continue
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(s); s.close(); continue
        try:
            s.send(d)  # a few bytes: always fits the send buffer
        except OSError:
            pass
'''

IDLE_CLIENT = r'''
import json, resource, selectors, socket, sys, time
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, max(n + 256, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
sel = selectors.DefaultSelector()
socks, pending, failed, made = [], set(), 0, 0
deadline = time.monotonic() + 90
while (made < n or pending) and time.monotonic() < deadline:
    while made < n and len(pending) < 256:  # a bounded number of handshakes in flight
        s = socket.socket(); s.setblocking(False)
        try:
            s.connect((ip, port))
        except BlockingIOError:
            pass
        sel.register(s, selectors.EVENT_WRITE); pending.add(s); made += 1
    for key, _ in sel.select(timeout=1):
        s = key.fileobj; sel.unregister(s); pending.discard(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            failed += 1; s.close()
        else:
            socks.append(s)
print(json.dumps({"opened": len(socks), "failed": failed, "unfinished": len(pending) + n - made}), flush=True)
sys.stdin.readline()  # idle until told
for i, s in enumerate(socks):
    s.send(b"%010d" % i); sel.register(s, selectors.EVENT_READ, i)
echoed, got = 0, {}
deadline = time.monotonic() + 90
while echoed < len(socks) and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1):
        try:
            d = key.fileobj.recv(64)
        except OSError:
            d = b""
        if not d:
            sel.unregister(key.fileobj); continue
        got[key.data] = got.get(key.data, b"") + d
        if len(got[key.data]) >= 10:
            echoed += got[key.data][:10] == b"%010d" % key.data
            sel.unregister(key.fileobj)
print(json.dumps({"echoed": echoed, "lost": len(socks) - echoed}), flush=True)
'''


def start_idle_server(ns, tmp):
    path = os.path.join(tmp, "idle_server.py")
    with open(path, "w") as f:
        f.write(IDLE_SERVER)
    spawn("ip", "netns", "exec", ns, "/usr/bin/python3", path, IDLE_PORT, max(IDLE_CONNS, 1),
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def conntrack_slab_bytes():
    """Bytes of conntrack entries the kernel holds now (all namespaces), from /proc/slabinfo."""
    with open("/proc/slabinfo") as f:
        for line in f:
            if line.startswith("nf_conntrack "):
                v = line.split()
                return int(v[1]) * int(v[3])  # active objects x object size
    return 0


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def conntrack_count(ns):
    return int(sh("ip", "netns", "exec", ns, "cat", "/proc/sys/net/netfilter/nf_conntrack_count").strip() or 0)


def read_line(p, timeout):
    """One line of p's stdout within timeout seconds (the client bounds itself too)."""
    import select
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"no answer from the idle connections' client in {timeout} s")
    return p.stdout.readline()


def idle_connections(t, d, tmp):
    """IDLE_CONNS idle connections through the endpoint on the fast path, then an echo
    on each; the memory they hold in the kernel (conntrack) and in the daemon."""
    d.switch(FAST_PATH, t)
    wait_port(t["client_ns"], t["endpoint_ip"], IDLE_PORT)
    time.sleep(2.5)  # one of the daemon's counter rounds, so its RSS is settled before
    ns = (t["cvpc_ns"], t["pvpc_ns"])
    slab0, rss0, ct0 = conntrack_slab_bytes(), rss_bytes(d.pid), sum(conntrack_count(n) for n in ns)
    path = os.path.join(tmp, "idle_client.py")
    with open(path, "w") as f:
        f.write(IDLE_CLIENT)
    p = spawn("ip", "netns", "exec", t["client_ns"], "/usr/bin/python3", path, t["endpoint_ip"], IDLE_PORT,
              IDLE_CONNS, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    opened = json.loads(read_line(p, 120))
    open_s = time.monotonic() - t0
    time.sleep(4.5)  # two counter rounds (the daemon reads the links' connections every 2 s)
    slab1, rss1, ct1 = conntrack_slab_bytes(), rss_bytes(d.pid), sum(conntrack_count(n) for n in ns)
    p.stdin.write("go\n")
    p.stdin.flush()
    echo = json.loads(read_line(p, 120))
    p.wait(30)
    n = max(1, opened["opened"])
    return dict(idle_wanted=IDLE_CONNS, idle_opened=opened["opened"], idle_failed=opened["failed"],
                idle_unfinished=opened["unfinished"], idle_open_s=open_s, idle_echoed=echo["echoed"],
                idle_lost=echo["lost"], idle_conntrack_entries=ct1 - ct0,
                idle_conntrack_bytes_per_conn=(slab1 - slab0) / n, idle_daemon_bytes_per_conn=(rss1 - rss0) / n)


def start_servers(ns, tmp):
    """iperf3 and nginx (return 200, 2 workers) in namespace ns."""
    for i in range(PROCS):
        spawn("ip", "netns", "exec", ns, "iperf3", "-s", "-p", IPERF_PORT + i, stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL)
    conf = os.path.join(tmp, f"nginx-{ns}.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2;
pid {tmp}/nginx-{ns}.pid;
error_log {tmp}/nginx-{ns}.err;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server {{ listen {HTTP_PORT} reuseport backlog=4096; location / {{ return 200 "ok\\n"; }} }}
}}
""")
    spawn("ip", "netns", "exec", ns, "nginx", "-c", conf, "-g", "daemon off;", stdout=subprocess.DEVNULL,
          stderr=subprocess.DEVNULL)


def wait_port(ns, ip, port, timeout=10):
    code = f"import socket;s=socket.socket();s.settimeout(0.5);s.connect(('{ip}',{port}))"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", code],
                          capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{ip}:{port} not reachable from {ns}")


def direct_topology(tmp):
    """client -- router -- server, kernel routing only; returns (client ns, server ip, server ns)."""
    c, r, s = (f"lp-bd{TAG}-{x}" for x in "crs")
    for ns in (c, r, s):
        sh("ip", "netns", "add", ns)
        cleanups.append(lambda ns=ns: sh("ip", "netns", "del", ns, check=False))
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", f"lpbc{TAG}", "netns", c, "type", "veth", "peer", "name", f"lpbrc{TAG}", "netns", r)
    sh("ip", "link", "add", f"lpbs{TAG}", "netns", s, "type", "veth", "peer", "name", f"lpbrs{TAG}", "netns", r)
    for ns, dev, addr in ((c, f"lpbc{TAG}", "10.231.1.10/24"), (r, f"lpbrc{TAG}", "10.231.1.1/24"),
                          (r, f"lpbrs{TAG}", "10.232.1.1/24"), (s, f"lpbs{TAG}", "10.232.1.10/24")):
        sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
    sh("ip", "-n", c, "route", "add", "default", "via", "10.231.1.1")
    sh("ip", "-n", s, "route", "add", "default", "via", "10.232.1.1")
    sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    start_servers(s, tmp)
    return c, "10.232.1.10", s


class LinkplaneDaemon:
    """The daemon, restartable with the other data plane path over the same state
    (kill -9, then a start that adopts the topology: what a user switching paths does)."""

    def __init__(self, tmp):
        self.tmp, self.port, self.proc = tmp, free_port(), None
        self.state = os.path.join(tmp, "state")
        self.log = open(os.path.join(tmp, "linkplane.log"), "ab")

    def start(self, path):
        cfg = os.path.join(self.tmp, "linkplane.toml")
        with open(cfg, "w") as f:
            f.write(f'dns_listen = ""\n[dataplane]\nendpoint_bandwidth_gbps = 0\npath = "{path}"\n')
            if os.environ.get("LP_DP_WORKERS"):  # forwarding loops; default one per core
                f.write(f'workers = {int(os.environ["LP_DP_WORKERS"])}\n')
            if METRICS_SAMPLE_SECONDS:  # how often the CloudWatch sampler reads the counters
                f.write(f"[metrics]\nsample_seconds = {METRICS_SAMPLE_SECONDS}\n")
        self.proc = spawn(LINKPLANE, "serve", "--config", cfg, "--state-dir", self.state, "--listen",
                          f"127.0.0.1:{self.port}", stdout=subprocess.PIPE, stderr=self.log)
        self.path = path
        line = self.proc.stdout.readline()
        if not line.startswith(b"linkplane listening"):
            raise RuntimeError(f"daemon did not start: {line!r}")

    def switch(self, path, t):
        """Restarts on the other path and waits until the endpoint is carried by it."""
        if self.path == path:
            return
        self.proc.kill()
        self.proc.wait()
        self.start(path)
        deadline = time.time() + 30
        while carried_by(self, t) != path:
            if time.time() > deadline:
                raise RuntimeError(f"endpoint not on the {path} path 30 s after the restart")
            time.sleep(0.2)
        try:
            wait_port(t["client_ns"], t["endpoint_ip"], LP_IPERF)
            wait_port(t["client_ns"], t["endpoint_ip"], LP_HTTP)
        except RuntimeError:
            self.log.flush()
            with open(os.path.join(self.tmp, "linkplane.log")) as f:
                sys.stderr.write(f"after switching to {path}, the daemon's log ends:\n" + "".join(f.readlines()[-40:]))
            raise

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def on_fast_path(t):
    p = subprocess.run(["ip", "netns", "exec", t["cvpc_ns"], "nft", "list", "map", "ip", "lp-fast", "eps"],
                       capture_output=True, text=True)
    return p.returncode == 0 and f"{t['endpoint_ip']} : jump" in p.stdout


def carried_by(d, t):
    """The path carrying the endpoint now: "kernel", "bpf" (a link in `linkplane status`) or "splice"."""
    if on_fast_path(t):
        return "kernel"
    p = subprocess.run([LINKPLANE, "status", "--state-dir", d.state, "--json"], capture_output=True, text=True)
    links = json.loads(p.stdout).get("bpf_fastpath", {}).get("links", []) if p.returncode == 0 else []
    return "bpf" if any(link.get("endpoint") == t["endpoint"] for link in links) else "splice"


def linkplane_topology(tmp):
    """A real daemon: provider VPC + workload + NLB + service, consumer VPC + workload + endpoint."""
    import boto3
    from botocore.config import Config
    d = LinkplaneDaemon(tmp)
    # Not on "bpf" yet: its SYN path routes the endpoint address to the link for every
    # port, so HAProxy's listeners on that address are reachable on the other paths only
    # (the splice phase), and are first waited for below.
    d.start("kernel" if FAST_PATH == "kernel" else "splice")
    cleanups.append(d.stop)
    port = d.port

    def client(svc, acct):
        key, secret = {"p": ("AKIALINKPLANEPROVIDR", "provider/secret/key/0000000000000000000000"),
                       "c": ("AKIALINKPLANECONSUMR", "consumer/secret/key/0000000000000000000000")}[acct]
        return boto3.client(svc, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}))
    pe, pl, ce = client("ec2", "p"), client("elbv2", "p"), client("ec2", "c")
    pvpc = pe.create_vpc(CidrBlock="10.233.0.0/16")["Vpc"]["VpcId"]
    psub = pe.create_subnet(VpcId=pvpc, CidrBlock="10.233.1.0/24", AvailabilityZoneId="use1-az1")["Subnet"]["SubnetId"]
    srv = pe.create_network_interface(SubnetId=psub, PrivateIpAddress="10.233.1.10")["NetworkInterface"]
    # As on AWS: the target's group admits the load balancer's nodes (the VPC's CIDR).
    pe.authorize_security_group_ingress(GroupId=srv["Groups"][0]["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.233.0.0/16"}]}])
    tgs = {}
    for name, p in [(f"iperf{i}", IPERF_PORT + i) for i in range(PROCS)] + [("http", HTTP_PORT), ("idle", IDLE_PORT)]:
        tg = pl.create_target_group(Name=f"bench-{name}", Protocol="TCP", Port=p, VpcId=pvpc,
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        pl.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.233.1.10"}])
        tgs[name] = tg
    lb = pl.create_load_balancer(Name="bench", Type="network", Scheme="internal",
                                 Subnets=[psub])["LoadBalancers"][0]["LoadBalancerArn"]
    for name, p in [(f"iperf{i}", LP_IPERF + i) for i in range(PROCS)] + [("http", LP_HTTP), ("idle", IDLE_PORT)]:
        pl.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=p,
                           DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs[name]}])
    svc = pe.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb],
                                                       AcceptanceRequired=False)["ServiceConfiguration"]
    pe.modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"],
                                               AddAllowedPrincipals=["arn:aws:iam::222222222222:root"])
    cvpc = ce.create_vpc(CidrBlock="10.234.0.0/16")["Vpc"]["VpcId"]
    csub = ce.create_subnet(VpcId=cvpc, CidrBlock="10.234.1.0/24", AvailabilityZoneId="use1-az1")["Subnet"]["SubnetId"]
    cli = ce.create_network_interface(SubnetId=csub, PrivateIpAddress="10.234.1.10")["NetworkInterface"]
    ep = ce.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=cvpc, ServiceName=svc["ServiceName"],
                                SubnetIds=[csub], PrivateDnsEnabled=False)["VpcEndpoint"]
    deadline = time.time() + 10
    while ce.describe_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])["VpcEndpoints"][0]["State"] != "available":
        if time.time() > deadline:
            raise RuntimeError("endpoint did not become available")
        time.sleep(0.2)
    ep_ip = ce.describe_network_interfaces(
        NetworkInterfaceIds=ep["NetworkInterfaceIds"])["NetworkInterfaces"][0]["PrivateIpAddress"]
    node_ip = pe.describe_network_interfaces(Filters=[{"Name": "interface-type", "Values": ["network_load_balancer"]}]
                                             )["NetworkInterfaces"][0]["PrivateIpAddress"]
    start_servers("lp-" + srv["NetworkInterfaceId"], tmp)
    start_idle_server("lp-" + srv["NetworkInterfaceId"], tmp)
    return dict(daemon=d, client_ns="lp-" + cli["NetworkInterfaceId"], endpoint_ip=ep_ip, node_ip=node_ip,
                endpoint=ep["VpcEndpointId"],
                cvpc_ns="lp-" + cvpc, pvpc_ns="lp-" + pvpc, server_ip="10.233.1.10")


def start_haproxy(t, tmp):
    conf = os.path.join(tmp, "haproxy.cfg")
    iperf = "".join(f"""frontend iperf{i}
  bind {t['endpoint_ip']}:{HA_IPERF + i} namespace {t['cvpc_ns']}
  option splice-request
  option splice-response
  default_backend iperf{i}
backend iperf{i}
  option splice-request
  option splice-response
  server s1 {t['server_ip']}:{IPERF_PORT + i} namespace {t['pvpc_ns']} source {t['node_ip']}
""" for i in range(PROCS))
    with open(conf, "w") as f:
        f.write(f"""global
  nbthread 2
  stats socket {tmp}/haproxy.sock mode 600 level admin
  maxconn 4000
defaults
  mode tcp
  option splice-auto
  timeout connect 5s
  timeout client 60s
  timeout server 60s
{iperf}frontend http
  bind {t['endpoint_ip']}:{HA_HTTP} namespace {t['cvpc_ns']}
  default_backend http
backend http
  server s1 {t['server_ip']}:{HTTP_PORT} namespace {t['pvpc_ns']} source {t['node_ip']}
""")
    return spawn("haproxy", "-f", conf, "-db", stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "haproxy.err"), "w"))


def haproxy_pipes(tmp):
    """Pipes HAProxy has made so far (in use + pooled), from its stats socket: 0 means it never spliced."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(tmp, "haproxy.sock"))
        s.sendall(b"show info\n")
        text = b"".join(iter(lambda: s.recv(65536), b"")).decode()
    info = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    return int(info.get("PipesUsed", 0)) + int(info.get("PipesFree", 0))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    for tool in ("iperf3", "wrk", "nginx", "haproxy"):
        if not shutil.which(tool):
            sys.exit(f"bench/dataplane: {tool} is missing (scripts/install-deps.sh installs it)")
    if os.geteuid() != 0:
        sys.exit("bench/dataplane: needs root")
    tmp = tempfile.mkdtemp(prefix="lp-bench-dp-")
    cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    samples = {"direct": [], "fast": [], "linkplane": [], "haproxy": []}  # one dict per round
    try:
        c, ip, _ = direct_topology(tmp)
        wait_port(c, ip, IPERF_PORT)
        wait_port(c, ip, HTTP_PORT)
        t = linkplane_topology(tmp)
        wait_port(t["client_ns"], t["endpoint_ip"], LP_IPERF)
        wait_port(t["client_ns"], t["endpoint_ip"], LP_HTTP)
        h = start_haproxy(t, tmp)
        try:
            wait_port(t["client_ns"], t["endpoint_ip"], HA_IPERF)
        except RuntimeError:
            print(open(os.path.join(tmp, "haproxy.err")).read(), file=sys.stderr)
            raise
        d = t["daemon"]
        runs = {
            "direct": lambda load: measure(load, c, ip, IPERF_PORT, HTTP_PORT, None),
            # The fast path has no process on the path: "proxy CPU" is the daemon's
            # (its counters and health upkeep), the packets' cost is in host CPU.
            "fast": lambda load: measure(load, t["client_ns"], t["endpoint_ip"], LP_IPERF, LP_HTTP, d.pid),
            "linkplane": lambda load: measure(load, t["client_ns"], t["endpoint_ip"], LP_IPERF, LP_HTTP, d.pid),
            "haproxy": lambda load: measure(load, t["client_ns"], t["endpoint_ip"], HA_IPERF, HA_HTTP, h.pid),
        }
        # Each round has two phases, one per linkplane path (the daemon restarted in
        # between, the order alternating by round): the fast path against direct,
        # then the splice path against HAProxy. Within a phase each load runs for
        # both back to back, in an order that alternates from one load to the next,
        # so a change in background load hits both alike (the per-round ratios);
        # the table shows the median of each figure.
        turn = 0
        for r in range(REPEAT):
            for name in samples:
                samples[name].append({})
            phases = [(FAST_PATH, ["direct", "fast"]), ("splice", ["linkplane", "haproxy"])]
            for path, pair in (phases if r % 2 == 0 else phases[::-1]):
                d.switch(path, t)
                for load in LOADS:
                    order = pair if turn % 2 == 0 else pair[::-1]
                    turn += 1
                    for name in order:
                        samples[name][r].update(runs[name](load))
        idle = idle_connections(t, d, tmp) if IDLE_CONNS > 0 else {}
        pipes = haproxy_pipes(tmp)
        if pipes == 0:
            raise RuntimeError("HAProxy made no pipe: it copied instead of splicing, so the comparison is void")
        print(f"HAProxy spliced (its pipes: {pipes})")
    finally:
        for p in reversed(procs):
            if p.poll() is None and p.args[0] != LINKPLANE:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for fn in reversed(cleanups):
            fn()
    for rows in samples.values():
        for x in rows:
            derive(x)
    results = {}
    for name, rows in samples.items():
        if rows:
            results[name] = {k: (sorted(r[k] for r in rows)[len(rows) // 2] if isinstance(rows[0][k], float)
                                 else rows[0][k]) for k in rows[0]}
    report(results, samples)
    report_idle(idle)


def report_idle(x):
    if not x:
        return
    print(f"\nIdle connections through one endpoint on the {FAST_PATH} fast path: {x['idle_opened']} of "
          f"{x['idle_wanted']} "
          f"opened in {x['idle_open_s']:.1f} s ({x['idle_failed']} refused or failed, {x['idle_unfinished']} "
          f"unfinished), then a message echoed on each: {x['idle_echoed']} echoed, {x['idle_lost']} lost")
    print(f"  conntrack entries held: {x['idle_conntrack_entries']} (consumer and provider namespaces: two per "
          f"connection on the kernel path; the BPF path's SYNs are untracked, its table is the preallocated "
          f"lp_conns map, two entries per connection)")
    print(f"  memory per connection: kernel conntrack {x['idle_conntrack_bytes_per_conn']:.0f} B, daemon RSS "
          f"{x['idle_daemon_bytes_per_conn']:.0f} B (the endpoints' own sockets are the client's and server's)")
    print(json.dumps(x))


def report(r, samples):
    rows = [("iperf3 1 stream (Gbit/s)", "iperf1_gbps", "{:.2f}"),
            ("iperf3 4 streams, 1 process", "iperf4_gbps", "{:.2f}"),
            ("iperf3 4 streams, 4 processes", "iperf4p_gbps", "{:.2f}"),
            ("  proxy CPU, 1 stream (cores)", "iperf1_proxy_cpu", "{:.2f}"),
            ("  proxy CPU, 4 streams (cores)", "iperf4_proxy_cpu", "{:.2f}"),
            ("  client CPU, 4 streams (cores)", "iperf4_client_cpu", "{:.2f}"),
            ("  host CPU, 4 streams (cores)", "iperf4_host_cpu", "{:.2f}"),
            ("  proxy CPU, 4 processes (cores)", "iperf4p_proxy_cpu", "{:.2f}"),
            ("  host CPU, 4 processes (cores)", "iperf4p_host_cpu", "{:.2f}"),
            ("wrk new connections/s", "conn_per_s", "{:.0f}"),
            ("  latency p50 (ms)", "p50_ms", "{:.2f}"),
            ("  latency p99 (ms)", "p99_ms", "{:.2f}"),
            ("  SYN retransmissions under wrk", "wrk_syn_retrans", "{:.0f}"),
            ("  proxy CPU under wrk (cores)", "wrk_proxy_cpu", "{:.2f}"),
            ("  host CPU under wrk (cores)", "wrk_host_cpu", "{:.2f}"),
            ("host CPU per Gbit/s, 1 stream", "iperf1_host_cpu_per_gbps", "{:.3f}"),
            ("host CPU per Gbit/s, 4 processes", "iperf4p_host_cpu_per_gbps", "{:.3f}"),
            ("proxy CPU per Gbit/s, 4 processes", "iperf4p_proxy_cpu_per_gbps", "{:.3f}"),
            ("host CPU per 1,000 conn/s", "wrk_host_cpu_per_kconn", "{:.3f}"),
            ("proxy CPU per 1,000 conn/s", "wrk_proxy_cpu_per_kconn", "{:.3f}")]
    cols = [c for c in ("direct", "fast", "linkplane", "haproxy") if c in r]
    print(f"\nData plane benchmark ({DURATION}s per run, median of {REPEAT} alternating rounds, "
          f"wrk -c{WRK_CONNS} Connection: close, {os.cpu_count()} cores, "
          f"metrics sample_seconds {METRICS_SAMPLE_SECONDS or 'default'})\n")
    print(f"(fast = the {FAST_PATH} fast path, linkplane = splice forwarder; \"proxy CPU\" of fast is the daemon's "
          "own)")
    ratios = [("fast", "direct"), ("linkplane", "direct"), ("haproxy", "direct"), ("linkplane", "haproxy")]
    print(f"{'':34}" + "".join(f"{c:>12}" for c in cols) + "".join(f"{a[:4] + '/' + b[:6]:>13}" for a, b in ratios))
    for label, key, fmt in rows:
        line = f"{label:34}" + "".join(f"{fmt.format(r[c].get(key, float('nan'))):>12}" for c in cols)
        for a, b in ratios:
            ok = a in r and b in r and r[a].get(key) is not None and r[b].get(key)
            line += f"{r[a][key] / r[b][key]:>13.2f}" if ok else f"{'':>13}"
        print(line)
    for c in cols:
        if r[c].get("wrk_errors"):
            print(f"wrk socket errors ({c}): {r[c]['wrk_errors']}")
    print()
    retries(samples)
    paired(samples)
    print()
    print(json.dumps(r))


def retries(samples):
    """SYN retransmissions in each round's wrk run, per contender (0 unless connections waited)."""
    print("SYN retransmissions under wrk, per round: " + ", ".join(
        f"{name} {[int(x.get('wrk_syn_retrans', 0)) for x in rows]}" for name, rows in samples.items() if rows))


def paired(samples):
    """Per-round ratios of contenders measured seconds apart: steadier than medians taken apart.
    fast/direct against the issue's 0.8x (p99 latency: at most 1.5x), linkplane/HAProxy against 1.2x."""
    for a, b, goal in (("fast", "direct", 0.8), ("linkplane", "haproxy", 1.2)):
        lp, ha = samples[a], samples[b]
        if not lp or not ha:
            continue
        print(f"{a}/{b} per round (median, lowest, highest; rounds at {goal}x or more):")
        for label, key in (("iperf3 1 stream", "iperf1_gbps"), ("iperf3 4 streams, 1 process", "iperf4_gbps"),
                           ("iperf3 4 streams, 4 processes", "iperf4p_gbps"), ("wrk new connections/s", "conn_per_s"),
                           ("latency p99 (lower is better)", "p99_ms")):
            ratios = sorted(x[key] / y[key] for x, y in zip(lp, ha) if y[key])
            if ratios:
                ok = sum((x <= 1.5) if key == "p99_ms" else (x >= goal) for x in ratios)
                print(f"  {label:32}{ratios[len(ratios) // 2]:6.2f}{ratios[0]:6.2f}{ratios[-1]:6.2f}"
                      f"   {ok} of {len(ratios)} meet it   {[round(x, 2) for x in ratios]}")


if __name__ == "__main__":
    main()
