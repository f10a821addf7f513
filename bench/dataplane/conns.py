"""New connections per second, fast path against direct, in a few seconds per figure.

The same two topologies as bench.py (direct: client -> router -> server; fast: consumer
workload -> endpoint -> provider workload through linkplane's kernel fast path), then
ROUNDS pairs of short wrk runs (`Connection: close`, DURATION seconds each, the order
alternating). For each run: connections per second, the CPU per connection (wrk, the
server's nginx and ksoftirqd, where the packets' kernel work is charged: steadier than
connections per second while other jobs take a changing share of the cores), and what the
kernel counted meanwhile in every namespace on the path: TCP (nstat: SYN retransmissions,
retransmitted segments, TIME_WAIT and PAWS events, resets) and conntrack
(/proc/net/stat/nf_conntrack: `found` counts tuples found taken when translating, i.e.
ports moved; insert_failed, drop, invalid). Then each round's fast/direct ratios.

MIX=haproxy|splice runs, before each round, DURATION seconds of the same wrk through HAProxy
or linkplane's splice path: what bench.py runs between its fast-path phases, connections
from the load balancer node's address to the same target by another way. VARIANT (a shell
command run in each VPC namespace before the rounds, {ns} and {role} = consumer|provider
substituted) changes one thing; the ratios show what it did. HOLD=1 keeps everything up
after the rounds and runs them again for each line read on stdin (a VARIANT to apply
first, or empty), so several variants share one topology; `quit` ends. CLIENTS=2 adds a
second consumer workload and splits the connections between two clients (the direct path:
two wrk in its one client).

  LP_BUILD_DIR=build DURATION=3 ROUNDS=4 MIX=splice timeout 900 /usr/bin/python3 bench/dataplane/conns.py
  VARIANT='[ {role} = provider ] && nft flush chain ip lp-fast fp-lim' LP_BUILD_DIR=build ...

Needs root, wrk, nginx, iperf3, haproxy (bench.py starts its servers). Everything made is
removed at the end, even on failure."""
import json
import os
import re
import subprocess
import sys
import shutil
import signal
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

DURATION = int(os.environ.get("DURATION", "3"))
ROUNDS = int(os.environ.get("ROUNDS", "4"))
WRK_CONNS = int(os.environ.get("WRK_CONNS", "32"))

TCP_KEYS = ("TcpExtTCPSynRetrans", "TcpRetransSegs", "TcpExtTCPTimeouts", "TcpAttemptFails", "TcpEstabResets",
            "TcpOutRsts", "TcpActiveOpens", "TcpPassiveOpens", "TcpExtTW", "TcpExtTWRecycled", "TcpExtTWKilled",
            "TcpExtPAWSActive", "TcpExtPAWSEstab", "TcpExtTCPTimeWaitOverflow", "TcpExtListenDrops",
            "TcpExtListenOverflows", "TcpExtTCPReqQFullDrop", "TcpExtTCPChallengeACK", "TcpExtTCPACKSkippedTimeWait",
            "TcpExtTCPAbortOnData", "TcpExtTCPSYNChallenge", "TcpExtTCPDSACKRecv", "TcpExtTCPBacklogDrop",
            "TcpExtTCPRcvQDrop", "IpExtInNoRoutes", "IpInDiscards", "TcpInErrs", "TcpExtLockDroppedIcmps")


def nstat(ns):
    text = bench.sh("ip", "netns", "exec", ns, "nstat", "-asz", "--json")
    v = json.loads(text)
    v = v.get("kernel", v)
    return {k: int(v.get(k, 0)) for k in TCP_KEYS}


def ct_stat(ns):
    """Per-cpu lines of /proc/net/stat/nf_conntrack summed (hex); {} when conntrack is not in use there."""
    p = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/stat/nf_conntrack"], capture_output=True,
                       text=True)
    lines = p.stdout.split("\n")
    if p.returncode != 0 or len(lines) < 2:
        return {}
    names = lines[0].split()
    total = {n: 0 for n in names}
    for line in lines[1:]:
        if line.strip():
            for n, x in zip(names, line.split()):
                total[n] += int(x, 16)
    total.pop("entries", None)
    total.pop("chainlength", None)
    count = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"],
                           capture_output=True, text=True).stdout.strip()
    total["count"] = int(count or 0)
    return total


def snapshot(namespaces):
    return {ns: {"tcp": nstat(ns), "ct": ct_stat(ns)} for ns in namespaces}


