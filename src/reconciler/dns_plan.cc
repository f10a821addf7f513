#include "reconciler/dns_plan.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::reconciler {

namespace {

using nlohmann::json;

bool within(const std::string& name, const std::string& zone) {
  return name == zone ||
         (name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
          name[name.size() - zone.size() - 1] == '.');
}

void addZone(dns::NameSet& set, const std::string& zone) {
  if (std::find(set.zones.begin(), set.zones.end(), zone) == set.zones.end()) set.zones.push_back(zone);
}

void addRecords(dns::NameSet& set, const std::string& name, const std::vector<std::string>& addrs) {
  auto& have = set.a[name];
  for (const auto& a : addrs) {
    if (std::find(have.begin(), have.end(), a) == have.end()) have.push_back(a);
  }
}

}  // namespace

std::string vpceZone(const std::string& region) { return region + ".vpce.amazonaws.com"; }

EndpointNames planEndpointNames(const DesiredState& state, const std::string& endpointId, const std::string& region) {
  EndpointNames out;
  const auto* e = DesiredState::find(state.endpoints(), endpointId);
  if (!e || e->state != model::endpoint_state::kAvailable) return out;
  std::vector<const model::NetworkInterface*> nics;
  for (const auto& id : e->networkInterfaceIds) {
    const auto* n = DesiredState::find(state.interfaces(), id.str());
    if (n && !n->privateIp.empty()) nics.push_back(n);
  }
  if (nics.empty()) return out;
  std::vector<std::string> allAddrs;
  for (const auto* n : nics) allAddrs.push_back(n->privateIp);

  const auto* vpc = DesiredState::find(state.vpcs(), e->vpcId.str());
  bool privateDns = e->privateDnsEnabled && vpc && vpc->enableDnsSupport && vpc->enableDnsHostnames;
  const std::string shared = vpceZone(region);
  std::vector<std::string> privateNames;
  for (const auto& d : e->dnsEntries) {
    std::string name = dns::canonicalName(d.dnsName);
    if (name.empty()) continue;
    if (!d.zoneId.empty()) {
      std::vector<std::string> zonal;
      for (const auto* n : nics) {
        if (n->zoneId == d.zoneId) zonal.push_back(n->privateIp);
      }
      if (zonal.empty()) continue;
      out.sharedZones.push_back(within(name, shared) ? shared : name);
      out.shared.emplace_back(name, std::move(zonal));
    } else if (within(name, shared)) {
      out.shared.emplace_back(name, allAddrs);
    } else {
      privateNames.push_back(name);  // the service's default name (DnsEntries end with it)
    }
  }
  if (!privateDns) return out;
  if (privateNames.empty()) {
    const auto* s = DesiredState::find(state.services(), e->serviceId.str());
    if (s && !s->privateDnsName.empty()) privateNames.push_back(dns::canonicalName(s->privateDnsName));
  }
  out.vpcId = e->vpcId.str();
  for (auto& name : privateNames) out.privateNames.emplace_back(std::move(name), allAddrs);
  return out;
}

std::optional<dns::VpcResolver> planResolver(const DesiredState& state, const std::string& vpcId) {
  const auto* v = DesiredState::find(state.vpcs(), vpcId);
  if (!v || !v->enableDnsSupport) return std::nullopt;
  auto c = model::Cidr::parse(v->cidrBlock);
  if (!c) return std::nullopt;
  return dns::VpcResolver{vpcId, "lp-" + vpcId, c->at(2).toString(), 53};
}

void addNames(dns::ZoneSnapshot& snap, const EndpointNames& names) {
  for (const auto& z : names.sharedZones) addZone(snap.shared, z);
  for (const auto& [name, addrs] : names.shared) addRecords(snap.shared, name, addrs);
  if (names.privateNames.empty()) return;
  auto& set = snap.views[names.vpcId];
  for (const auto& [name, addrs] : names.privateNames) {
    addZone(set, name);
    addRecords(set, name, addrs);
  }
}

dns::ZoneSnapshot planDns(const store::ReadView& view, const std::string& region) {
  DesiredState state;
  (void)state.load(view);
  dns::ZoneSnapshot snap;
  uint64_t rev = 1;
  for (const auto& [_, v] : state.vpcs()) rev = std::max(rev, v.revision);
  for (const auto& [_, e] : state.endpoints()) rev = std::max(rev, e.revision);
  for (const auto& [_, i] : state.interfaces()) rev = std::max(rev, i.revision);
  for (const auto& [_, s] : state.services()) rev = std::max(rev, s.revision);
  snap.serial = static_cast<uint32_t>(rev);
  snap.shared.zones.push_back(vpceZone(region));
  for (const auto& [id, _] : state.endpoints()) addNames(snap, planEndpointNames(state, id, region));
  for (const auto& [id, _] : state.vpcs()) {
    if (auto r = planResolver(state, id)) snap.resolvers.push_back(std::move(*r));
  }
  return snap;
}

bool NameTable::setEndpoint(const std::string& id, EndpointNames names) {
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

bool NameTable::setResolver(const std::string& vpcId, std::optional<dns::VpcResolver> r) {
  auto it = resolvers_.find(vpcId);
  if (!r) {
    if (it == resolvers_.end()) return false;
    resolvers_.erase(it);
    return true;
  }
  if (it != resolvers_.end() && it->second == *r) return false;
  resolvers_[vpcId] = std::move(*r);
  return true;
}

void NameTable::clear() {
  endpoints_.clear();
  resolvers_.clear();
}

// Composes every endpoint's names in id order, as planDns does for a whole view.
// Linear in the names held, with no parsing: a few milliseconds at 10,000
// endpoints (bench/scale), paid once per reconciler pass that changed a name.
std::shared_ptr<const dns::ZoneSnapshot> NameTable::snapshot(uint32_t serial) const {
  auto snap = std::make_shared<dns::ZoneSnapshot>();
  snap->serial = serial;
  snap->shared.zones.push_back(vpceZone(region_));
  for (const auto& [_, names] : endpoints_) addNames(*snap, names);
  for (const auto& [_, r] : resolvers_) snap->resolvers.push_back(r);
  return snap;
}

}  // namespace lp::reconciler
