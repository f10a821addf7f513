// snapshot_bench: what one endpoint's name change costs the reconciler at scale,
// the new NameTable (one ZoneSnapshot edited in place, copy-on-write copies
// published) against the full rebuild it replaced (kept below as the baseline,
// with the std::map-based snapshot it built), in the same run. Pure CPU, no root.
//
// Names as bench/scale builds them: VPCS VPCs x PER_VPC endpoints over 10
// services; each endpoint has a regional and two zonal names under
// us-east-1.vpce.amazonaws.com, and the 5 services with a private DNS name give the
// endpoint's VPC that name too. One step: an endpoint goes unavailable or comes
// back (alternately), then a snapshot is taken and published (the previous
// published one is still held, as by the DNS thread, and then dropped).
//
// Also: the NXDOMAIN/NODATA decision for a name that does not exist (it walked
// every name of the set), and the first build after a start (every endpoint, one
// snapshot).
//
//   snapshot_bench [ENDPOINTS=10000] [PER_VPC=10]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dns/zone_snapshot.h"
#include "reconciler/dns_plan.h"

namespace {

using lp::reconciler::EndpointNames;
using Clock = std::chrono::steady_clock;

// ---- The baseline: NameTable::snapshot and dns::lookup's find as of f0d78bd. ----
namespace old {

bool within(std::string_view name, std::string_view zone) {
  if (name.size() == zone.size()) return name == zone;
  if (name.size() < zone.size() + 1) return false;
  return name.substr(name.size() - zone.size()) == zone && name[name.size() - zone.size() - 1] == '.';
}

struct NameSet {
  std::vector<std::string> zones;
  std::map<std::string, std::vector<std::string>> a;
};
struct ZoneSnapshot {
  NameSet shared;
  std::map<std::string, NameSet> views;
  std::vector<lp::dns::VpcResolver> resolvers;
  uint32_t serial = 1;
};

void addZone(NameSet& set, const std::string& zone) {
  if (std::find(set.zones.begin(), set.zones.end(), zone) == set.zones.end()) set.zones.push_back(zone);
}
void addRecords(NameSet& set, const std::string& name, const std::vector<std::string>& addrs) {
  auto& have = set.a[name];
  for (const auto& a : addrs) {
    if (std::find(have.begin(), have.end(), a) == have.end()) have.push_back(a);
  }
}
void addNames(ZoneSnapshot& snap, const EndpointNames& names) {
  for (const auto& z : names.sharedZones) addZone(snap.shared, z);
  for (const auto& [name, addrs] : names.shared) addRecords(snap.shared, name, addrs);
  if (names.privateNames.empty()) return;
  auto& set = snap.views[names.vpcId];
  for (const auto& [name, addrs] : names.privateNames) {
    addZone(set, name);
    addRecords(set, name, addrs);
  }
}

class NameTable {
 public:
  bool setEndpoint(const std::string& id, EndpointNames names) {
    auto it = endpoints_.find(id);
    bool none = names.shared.empty() && names.privateNames.empty();
    if (it == endpoints_.end()) {
      if (none) return false;
      endpoints_.emplace(id, std::move(names));
      return true;
    }
    if (none) {
      endpoints_.erase(it);
      return true;
    }
    if (it->second == names) return false;
    it->second = std::move(names);
    return true;
  }
  void setResolver(const std::string& vpcId, lp::dns::VpcResolver r) { resolvers_[vpcId] = std::move(r); }
  std::shared_ptr<const ZoneSnapshot> snapshot(uint32_t serial) const {
    auto snap = std::make_shared<ZoneSnapshot>();
    snap->serial = serial;
    snap->shared.zones.push_back("us-east-1.vpce.amazonaws.com");
    for (const auto& [_, names] : endpoints_) addNames(*snap, names);
    for (const auto& [_, r] : resolvers_) snap->resolvers.push_back(r);
    return snap;
  }

