"""One account (the flooder) sends pre-signed CreateTags as fast as FLOOD_THREADS
threads in FLOOD_PROCS processes can; another (the victim) measures DescribeVpcs
round trips on one keep-alive connection, quiet and then under the flood. Both
against a daemon with the default throttle, then the same with throttling off.
Requests are signed before timing (botocore's SigV4Auth), so only the HTTP round
trip is measured.

Each is run twice: unpinned (every process wherever the kernel puts it), and
pinned, the daemon and the victim on one CPU and the flooding processes on another
(PIN_SERVER_CPU, PIN_FLOOD_CPU). Pinned, the flooder's own Python cannot take the
daemon's CPU, as a neighbour on another host could not: what the victim feels is the
daemon's work for the flood. The victim shares its CPU with the daemon in both
phases, so its quiet and flood figures are measured alike. Usage: bench.py LINKPLANE"""

import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# 1000: the p99 is the 10th slowest round trip, not the 4th of 400.
SAMPLES = int(os.environ.get("LP_BENCH_SAMPLES", "1000"))
PHASE_SECONDS = float(os.environ.get("LP_BENCH_PHASE_SECONDS", "20"))
FLOOD_PROCS = int(os.environ.get("LP_BENCH_FLOOD_PROCS", "2"))
FLOOD_THREADS = int(os.environ.get("LP_BENCH_FLOOD_THREADS", "12"))  # per process
# The flooding clients run at this nice level: on one 2-core host the flooder's own
# Python (24 threads signing nothing, parsing every response) competes with the daemon
# for the CPU, which a real neighbour on another machine would not; the daemon and the
# victim run at the caller's priority. 0 = the same priority as the victim.
FLOOD_NICE = int(os.environ.get("LP_BENCH_FLOOD_NICE", "10"))
# Pinned, the flooder has a CPU of its own and floods at full strength.
FLOOD_NICE_PINNED = int(os.environ.get("LP_BENCH_FLOOD_NICE_PINNED", "0"))
# "both" (default), "on" or "off": whether the processes are pinned to CPUs.
PIN = os.environ.get("LP_BENCH_PIN", "both")
PIN_SERVER_CPU = int(os.environ.get("LP_BENCH_SERVER_CPU", "0"))  # the daemon and the victim
PIN_FLOOD_CPU = int(os.environ.get("LP_BENCH_FLOOD_CPU", "1"))  # the flooding processes
ACCOUNTS = {
    "victim": ("111111111111", "AKIALINKPLANEPROVIDR", "provider/secret/key/0000000000000000000000"),
    "flooder": ("222222222222", "AKIALINKPLANECONSUMR", "consumer/secret/key/0000000000000000000000"),
}


def signed(port, account, body):
    _, key, secret = ACCOUNTS[account]
    req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "ec2", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def call(conn, headers, body):
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status


def flood(port, body, stop, stop_at, counts, pinned):
    os.nice(FLOOD_NICE_PINNED if pinned else FLOOD_NICE)
    if pinned:
        os.sched_setaffinity(0, {PIN_FLOOD_CPU})
    headers = signed(port, "flooder", body)

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ok = refused = 0
        while not stop.is_set() and time.monotonic() < stop_at:
            try:
                s = call(conn, headers, body)
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            if s == 200:
                ok += 1
            else:
                refused += 1
        counts.put((ok, refused))
    threads = [threading.Thread(target=worker) for _ in range(FLOOD_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure(port, deadline):
    body = "Action=DescribeVpcs&Version=2016-11-15"
    headers = signed(port, "victim", body)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat = []
    while len(lat) < SAMPLES and time.monotonic() < deadline:
        t0 = time.perf_counter()
        s = call(conn, headers, body)
        lat.append((time.perf_counter() - t0) * 1000)
        assert s == 200, s
        # A steady client, not a second flood: about 180 calls a second, inside the
        # default read bucket's 200 per second (faster, the victim throttles itself).
        time.sleep(0.005)
    lat.sort()
    return lat


def cpu_seconds(pid):
    """The daemon's CPU time so far (user + system, all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def switches(pid):
    """The daemon's context switches so far (all threads)."""
    n = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as f:
            n += sum(int(line.split()[1]) for line in f if "ctxt_switches:" in line)
    return n


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))]