def delta(a, b):
    out = {}
    for ns in b:
        d = {k: b[ns]["tcp"][k] - a[ns]["tcp"][k] for k in TCP_KEYS if b[ns]["tcp"][k] != a[ns]["tcp"][k]}
        for k, v in b[ns]["ct"].items():
            if k == "count":
                d["ct_count_now"] = v
            elif v != a[ns]["ct"].get(k, 0):
                d["ct_" + k] = v - a[ns]["ct"].get(k, 0)
        out[ns] = d
    return out


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            total += bench.cpu_seconds(pid)
        except OSError:
            pass
    return total


def pids_in(ns=None, comm_prefix=""):
    """Processes named comm_prefix*, in namespace ns when given (by the namespace's inode)."""
    ino = os.stat(f"/run/netns/{ns}").st_ino if ns else None
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                if not f.read().startswith(comm_prefix):
                    continue
            if ino is None or os.readlink(f"/proc/{d}/ns/net") == f"net:[{ino}]":
                out.append(int(d))
        except OSError:
            pass
    return out


def wrk_cpu(ns, url, server_ns):
    """wrk's result plus the CPU (s) that wrk, the server's nginx and ksoftirqd used meanwhile:
    the packets' kernel work runs in their contexts, so CPU per connection is comparable
    across runs even when other jobs take a changing share of the cores."""
    others = pids_in(server_ns, "nginx") + pids_in(None, "ksoftirqd")
    c0, k0 = cpu_of(others), bench.children_cpu()
    got = wrk(ns, url)
    return got + (cpu_of(others) - c0 + bench.children_cpu() - k0,)


def wrk(namespaces, url):
    """One wrk per namespace (a list: CLIENTS=2 gives two), at once, WRK_CONNS connections in all."""
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    each = max(2, WRK_CONNS // len(namespaces))
    ps = [subprocess.Popen(["ip", "netns", "exec", ns, "wrk", "-t", "2", "-c", str(each), "-d", f"{DURATION}s",
                            "--latency", "-H", "Connection: close", url], stdout=subprocess.PIPE, text=True)
          for ns in namespaces]
    rps, p99s, errors = 0.0, [], []
    for p in ps:
        text = p.communicate(timeout=DURATION + 30)[0]
        if p.returncode != 0:
            raise RuntimeError(f"wrk failed: {text}")
        rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
        m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text)
        if m:
            p99s.append(float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)])
        e = re.search(r"Socket errors: (.*)", text)
        if e:
            errors.append(e.group(1))
    return rps, f"{max(p99s):.2f}ms" if p99s else "?", "; ".join(errors)


def second_client(t):
    """CLIENTS=2: another workload in the consumer subnet (10.234.1.11): two clients whose
    ports meet at the one node address on the provider side."""
    import boto3
    ec2 = boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{t['daemon'].port}", region_name="us-east-1",
                       aws_access_key_id="AKIALINKPLANECONSUMR",
                       aws_secret_access_key="consumer/secret/key/0000000000000000000000")
    vpc = t["cvpc_ns"][len("lp-"):]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.234.1.11")["NetworkInterface"]
    ns = "lp-" + eni["NetworkInterfaceId"]
    deadline = time.time() + 30
    while not os.path.exists(f"/run/netns/{ns}"):
        if time.time() > deadline:
            raise RuntimeError(f"{ns} not made in 30 s")
        time.sleep(0.2)
    bench.wait_port(ns, t["endpoint_ip"], bench.LP_HTTP)
    return ns


def apply_variant(variant, t):
    if not variant:
        return
    for ns, role in ((t["cvpc_ns"], "consumer"), (t["pvpc_ns"], "provider")):
        cmd = variant.replace("{ns}", ns).replace("{role}", role)
        p = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd], capture_output=True, text=True)
        print(f"variant in {ns} ({role}): {cmd!r} -> rc {p.returncode} {p.stderr.strip()[:300]}", flush=True)


def mix(t, how):
    """What the bench runs between its kernel-path phases: connections from the load
    balancer node's address to the same target by another route (HAProxy, or linkplane's
    splice path), so the target holds TIME_WAIT sockets for node:port pairs the fast path
    is about to use."""
    if how == "haproxy":
        rps, _, errors = wrk(t["client_ns"], f"http://{t['endpoint_ip']}:{bench.HA_HTTP}/")
    elif how == "splice":
        t["daemon"].switch("splice", t)
        rps, _, errors = wrk(t["client_ns"], f"http://{t['endpoint_ip']}:{bench.LP_HTTP}/")
        t["daemon"].switch("kernel", t)
    else:
        return
    print(f"  mix: {how} {rps:.0f} conn/s {errors}", flush=True)


