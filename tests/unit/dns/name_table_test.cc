// NameTable edits one ZoneSnapshot in place per change (only the names the change
// touched) and hands out copy-on-write copies. Pinned here: after any sequence of
// changes the snapshot is exactly what a rebuild from scratch gives (names, the
// union and order of addresses two endpoints give one name, zones and their order,
// views, resolvers), snapshots already handed out never change afterwards, and
// negative answers at empty non-terminals stay right as names come and go.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "dns/zone_snapshot.h"
#include "reconciler/dns_plan.h"

namespace lp::reconciler {
namespace {

const std::string kApex = "us-east-1.vpce.amazonaws.com";

// The names and resolvers the table was given, composed from scratch in id order
// (what NameTable::snapshot did before it kept its snapshot between changes).
dns::ZoneSnapshot rebuild(const std::map<std::string, EndpointNames>& endpoints,
                          const std::map<std::string, dns::VpcResolver>& resolvers, uint32_t serial) {
  dns::ZoneSnapshot s;
  s.serial = serial;
  s.shared.zones.push_back(kApex);
  for (const auto& [_, names] : endpoints) addNames(s, names);
  for (const auto& [_, r] : resolvers) s.resolvers.push_back(r);
  return s;
}

// Whether some name of set lies strictly below name, by walking every name.
bool hasNamesBelowByWalk(const dns::NameSet& set, const std::string& name) {
  for (const auto& [n, _] : set.a) {
    if (n.size() > name.size() + 1 && n.compare(n.size() - name.size(), name.size(), name) == 0 &&
        n[n.size() - name.size() - 1] == '.')
      return true;
  }
  return false;
}

class RandomNames {
 public:
  explicit RandomNames(uint32_t seed) : rng_(seed) {}

  EndpointNames endpoint() {
    EndpointNames e;
    if (pick(4) == 0) return e;  // not available: no names
    for (int i = pick(3); i > 0; --i) e.sharedZones.push_back(oneOf(zones_));
    for (int i = pick(4); i > 0; --i) e.shared.emplace_back(oneOf(sharedNames_), addresses());
    e.vpcId = "vpc-" + std::to_string(pick(4));
    for (int i = pick(3); i > 0; --i) e.privateNames.emplace_back(oneOf(privateNames_), addresses());
    return e;
  }
  std::optional<dns::VpcResolver> resolver(const std::string& vpcId) {
    if (pick(3) == 0) return std::nullopt;
    return dns::VpcResolver{vpcId, "lp-" + vpcId, "10." + std::to_string(pick(3)) + ".0.2", 53};
  }
  // Every name the sets may hold, their parents, and names that never exist.
  std::vector<std::string> probes() const {
    std::vector<std::string> out = {kApex, "vpce.amazonaws.com", "svc.us-east-1.vpce.amazonaws.com",
                                    "other.us-east-1.vpce.amazonaws.com", "corp.internal", "us-east-1.amazonaws.com",
                                    "vc.us-east-1.vpce.amazonaws.com"};
    for (const auto* pool : {&sharedNames_, &privateNames_}) {
      for (const auto& n : *pool) {
        out.push_back(n);
        out.push_back("nope." + n);
        for (size_t dot = n.find('.'); dot != std::string::npos; dot = n.find('.', dot + 1))
          out.push_back(n.substr(dot + 1));
      }
    }
    return out;
  }
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

 private:
  std::vector<std::string> addresses() {
    std::vector<std::string> out;
    for (int i = pick(4); i > 0; --i) out.push_back("10.0.0." + std::to_string(pick(6)));
    return out;
  }
  const std::string& oneOf(const std::vector<std::string>& v) { return v[static_cast<size_t>(pick(static_cast<int>(v.size())))]; }

