"""Scale benchmark (issue 14's targets): a real `linkplane serve` with the data plane
on, built up through the real EC2/ELBv2 API with boto3 to V consumer VPCs x E
interface endpoints over 10 services of 2 provider accounts, then measured:

  - CreateVpcEndpoint latency, the first 100 against the last 100 (target: within 2x);
  - create -> available at full size, for a batch and for one endpoint alone (p99 < 1 s);
  - idle daemon CPU after convergence (< 2 % of one core), RSS and PSS;
  - DescribeVpcEndpoints of everything, paginated as the CLI does (< 2 s);
  - clean stop (< 60 s, no namespace left) and restart until every endpoint forwards
    and every name answers (< 60 s); with KILL9=1 also kill -9 and restart.

Parameters (environment): V (1000), E (10), SERVICES (10), THREADS (8), CONSUMERS
(consumer accounts, 10), WORKERS (data plane loops, 0 = one per core), IDLE_SECONDS
(30), SAMPLE (endpoints probed for traffic and names, 0 = all; default 2000),
CONVERGE_TIMEOUT (s, default 120 + V*E/20), KILL9 (1: also kill -9 and restart; 0 skips it), FAST_PATH
(1: also wait for every kernel fast-path link; 0 skips it),
KEEP (1 keeps the state dir), PERF (1: where the idle daemon spends its CPU, with perf),
IDLE_AFTER (seconds to wait before the idle measure, 2).
`V=20 E=5 bash bench/scale/run.sh` takes about a minute.

Every loop is bounded in count and time; on any exit the daemon gets SIGTERM (then
SIGKILL), the target servers are stopped and the namespaces of the daemon's ledger
are removed. Traffic goes only to 127.0.0.1 and to addresses inside the daemon's
namespaces. Needs root."""

import argparse
import concurrent.futures as cf
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import host_inventory as hi  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

REGION = "us-east-1"
PORT = 443          # every service's listener port
TARGET_PORT = 8080  # the providers' banner servers
PY = "/usr/bin/python3"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


