"""What the CloudWatch metrics sampler costs the data plane, measured two ways in one run.

1. Paired on/off: on each path (the fast path bench.py's FAST_PATH names, bpf by
   default, and the splice forwarder) the daemon is
   restarted with `[metrics] sample_seconds = 1` (the sampler at its busiest) and
   `= 60` (its quietest), in an order that alternates by round, and bench.py's
   iperf3 (4 processes) and wrk loads run against each: on/off ratios of Gbit/s,
   new connections per second and p99 per round.
2. The sampler's own CPU: its thread is named `linkplane-stats`, so its CPU time
   (/proc/PID/task/TID/stat) is read apart from the forwarding loops' during a
   longer run on each path at sample_seconds = 1 (SAMPLER_SECONDS each, default 60;
   on the bpf path each sample is also a read of the links' counter maps).

On a shared machine (1) swings with the other load, since each figure is a few
seconds of a contended machine; (2) does not, and is what says whether the sampler
competes with forwarding. Needs root and what bench.py needs. Bounded: ROUNDS
(default 3) x 2 paths x 2 settings x (restart + 2 x DURATION s), then 2 x SAMPLER_SECONDS.
  LP_BUILD_DIR=build ROUNDS=3 DURATION=5 /usr/bin/python3 bench/dataplane/metrics_cost.py"""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SAMPLER_SECONDS = int(os.environ.get("SAMPLER_SECONDS", "60"))
HZ = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """{tid: (comm, CPU seconds)} of every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            fields = rest.split()
            out[tid] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / HZ)
        except (OSError, IndexError):
            pass  # a thread that ended meanwhile
    return out


def cpu_delta(before, after, comm=None):
    return sum(c - before.get(t, (n, 0.0))[1] for t, (n, c) in after.items() if comm is None or n == comm)


def restart(d, t, path, sample_seconds):
    """The daemon again on PATH with the sampler every SAMPLE_SECONDS; waits until the endpoint is on it."""
    B.METRICS_SAMPLE_SECONDS = sample_seconds
    d.proc.kill()
    d.proc.wait()
    d.start(path)
    deadline = time.time() + 30
    while B.carried_by(d, t) != path:
        if time.time() > deadline:
            raise RuntimeError(f"endpoint not on the {path} path 30 s after the restart")
        time.sleep(0.2)
    B.wait_port(t["client_ns"], t["endpoint_ip"], B.LP_IPERF)
    B.wait_port(t["client_ns"], t["endpoint_ip"], B.LP_HTTP)
    time.sleep(3)  # a few sampling rounds before measuring


def measure(d, t):
    before = thread_cpu(d.pid)
    start = time.time()
    r = {}
    for load in ("iperf4p", "wrk"):
        r.update(B.measure(load, t["client_ns"], t["endpoint_ip"], B.LP_IPERF, B.LP_HTTP, d.pid))
    after, wall = thread_cpu(d.pid), time.time() - start
    return dict(gbps=r["iperf4p_gbps"], conn_per_s=r["conn_per_s"], p99_ms=r["p99_ms"],
                daemon_cores=cpu_delta(before, after) / wall,
                sampler_cores=cpu_delta(before, after, "linkplane-stats") / wall)


def main():
    if os.geteuid() != 0:
        sys.exit("bench/dataplane/metrics_cost.py: needs root")
    tmp = tempfile.mkdtemp(prefix="lp-bench-metrics-")
    B.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    rows = []
    try:
        t = B.linkplane_topology(tmp)
        d = t["daemon"]
        for r in range(ROUNDS):
            for i, path in enumerate((B.FAST_PATH, "splice")):
                for s in ((1, 60) if (r + i) % 2 == 0 else (60, 1)):
                    restart(d, t, path, s)
                    row = dict(round=r, path=path, sample_seconds=s, load=open("/proc/loadavg").read().split()[0],
                               **measure(d, t))
                    print(json.dumps(row), flush=True)
                    rows.append(row)
        # The sampler's thread alone, a longer run on each path at its busiest.
        long_runs = []
        for path in (B.FAST_PATH, "splice"):
            restart(d, t, path, 1)
            before, start = thread_cpu(d.pid), time.time()
            B.DURATION = SAMPLER_SECONDS
            res = B.measure("iperf4p", t["client_ns"], t["endpoint_ip"], B.LP_IPERF, B.LP_HTTP, d.pid)
            after, wall = thread_cpu(d.pid), time.time() - start
            if not any(n == "linkplane-stats" for n, _ in after.values()):
                raise RuntimeError("no thread named linkplane-stats in the daemon")
            long_runs.append(dict(path=path, seconds=round(wall, 1), gbps=res["iperf4p_gbps"],
                                  daemon_cpu_s=cpu_delta(before, after),
                                  sampler_cpu_s=cpu_delta(before, after, "linkplane-stats"),
                                  load=open("/proc/loadavg").read().split()[0]))
            print(json.dumps(long_runs[-1]), flush=True)
    finally:
        for p in reversed(B.procs):
            if p.poll() is None and p.args[0] != B.LINKPLANE:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for fn in reversed(B.cleanups):
            fn()

    print(f"\nSampler every 1 s (on) against every 60 s (off), paired per round (machine load "
          f"{', '.join(sorted({x['load'] for x in rows}))}):")
    print(f"{'':18}{'Gbit/s on/off':>15}{'conn/s on/off':>15}{'p99 on/off':>12}{'daemon cores off -> on':>26}"
          f"{'sampler cores on':>18}")
    for path in (B.FAST_PATH, "splice"):
        for r in range(ROUNDS):
            on, off = ([x for x in rows if x["path"] == path and x["round"] == r and x["sample_seconds"] == s][0]
                       for s in (1, 60))
            print(f"{path + ' round ' + str(r):18}{on['gbps'] / off['gbps']:15.2f}"
                  f"{on['conn_per_s'] / off['conn_per_s']:15.2f}{on['p99_ms'] / off['p99_ms']:12.2f}"
                  f"{off['daemon_cores']:14.3f} -> {on['daemon_cores']:.3f}{on['sampler_cores']:18.4f}")
    for lr in long_runs:
        print(f"\n{lr['path']} run of {lr['seconds']} s at sample_seconds = 1, {lr['gbps']:.2f} Gbit/s: the daemon "
              f"used {lr['daemon_cpu_s']:.2f} s of CPU, its sampler thread {lr['sampler_cpu_s']:.2f} s "
              f"({lr['sampler_cpu_s'] / max(lr['seconds'], 1) * 1000:.2f} ms per second)")


if __name__ == "__main__":
    main()