  std::mt19937 rng_;
  std::vector<std::string> zones_ = {kApex, "corp.internal", "b.corp.internal", "svc.us-east-1.vpce.amazonaws.com"};
  std::vector<std::string> sharedNames_ = {
      "n0.svc.us-east-1.vpce.amazonaws.com",  "n1.svc.us-east-1.vpce.amazonaws.com",
      "n2.svc.us-east-1.vpce.amazonaws.com",  "n3.svc.us-east-1.vpce.amazonaws.com",
      "n4.other.us-east-1.vpce.amazonaws.com", "deep.n1.svc.us-east-1.vpce.amazonaws.com",
      "x.corp.internal",                       "y.b.corp.internal",
      "b.corp.internal",                       "svc.us-east-1.vpce.amazonaws.com"};
  std::vector<std::string> privateNames_ = {"ec2.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
                                            "api.s3.us-east-1.amazonaws.com", "corp.example"};
};

// A few hundred random steps over a few dozen endpoints sharing names and zones:
// after each, the table's snapshot equals the rebuild, the one before it is as it
// was handed out, and every probe's NODATA/NXDOMAIN decision matches a walk.
TEST(NameTableTest, IncrementalSnapshotEqualsRebuildAfterRandomChanges) {
  for (uint32_t seed : {1u, 2u, 3u, 14u}) {
    RandomNames gen(seed);
    NameTable table("us-east-1");
    std::map<std::string, EndpointNames> endpoints;
    std::map<std::string, dns::VpcResolver> resolvers;
    std::shared_ptr<const dns::ZoneSnapshot> prev = table.snapshot(1);
    dns::ZoneSnapshot prevExpected = rebuild(endpoints, resolvers, 1);
    const auto probes = gen.probes();
    for (uint32_t step = 2; step < 400; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      bool changed;
      if (gen.pick(5) != 0) {
        std::string id = "vpce-" + std::to_string(gen.pick(30));
        EndpointNames names = gen.endpoint();
        changed = table.setEndpoint(id, names);
        if (names.shared.empty() && names.privateNames.empty()) {
          endpoints.erase(id);
        } else {
          endpoints[id] = names;
        }
      } else {
        std::string vpc = "vpc-" + std::to_string(gen.pick(4));
        auto r = gen.resolver(vpc);
        changed = table.setResolver(vpc, r);
        if (r) {
          resolvers[vpc] = *r;
        } else {
          resolvers.erase(vpc);
        }
      }
      auto snap = table.snapshot(step);
      dns::ZoneSnapshot expected = rebuild(endpoints, resolvers, step);
      ASSERT_TRUE(*snap == expected);
      ASSERT_TRUE(*prev == prevExpected) << "a published snapshot changed after the next change";
      if (!changed) {
        dns::ZoneSnapshot same = *snap;
        same.serial = prev->serial;
        EXPECT_TRUE(same == *prev) << "a change reported as none changed the names";
      }
      for (const auto& p : probes) {
        ASSERT_EQ(snap->shared.a.hasNamesBelow(p), hasNamesBelowByWalk(snap->shared, p)) << p;
        for (const auto& [vpc, set] : snap->views) {
          ASSERT_EQ(set.a.hasNamesBelow(p), hasNamesBelowByWalk(set, p)) << vpc << " " << p;
        }
        for (std::string view : {"", "vpc-0", "vpc-1"}) {
          auto got = dns::lookup(*snap, view, p);
          auto want = dns::lookup(expected, view, p);
          ASSERT_EQ(got.kind, want.kind) << view << " " << p;
          ASSERT_EQ(got.zone, want.zone) << view << " " << p;
        }
      }
      prev = snap;
      prevExpected = std::move(expected);
    }
  }
}

TEST(NameTableTest, RemovingTheLastEndpointOfAViewRemovesTheView) {
  NameTable table("us-east-1");
  EndpointNames e;
  e.vpcId = "vpc-a";
  e.privateNames = {{"ec2.us-east-1.amazonaws.com", {"10.0.1.10"}}};
  ASSERT_TRUE(table.setEndpoint("vpce-1", e));
  EXPECT_EQ(table.snapshot(2)->views.count("vpc-a"), 1u);
  ASSERT_TRUE(table.setEndpoint("vpce-1", {}));
  auto s = table.snapshot(3);
  EXPECT_TRUE(s->views.empty());
  EXPECT_EQ(dns::lookup(*s, "vpc-a", "ec2.us-east-1.amazonaws.com").kind, dns::Lookup::Kind::kRefused);
}

// Two endpoints give one name addresses: the name keeps the union in endpoint id
// order, and loses only the leaving endpoint's own addresses.
TEST(NameTableTest, ANameSharedByTwoEndpointsKeepsTheOthersAddresses) {
  const std::string name = "n.svc.us-east-1.vpce.amazonaws.com";
  NameTable table("us-east-1");
  EndpointNames b;
  b.shared = {{name, {"10.0.0.2", "10.0.0.3"}}};
  EndpointNames a;
  a.shared = {{name, {"10.0.0.1", "10.0.0.2"}}};
  ASSERT_TRUE(table.setEndpoint("vpce-b", b));
  ASSERT_TRUE(table.setEndpoint("vpce-a", a));
  EXPECT_EQ(table.snapshot(2)->shared.a.at(name), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
  ASSERT_TRUE(table.setEndpoint("vpce-a", {}));
  EXPECT_EQ(table.snapshot(3)->shared.a.at(name), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
}

// A name with names below it and no records of its own exists (NODATA); once the
// last name below it goes, it does not (NXDOMAIN). A snapshot taken before keeps
// its answer.
TEST(NameTableTest, EmptyNonTerminalsAreNoDataUntilTheLastNameBelowThemGoes) {
  using Kind = dns::Lookup::Kind;
  dns::ZoneSnapshot s;
  s.shared.zones = {kApex};
  s.shared.a["a.b.c." + kApex] = {"10.0.0.1"};
  s.shared.a["d.b.c." + kApex] = {"10.0.0.2"};
  auto kind = [](const dns::ZoneSnapshot& z, const std::string& n) { return dns::lookup(z, "", n).kind; };
  EXPECT_EQ(kind(s, "a.b.c." + kApex), Kind::kFound);
  EXPECT_EQ(kind(s, "b.c." + kApex), Kind::kNoData);
  EXPECT_EQ(kind(s, "c." + kApex), Kind::kNoData);
  EXPECT_EQ(kind(s, kApex), Kind::kNoData);
  EXPECT_EQ(kind(s, "xb.c." + kApex), Kind::kNxDomain);  // a suffix, not at a label boundary
  EXPECT_EQ(kind(s, "x.a.b.c." + kApex), Kind::kNxDomain);
  EXPECT_EQ(kind(s, "e.c." + kApex), Kind::kNxDomain);

  const dns::ZoneSnapshot before = s;
  s.shared.a.erase("a.b.c." + kApex);
  EXPECT_EQ(kind(s, "a.b.c." + kApex), Kind::kNxDomain);
  EXPECT_EQ(kind(s, "b.c." + kApex), Kind::kNoData);  // d.b.c is still there
  s.shared.a.erase("d.b.c." + kApex);
  EXPECT_EQ(kind(s, "b.c." + kApex), Kind::kNxDomain);
  EXPECT_EQ(kind(s, "c." + kApex), Kind::kNxDomain);
  EXPECT_EQ(kind(s, kApex), Kind::kNoData);  // the apex exists without records
  EXPECT_EQ(s.shared.a.erase("d.b.c." + kApex), 0u);

  EXPECT_EQ(kind(before, "b.c." + kApex), Kind::kNoData);
  EXPECT_EQ(kind(before, "a.b.c." + kApex), Kind::kFound);

  // A name that is also a parent: found while it holds records, NODATA after, with
  // names still below it.
  s.shared.a["c." + kApex] = {"10.0.0.3"};
  s.shared.a["z.c." + kApex] = {"10.0.0.4"};
  EXPECT_EQ(kind(s, "c." + kApex), Kind::kFound);
  s.shared.a.erase("c." + kApex);
  EXPECT_EQ(kind(s, "c." + kApex), Kind::kNoData);
}

}  // namespace
}  // namespace lp::reconciler
