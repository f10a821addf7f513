#include "reconciler/dns_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
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

NameTable::NameTable(std::string region) : region_(std::move(region)) { clear(); }

namespace {

// The union of the addresses `scope` of each endpoint of `ids` gives `name`, in
// endpoint id order: what addNames in that order makes of it.
std::vector<std::string> unionOf(
    const std::map<std::string, EndpointNames>& endpoints, const std::set<std::string>& ids, const std::string& name,
    std::vector<std::pair<std::string, std::vector<std::string>>> EndpointNames::*scope) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    for (const auto& [n, addrs] : endpoints.at(id).*scope) {
      if (n != name) continue;
      for (const auto& a : addrs) {
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      }
    }
  }
  return out;
}

// Sets or removes name in set to match its contributors (none: removed). Leaves a
// name whose addresses did not change alone, so its shard is not cloned.
void refreshName(dns::NameSet& set, const std::string& name, const std::set<std::string>* ids,
                 const std::map<std::string, EndpointNames>& endpoints,
                 std::vector<std::pair<std::string, std::vector<std::string>>> EndpointNames::*scope) {
  if (!ids) {
    set.a.erase(name);
    return;
  }
  auto addrs = unionOf(endpoints, *ids, name, scope);
  if (auto it = set.a.find(name); it != set.a.end() && it->second == addrs) return;
  set.a[name] = std::move(addrs);
}

// Zones in the order addNames adds them: by the first endpoint (in id order) that
// names them, then by where in that endpoint's list.
template <class PositionOf>
std::vector<std::string> orderedZones(const std::map<std::string, std::set<std::string>>& zones,
                                      const std::string* skip, PositionOf positionOf) {
  std::vector<std::tuple<const std::string*, size_t, const std::string*>> order;
  for (const auto& [zone, ids] : zones) {
    if (skip && zone == *skip) continue;
    const std::string& first = *ids.begin();
    order.emplace_back(&first, positionOf(first, zone), &zone);
  }
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    int c = std::get<0>(x)->compare(*std::get<0>(y));
    return c != 0 ? c < 0 : std::get<1>(x) < std::get<1>(y);
  });
  std::vector<std::string> out;
  out.reserve(order.size());
  for (const auto& o : order) out.push_back(*std::get<2>(o));
  return out;
}

void indexKey(std::map<std::string, std::set<std::string>>& m, const std::string& key, const std::string& id, bool add) {
  if (add) {
    m[key].insert(id);
    return;
  }
  auto it = m.find(key);
  if (it == m.end()) return;
  it->second.erase(id);
  if (it->second.empty()) m.erase(it);
}

}  // namespace

void NameTable::index(const std::string& id, const EndpointNames& names, bool add) {
  for (const auto& z : names.sharedZones) indexKey(shared_.zones, z, id, add);
  for (const auto& [n, _] : names.shared) indexKey(shared_.names, n, id, add);
  if (names.privateNames.empty()) return;
  auto& view = views_[names.vpcId];
  for (const auto& [n, _] : names.privateNames) indexKey(view.names, n, id, add);  // each also a zone
  if (view.names.empty()) views_.erase(names.vpcId);
}

void NameTable::refreshShared(const std::set<std::string>& names, const std::set<std::string>& zones) {
  for (const auto& n : names) {
    auto it = shared_.names.find(n);
    refreshName(current_.shared, n, it == shared_.names.end() ? nullptr : &it->second, endpoints_,
                &EndpointNames::shared);
  }
  const std::string apex = vpceZone(region_);
  if (std::all_of(zones.begin(), zones.end(), [&](const std::string& z) { return z == apex; })) return;
  auto order = orderedZones(shared_.zones, &apex, [&](const std::string& id, const std::string& zone) {
    const auto& list = endpoints_.at(id).sharedZones;
    return static_cast<size_t>(std::find(list.begin(), list.end(), zone) - list.begin());
  });
  order.insert(order.begin(), apex);
  if (current_.shared.zones != order) current_.shared.zones = std::move(order);
}

void NameTable::refreshView(const std::string& vpcId, const std::set<std::string>& names) {
  auto vi = views_.find(vpcId);
  if (vi == views_.end()) {
    current_.views.erase(vpcId);
    return;
  }
  dns::NameSet& set = current_.views[vpcId];
  for (const auto& n : names) {
    auto it = vi->second.names.find(n);
    refreshName(set, n, it == vi->second.names.end() ? nullptr : &it->second, endpoints_,
                &EndpointNames::privateNames);
  }
  auto order = orderedZones(vi->second.names, nullptr, [&](const std::string& id, const std::string& zone) {
    const auto& list = endpoints_.at(id).privateNames;
    return static_cast<size_t>(
        std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.first == zone; }) - list.begin());
  });
  if (set.zones != order) set.zones = std::move(order);
}

// Takes the endpoint's old names out and its new ones in, then recomputes only the
// names and zones either held (from every endpoint that still contributes to
// them): the snapshot stays what planDns would build, at the cost of the change.
bool NameTable::setEndpoint(const std::string& id, EndpointNames names) {
  auto it = endpoints_.find(id);
  bool none = names.shared.empty() && names.privateNames.empty();
  if (it == endpoints_.end() && none) return false;
  if (it != endpoints_.end() && !none && it->second == names) return false;
  EndpointNames old;
  if (it != endpoints_.end()) {
    old = std::move(it->second);
    endpoints_.erase(it);
    index(id, old, false);
  }
  std::set<std::string> sharedNames, sharedZones;
  std::map<std::string, std::set<std::string>> viewNames;
  for (const auto* e : {&old, &names}) {
    for (const auto& z : e->sharedZones) sharedZones.insert(z);
    for (const auto& [n, _] : e->shared) sharedNames.insert(n);
    if (e->privateNames.empty()) continue;
    auto& v = viewNames[e->vpcId];
    for (const auto& [n, _] : e->privateNames) v.insert(n);
  }
  if (!none) {
    index(id, names, true);
    endpoints_.emplace(id, std::move(names));
  }
  refreshShared(sharedNames, sharedZones);
  for (const auto& [vpcId, ns] : viewNames) refreshView(vpcId, ns);
  return true;
}

bool NameTable::setResolver(const std::string& vpcId, std::optional<dns::VpcResolver> r) {
  auto it = resolvers_.find(vpcId);
  if (!r) {
    if (it == resolvers_.end()) return false;
    resolvers_.erase(it);
    resolversDirty_ = true;
    return true;
  }
  if (it != resolvers_.end() && it->second == *r) return false;
  resolvers_[vpcId] = std::move(*r);
  resolversDirty_ = true;
  return true;
}

void NameTable::clear() {
  endpoints_.clear();
  resolvers_.clear();
  resolversDirty_ = false;
  shared_ = {};
  views_.clear();
  current_ = dns::ZoneSnapshot{};
  current_.shared.zones.push_back(vpceZone(region_));
}

// A copy of current_: a few reference counts whatever the number of names (the
// full rebuild it replaces took 180-310 ms at 10,000 endpoints; see
// bench/dns/snapshot_bench.cc). The resolver list is rebuilt only after a VPC's
// resolver changed.
std::shared_ptr<const dns::ZoneSnapshot> NameTable::snapshot(uint32_t serial) {
  if (resolversDirty_) {
    current_.resolvers.clear();
    for (const auto& [_, r] : resolvers_) current_.resolvers.push_back(r);
    resolversDirty_ = false;
  }
  auto snap = std::make_shared<dns::ZoneSnapshot>(current_);
  snap->serial = serial;
  return snap;
}

}  // namespace lp::reconciler
