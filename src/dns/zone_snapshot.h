// ZoneSnapshot: every name the VPC resolvers answer for, as plain values. Built by
// the reconciler from the store (reconciler/dns_plan.h), then immutable: the DNS
// thread reads it without locks while the next one is being built.
//
// Two scopes of names: `shared` is visible from every VPC and from the host (the
// endpoint-specific names under <region>.vpce.amazonaws.com); `views` hold the
// names one VPC alone sees (private DNS names), keyed by VPC id, and win over the
// shared names where both own a zone.
//
// Value type; const after construction, so any thread may read it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lp::dns {

struct NameSet {
  // Zone apexes this scope is authoritative for: lowercase, no trailing dot.
  std::vector<std::string> zones;
  // Owner name (lowercase, no trailing dot) -> IPv4 addresses in dotted form.
  std::map<std::string, std::vector<std::string>> a;
  bool operator==(const NameSet&) const = default;
};

// One VPC resolver: UDP and TCP sockets in the VPC's namespace at base+2.
struct VpcResolver {
  std::string vpcId;    // view key
  std::string ns;       // network namespace the sockets live in (lp-<vpc-id>)
  std::string address;  // VPC CIDR base+2
  uint16_t port = 53;
  bool operator==(const VpcResolver&) const = default;
};

struct ZoneSnapshot {
  NameSet shared;
  std::map<std::string, NameSet> views;
  std::vector<VpcResolver> resolvers;
  uint32_t serial = 1;  // SOA serial: the store revision it was built at
  bool operator==(const ZoneSnapshot&) const = default;
};

// The outcome of looking one name up in one view.
struct Lookup {
  enum class Kind { kRefused, kNxDomain, kNoData, kFound };
  Kind kind = Kind::kRefused;
  std::string zone;                             // the owning zone's apex (all but kRefused)
  const std::vector<std::string>* a = nullptr;  // kFound: the addresses
};

// Lowercases and drops one trailing dot.
std::string canonicalName(std::string_view name);

// Looks a canonical name up as a client of `view` sees it ("" = the host: shared
// names only). The longest owned zone containing the name decides the scope.
Lookup lookup(const ZoneSnapshot& snap, const std::string& view, const std::string& name);

}  // namespace lp::dns