def rounds(c, ip, s, t, host_hint):
    clients = [t["client_ns"]] + ([t["client2_ns"]] if t.get("client2_ns") else [])
    direct_ns = [c, s]
    fast_ns = clients + [t["cvpc_ns"], t["pvpc_ns"], t["server_ns"]]
    runs = {"direct": ([c] * len(clients), f"http://{ip}:{bench.HTTP_PORT}/", direct_ns, s),
            "fast": (clients, f"http://{t['endpoint_ip']}:{bench.LP_HTTP}/", fast_ns, t["server_ns"])}
    ratios, cpu_ratios = [], []
    for r in range(ROUNDS):
        mix(t, os.environ.get("MIX", ""))
        got, cpu = {}, {}
        for name in (("direct", "fast") if r % 2 == 0 else ("fast", "direct")):
            ns, url, watch, server_ns = runs[name]
            before = snapshot(watch)
            with open("/proc/loadavg") as f:
                load = f.read().split()[0]
            rps, p99, errors, used = wrk_cpu(ns, url, server_ns)
            after = snapshot(watch)
            got[name] = rps
            cpu[name] = used / max(1.0, rps * DURATION) * 1e6  # CPU microseconds per connection
            moved = {host_hint.get(k, k): v for k, v in delta(before, after).items() if v}
            print(f"round {r} {name:6} {rps:9.0f} conn/s  {cpu[name]:6.0f} us CPU/conn  p99 {p99:>8}  load {load}  "
                  f"{errors}", flush=True)
            for ns_name, d in moved.items():
                print(f"    {ns_name}: {json.dumps(d)}", flush=True)
        ratios.append(got["fast"] / got["direct"])
        cpu_ratios.append(cpu["fast"] / cpu["direct"])
        print(f"round {r} fast/direct {ratios[-1]:.2f} conn/s, {cpu_ratios[-1]:.2f} CPU per connection", flush=True)
    ratios.sort()
    cpu_ratios.sort()
    print(f"fast/direct median {ratios[len(ratios) // 2]:.2f} (rounds {[round(x, 2) for x in ratios]}); "
          f"CPU per connection fast/direct median {cpu_ratios[len(cpu_ratios) // 2]:.2f} "
          f"(rounds {[round(x, 2) for x in cpu_ratios]})", flush=True)


def main():
    if os.geteuid() != 0:
        sys.exit("conns.py: needs root")
    tmp = tempfile.mkdtemp(prefix="lp-bench-conns-")
    bench.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        c, ip, s = bench.direct_topology(tmp)
        bench.wait_port(c, ip, bench.HTTP_PORT)
        t = bench.linkplane_topology(tmp)
        # The provider workload's namespace: where bench.py started the other nginx.
        t["server_ns"] = next(p.args[3] for p in bench.procs if p.args[4:5] == ["nginx"] and p.args[3] != s)
        bench.wait_port(t["client_ns"], t["endpoint_ip"], bench.LP_HTTP)
        if os.environ.get("MIX") == "haproxy":
            bench.start_haproxy(t, tmp)
            bench.wait_port(t["client_ns"], t["endpoint_ip"], bench.HA_HTTP)
        if os.environ.get("CLIENTS") == "2":
            t["client2_ns"] = second_client(t)
        hint = {c: "direct client", s: "direct server", t["client_ns"]: "fast client",
                t.get("client2_ns", "-"): "fast client 2",
                t["cvpc_ns"]: "consumer VPC", t["pvpc_ns"]: "provider VPC", t["server_ns"]: "fast server"}
        print(json.dumps({k: v for k, v in t.items() if k != "daemon"} | {"direct_client": c, "direct_server": s,
                                                                            "daemon_pid": t["daemon"].pid}),
              flush=True)
        apply_variant(os.environ.get("VARIANT", ""), t)
        rounds(c, ip, s, t, hint)
        while os.environ.get("HOLD") == "1":
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                break
            apply_variant(line.strip(), t)
            rounds(c, ip, s, t, hint)
    finally:
        for p in reversed(bench.procs):
            if p.poll() is None and p.args[0] != bench.LINKPLANE:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for fn in reversed(bench.cleanups):
            fn()


if __name__ == "__main__":
    main()