def run(linkplane, throttle, pinned):
    tmp = tempfile.mkdtemp(prefix="lp-bench-throttle-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = os.path.join(tmp, "linkplane.toml")
    with open(cfg, "w") as f:
        # LP_BENCH_CONFIG: top-level config lines to try (e.g. "api_threads = 2").
        extra = os.environ.get("LP_BENCH_CONFIG", "").replace(";", "\n")
        f.write(f'dataplane = false\ndns_listen = ""\nlog_level = "warn"\n{extra}\n[throttle]\nenabled = {throttle}\n')
    pin = ["taskset", "-c", str(PIN_SERVER_CPU)] if pinned else []
    os.sched_setaffinity(0, {PIN_SERVER_CPU} if pinned else ALL_CPUS)  # the victim (this process)
    d = subprocess.Popen(pin + [linkplane, "serve", "--config", cfg, "--state-dir", os.path.join(tmp, "state"),
                          "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = d.stdout.readline()
        assert line.startswith(b"linkplane listening"), line
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.1.0.0%2F16"
        conn.request("POST", "/", body=body, headers=signed(port, "flooder", body))
        resp = conn.getresponse().read().decode()
        vpc = resp.split("<vpcId>")[1].split("</vpcId>")[0]
        for i in range(20):  # the victim has something to describe
            b = f"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.{i + 2}.0.0%2F16"
            call(conn, signed(port, "victim", b), b)
        flood_body = f"Action=CreateTags&Version=2016-11-15&ResourceId.1={vpc}&Tag.1.Key=k&Tag.1.Value=v"

        q0, c0 = time.monotonic(), cpu_seconds(d.pid)
        quiet = measure(port, time.monotonic() + PHASE_SECONDS)
        quiet_cpu = (cpu_seconds(d.pid) - c0) / (time.monotonic() - q0)
        stop_at = time.monotonic() + PHASE_SECONDS + 3
        counts, stop = multiprocessing.Queue(), multiprocessing.Event()
        procs = [multiprocessing.Process(target=flood, args=(port, flood_body, stop, stop_at, counts, pinned))
                 for _ in range(FLOOD_PROCS)]
        for p in procs:
            p.start()
        time.sleep(1.5)  # the flood under way (and past its burst) before measuring
        t0, c0, x0 = time.monotonic(), cpu_seconds(d.pid), switches(d.pid)
        # LP_BENCH_PERF=FILE: a perf profile of the daemon's flood phase (throttled runs).
        perf = None
        if os.environ.get("LP_BENCH_PERF") and throttle == "true":
            out = f"{os.environ['LP_BENCH_PERF']}.{'pinned' if pinned else 'unpinned'}.{os.getpid()}.{d.pid}"
            perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-p", str(d.pid), "-o", out, "--",
                                     "sleep", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loud = measure(port, stop_at - 1)
        stop.set()
        t1 = time.monotonic()
        flood_cpu = (cpu_seconds(d.pid) - c0) / (t1 - t0)
        flood_switches = (switches(d.pid) - x0) / (t1 - t0)
        if perf:
            perf.wait(30)
        for p in procs:
            p.join(timeout=PHASE_SECONDS + 10)
        ok = refused = 0
        for _ in procs:
            a, b = counts.get(timeout=10)
            ok, refused = ok + a, refused + b
        flood_seconds = t1 - t0 + 1.5
        return quiet, loud, ok / flood_seconds, refused / flood_seconds, quiet_cpu, flood_cpu, flood_switches
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(30)
        except subprocess.TimeoutExpired:
            d.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        os.sched_setaffinity(0, ALL_CPUS)


ALL_CPUS = os.sched_getaffinity(0)


def main():
    linkplane = sys.argv[1]
    print(f"victim: {SAMPLES} DescribeVpcs per phase; flooder: CreateTags from {FLOOD_PROCS}x{FLOOD_THREADS} threads"
          f" at nice {FLOOD_NICE} (pinned: nice {FLOOD_NICE_PINNED}, daemon and victim on CPU {PIN_SERVER_CPU},"
          f" flooder on CPU {PIN_FLOOD_CPU})")
    print(f"{'throttle':9} {'pinned':6} {'quiet p50':>9} {'quiet p99':>9} {'flood p50':>9} {'flood p99':>9} "
          f"{'p99 x':>6} {'flood ok/s':>10} {'refused/s':>9} {'cpu quiet':>9} {'cpu flood':>9} {'us/call':>7} {'cs/s':>6}")
    pins = {"both": (False, True), "on": (True,), "off": (False,)}[PIN]
    if any(pins) and len(ALL_CPUS) < 2:
        sys.exit("bench throttle: pinning needs two CPUs (LP_BENCH_PIN=off)")
    # LP_BENCH_PEER=another linkplane: also run it throttled ("peer" rows), e.g. a build
    # without a change to the refusal path, for an A/B in the same run.
    peer = os.environ.get("LP_BENCH_PEER", "")
    cases = [(linkplane, "true"), (linkplane, "false")] + ([(peer, "true")] if peer else [])
    ratios = {}
    for pinned in pins:
        for binary, throttle in cases:
            label = ("on" if throttle == "true" else "off") + (" peer" if binary == peer else "")
            quiet, loud, ok, refused, quiet_cpu, flood_cpu, flood_switches = run(binary, throttle, pinned)
            # The daemon's CPU for each flood call: what the flood adds to the quiet load.
            per_call = (flood_cpu - quiet_cpu) / max(ok + refused, 1) * 1e6
            ratio = pct(loud, 0.99) / pct(quiet, 0.99)
            ratios[(label, pinned)] = ratio
            print(f"{label:9} {'yes' if pinned else 'no':6} {pct(quiet, .5):9.2f} "
                  f"{pct(quiet, .99):9.2f} {pct(loud, .5):9.2f} {pct(loud, .99):9.2f} {ratio:6.2f} {ok:10.0f} "
                  f"{refused:9.0f} {quiet_cpu:9.0%} {flood_cpu:9.0%} {per_call:7.0f} {flood_switches:6.0f}"
                  f"   (ms; {len(quiet)}/{len(loud)} samples)", flush=True)
    for pinned in pins:
        print(f"{'pinned' if pinned else 'unpinned'}: throttling on: flood p99 / quiet p99 = "
              f"{ratios[('on', pinned)]:.2f} (target < 2); off: {ratios[('off', pinned)]:.2f}"
              + (f"; peer on: {ratios[('on peer', pinned)]:.2f}" if peer else ""))


if __name__ == "__main__":
    main()
