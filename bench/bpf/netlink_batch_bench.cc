// netlink_batch_bench: what sharing one netlink socket (and one ioctl socket) per
// namespace across a plan's writes saves the BPF path's kernel executor (issue 18).
// Applies the plan of VPCS consumer VPCs with ENDPOINTS endpoints each, all to one
// provider VPC (planBpf, executeBpfDiff with makeKernelBpfExecutor), then removes
// it, ROUNDS times each way, alternating:
//   per write  the executor's batch calls withheld: every rule, route, pair, link
//              and host call opens its own sockets in the namespace (a thread
//              entering it each time), as before;
//   batched    executeBpfDiff's batch: one socket per namespace per diff.
// Program loads, tc attachments and nft batches cost the same in both; the
// per-kind times show where the difference is. Needs root and the BPF path's
// build; makes and removes the namespaces lp-bnb<pid>-*.
//
// Usage: netlink_batch_bench [VPCS] [ENDPOINTS] [ROUNDS]   (default 20 10 3)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dataplane/bpf_fastpath_plan.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "reconciler/bpf_fastpath_kernel.h"
#include "reconciler/bpf_fastpath_sink.h"

namespace {

using namespace lp;
using namespace lp::dataplane;
using Clock = std::chrono::steady_clock;

// Forwards every call to the kernel executor, timing each kind; batch calls pass
// only when `batched`.
class Timed final : public reconciler::BpfExecutor {
 public:
  explicit Timed(reconciler::BpfExecutor& inner) : in_(inner) {}
  bool batched = true;
  std::map<std::string, double> ms;  // by kind

