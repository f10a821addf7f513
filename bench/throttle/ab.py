"""Paired, alternating A/B of the noisy-neighbour benchmark (bench.py), for a shared,
noisy machine: each round runs every build once, throttled, in turn (the order reversed
every other round, so no build always goes first), and the medians over the rounds are
printed at the end. Ratios are flood p99 / quiet p99 of the victim, each measured
against its own daemon just before the flood.

  python3 bench/throttle/ab.py ROUNDS NAME=LINKPLANE[:VAR=VALUE...] ...
  e.g. ab.py 4 main=/work/main/build/src/daemon/linkplane this=build/src/daemon/linkplane

LP_BENCH_PIN=on (default) pins as bench.py does (daemon and victim on CPU 0, flooder on
CPU 1), off does not. VAR=VALUE pairs go into that build's daemon's environment."""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    rounds = int(sys.argv[1])
    builds = []
    for arg in sys.argv[2:]:
        name, rest = arg.split("=", 1)
        binary, *pairs = rest.split(":")
        builds.append((name, binary, dict(p.split("=", 1) for p in pairs)))
    pinned = os.environ.get("LP_BENCH_PIN", "on") == "on"
    print(f"load before: {os.getloadavg()}; {rounds} rounds, pinned: {pinned}", flush=True)
    results = {name: [] for name, _, _ in builds}
    base_env = dict(os.environ)
    for r in range(rounds):
        for name, binary, env in builds if r % 2 == 0 else list(reversed(builds)):
            os.environ.clear()
            os.environ.update(base_env)
            os.environ.update(env)
            quiet, loud, ok, refused, quiet_cpu, flood_cpu, cs = bench.run(binary, "true", pinned)
            q99, l99 = bench.pct(quiet, 0.99), bench.pct(loud, 0.99)
            per_call = (flood_cpu - quiet_cpu) / max(ok + refused, 1) * 1e6
            row = (l99 / q99, bench.pct(quiet, 0.5), q99, bench.pct(loud, 0.5), l99, ok, refused, per_call, cs)
            results[name].append(row)
            print(f"round {r} {name:8} ratio {row[0]:5.2f}  quiet p50/p99 {row[1]:.2f}/{row[2]:.2f}  flood p50/p99 "
                  f"{row[3]:.2f}/{row[4]:.2f} ms  ok/s {ok:.0f} refused/s {refused:.0f} us/call {per_call:.0f} "
                  f"cs/s {cs:.0f}", flush=True)
    os.environ.clear()
    os.environ.update(base_env)
    print(f"load after: {os.getloadavg()}; medians:")
    for name, rows in results.items():
        cols = [statistics.median(c) for c in zip(*rows)]
        print(f"{name:8} ratio {cols[0]:.2f} (rounds: {', '.join(f'{row[0]:.2f}' for row in rows)})  quiet p50/p99 "
              f"{cols[1]:.2f}/{cols[2]:.2f}  flood p50/p99 {cols[3]:.2f}/{cols[4]:.2f} ms  refused/s {cols[6]:.0f}  "
              f"us/call {cols[7]:.0f}  cs/s {cols[8]:.0f}")


if __name__ == "__main__":
    main()
