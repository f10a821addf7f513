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
# ORDER="1 60" runs the busiest setting first (a second run in the other order shows what
# is order, such as the machine warming, rather than the sampler).
for s in ${ORDER:-60 1}; do
  echo "== data plane bench, metrics sample_seconds = $s =="
  LP_METRICS_SAMPLE_SECONDS=$s timeout 1200 /usr/bin/python3 "$here/bench.py" | tee "$tmp/sample$s.out"
done
/usr/bin/python3 - "$tmp/sample60.out" "$tmp/sample1.out" <<'PY'
import sys

# The median over the rounds of each round's ratio (bench.py's "per round" block: each
# round's contenders measured seconds apart), not the ratio of the contenders' medians.
def per_round(path):
    out, block = {}, None
    for line in open(path).read().splitlines():
        if line.startswith("fast/direct per round"):
            block = "fast/direct"
        elif line.startswith("linkplane/haproxy per round"):
            block = "linkplane/haproxy"
        elif block and line.startswith("  ") and "meet it" in line:
            label = line[:36].strip()
            fields = line[36:].split()
            out[(block, label)] = (float(fields[0]), float(fields[1]), float(fields[2]))
        elif block and not line.startswith("  "):
            block = None
    if not out:
        sys.exit(f"no per-round ratios in {path}")
    return out

off, on = per_round(sys.argv[1]), per_round(sys.argv[2])
print("\nMedian per-round ratios with the sampler every 60 s (off) and every 1 s (on), lowest-highest "
      "round in brackets; on/off below 1 means metrics cost (above 1 for p99)")
print(f"{'':34}{'ratio':>18}{'off':>20}{'on':>20}{'on/off':>8}")
for (block, label), o in off.items():
    if (block, label) not in on:
        continue
    n = on[(block, label)]
    print(f"{label:34}{block:>18}{o[0]:8.2f} ({o[1]:.2f}-{o[2]:.2f}){n[0]:8.2f} ({n[1]:.2f}-{n[2]:.2f}){n[0] / o[0]:8.2f}")
PY