  void beginBatch() override {
    if (batched) in_.beginBatch();
  }
  void endBatch() override {
    if (batched) in_.endBatch();
  }
  Status load(uint32_t space, const std::string& ns) override { return t("load", [&] { return in_.load(space, ns); }); }
  Status unload(uint32_t space) override { return t("unload", [&] { return in_.unload(space); }); }
  Status putPair(const BpfPair& p) override { return t("pair", [&] { return in_.putPair(p); }); }
  Status deletePair(const BpfPairKey& k) override { return t("pair", [&] { return in_.deletePair(k); }); }
  Status setSysctl(const BpfSysctl& s) override { return t("sysctl", [&] { return in_.setSysctl(s); }); }
  Status addRule(const BpfRule& r) override { return t("rule", [&] { return in_.addRule(r); }); }
  Status deleteRule(const BpfRule& r) override { return t("rule", [&] { return in_.deleteRule(r); }); }
  Status moveLocalRule(const std::string& ns) override { return t("rule", [&] { return in_.moveLocalRule(ns); }); }
  Status restoreLocalRule(const std::string& ns) override {
    return t("rule", [&] { return in_.restoreLocalRule(ns); });
  }
  Status addRoute(const BpfRoute& r) override { return t("route", [&] { return in_.addRoute(r); }); }
  Status deleteRoute(const BpfRoute& r) override { return t("route", [&] { return in_.deleteRoute(r); }); }
  Status writeNotrack(const std::string& ns, const std::string& b) override {
    return t("notrack", [&] { return in_.writeNotrack(ns, b); });
  }
  Status dropNotrack(const std::string& ns) override { return t("notrack", [&] { return in_.dropNotrack(ns); }); }
  Status putHost(const BpfHostKey& k, const BpfHost& h) override { return t("host", [&] { return in_.putHost(k, h); }); }
  Status deleteHost(const BpfHostKey& k) override { return t("host", [&] { return in_.deleteHost(k); }); }
  Status putLink(uint32_t id, const BpfLink& l) override { return t("link", [&] { return in_.putLink(id, l); }); }
  Status deleteLink(uint32_t id) override { return t("link", [&] { return in_.deleteLink(id); }); }
  Status putCap(uint32_t id, const BpfLinkCap& c) override { return t("map", [&] { return in_.putCap(id, c); }); }
  Status deleteCap(uint32_t id) override { return t("map", [&] { return in_.deleteCap(id); }); }
  Status putTargets(const BpfTargetsKey& k, const BpfTargets& x) override {
    return t("map", [&] { return in_.putTargets(k, x); });
  }
  Status deleteTargets(const BpfTargetsKey& k) override { return t("map", [&] { return in_.deleteTargets(k); }); }
  Status putEndpoint(const BpfEndpointKey& k, uint32_t link) override {
    return t("map", [&] { return in_.putEndpoint(k, link); });
  }
  Status deleteEndpoint(const BpfEndpointKey& k) override { return t("map", [&] { return in_.deleteEndpoint(k); }); }
  Status attach(const BpfAttachment& a) override { return t("attach", [&] { return in_.attach(a); }); }
  Status detach(const BpfAttachment& a) override { return t("attach", [&] { return in_.detach(a); }); }
  void endConnections(const std::map<uint32_t, BpfLink>& was) override {
    auto t0 = Clock::now();
    in_.endConnections(was);
    ms["conns"] += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  Status dropEntriesOfLinks(const std::set<uint32_t>& links) override { return in_.dropEntriesOfLinks(links); }
  std::optional<std::pair<uint32_t, uint32_t>> linkSpaces(uint32_t id) const override { return in_.linkSpaces(id); }
  std::map<uint32_t, uint64_t> endTargetConnections(const std::set<reconciler::BpfTargetEnd>& e,
                                                    const std::map<uint32_t, BpfLink>& l) override {
    return in_.endTargetConnections(e, l);
  }
  std::map<uint32_t, uint64_t> sweepConnections(std::chrono::nanoseconds idle,
                                                const std::map<uint32_t, BpfLink>& l) override {
    return in_.sweepConnections(idle, l);
  }
  std::optional<reconciler::BpfLinkStats> linkStats(uint32_t id) const override { return in_.linkStats(id); }
  Status sweep(const std::string& ns, const BpfPlan& keep) override { return in_.sweep(ns, keep); }
  Status unpin() override { return in_.unpin(); }

 private:
  template <typename Fn>
  Status t(const char* kind, Fn&& fn) {
    auto t0 = Clock::now();
    Status st = fn();
    ms[kind] += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return st;
  }
  reconciler::BpfExecutor& in_;
};

bool check(const Status& st, const char* what) {
  if (st.ok()) return true;
  std::fprintf(stderr, "%s: %s\n", what, st.toString().c_str());
  return false;
}

// A VPC namespace as the host network makes it, reduced to what the plan names: a
// bridge (the gateway) and one workload's veth, whose peer is eth0 in the
// workload's namespace (vpc + "w").
bool makeVpc(const std::string& ns, std::vector<std::string>& made) {
  made.push_back(ns);
  made.push_back(ns + "w");
  if (!check(net::createNamespace(ns), "namespace") || !check(net::createNamespace(ns + "w"), "namespace"))
    return false;
  auto nl = net::Netlink::open(ns);
  return check(nl.status(), "netlink") && check((*nl)->ensureBridge("lp-br0"), "bridge") &&
         check((*nl)->ensureVeth("lp-v0", ns + "w", "eth0"), "veth") && check((*nl)->setUp("lp-v0"), "up");
}

}  // namespace

int main(int argc, char** argv) {
  int vpcs = argc > 1 ? std::atoi(argv[1]) : 20;
  int endpoints = argc > 2 ? std::atoi(argv[2]) : 10;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  if (vpcs <= 0 || endpoints <= 0 || endpoints > 200 || rounds <= 0) {
    std::fprintf(stderr, "usage: netlink_batch_bench [VPCS] [ENDPOINTS<=200] [ROUNDS]\n");
    return 2;
  }
  std::string prefix = "lp-bnb" + std::to_string(getpid()) + "-";
  std::string provider = prefix + "p";
  std::vector<std::string> made;
  BpfInputs in;
  bool ok = makeVpc(provider, made);
  in.workloads.push_back({provider, "10.0.1.20", "lp-v0", provider + "w", "lp-br0"});
  for (int v = 0; ok && v < vpcs; ++v) {
    std::string ns = prefix + "c" + std::to_string(v);
    ok = makeVpc(ns, made);
    in.workloads.push_back({ns, "10.0.1.10", "lp-v0", ns + "w", "lp-br0"});
    for (int e = 0; e < endpoints; ++e) {
      TargetSpec t;
      t.ns = provider;
      t.sourceIp = "10.0.3.200";
      t.ip = "10.0.1.20";
      t.port = 8080;
      t.zoneId = "use1-az1";
      ListenerSpec l;
      l.endpointId = "vpce-" + std::to_string(v) + "-" + std::to_string(e);
      l.interfaceId = "eni-" + std::to_string(v) + "-" + std::to_string(e);
      l.zoneId = "use1-az1";
      l.ns = ns;
      l.ip = "10.0.2." + std::to_string(10 + e);
      l.port = 443;
      l.forwarding = true;
      l.targets = {t};
      in.listeners.push_back(l);
    }
  }
  std::string stateDir = "/tmp/" + prefix + "state";
  std::filesystem::create_directories(stateDir);
  auto kernel = ok ? reconciler::makeKernelBpfExecutor(stateDir) : Result<std::unique_ptr<reconciler::BpfExecutor>>(
                                                                        Status("Skipped", "setup failed"));
  ok = ok && check(kernel.status(), "executor");
  BpfPlan plan = planBpf(in);
  if (ok && !plan.refused.empty()) {
    std::fprintf(stderr, "planBpf refused %zu endpoints, e.g. %s\n", plan.refused.size(),
                 plan.refused.begin()->second.c_str());
    ok = false;
  }
  std::printf("== bpf path: apply and remove the plan of %d VPCs x %d endpoints (%zu links, %zu namespaces), %d "
              "rounds each way\n",
              vpcs, endpoints, plan.links.size(), made.size(), rounds);
  std::map<bool, std::vector<double>> applyMs, removeMs;
  std::map<bool, std::map<std::string, double>> kinds;  // summed over rounds
  for (int r = 0; ok && r < rounds * 2; ++r) {
    bool batched = r % 2 == 1;
    Timed exec(**kernel);
    exec.batched = batched;
    BpfPlan none;
    none.ids = plan.ids;
    auto t0 = Clock::now();
    reconciler::BpfExecution put = reconciler::executeBpfDiff(none, plan, diffBpfPlans(none, plan), exec);
    auto t1 = Clock::now();
    reconciler::BpfExecution gone = reconciler::executeBpfDiff(plan, none, diffBpfPlans(plan, none), exec);
    auto t2 = Clock::now();
    if (!put.failedEndpoints.empty() || !put.errors.empty() || !gone.errors.empty()) {
      std::fprintf(stderr, "round %d: %zu failed endpoints; %s\n", r, put.failedEndpoints.size(),
                   !put.errors.empty()    ? put.errors.front().c_str()
                   : !gone.errors.empty() ? gone.errors.front().c_str()
                                          : "");
      ok = false;
      break;
    }
    applyMs[batched].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    removeMs[batched].push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    for (const auto& [k, v] : exec.ms) kinds[batched][k] += v / rounds;
  }
  if (ok) {
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("%-10s %12s %12s %14s\n", "", "apply ms", "remove ms", "apply/link ms");
    for (bool b : {false, true})
      std::printf("%-10s %12.1f %12.1f %14.2f\n", b ? "batched" : "per write", median(applyMs[b]), median(removeMs[b]),
                  median(applyMs[b]) / static_cast<double>(plan.links.size()));
    std::printf("per kind, mean ms per round (apply + remove):\n%-10s", "");
    for (const auto& [k, _] : kinds[true]) std::printf(" %9s", k.c_str());
    std::printf("\n");
    for (bool b : {false, true}) {
      std::printf("%-10s", b ? "batched" : "per write");
      for (const auto& [k, _] : kinds[true]) std::printf(" %9.1f", kinds[b][k]);
      std::printf("\n");
    }
    // The calls that open sockets in a namespace (the rest costs the same either way).
    for (bool b : {false, true}) {
      double sum = 0;
      for (const char* k : {"pair", "rule", "route", "link", "host"}) sum += kinds[b][k];
      std::printf("%-10s pair+rule+route+link+host: %.1f ms a round\n", b ? "batched" : "per write", sum);
    }
  }
  if (kernel.ok()) (void)(*kernel)->unpin();
  for (const auto& ns : made) (void)net::deleteNamespace(ns);
  std::filesystem::remove_all(stateDir);
  return ok ? 0 : 1;
}
