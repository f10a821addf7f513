// sweep_bench: what the BPF path's connection sweep (dataplane::sweepBpfConnections,
// every 5 s on the reconciler thread) costs with a large lp_conns (issue 18). Fills
// fresh maps (the daemon's sizes: 262,144 entries) with ENTRIES entries, two per
// connection as lp_link_out makes them, spread over 1,000 links, IDLE_PERCENT of
// them idle, the rest live; then times the walk (readBpfConnections), the
// judgement of what it read (planBpfSweep), and the whole sweep (deletes included):
// what the reconciler thread spent in BpfExecutor::sweepConnections until it ran
// the sweep itself. Then the same table in the kernel executor's maps: the longest
// of its sweepConnections calls (the reconciler thread's share now that a sweeper
// thread runs it) until one collects the finished sweep. ROUNDS times each,
// refilling what the sweep deleted; medians. Needs root (CAP_BPF, bpffs) and the
// BPF path's build; no namespace, no program.
//
// Usage: sweep_bench [ROUNDS] [IDLE_PERCENT] ENTRIES...   (default 5 1 10000 100000)
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <filesystem>
#include <thread>
#include <unistd.h>

#include "dataplane/bpf_sweep.h"
#include "net/bpf/bpf_fastpath.h"
#include "net/bpf/bpffs.h"
#include "reconciler/bpf_fastpath_kernel.h"

namespace {

using namespace lp;
using Clock = std::chrono::steady_clock;

uint64_t monotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(t.tv_nsec);
}

constexpr uint64_t kIdleNs = 350'000'000'000ull;

// Connection i: client 10.1.x.y:port -> endpoint 10.0.2.10:443 in space 1,
// translated to node 10.9.0.1:(10000 + i % 50000) -> target 10.0.1.(20 + i % 200):8080 in space 2.
Status fill(const net::bpf::FastpathMaps& maps, size_t connections, int idlePercent) {
  uint64_t now = monotonicNs();
  int fd = maps.fd(net::bpf::FastpathMaps::kConns);
  for (size_t i = 0; i < connections; ++i) {
    uint32_t link = 1 + static_cast<uint32_t>(i % 1000);
    lp_fp_tuple client{htonl(0x0a010000u + static_cast<uint32_t>(i / 50000) * 256u + 1u + (i % 200)),
                       htonl(0x0a00020au), htons(static_cast<uint16_t>(1024 + (i % 50000))), htons(443)};
    lp_fp_tuple target{htonl(0x0a000114u + static_cast<uint32_t>(i % 200)), htonl(0x0a090001u), htons(8080),
                       htons(static_cast<uint16_t>(10000 + (i % 50000)))};
    bool idle = static_cast<int>(i % 100) < idlePercent;
    uint64_t seen = idle ? now - kIdleNs - 1'000'000'000ull : now;
    lp_fp_conn_key ck{1, client}, pk{2, target};
    lp_fp_conn cv{}, pv{};
    cv.to = lp_fp_tuple{target.daddr, target.saddr, target.dport, target.sport};  // node -> target
    cv.link = pv.link = link;
    cv.dir = LP_FP_DIR_FWD;
    cv.last_seen_ns = pv.last_seen_ns = seen;
    pv.to = lp_fp_tuple{client.daddr, client.saddr, client.dport, client.sport};  // endpoint -> client
    pv.dir = LP_FP_DIR_REV;
    if (bpf_map_update_elem(fd, &ck, &cv, BPF_ANY) != 0 || bpf_map_update_elem(fd, &pk, &pv, BPF_ANY) != 0)
      return Status("Map", "fill failed");
  }
  return Status::Ok();
}

double since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  int idlePercent = argc > 2 ? std::atoi(argv[2]) : 1;
  std::vector<size_t> sizes;
  for (int i = 3; i < argc; ++i) sizes.push_back(static_cast<size_t>(std::atol(argv[i])));
  if (sizes.empty()) sizes = {10000, 100000};
  if (rounds <= 0 || idlePercent < 0 || idlePercent > 100) {
    std::fprintf(stderr, "usage: sweep_bench [ROUNDS] [IDLE_PERCENT] ENTRIES...\n");
    return 2;
  }
  std::printf("== bpf path: the connection sweep with lp_conns filled, %d%% of connections idle, median of %d\n",
              idlePercent, rounds);
  std::printf("%9s %9s %10s %14s %12s %8s %18s\n", "entries", "counted", "walk ms", "judge ms", "sweep ms",
              "deleted", "executor call ms");
  std::string stateDir = "/tmp/lp-bsweep-" + std::to_string(getpid());
  std::filesystem::create_directories(stateDir);
  for (size_t entries : sizes) {
    auto maps = net::bpf::FastpathMaps::create(net::bpf::FastpathLimits{});
    if (!maps.ok()) {
      std::fprintf(stderr, "maps: %s\n", maps.status().toString().c_str());
      return 1;
    }
    std::vector<double> walk, judge, sweep;
    size_t counted = 0, deleted = 0;
    for (int r = 0; r < rounds; ++r) {
      if (Status st = fill(**maps, entries / 2, idlePercent); !st.ok()) {
        std::fprintf(stderr, "%s\n", st.toString().c_str());
        return 1;
      }
      auto t0 = Clock::now();
      auto all = dataplane::readBpfConnections(**maps);
      walk.push_back(since(t0));
      if (!all.ok()) return 1;
      counted = all->size();
      dataplane::BpfSweepPolicy policy;
      policy.idleNs = kIdleNs;
      t0 = Clock::now();
      auto plan = dataplane::planBpfSweep(*all, monotonicNs(), policy);
      judge.push_back(since(t0));
      t0 = Clock::now();
      auto swept = dataplane::sweepBpfConnections(**maps, monotonicNs(), kIdleNs);
      sweep.push_back(since(t0));
      if (!swept.ok()) {
        std::fprintf(stderr, "sweep: %s\n", swept.status().toString().c_str());
        return 1;
      }
      deleted = swept->idle + swept->closed;
      (void)plan;
    }
    // The kernel executor's sweepConnections over the same table (its own maps).
    auto exec = reconciler::makeKernelBpfExecutor(stateDir);
    if (!exec.ok()) {
      std::fprintf(stderr, "executor: %s\n", exec.status().toString().c_str());
      return 1;
    }
    auto pinned = net::bpf::FastpathMaps::openPinned(net::bpf::pinDirectoryFor(stateDir));
    if (!pinned.ok()) return 1;
    std::vector<double> call;
    for (int r = 0; r < rounds; ++r) {
      if (!fill(**pinned, entries / 2, idlePercent).ok()) return 1;
      double longest = 0;
      for (bool started = false;;) {
        auto t0 = Clock::now();
        auto reset = (*exec)->sweepConnections(std::chrono::nanoseconds(kIdleNs), {});
        longest = std::max(longest, since(t0));
        if (started && (!reset.empty() || idlePercent == 0)) break;
        started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      call.push_back(longest);
    }
    (void)(*exec)->unpin();
    std::printf("%9zu %9zu %10.1f %14.1f %12.1f %8zu %18.2f\n", entries, counted, median(walk), median(judge),
                median(sweep), deleted, median(call));
  }
  std::filesystem::remove_all(stateDir);
  return 0;
}
