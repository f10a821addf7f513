#!/usr/bin/env bash
# The data plane benchmark with the CloudWatch metrics sampler at its busiest and at its
# quietest: bench.py twice, `[metrics] sample_seconds = 1` (the counters read every
# second) and `= 60` (the most the daemon allows: most 5 s measurements see no read),
# then the ratios each run measured against its own peers (fast/direct,
# linkplane/haproxy) side by side, and on/off. The issue's bar: the ratios do not drop
# with metrics on (the counting stays off the forwarding path). Ratios, not absolute
# figures, because each is taken against a peer measured seconds apart in the same run;
# still, run it on an otherwise idle machine. Bounded: each run at most 20 minutes.
#   LP_BUILD_DIR=build DURATION=5 REPEAT=3 bench/dataplane/metrics_on_off.sh
# IDLE_CONNS defaults to 0 here (the idle-connection part does not depend on sampling).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LP_BUILD_DIR="${LP_BUILD_DIR:-$here/../../build}"
export IDLE_CONNS="${IDLE_CONNS:-0}"
tmp=$(mktemp -d /tmp/lp-bench-metrics-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for s in 60 1; do
  echo "== data plane bench, metrics sample_seconds = $s =="
  LP_METRICS_SAMPLE_SECONDS=$s timeout 1200 /usr/bin/python3 "$here/bench.py" | tee "$tmp/sample$s.out"
done
/usr/bin/python3 - "$tmp/sample60.out" "$tmp/sample1.out" <<'PY'
import json, sys

def results(path):
    for line in reversed(open(path).read().splitlines()):
        if line.startswith("{") and '"direct"' in line:
            return json.loads(line)
    sys.exit(f"no results in {path}")

off, on = results(sys.argv[1]), results(sys.argv[2])
keys = [("iperf3 1 stream", "iperf1_gbps"), ("iperf3 4 streams, 1 process", "iperf4_gbps"),
        ("iperf3 4 streams, 4 processes", "iperf4p_gbps"), ("wrk new connections/s", "conn_per_s"),
        ("latency p99 (lower is better)", "p99_ms")]
print("\nRatios with the sampler every 60 s (off) and every 1 s (on); on/off below 1 means metrics cost "
      "(above 1 for p99)")
print(f"{'':34}{'ratio':>18}{'off':>8}{'on':>8}{'on/off':>8}")
for a, b in (("fast", "direct"), ("linkplane", "haproxy")):
    for label, k in keys:
        try:
            r_off, r_on = off[a][k] / off[b][k], on[a][k] / on[b][k]
        except (KeyError, ZeroDivisionError):
            continue
        print(f"{label:34}{a + '/' + b:>18}{r_off:8.2f}{r_on:8.2f}{r_on / r_off:8.2f}")
PY