 private:
  std::map<std::string, EndpointNames> endpoints_;
  std::map<std::string, lp::dns::VpcResolver> resolvers_;
};

// Whether name exists in set without records of its own (the decision's walk).
bool exists(const NameSet& set, const std::string& zone, const std::string& name) {
  return name == zone ||
         std::any_of(set.a.begin(), set.a.end(), [&](const auto& kv) { return within(kv.first, name); });
}

}  // namespace old

struct Fleet {
  std::vector<std::string> ids;
  std::vector<EndpointNames> names;
  std::vector<std::string> vpcs;
};

Fleet makeFleet(size_t endpoints, size_t perVpc) {
  Fleet f;
  const std::string apex = "us-east-1.vpce.amazonaws.com";
  for (size_t i = 0; i < endpoints; ++i) {
    size_t vpc = i / perVpc, svc = i % 10;
    std::string id = fmt::format("vpce-{:017x}", 0x1000 + i);
    std::string vpcId = fmt::format("vpc-{:017x}", 0x2000 + vpc);
    if (i % perVpc == 0) f.vpcs.push_back(vpcId);
    std::string base = fmt::format("{}-{:08x}.vpce-svc-{:017x}.{}", id, i * 2654435761u % 0xffffffffu, svc, apex);
    std::string a = fmt::format("10.{}.{}.{}", vpc / 250, vpc % 250, 10 + 2 * (i % perVpc));
    std::string b = fmt::format("10.{}.{}.{}", vpc / 250, vpc % 250, 11 + 2 * (i % perVpc));
    EndpointNames n;
    n.sharedZones = {apex, apex};
    n.shared = {{base, {a, b}}, {"us-east-1a-" + base, {a}}, {"us-east-1b-" + base, {b}}};
    if (svc < 5) {
      n.vpcId = vpcId;
      n.privateNames = {{fmt::format("service{}.provider{}.example.com", svc, svc % 2), {a, b}}};
    }
    f.ids.push_back(id);
    f.names.push_back(std::move(n));
  }
  return f;
}

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// Times `steps` endpoint changes, each followed by a snapshot; returns per step (µs).
template <class Table>
std::vector<double> changeAndPublish(Table& table, const Fleet& f, size_t steps) {
  std::vector<double> out;
  decltype(table.snapshot(1)) published = table.snapshot(1);  // held as the DNS thread holds it
  for (size_t s = 0; s < steps; ++s) {
    size_t i = (s / 2 * 7919) % f.ids.size();  // goes away, then comes back
    EndpointNames n = s % 2 == 0 ? EndpointNames{} : f.names[i];
    auto t0 = Clock::now();
    table.setEndpoint(f.ids[i], std::move(n));
    auto next = table.snapshot(static_cast<uint32_t>(s + 2));
    out.push_back(us(Clock::now() - t0));
    published = std::move(next);  // the previous one is released (as the DNS thread does), untimed
  }
  return out;
}

int run(size_t endpoints, size_t perVpc) {
  Fleet f = makeFleet(endpoints, perVpc);
  lp::reconciler::NameTable now("us-east-1");
  old::NameTable before;

  auto t0 = Clock::now();
  for (size_t i = 0; i < f.ids.size(); ++i) before.setEndpoint(f.ids[i], f.names[i]);
  for (size_t v = 0; v < f.vpcs.size(); ++v)
    before.setResolver(f.vpcs[v], {f.vpcs[v], "lp-" + f.vpcs[v], fmt::format("10.{}.{}.2", v / 250, v % 250), 53});
  auto oldSnap = before.snapshot(1);
  double oldFirst = us(Clock::now() - t0);
  t0 = Clock::now();
  for (size_t i = 0; i < f.ids.size(); ++i) now.setEndpoint(f.ids[i], f.names[i]);
  for (size_t v = 0; v < f.vpcs.size(); ++v)
    now.setResolver(f.vpcs[v], lp::dns::VpcResolver{f.vpcs[v], "lp-" + f.vpcs[v],
                                                    fmt::format("10.{}.{}.2", v / 250, v % 250), 53});
  auto newSnap = now.snapshot(1);
  double newFirst = us(Clock::now() - t0);

  fmt::print("names: {} shared, {} views, {} resolvers ({} endpoints, {} per VPC)\n", newSnap->shared.a.size(),
             newSnap->views.size(), newSnap->resolvers.size(), endpoints, perVpc);
  if (newSnap->shared.a.size() != oldSnap->shared.a.size() || newSnap->views.size() != oldSnap->views.size()) {
    fmt::print(stderr, "snapshot_bench: the two tables disagree\n");
    return 1;
  }

  auto oldSteps = changeAndPublish(before, f, 20);
  auto newSteps = changeAndPublish(now, f, 2000);
  fmt::print("{:<48} {:>12} {:>12} {:>9}\n", "", "rebuild", "incremental", "ratio");
  for (auto [label, p] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9}, std::pair{"p99", 0.99}}) {
    double o = percentile(oldSteps, p), n = percentile(newSteps, p);
    fmt::print("{:<48} {:>9.1f} us {:>9.1f} us {:>8.0f}x\n", fmt::format("one endpoint change + snapshot, {}", label), o,
               n, o / n);
  }
  fmt::print("{:<48} {:>9.1f} ms {:>9.1f} ms {:>8.2f}x\n", "first build (every endpoint, one snapshot)",
             oldFirst / 1000, newFirst / 1000, oldFirst / newFirst);

  // A name below an existing one that does not exist: NXDOMAIN, decided per query.
  const std::string zone = "us-east-1.vpce.amazonaws.com";
  std::vector<std::string> missing;
  for (size_t i = 0; i < 200; ++i) missing.push_back(fmt::format("nope{}.{}", i, zone));
  size_t found = 0;
  t0 = Clock::now();
  for (const auto& m : missing) found += old::exists(oldSnap->shared, zone, m);
  double oldNeg = us(Clock::now() - t0) / static_cast<double>(missing.size());
  t0 = Clock::now();
  for (int r = 0; r < 100; ++r) {
    for (const auto& m : missing) found += lp::dns::lookup(*newSnap, "", m).kind != lp::dns::Lookup::Kind::kNxDomain;
  }
  double newNeg = us(Clock::now() - t0) / static_cast<double>(missing.size() * 100);
  if (found != 0) {
    fmt::print(stderr, "snapshot_bench: a missing name was found\n");
    return 1;
  }
  fmt::print("{:<48} {:>9.2f} us {:>9.2f} us {:>8.0f}x\n", "NXDOMAIN decision (all-name walk vs index)", oldNeg, newNeg,
             oldNeg / newNeg);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t endpoints = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  size_t perVpc = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10;
  if (endpoints == 0 || perVpc == 0) {
    fmt::print(stderr, "usage: snapshot_bench [ENDPOINTS=10000] [PER_VPC=10]\n");
    return 2;
  }
  return run(endpoints, perVpc);
}
