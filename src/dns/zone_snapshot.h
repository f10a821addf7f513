// ZoneSnapshot: every name the VPC resolvers answer for, as plain values. Built by
// the reconciler from the store (reconciler/dns_plan.h), then immutable: the DNS
// thread reads it without locks while the next one is being built.
//
// Two scopes of names: `shared` is visible from every VPC and from the host (the
// endpoint-specific names under <region>.vpce.amazonaws.com); `views` hold the
// names one VPC alone sees (private DNS names), keyed by VPC id, and win over the
// shared names where both own a zone.
//
// Value type; const after construction, so any thread may read it. Its maps are
// copy-on-write (dns/cow_map.h): a copy shares all storage with the original, so
// the reconciler keeps one snapshot, publishes copies of it and edits it in place
// (reconciler::NameTable), cloning only the shards a change touches.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/cow_map.h"

namespace lp::dns {

// Owner name (lowercase, no trailing dot) -> IPv4 addresses in dotted form, as a
// map, which also knows which names have names below them (empty non-terminals:
// they exist without records, so a query for one is NODATA, not NXDOMAIN). That
// index is kept on insert and erase so a negative answer costs one look-up, not a
// walk over every name.
class NameMap {
 public:
  using Addresses = std::vector<std::string>;
  using Names = CowMap<Addresses>;
  using const_iterator = Names::const_iterator;
  using iterator = const_iterator;
  using value_type = Names::value_type;

  bool empty() const { return names_.empty(); }
  size_t size() const { return names_.size(); }
  const_iterator begin() const { return names_.begin(); }
  const_iterator end() const { return names_.end(); }
  const_iterator find(std::string_view name) const { return names_.find(name); }
  size_t count(std::string_view name) const { return names_.count(name); }
  const Addresses& at(std::string_view name) const { return names_.at(name); }

  Addresses& operator[](const std::string& name);
  size_t erase(std::string_view name);
  void clear() {
    names_.clear();
    below_.clear();
  }

  // Whether some name of the map lies strictly below `name` (at a label boundary).
  bool hasNamesBelow(std::string_view name) const { return below_.count(name) > 0; }

  bool operator==(const NameMap& o) const { return names_ == o.names_; }

 private:
  Names names_;
  CowMap<uint32_t> below_;  // every proper suffix of a name -> how many names lie below it
};

struct NameSet {
  // Zone apexes this scope is authoritative for: lowercase, no trailing dot.
  std::vector<std::string> zones;
  NameMap a;
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
  CowMap<NameSet, 64> views;  // by VPC id
  CowVector<VpcResolver> resolvers;
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