V = env_int("V", 1000)
E = env_int("E", 10)
SERVICES = env_int("SERVICES", 10)
THREADS = env_int("THREADS", 8)
CONSUMERS = max(1, min(env_int("CONSUMERS", 10), V))
WORKERS = env_int("WORKERS", 0)
IDLE_SECONDS = env_int("IDLE_SECONDS", 30)
IDLE_AFTER = env_int("IDLE_AFTER", 2)  # seconds between the last create and the idle measure
SAMPLE = env_int("SAMPLE", 2000)
CONVERGE_TIMEOUT = env_int("CONVERGE_TIMEOUT", 120 + V * E // 20)
KILL9 = env_int("KILL9", 1) == 1
KEEP = env_int("KEEP", 0) == 1
TIMELINE = env_int("TIMELINE", 0) == 1  # log every probe pass while converging
PERF = env_int("PERF", 0) == 1
PROVIDERS = 2
BATCH = max(1, min(100, V))   # endpoints in the "batch at full size"
SINGLES = 10                  # "one more endpoint" samples
RESTART_TIMEOUT = 600         # bound on each restart measure

# A banner server: on each connection, one line naming the provider, then close.
SERVER = r'''
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[2]))); ls.listen(4096)
print("listening", flush=True)
while True:
    c, _ = ls.accept()
    try:
        c.sendall(b"lp-bench " + sys.argv[1].encode() + b"\n")
    except OSError:
        pass
    c.close()
'''


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# Limits the kernel or the machine sets.

def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def sysctl(name):
    return read("/proc/sys/" + name.replace(".", "/"), "?")


def machine_limits():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    mem = dict(re.findall(r"^(\w+):\s+(\d+)", read("/proc/meminfo"), re.M))
    return {
        "RLIMIT_NOFILE (soft/hard, inherited by the daemon)": f"{soft}/{hard}",
        "fs.nr_open": sysctl("fs.nr_open"),
        "fs.file-max": sysctl("fs.file-max"),
        "net.core.somaxconn": sysctl("net.core.somaxconn"),
        "fs.inotify.max_user_instances": sysctl("fs.inotify.max_user_instances"),
        "net.ipv4.neigh.default.gc_thresh3": sysctl("net.ipv4.neigh.default.gc_thresh3"),
        "kernel.pid_max": sysctl("kernel.pid_max"),
        "user.max_net_namespaces": sysctl("user.max_net_namespaces"),
        "MemAvailable (MiB)": int(mem.get("MemAvailable", 0)) // 1024,
        "cores": os.cpu_count(),
    }


def expected_needs(workers):
    """Rough needs of the daemon at this size, to compare with the limits above."""
    enis = V * E * 2
    listeners = V * workers  # one SO_REUSEPORT socket per VPC namespace, port (one here) and loop
    pipes = 512 * workers       # the forwarder keeps up to 256 idle splice pipes per loop
    return {"namespaces": V + PROVIDERS * 2, "endpoint ENIs": enis, "listening sockets": listeners,
            "descriptors (listeners, 2 DNS and 1 netlink per VPC, pipe pools)":
                listeners + 3 * (V + PROVIDERS) + pipes}


def diagnose(daemon, why):
    """What stopped it: the daemon's own words and the limits it is close to."""
    out = [f"stopped: {why}"]
    text = daemon.log_tail(400) if daemon else ""
    patterns = [
        (r"Too many open files|EMFILE|ENFILE", "descriptors: raise `ulimit -Hn` (RLIMIT_NOFILE hard) and fs.nr_open; "
                                               "fs.file-max if ENFILE"),
        (r"select\(\)|FD_SETSIZE|fd_set|descriptor .*1024", "a library using select() saw a descriptor >= 1024 "
                                                            "(DESIGN: libnftables): not a kernel limit, a code one"),
        (r"No space left on device", "ENOSPC from the kernel: inotify (fs.inotify.max_user_instances/watches) or "
                                     "a full disk under the state dir"),
        (r"Cannot allocate memory|ENOMEM|out of memory", "memory: per-namespace memory (net.core.*mem), "
                                                          "MemAvailable, or vm.max_map_count"),
        (r"neighbour table overflow|No buffer space available|ENOBUFS",
         "neighbour/netlink buffers: raise net.ipv4.neigh.default.gc_thresh1/2/3 or net.core.rmem_max"),
        (r"Address already in use", "ports: a listener collided (net.ipv4.ip_local_port_range?)"),
        (r"Resource temporarily unavailable|EAGAIN|Cannot fork|pthread_create",
         "threads/processes: kernel.threads-max, kernel.pid_max, ulimit -u"),
    ]
    for pat, advice in patterns:
        hits = [line for line in text.splitlines() if re.search(pat, line)]
        if hits:
            out.append(f"  {advice}\n    e.g. {hits[-1][:300]}")
    if daemon and daemon.alive():
        fds = daemon.fd_count()
        lim = daemon.nofile()
        out.append(f"  daemon descriptors: {fds} open, limit {lim}")
        if lim and fds > 0.9 * lim:
            out.append("  -> near RLIMIT_NOFILE: raise the hard limit (ulimit -Hn, LimitNOFILE=) and fs.nr_open")
    elif daemon:
        if getattr(daemon, "sampler", None):
            out.append("  before it died: " + daemon.sampler.describe())
        out.append(f"  daemon exited with {daemon.proc.returncode}; last log lines:")
        out += ["    " + line for line in text.splitlines()[-15:]]
    return "\n".join(out)


# ---------------------------------------------------------------------------
# The daemon.

class Daemon:
    def __init__(self, binary, state_dir, config):
        self.binary, self.state_dir, self.config = binary, state_dir, config
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(state_dir, "daemon.log")

    def start(self, timeout=120):
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config, "--state-dir", self.state_dir,
                                      "--listen", f"127.0.0.1:{self.port}"], stdout=subprocess.PIPE, stderr=logf)
        logf.close()
        deadline = time.monotonic() + timeout
        # readline blocks; the daemon prints its line or exits, so a watchdog bounds it.
        timer = threading.Timer(timeout, lambda: self.proc.poll() is None and self.proc.kill())
        timer.start()
        try:
            while time.monotonic() < deadline:
                line = self.proc.stdout.readline()
                if line.startswith(b"linkplane listening on http://"):
                    return time.monotonic()
                if not line and self.proc.poll() is not None:
                    break
        finally:
            timer.cancel()
        raise RuntimeError("daemon did not start:\n" + self.log_tail(30))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=120):
        """SIGTERM; returns seconds to exit (SIGKILL and None past timeout)."""
        if not self.alive():
            return 0.0
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
            return time.monotonic() - t
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, n):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def fd_count(self):
        try:
            return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except OSError:
            return -1

    def fd_kinds(self):
        """Descriptor kind -> count ("socket", "anon_inode:[eventfd]", "net", "file"...)."""
        kinds = {}
        d = f"/proc/{self.proc.pid}/fd"
        try:
            names = os.listdir(d)
        except OSError:
            return kinds
        for n in names:
            try:
                t = os.readlink(os.path.join(d, n))
            except OSError:
                continue
            k = t.split(":[")[0] if t.startswith(("socket:", "net:", "pipe:")) else \
                t if t.startswith("anon_inode:") else "file " + os.path.dirname(t)
            kinds[k] = kinds.get(k, 0) + 1
        return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))

    def nofile(self):
        m = re.search(r"Max open files\s+(\d+)", read(f"/proc/{self.proc.pid}/limits"))
        return int(m.group(1)) if m else None

    def cpu_seconds(self):
        fields = read(f"/proc/{self.proc.pid}/stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_cpu(self):
        """Thread name (comm, with its tid) -> CPU seconds so far."""
        out = {}
        base = f"/proc/{self.proc.pid}/task"
        try:
            tids = os.listdir(base)
        except OSError:
            return out
        for tid in tids:
            stat = read(f"{base}/{tid}/stat")
            if ")" not in stat:
                continue
            comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
            f = stat.rsplit(")", 1)[1].split()
            out[f"{comm}/{tid}"] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def memory(self):
        st = dict(re.findall(r"^(\w+):\s+(\d+) kB", read(f"/proc/{self.proc.pid}/status"), re.M))
        roll = dict(re.findall(r"^(\w+):\s+(\d+) kB", read(f"/proc/{self.proc.pid}/smaps_rollup"), re.M))
        threads = re.search(r"^Threads:\s+(\d+)", read(f"/proc/{self.proc.pid}/status"), re.M)
        return {"rss_mib": int(st.get("VmRSS", 0)) / 1024, "pss_mib": int(roll.get("Pss", 0)) / 1024,
                "threads": int(threads.group(1)) if threads else 0}


class Sampler:
    """Samples the daemon's descriptors and RSS every half second, so a death or a
    limit can be told with the last numbers seen before it."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.last = None
        self.peak_fds = 0
        self.stop_ = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_.wait(0.5):
            if not self.daemon.alive():
                continue
            fds = self.daemon.fd_count()
            if fds < 0:
                continue
            # VmRSS only: smaps_rollup would take the daemon's mmap lock twice a second.
            rss = re.search(r"^VmRSS:\s+(\d+)", read(f"/proc/{self.daemon.proc.pid}/status"), re.M)
            self.last = (time.strftime("%H:%M:%S"), fds, int(rss.group(1)) / 1024 if rss else 0)
            self.peak_fds = max(self.peak_fds, fds)

    def describe(self):
        if not self.last:
            return "no sample"
        t, fds, rss = self.last
        return f"last sample at {t}: {fds} descriptors (peak {self.peak_fds}), RSS {rss:.0f} MiB"

    def stop(self):
        self.stop_.set()


class Accounts:
    def __init__(self):
        self.providers = [(f"30000000000{p}", f"AKIALPSCALEPROVIDR{p:02d}", f"lp-scale-provider-secret-{p:02d}")
                          for p in range(PROVIDERS)]
        self.consumers = [(f"4000000{c:05d}", f"AKIALPSCALECONSUM{c:03d}", f"lp-scale-consumer-secret-{c:03d}")
                          for c in range(CONSUMERS)]


def write_config(path, accounts):
    big = 10_000_000
    lines = ['region = "us-east-1"', 'log_level = "info"', 'dns_listen = ""', "",
             "[dataplane]", f"workers = {WORKERS}", "", "[limits]"]
    for k in ("vpcs_per_account", "subnets_per_vpc", "security_groups_per_vpc", "network_interfaces_per_account",
              "interface_endpoints_per_vpc", "load_balancers_per_account", "target_groups_per_account",
              "listeners_per_load_balancer"):
        lines.append(f"{k} = {big}")
    # Per-account throttling (issue 19) refuses this bench's pollers (a hundred threads
    # asking every 20 ms) and botocore's retries then time its backoff, not the daemon:
    # off here, as the raised limits above, since what is measured is reconciliation.
    lines += ["", "[throttle]", "enabled = false"]
    for kind, lst in (("provider", accounts.providers), ("consumer", accounts.consumers)):
        for i, (aid, key, secret) in enumerate(lst):
            lines += ["", "[[accounts]]", f'id = "{aid}"', f'name = "lp-scale-{kind}-{i}"',
                      f'access_key_id = "{key}"', f'secret_access_key = "{secret}"']
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:  # holds secrets
        f.write("\n".join(lines) + "\n")


class Clients:
    """boto3 clients per (thread, account, service): making clients is not thread-safe."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.local = threading.local()
        self.lock = threading.Lock()
        self.cfg = botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=4,
                                          connect_timeout=10, read_timeout=120)

    def get(self, account, service="ec2"):
        cache = getattr(self.local, "c", None)
        if cache is None or self.local.port != self.daemon.port:
            cache = self.local.c = {}
            self.local.port = self.daemon.port
        k = (account[0], service)
        if k not in cache:
            with self.lock:
                cache[k] = boto3.session.Session().client(
                    service, endpoint_url=f"http://127.0.0.1:{self.daemon.port}", region_name=REGION,
                    aws_access_key_id=account[1], aws_secret_access_key=account[2], config=self.cfg)
        return cache[k]


