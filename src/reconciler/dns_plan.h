// The DNS side of the reconciler.
//
// planDns: the names the VPC resolvers answer for at one store view, as a
// dns::ZoneSnapshot. Pure (no I/O), any thread. Rules (seed "Private DNS" and
// "Accessing a Service Through an Interface Endpoint"):
//  - only `available` endpoints have names;
//  - endpoint-specific names (the endpoint's DnsEntries under
//    <region>.vpce.amazonaws.com) are visible from every VPC and from the host:
//    the regional name -> every interface of the endpoint, each zonal name -> the
//    interface in that zone;
//  - with PrivateDnsEnabled (and the VPC's enableDnsSupport and
//    enableDnsHostnames), the service's private DNS name -> every interface of the
//    endpoint, visible inside the endpoint's VPC only, as a zone of its own there;
//  - every VPC with enableDnsSupport gets a resolver at its CIDR base+2, port 53,
//    in namespace lp-<vpc-id>.
//
// NameTable: the names of every endpoint and the resolver of every VPC, kept per
// key so a change plans only the endpoints and VPCs it touched, and the
// ZoneSnapshot they compose, edited in place by each change (only the names the
// change touched); snapshot() hands out a copy-on-write copy of it. Reconciler
// thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dns/zone_snapshot.h"
#include "reconciler/desired_state.h"
#include "store/store.h"

namespace lp::reconciler {

// The names one endpoint contributes (none unless available).
struct EndpointNames {
  std::vector<std::string> sharedZones;                                        // zones it adds to `shared`
  std::vector<std::pair<std::string, std::vector<std::string>>> shared;        // name -> addresses
  std::string vpcId;                                                           // view of the private names
  std::vector<std::pair<std::string, std::vector<std::string>>> privateNames;  // each also a zone there
  bool operator==(const EndpointNames&) const = default;
};
EndpointNames planEndpointNames(const DesiredState& state, const std::string& endpointId, const std::string& region);
std::optional<dns::VpcResolver> planResolver(const DesiredState& state, const std::string& vpcId);
void addNames(dns::ZoneSnapshot& snap, const EndpointNames& names);

// Every name of a store view at once (tests; the per-key plans add up to it).
dns::ZoneSnapshot planDns(const store::ReadView& view, const std::string& region);

// "<region>.vpce.amazonaws.com": the zone of every endpoint-specific name.
std::string vpceZone(const std::string& region);

class NameTable {
 public:
  explicit NameTable(std::string region);
  // Each returns whether what the resolvers serve changed.
  bool setEndpoint(const std::string& id, EndpointNames names);
  bool setResolver(const std::string& vpcId, std::optional<dns::VpcResolver> r);
  void clear();
  const std::map<std::string, dns::VpcResolver>& resolvers() const { return resolvers_; }
  // A copy of the current names: shares every shard with the table (one reference
  // count), and the table clones a shard before it next writes one.
  std::shared_ptr<const dns::ZoneSnapshot> snapshot(uint32_t serial);

 private:
  // Which endpoints contribute to each name and zone of one scope (the shared names
  // or one VPC's view), in endpoint id order: the order planDns adds them in.
  struct ScopeIndex {
    std::map<std::string, std::set<std::string>> names;
    std::map<std::string, std::set<std::string>> zones;
  };
  void index(const std::string& id, const EndpointNames& names, bool add);
  void refreshShared(const std::set<std::string>& names, const std::set<std::string>& zones);
  void refreshView(const std::string& vpcId, const std::set<std::string>& names);

  std::string region_;
  std::map<std::string, EndpointNames> endpoints_;  // only endpoints that have names
  std::map<std::string, dns::VpcResolver> resolvers_;
  bool resolversDirty_ = false;
  ScopeIndex shared_;
  std::map<std::string, ScopeIndex> views_;
  dns::ZoneSnapshot current_;  // what planDns would build from endpoints_ and resolvers_
};

}  // namespace lp::reconciler
