// nft_bench: what moving libnftables into a helper process (net/nft_runner.h,
// issue 14) costs per call. Times CALLS applications of a small ruleset (one
// table, one chain, one rule: a security group's size) in one namespace, twice:
// in process, as linkplane did before (a thread switched into the namespace, one
// nft context per call), and through nftRunJson (the helper); then the helper's
// round trip alone (a request it refuses at once). Needs root; makes
// and removes the namespace lp-bnft-<pid>.
//
// Usage: nft_bench [CALLS]   (default 200)
#include <nftables/libnftables.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "net/netns.h"
#include "net/nft_runner.h"
#include "net/nftables.h"

namespace {

const char* kRuleset = R"({"nftables":[
  {"add":{"table":{"family":"inet","name":"lp-bench"}}},
  {"flush":{"table":{"family":"inet","name":"lp-bench"}}},
  {"add":{"chain":{"family":"inet","table":"lp-bench","name":"input","type":"filter","hook":"input","prio":0,"policy":"accept"}}},
  {"add":{"rule":{"family":"inet","table":"lp-bench","chain":"input","expr":[
    {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":443}},{"accept":null}]}}}]})";

// The code path before the helper: libnftables in this process.
lp::Status inProcess(const std::string& ns) {
  return lp::net::runInNamespace(ns, [] {
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return lp::Status("InternalError", "nft_ctx_new failed");
    nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    int rc = nft_run_cmd_from_buffer(ctx, kRuleset);
    nft_ctx_free(ctx);
    return rc == 0 ? lp::Status::Ok() : lp::Status("InternalError", "nft failed");
  });
}

lp::Status helper(const std::string& ns) { return lp::net::nftRunJson(ns, kRuleset); }

// The channel alone: the helper answers at once for a namespace that does not exist.
lp::Status roundTrip(const std::string& ns) {
  auto r = lp::net::NftRunner::shared().run(ns + "-absent", "list tables");
  return r.status().code() == "InvalidNamespace.NotFound" ? lp::Status::Ok() : lp::Status("InternalError", "no");
}

template <typename Fn>
bool timeCalls(const char* name, int calls, Fn&& fn) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    if (auto st = fn(); !st.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, st.toString().c_str());
      return false;
    }
  }
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-10s %d calls  %8.1f ms  %7.1f us/call\n", name, calls, us / 1000, us / calls);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 200;
  if (calls <= 0) calls = 200;
  if (auto st = lp::net::NftRunner::shared().start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.toString().c_str());
    return 1;
  }
  std::string ns = "lp-bnft-" + std::to_string(getpid());
  if (auto st = lp::net::createNamespace(ns); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.toString().c_str());
    return 1;
  }
  // One warm-up call each, then the timed loops.
  bool ok = inProcess(ns).ok() && helper(ns).ok() && timeCalls("in-process", calls, [&] { return inProcess(ns); }) &&
            timeCalls("helper", calls, [&] { return helper(ns); }) &&
            timeCalls("round trip", calls, [&] { return roundTrip(ns); });
  (void)lp::net::deleteNamespace(ns);
  return ok ? 0 : 1;
}