def pool_map(fn, items, threads=THREADS, what=""):
    """fn over items with a few threads; errors are counted and the first few shown,
    never retried blindly. Returns results in order (None for failures)."""
    out = [None] * len(items)
    errors = []
    with cf.ThreadPoolExecutor(threads) as ex:
        futs = {ex.submit(fn, it): i for i, it in enumerate(items)}
        try:
            for f in cf.as_completed(futs):
                try:
                    out[futs[f]] = f.result()
                except Exception as e:  # noqa: BLE001 - counted and shown
                    errors.append(e)
        except BaseException:
            # Interrupted (a signal): drop what has not started, so cleanup is not
            # held up by thousands of queued calls.
            ex.shutdown(wait=False, cancel_futures=True)
            raise
    if errors:
        log(f"{what}: {len(errors)} of {len(items)} failed, e.g. {errors[0]!r}")
    return out, errors


# ---------------------------------------------------------------------------
# The benchmark.

class Bench:
    def __init__(self, binary):
        self.provider_vpcs = []
        self.tmp = tempfile.mkdtemp(prefix="lp-scale-")
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state)
        self.accounts = Accounts()
        self.config = os.path.join(self.tmp, "linkplane.toml")
        write_config(self.config, self.accounts)
        self.daemon = Daemon(binary, self.state, self.config)
        self.binary = binary
        self.clients = Clients(self.daemon)
        self.results = []   # (measure, value, target, met)
        self.notes = []
        self.servers = {}   # provider index -> Popen
        self.endpoints = {}  # id -> {"account", "vpc", "ns", "resolver", "enis": [ids], "name", "ips"}
        self.vpcs = []       # (account, vpc id, resolver, [subnet ids])
        self.services = []   # (provider index, service name)
        self.provider_targets = []  # (provider index, target ENI id)
        self.prober = None

    def result(self, measure, value, target="", met=None):
        self.results.append((measure, value, target, "" if met is None else ("yes" if met else "NO")))
        log(f"{measure}: {value}" + (f"  (target {target}: {'met' if met else 'NOT met'})" if met is not None else ""))

    # -- providers ----------------------------------------------------------
    def build_providers(self):
        per = [SERVICES // PROVIDERS + (1 if p < SERVICES % PROVIDERS else 0) for p in range(PROVIDERS)]
        for p, acct in enumerate(self.accounts.providers):
            ec2, elb = self.clients.get(acct), self.clients.get(acct, "elbv2")
            net = f"10.{200 + p}"
            vpc = ec2.create_vpc(CidrBlock=f"{net}.0.0/16")["Vpc"]["VpcId"]
            self.provider_vpcs.append(vpc)
            subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{net}.{k}.0/24", AvailabilityZoneId=z)["Subnet"]
                    ["SubnetId"] for k, z in ((1, "use1-az1"), (2, "use1-az2"))]
            target_ip = f"{net}.1.10"
            ni = ec2.create_network_interface(SubnetId=subs[0], PrivateIpAddress=target_ip)["NetworkInterface"]
            eni = ni["NetworkInterfaceId"]
            # As on AWS: the target's group admits the load balancer's nodes (the VPC's CIDR).
            ec2.authorize_security_group_ingress(GroupId=ni["Groups"][0]["GroupId"], IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": TARGET_PORT, "ToPort": TARGET_PORT,
                 "IpRanges": [{"CidrIp": f"{net}.0.0/16"}]}])
            self.provider_targets.append((p, eni))
            for s in range(per[p]):
                name = f"lp-scale-p{p}-s{s}"
                tg = elb.create_target_group(Name=name, Protocol="TCP", Port=TARGET_PORT, VpcId=vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
                elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": target_ip}])
                lb = elb.create_load_balancer(Name=name, Type="network", Scheme="internal",
                                              Subnets=subs)["LoadBalancers"][0]["LoadBalancerArn"]
                elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=PORT,
                                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
                svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb],
                                                                    AcceptanceRequired=False)["ServiceConfiguration"]
                ec2.modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"], AddAllowedPrincipals=["*"])
                self.services.append((p, svc["ServiceName"]))
        self.start_servers()

    def start_servers(self, timeout=60):
        """One banner server per provider, in its target workload's namespace."""
        script = os.path.join(self.tmp, "server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        for p, eni in self.provider_targets:
            old = self.servers.pop(p, None)
            if old:
                self.stop_server(old)
            deadline = time.monotonic() + timeout
            while "lp-" + eni not in hi.host_namespaces():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workload namespace lp-{eni} never appeared")
                time.sleep(0.1)
            proc = subprocess.Popen([self.binary, "exec", "--eni", eni, "--state-dir", self.state, "--", PY, script,
                                     f"p{p}", str(TARGET_PORT)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            timer = threading.Timer(timeout, lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
            timer.start()
            line = proc.stdout.readline()
            timer.cancel()
            if line.strip() != b"listening":
                raise RuntimeError(f"target server for provider {p} did not start")
            self.servers[p] = proc

    @staticmethod
    def stop_server(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    # -- consumers ----------------------------------------------------------
    def build_consumers(self):
        def one(i):
            acct = self.accounts.consumers[i % CONSUMERS]
            ec2 = self.clients.get(acct)
            a, b = i // 16, (i % 16) * 16  # a /20 each: 10.a.b.0/20, subnets b+1 and b+2
            t = time.monotonic()
            vpc = ec2.create_vpc(CidrBlock=f"10.{a}.{b}.0/20")["Vpc"]["VpcId"]
            lat[i] = time.monotonic() - t
            subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{a}.{b + k}.0/24", AvailabilityZoneId=z)["Subnet"]
                    ["SubnetId"] for k, z in ((1, "use1-az1"), (2, "use1-az2"))]
            return (acct, vpc, f"10.{a}.{b}.2", subs)
        lat = [None] * V
        if V > 16 * 200:
            raise SystemExit("V > 3200 does not fit the CIDR plan (10.0.0.0/8 below 10.200)")
        t = time.monotonic()
        out, errors = pool_map(one, list(range(V)), what="consumer VPCs")
        if errors:
            raise RuntimeError(f"{len(errors)} consumer VPCs failed: {errors[0]!r}")
        self.vpcs = out
        took = time.monotonic() - t
        n = max(1, min(100, V // 10))
        self.result(f"{V} consumer VPCs + 2 subnets each, {THREADS} clients", f"{took:.1f} s ({3 * V / took:.0f} calls/s)")
        self.result(f"CreateVpc p50, first {n} / last {n}", f"{pct(lat[:n], 50) * 1e3:.1f} / "
                    f"{pct(lat[-n:], 50) * 1e3:.1f} ms")

    def create_endpoint(self, vpc_entry, service_name):
        acct, vpc, resolver, subs = vpc_entry
        ec2 = self.clients.get(acct)
        t = time.monotonic()
        e = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc, ServiceName=service_name,
                                    SubnetIds=subs, PrivateDnsEnabled=False)["VpcEndpoint"]
        dt = time.monotonic() - t
        eid = e["VpcEndpointId"]
        self.endpoints[eid] = {"account": acct, "vpc": vpc, "ns": "lp-" + vpc, "resolver": resolver,
                               "enis": e.get("NetworkInterfaceIds", []),
                               "name": (e.get("DnsEntries") or [{}])[0].get("DnsName"), "created": t + dt}
        return eid, t, dt

    def build_endpoints(self):
        """V x E endpoints, issued in VPC order by THREADS clients; latency per call in
        issue order, so the first 100 and the last 100 are comparable."""
        jobs = [(self.vpcs[i], self.services[k % len(self.services)][1]) for i in range(V) for k in range(E)]
        lat = [None] * len(jobs)
        t0 = time.monotonic()
        progress = {"n": 0}

        def one(idx):
            if not self.daemon.alive():
                raise RuntimeError("daemon gone")
            _, _, dt = self.create_endpoint(*jobs[idx])
            lat[idx] = dt
            progress["n"] += 1
            if progress["n"] % 1000 == 0:
                log(f"  {progress['n']} endpoints created ({time.monotonic() - t0:.0f}s), "
                    f"daemon {self.daemon.sampler.describe()}")
        _, errors = pool_map(one, list(range(len(jobs))), what="CreateVpcEndpoint")
        not_issued = sum(1 for e in errors if str(e) == "daemon gone")
        errors = [e for e in errors if str(e) != "daemon gone"]
        took = time.monotonic() - t0
        done = [x for x in lat if x is not None]
        log(f"{len(done)} endpoints created in {took:.1f}s ({len(done) / max(took, 1e-9):.0f}/s), "
            f"{len(errors)} failed" + (f", {not_issued} not issued (daemon gone)" if not_issued else ""))
        if errors:
            self.notes.append(f"CreateVpcEndpoint failures: {len(errors)}, e.g. {errors[0]!r}")
        if not self.daemon.alive():
            raise RuntimeError(diagnose(self.daemon, f"the daemon died while endpoints were created, after "
                                                     f"{len(done)} acknowledged"))
        n = min(100, max(1, len(done) // 10))
        first, last = done[:n], done[-n:]
        f50, f99, l50, l99 = pct(first, 50), pct(first, 99), pct(last, 50), pct(last, 99)
        ratio = l50 / f50 if f50 else float("nan")
        self.result(f"CreateVpcEndpoint p50/p99, first {n}", f"{f50 * 1e3:.1f} / {f99 * 1e3:.1f} ms")
        self.result(f"CreateVpcEndpoint p50/p99, last {n} (of {len(done)})", f"{l50 * 1e3:.1f} / {l99 * 1e3:.1f} ms")
        self.result("CreateVpcEndpoint last/first p50 (p99)", f"{ratio:.2f}x ({l99 / f99 if f99 else 0:.2f}x)",
                    "<= 2x", ratio <= 2 and (l99 / f99 if f99 else 0) <= 2)
        return errors

    # -- convergence ----------------------------------------------------------
    def states(self):
        """State -> count over every consumer account (one paginated describe each)."""
        counts, failed = {}, []
        for acct in self.accounts.consumers:
            ec2 = self.clients.get(acct)
            for page in ec2.get_paginator("describe_vpc_endpoints").paginate(PaginationConfig={"PageSize": 1000}):
                for e in page["VpcEndpoints"]:
                    counts[e["State"]] = counts.get(e["State"], 0) + 1
                    if e["State"] == "failed":
                        failed.append((e["VpcEndpointId"], e.get("LastError", {})))
        return counts, failed

    def wait_converged(self, timeout):
        t0 = time.monotonic()
        last_log = t0
        while True:
            if not self.daemon.alive():
                raise RuntimeError(diagnose(self.daemon, "the daemon died while converging"))
            counts, failed = self.states()
            if not counts.get("pending") and not counts.get("deleting"):
                if failed:
                    self.notes.append(f"{len(failed)} endpoints failed, e.g. {failed[0]}")
                return time.monotonic() - t0, counts
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(diagnose(self.daemon, f"not converged in {timeout}s: {counts}"))
            if time.monotonic() - last_log > 10:
                last_log = time.monotonic()
                log(f"  converging: {counts}, daemon {self.daemon.fd_count()} descriptors, "
                    f"{self.daemon.memory()['rss_mib']:.0f} MiB")
            time.sleep(1)

    def fast_path_links(self):
        """Endpoint interfaces whose kernel fast-path link is in place: the provider
        VPCs' `plinks` elements (one per link, docs/dataplane.md)."""
        n = 0
        for vpc in self.provider_vpcs:
            p = subprocess.run(["ip", "netns", "exec", "lp-" + vpc, "nft", "-j", "list", "map", "ip", "lp-fast",
                                "plinks"], capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                n += p.stdout.count('"jump"')
        return n

    def wait_fast_path(self, want, timeout):
        """Seconds until `want` links are in place (the forwarder carries an endpoint's
        connections until then), or None."""
        t0 = time.monotonic()
        last_log = t0
        while time.monotonic() - t0 < timeout:
            have = self.fast_path_links()
            if have >= want:
                return time.monotonic() - t0
            if time.monotonic() - last_log > 10:
                last_log = time.monotonic()
                log(f"  fast path: {have} of {want} links")
            time.sleep(2)
        return None

    def wait_available(self, ids, timeout=120):
        """id -> seconds from its create to the first poll seeing it available
        (DescribeVpcEndpoints filtered on the ids still waited for, every 50 ms)."""
        left = set(ids)
        seen = {}
        deadline = time.monotonic() + timeout
        by_acct = {}
        for i in ids:
            by_acct.setdefault(self.endpoints[i]["account"], []).append(i)
        while left and time.monotonic() < deadline:
            for acct, mine in by_acct.items():
                wanted = [i for i in mine if i in left]
                for k in range(0, len(wanted), 200):
                    out = self.clients.get(acct).describe_vpc_endpoints(
                        Filters=[{"Name": "vpc-endpoint-id", "Values": wanted[k:k + 200]}])
                    now = time.monotonic()
                    for e in out["VpcEndpoints"]:
                        if e["State"] == "available" and e["VpcEndpointId"] in left:
                            left.discard(e["VpcEndpointId"])
                            seen[e["VpcEndpointId"]] = now - self.endpoints[e["VpcEndpointId"]]["created"]
            time.sleep(0.05)
        return seen, left

    def recorded_create_to_available(self, ids):
        """Seconds from each endpoint's createdAt (CreateVpcEndpoint's commit) to its
        state history's first `available` (the reconciler's status write), read from
        the state database (read-only). The clients' own figures add their polling:
        botocore parses each answer in Python, and THREADS pollers every 20 ms on this
        2-core machine queue behind each other and behind the daemon."""
        def at(s):
            return time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:].rstrip("Z"))
        out = []
        db = sqlite3.connect(f"file:{os.path.join(self.state, 'linkplane.db')}?mode=ro", uri=True, timeout=30)
        try:
            for eid in ids:
                row = db.execute("SELECT body FROM objects WHERE kind = 'vpc-endpoint' AND id = ?", (eid,)).fetchone()
                if not row:
                    continue
                e = json.loads(row[0])
                av = [h["at"] for h in e.get("stateHistory", []) if h.get("state") == "available"]
                if av:
                    out.append(at(av[0]) - at(e["createdAt"]))
        finally:
            db.close()
        return out

    def measure_create_to_available(self):
        svc = self.services[0][1]
        picks = [self.vpcs[i] for i in range(0, V, max(1, V // BATCH))][:BATCH]
        t = time.monotonic()

        # Each client polls its own endpoint from its create's answer on (every 20 ms),
        # as a user's waiter does; one poller going round every account in turn measured
        # its own round trip (0.3-0.5 s a round at 10 accounts), not the daemon.
        def create_and_wait(v):
            eid = self.create_endpoint(v, svc)[0]
            ec2 = self.clients.get(self.endpoints[eid]["account"])
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                e = ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])["VpcEndpoints"][0]
                if e["State"] == "available":
                    return eid, time.monotonic() - self.endpoints[eid]["created"]
                time.sleep(0.02)
            return eid, None

        out, errors = pool_map(create_and_wait, picks, what="batch create")
        ids = [x[0] for x in out if x]
        seen = {eid: dt for eid, dt in (x for x in out if x) if dt is not None}
        left = [eid for eid in ids if eid not in seen]
        vals = list(seen.values())
        recorded = self.recorded_create_to_available(ids)
        self.result(f"create->available, batch of {len(ids)} at full size, as the daemon recorded it, p50/p99",
                    f"{pct(recorded, 50):.3f} / {pct(recorded, 99):.3f} s ({len(recorded)} of {len(ids)})",
                    "p99 < 1 s", not left and len(recorded) == len(ids) and pct(recorded, 99) < 1.0)
        self.result(f"create->available, batch of {len(ids)}, as its {THREADS} polling clients saw it, p50/p99",
                    f"{pct(vals, 50):.3f} / {pct(vals, 99):.3f} s" + (f", {len(left)} never" if left else ""))
        log(f"  batch of {len(ids)} issued in {time.monotonic() - t:.1f}s")
        self.wait_converged(CONVERGE_TIMEOUT)
        singles = []
        single_ids = []
        never = 0
        for k in range(SINGLES):
            eid, _, _ = self.create_endpoint(self.vpcs[(k * 7919) % V], svc)
            single_ids.append(eid)
            seen, left = self.wait_available([eid], timeout=60)
            singles += list(seen.values())
            never += len(left)
        self.result(f"create->available, one more endpoint alone (x{SINGLES}), as its client saw it, p50/p99",
                    f"{pct(singles, 50):.3f} / {pct(singles, 99):.3f} s" + (f", {never} never" if never else ""),
                    "p99 < 1 s", not never and pct(singles, 99) < 1.0)
        recorded = self.recorded_create_to_available(single_ids)
        self.result(f"create->available, one more endpoint alone, as the daemon recorded it, p50/p99",
                    f"{pct(recorded, 50):.3f} / {pct(recorded, 99):.3f} s")

    # -- idle ---------------------------------------------------------------
    def measure_idle(self):
        time.sleep(IDLE_AFTER)
        c0, t0, th0 = self.daemon.cpu_seconds(), time.monotonic(), self.daemon.thread_cpu()
        time.sleep(IDLE_SECONDS)
        c1, t1, th1 = self.daemon.cpu_seconds(), time.monotonic(), self.daemon.thread_cpu()
        cpu = (c1 - c0) / (t1 - t0) * 100
        busy = sorted(((th1[k] - th0.get(k, 0)) / (t1 - t0) * 100, k) for k in th1)[::-1][:4]
        m = self.daemon.memory()
        self.result(f"idle daemon CPU over {IDLE_SECONDS}s after convergence", f"{cpu:.2f} % of one core",
                    "< 2 %", cpu < 2)
        self.result("idle CPU, busiest threads", ", ".join(f"{k} {v:.1f} %" for v, k in busy if v > 0) or "none")
        if PERF:
            self.perf_idle()
        self.result("daemon RSS / PSS", f"{m['rss_mib']:.0f} / {m['pss_mib']:.0f} MiB")
        fds = self.daemon.fd_count()
        self.result("daemon threads / descriptors", f"{m['threads']} / {fds}")
        self.result("descriptors by kind", ", ".join(f"{k} {v}" for k, v in self.daemon.fd_kinds().items()))
        if fds >= 1024:
            self.notes.append(f"the daemon holds {fds} descriptors (libnftables' select() never sees one: its calls "
                              "run in the linkplane-nft helper process)")

    def perf_idle(self, seconds=10):
        """The idle daemon's hottest symbols (perf record -g for a few seconds)."""
        data = os.path.join(self.tmp, "perf.data")
        try:
            subprocess.run(["perf", "record", "-q", "-F", "99", "--call-graph", "dwarf,16384", "-o", data, "-p", str(self.daemon.proc.pid),
                            "--", "sleep", str(seconds)], capture_output=True, timeout=seconds + 60)
            self_ = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol",
                                    "-g", "none", "--percent-limit", "2"], capture_output=True, text=True, timeout=300)
            incl = subprocess.run(["perf", "report", "-i", data, "--stdio", "--children", "--sort", "symbol",
                                   "-g", "none", "--percent-limit", "5"], capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.notes.append(f"perf: {e}")
            return

        def lines(text, only=""):
            out = []
            for line in text.splitlines():
                if re.match(r"\s*\d+\.\d+%", line) and only in line:
                    line = re.sub(r"nlohmann::json_abi_v[\d_]+::", "", re.sub(r"\s+", " ", line.strip()))
                    out.append(re.sub(r"<.*>", "<...>", line)[:150])
            return out
        self.notes.append("idle daemon, perf, hottest symbols (self):\n    " + "\n    ".join(lines(self_.stdout)[:10]))
        self.notes.append("idle daemon, perf, linkplane functions (children, self):\n    " +
                          "\n    ".join(lines(incl.stdout, "lp::")[:12]))

    # -- describe -------------------------------------------------------------
    def measure_describe(self):
        """Every account's endpoints, paginated 1,000 a page as the CLI does, three ways:
        boto3 one account after another (what one script does), boto3 one process per
        account at once (what an organisation's tooling does, and how the target is
        judged: botocore's parsing is Python, one core per process), and the same
        signed requests with the XML left unparsed (the daemon's share)."""
        accts = self.accounts.consumers
        per, seq, n_all = [], 0.0, 0
        for acct in accts:
            t = time.monotonic()
            n = sum(len(p["VpcEndpoints"]) for p in self.clients.get(acct).get_paginator(
                "describe_vpc_endpoints").paginate(PaginationConfig={"PageSize": 1000}))
            per.append(time.monotonic() - t)
            n_all += n
        seq = sum(per)
        self.result(f"DescribeVpcEndpoints, one account (~{n_all // len(per)} endpoints), worst of {len(per)}",
                    f"{max(per):.2f} s", "< 2 s", max(per) < 2)
        self.result(f"DescribeVpcEndpoints, {len(per)} accounts one after another, boto3 ({n_all} endpoints)",
                    f"{seq:.2f} s")
        raw, raw_n, raw_bytes = self.describe_unparsed(accts)
        self.result(f"DescribeVpcEndpoints, {len(per)} accounts one after another, signed HTTP, XML unparsed",
                    f"{raw:.2f} s ({raw_n} endpoints, {raw_bytes / 1e6:.1f} MB)")
        took, n_par = self.describe_processes(accts)
        self.result(f"DescribeVpcEndpoints of all {n_par} endpoints, boto3, one process per account at once",
                    f"{took:.2f} s" if took is not None else "failed", "< 2 s", took is not None and took < 2)
        t = time.monotonic()
        body = b"".join(self.raw_pages(accts[0])[2])
        read = time.monotonic() - t
        from botocore import parsers
        shape = self.clients.get(accts[0]).meta.service_model.operation_model("DescribeVpcEndpoints").output_shape
        t = time.monotonic()
        parsed = parsers.create_parser("ec2").parse({"body": body[:body.find(b"</DescribeVpcEndpointsResponse>") + 31],
                                                     "headers": {}, "status_code": 200}, shape)
        self.notes.append(f"DescribeVpcEndpoints: botocore parses one page of {len(parsed.get('VpcEndpoints', []))} "
                          f"in {time.monotonic() - t:.2f} s on this machine (signed request and read: {read:.2f} s)")

    def raw_pages(self, acct):
        """One account's listing as signed POSTs with the XML kept as bytes:
        (endpoints, bytes, [page bodies])."""
        import http.client
        import urllib.parse
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        creds = Credentials(acct[1], acct[2])
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=120)
        token, n, size, bodies = None, 0, 0, []
        try:
            for _ in range(1000):  # pages, bounded
                params = {"Action": "DescribeVpcEndpoints", "Version": "2016-11-15", "MaxResults": "1000"}
                if token:
                    params["NextToken"] = token
                req = AWSRequest(method="POST", url=f"http://127.0.0.1:{self.daemon.port}/",
                                 data=urllib.parse.urlencode(params),
                                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
                SigV4Auth(creds, "ec2", REGION).add_auth(req)
                conn.request("POST", "/", body=req.body, headers=dict(req.headers.items()))
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"DescribeVpcEndpoints: HTTP {resp.status}: {body[:200]!r}")
                bodies.append(body)
                size += len(body)
                n += body.count(b"<vpcEndpointId>")
                m = re.search(rb"<nextToken>([^<]+)</nextToken>", body)
                if not m:
                    break
                token = m.group(1).decode()
        finally:
            conn.close()
        return n, size, bodies

    def describe_unparsed(self, accts):
        t, n, size = time.monotonic(), 0, 0
        for acct in accts:
            a, b, _ = self.raw_pages(acct)
            n, size = n + a, size + b
        return time.monotonic() - t, n, size

    def describe_processes(self, accts):
        """Seconds from the start of the listings to the last one finishing, and the
        count. Interpreter start, imports and loading the EC2 model are not timed: each
        process makes one small call, then waits at a barrier file."""
        script = ("import sys, time, os, boto3\n"
                  "port, key, secret, go = sys.argv[1:5]\n"
                  "c = boto3.session.Session().client('ec2', endpoint_url=f'http://127.0.0.1:{port}', "
                  "region_name='us-east-1', aws_access_key_id=key, aws_secret_access_key=secret)\n"
                  "pg = c.get_paginator('describe_vpc_endpoints')\n"
                  "c.describe_vpc_endpoints(MaxResults=5)  # models loaded, connection open: not timed\n"
                  "print('ready', flush=True)\n"
                  "while not os.path.exists(go): time.sleep(0.002)\n"
                  "n = sum(len(p['VpcEndpoints']) for p in pg.paginate(PaginationConfig={'PageSize': 1000}))\n"
                  "print(n, time.time(), flush=True)\n")
        go = os.path.join(self.tmp, "describe-go")
        procs = [subprocess.Popen([PY, "-c", script, str(self.daemon.port), a[1], a[2], go],
                                  stdout=subprocess.PIPE, text=True) for a in accts]
        try:
            for p in procs:
                if p.stdout.readline().strip() != "ready":
                    return None, 0
            t0 = time.time()
            open(go, "w").close()
            ends, n = [], 0
            for p in procs:
                out = p.communicate(timeout=120)[0].split()
                n += int(out[0])
                ends.append(float(out[1]))
            return max(ends) - t0, n
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()

    # -- host probe ---------------------------------------------------------------
    def sample(self):
        ids = sorted(self.endpoints)
        if SAMPLE and len(ids) > SAMPLE:
            ids = random.Random(14).sample(ids, SAMPLE)
        return ids

    def fill_ips(self):
        """ENI id -> private IP, for every consumer account (once; ENIs keep their IPs)."""
        ips = {}
        for acct in self.accounts.consumers:
            ec2 = self.clients.get(acct)
            for page in ec2.get_paginator("describe_network_interfaces").paginate(
                    Filters=[{"Name": "interface-type", "Values": ["vpc_endpoint"]}],
                    PaginationConfig={"PageSize": 1000}):
                for n in page["NetworkInterfaces"]:
                    ips[n["NetworkInterfaceId"]] = n["PrivateIpAddress"]
        for e in self.endpoints.values():
            e["ips"] = sorted(ips[i] for i in e["enis"] if i in ips)

    def probe(self, ids):
        """One pass of the converged probe: counts (ok, total) of namespaces,
        listening sockets, forwarding connects (a banner from the provider's server
        through the endpoint) and names answering exactly the endpoint's addresses."""
        want_ns = {"lp-" + v[1] for v in self.vpcs}
        have_ns = hi.daemon_namespaces(self.state)
        r = {"namespaces": (len(want_ns & have_ns), len(want_ns))}
        # One listening socket per VPC namespace and port takes every endpoint
        # address's connections there; the forwarding connects below check each address.
        want_listen = {}
        for e in self.endpoints.values():
            want_listen.setdefault(e["ns"], set()).add(("0.0.0.0", PORT))
        present = sorted(ns for ns in want_listen if ns in have_ns)
        inv = self.prober.inventory(present) if present else {}
        ok_l = sum(len(w & inv.get(ns, {}).get("listen", set())) for ns, w in want_listen.items())
        r["listeners"] = (ok_l, sum(len(w) for w in want_listen.values()))
        tcp_jobs, dns_jobs = [], []
        for i in ids:
            e = self.endpoints[i]
            if e["ns"] not in have_ns:
                continue
            tcp_jobs += [(e["ns"], ip, PORT, True) for ip in e["ips"]]
            if e["name"]:
                dns_jobs.append((e["ns"], e["resolver"], e["name"]))
        n_tcp = sum(len(self.endpoints[i]["ips"]) for i in ids)
        # 500 at a time: each forwarded connection holds 6 of the daemon's descriptors,
        # and 2,000 at once on top of its own 10,000 passed this machine's 20,000.
        tcp = self.prober.tcp(tcp_jobs, timeout=3, concurrency=500) if tcp_jobs else []
        r["forwarding"] = (sum(1 for x in tcp if x.startswith("banner lp-bench")), n_tcp)
        dns = self.prober.dns(dns_jobs, timeout=3) if dns_jobs else []
        want_dns = {(e["ns"], e["resolver"], e["name"]): e["ips"] for e in self.endpoints.values()}
        r["names"] = (sum(1 for j, (rc, a) in zip(dns_jobs, dns) if rc == "NOERROR" and a == want_dns[j]),
                      sum(1 for i in ids if self.endpoints[i]["name"]))
        r["_tcp_sample"] = [x for x in tcp if not x.startswith("banner")][:3]
        r["_dns_sample"] = [(j[2], x) for j, x in zip(dns_jobs, dns) if x[0] != "NOERROR"][:3]
        return r

    @staticmethod
    def all_ok(r):
        return all(ok == total for k, (ok, total) in ((k, v) for k, v in r.items() if not k.startswith("_")))

    def wait_probe(self, ids, timeout, t_from):
        """Until the probe is all ok (bounded); seconds since t_from, or None."""
        deadline = time.monotonic() + timeout
        last = None
        last_log = time.monotonic()
        while time.monotonic() < deadline:
            if not self.daemon.alive():
                raise RuntimeError(diagnose(self.daemon, "the daemon died while restarting"))
            t_probe = time.monotonic()
            last = self.probe(ids)
            if self.all_ok(last):
                return time.monotonic() - t_from, last
            if time.monotonic() - last_log > 10 or TIMELINE:
                last_log = time.monotonic()
                log(f"  probe at {t_probe - t_from:.1f} s (took {last_log - t_probe:.1f} s): "
                    f"{ {k: v for k, v in last.items()} }")
            time.sleep(0.5)
        return None, last

    # -- restart ----------------------------------------------------------------
    def measure_restart(self, kill9=False):
        ids = self.sample()
        label = "kill -9" if kill9 else "SIGTERM"
        if kill9:
            t = time.monotonic()
            self.daemon.kill()
            self.result("kill -9: process gone", f"{time.monotonic() - t:.2f} s")
        else:
            t = time.monotonic()
            took = self.daemon.stop(timeout=RESTART_TIMEOUT)
            if took is None:
                self.result("clean stop (SIGTERM -> exit)", f"> {RESTART_TIMEOUT} s, SIGKILLed", "< 60 s", False)
            deadline = time.monotonic() + RESTART_TIMEOUT
            while hi.daemon_namespaces(self.state) and time.monotonic() < deadline:
                time.sleep(0.2)
            left = hi.daemon_namespaces(self.state)
            gone = time.monotonic() - t
            if took is not None:
                self.result("clean stop: SIGTERM -> exit, -> no namespace left",
                            f"{took:.1f} s, {gone:.1f} s" + (f" ({len(left)} left)" if left else ""),
                            "< 60 s", gone < 60 and not left)
            # The stop removed the providers' workload namespaces under their servers.
            for p in list(self.servers):
                self.stop_server(self.servers.pop(p))
        t0 = time.monotonic()
        self.daemon.start(timeout=RESTART_TIMEOUT)
        listening = time.monotonic() - t0
        if not kill9:
            self.start_servers(timeout=RESTART_TIMEOUT)
            log(f"  restart: API up after {listening:.1f} s, target servers up after {time.monotonic() - t0:.1f} s")
        took, last = self.wait_probe(ids, RESTART_TIMEOUT, t0)
        what = f"{len(ids)} of {len(self.endpoints)} endpoints" if len(ids) < len(self.endpoints) else "all endpoints"
        if took is None:
            self.result(f"restart after {label} -> {what} forward and answer", f"not in {RESTART_TIMEOUT} s: {last}",
                        "< 60 s", False)
            self.notes.append(diagnose(self.daemon, f"restart after {label} did not converge"))
        else:
            self.result(f"restart after {label} -> {what} forward and answer",
                        f"{took:.1f} s (API up after {listening:.1f} s)", "< 60 s", took < 60)
        # The daemon's own account of the same convergence (its last "converged" line).
        with open(self.daemon.log_path, errors="replace") as f:
            said = [line.strip() for line in f if "reconciler: converged" in line]
        if said:
            self.notes.append(f"restart after {label}, the daemon's log: " + said[-1].split(" info ", 1)[-1])

    # -- all --------------------------------------------------------------------
    @staticmethod
    def meminfo():
        m = dict(re.findall(r"^(\w+):\s+(\d+)", read("/proc/meminfo"), re.M))
        return {k: int(m.get(k, 0)) for k in ("Slab", "MemAvailable")}

    def run(self):
        mem0 = self.meminfo()
        log(f"V={V} E={E} SERVICES={SERVICES} THREADS={THREADS} CONSUMERS={CONSUMERS} WORKERS={WORKERS} "
            f"-> {V * E} endpoints, {V * E * 2} endpoint ENIs; state in {self.tmp}")
        lim = machine_limits()
        workers = WORKERS or os.cpu_count()
        log("machine limits: " + ", ".join(f"{k} {v}" for k, v in lim.items()))
        if read("/proc/sys/kernel/sched_autogroup_enabled").strip() == "1":
            self.notes.append("kernel.sched_autogroup_enabled is 1: nice has no effect between sessions, so other "
                              "work on this machine competes with the daemon as equals (docs/scale.md)")
            log("warning: " + self.notes[-1])
        log("needs (rough): " + ", ".join(f"{k} {v}" for k, v in expected_needs(workers).items()))
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        need_fds = expected_needs(workers)["descriptors (listeners, 2 DNS and 1 netlink per VPC, pipe pools)"]
        if need_fds > hard:
            self.notes.append(f"descriptors needed ~{need_fds} > RLIMIT_NOFILE hard {hard}: raise `ulimit -Hn` "
                              f"(and fs.nr_open {lim['fs.nr_open']}) or set WORKERS=1")
            log("WARNING: " + self.notes[-1])
        self.daemon.start()
        self.daemon.sampler = Sampler(self.daemon)
        log(f"daemon pid {self.daemon.proc.pid} on 127.0.0.1:{self.daemon.port}, "
            f"descriptor limit {self.daemon.nofile()}")
        self.prober = hi.Prober()
        t = time.monotonic()
        self.build_providers()
        log(f"{PROVIDERS} providers, {len(self.services)} services in {time.monotonic() - t:.1f}s")
        self.build_consumers()
        self.build_endpoints()
        took, counts = self.wait_converged(CONVERGE_TIMEOUT)
        self.result(f"converged after the last create ({V * E} endpoints)", f"{took:.1f} s, states {counts}")
        # Available means the forwarder listens and carries the endpoint; its kernel
        # link follows (docs/dataplane.md, "When an endpoint's link is made").
        if os.environ.get("FAST_PATH", "1") == "1":
            want = 2 * counts.get("available", 0)  # two subnets each
            more = self.wait_fast_path(want, CONVERGE_TIMEOUT)
            self.result(f"kernel fast path: every endpoint interface's link made ({want})",
                        "not within the timeout" if more is None else f"{took + more:.1f} s after the last create")
        self.measure_create_to_available()
        mem1 = self.meminfo()
        slab, avail = (mem1["Slab"] - mem0["Slab"]) / 1024, (mem0["MemAvailable"] - mem1["MemAvailable"]) / 1024
        n_ns = len(hi.daemon_namespaces(self.state))
        self.result(f"kernel: slab / MemAvailable (machine-wide, noisy) used, {n_ns} namespaces",
                    f"{slab:.0f} / {avail:.0f} MiB ({slab * 1024 / max(n_ns, 1):.0f} / "
                    f"{avail * 1024 / max(n_ns, 1):.0f} KiB per namespace)")
        self.fill_ips()
        took, last = self.wait_probe(self.sample(), 120, time.monotonic())
        self.result("host probe at full size (namespaces, listeners, forwarding, names)",
                    "all ok" if took is not None else f"{last}", "all ok", took is not None)
        self.measure_idle()
        self.measure_describe()
        self.measure_restart(kill9=False)
        if KILL9:
            self.measure_restart(kill9=True)

    def cleanup(self):
        if getattr(self.daemon, "sampler", None):
            self.daemon.sampler.stop()
        if self.prober:
            self.prober.close()
        for p in list(self.servers):
            self.stop_server(self.servers.pop(p))
        took = self.daemon.stop(timeout=RESTART_TIMEOUT)
        if took is None:
            log("daemon did not stop on SIGTERM: killed")
        left = hi.remove_namespaces(self.state, timeout=300)
        if left:
            log(f"could not remove namespaces: {left[:10]}")
        if KEEP:
            log(f"state kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def table(self):
        rows = [("measure", "value", "target", "met?")] + self.results
        w = [max(len(str(r[i])) for r in rows) for i in range(4)]
        print()
        for k, r in enumerate(rows):
            print(" | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
            if k == 0:
                print("-+-".join("-" * x for x in w))
        for n in self.notes:
            print("note: " + n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench scale: needs root (namespaces, nftables)")
    if E > 250:
        raise SystemExit("E > 250 does not fit a /24 subnet per zone")

    def on_signal(sig, _):
        raise SystemExit(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    b = Bench(os.path.abspath(args.binary))
    rc = 0
    try:
        b.run()
    except (Exception, SystemExit) as e:  # noqa: BLE001 - reported, then cleaned up
        rc = 1
        msg = str(e) if isinstance(e, RuntimeError) else f"{type(e).__name__}: {e}"
        b.notes.append("stopped early: " + msg)
        if not isinstance(e, RuntimeError) or "stopped:" not in msg:
            b.notes.append(diagnose(b.daemon, msg))
        log("FAILED: " + msg)
    finally:
        b.cleanup()
        b.table()
    return rc


if __name__ == "__main__":
    sys.exit(main())
