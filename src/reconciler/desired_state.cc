#include "reconciler/desired_state.h"

#include <nlohmann/json.hpp>

namespace lp::reconciler {

namespace {

template <typename T>
std::optional<T> decode(const store::Object& o) {
  auto j = nlohmann::json::parse(o.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return j.get<T>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a malformed record is skipped, never fatal to the host
  }
}

}  // namespace

bool DesiredState::tracks(std::string_view kind) {
  return kind == model::Vpc::kKind || kind == model::Subnet::kKind || kind == model::NetworkInterface::kKind ||
         kind == model::SecurityGroup::kKind || kind == model::NetworkAcl::kKind || kind == model::VpcEndpoint::kKind ||
         kind == model::ServiceConfiguration::kKind || kind == model::LoadBalancer::kKind ||
         kind == model::Listener::kKind || kind == model::TargetGroup::kKind || kind == model::RouteTable::kKind ||
         kind == model::Instance::kKind;
}

void DesiredState::unlink(Index& ix, const std::string& k, const std::string& id) {
  auto it = ix.find(k);
  if (it == ix.end()) return;
  it->second.erase(id);
  if (it->second.empty()) ix.erase(it);
}

void DesiredState::index(const model::Subnet& s, bool add) {
  add ? link(subnetsByVpc_, s.vpcId.str(), s.id.str()) : unlink(subnetsByVpc_, s.vpcId.str(), s.id.str());
}
void DesiredState::index(const model::NetworkInterface& n, bool add) {
  add ? link(ifacesByVpc_, n.vpcId.str(), n.id.str()) : unlink(ifacesByVpc_, n.vpcId.str(), n.id.str());
}
void DesiredState::index(const model::SecurityGroup& g, bool add) {
  add ? link(groupsByVpc_, g.vpcId.str(), g.id.str()) : unlink(groupsByVpc_, g.vpcId.str(), g.id.str());
}
void DesiredState::index(const model::NetworkAcl& a, bool add) {
  add ? link(aclsByVpc_, a.vpcId.str(), a.id.str()) : unlink(aclsByVpc_, a.vpcId.str(), a.id.str());
}
void DesiredState::index(const model::VpcEndpoint& e, bool add) {
  if (add) {
    link(endpointsByVpc_, e.vpcId.str(), e.id.str());
    link(endpointsByService_, e.serviceId.str(), e.id.str());
  } else {
    unlink(endpointsByVpc_, e.vpcId.str(), e.id.str());
    unlink(endpointsByService_, e.serviceId.str(), e.id.str());
  }
}
void DesiredState::index(const model::ServiceConfiguration& s, bool add) {
  for (const auto& arn : s.networkLoadBalancerArns) {
    add ? link(servicesByLb_, arn, s.id.str()) : unlink(servicesByLb_, arn, s.id.str());
  }
}
void DesiredState::index(const model::Listener& l, bool add) {
  if (add) {
    link(listenersByLb_, l.loadBalancerArn, l.id.str());
    link(listenersByTg_, l.targetGroupArn, l.id.str());
  } else {
    unlink(listenersByLb_, l.loadBalancerArn, l.id.str());
    unlink(listenersByTg_, l.targetGroupArn, l.id.str());
  }
}
void DesiredState::index(const model::RouteTable& rt, bool add) {
  add ? link(routeTablesByVpc_, rt.vpcId.str(), rt.id.str()) : unlink(routeTablesByVpc_, rt.vpcId.str(), rt.id.str());
  for (const auto& r : rt.routes) {
    if (r.instanceId.empty()) continue;
    add ? link(routeTablesByInstance_, r.instanceId.str(), rt.id.str())
        : unlink(routeTablesByInstance_, r.instanceId.str(), rt.id.str());
  }
}

void DesiredState::affectedBy(const model::Vpc& v, DirtyKeys& d) const {
  d.vpcs.insert(v.id.str());
  // enableDnsSupport / enableDnsHostnames decide the private names of its endpoints.
  for (const auto& e : endpointsIn(v.id.str())) d.endpoints.insert(e);
}
void DesiredState::affectedBy(const model::Subnet& s, DirtyKeys& d) const { d.vpcs.insert(s.vpcId.str()); }
void DesiredState::affectedBy(const model::NetworkInterface& n, DirtyKeys& d) const {
  d.vpcs.insert(n.vpcId.str());
  if (n.managedBy.rfind("vpce-", 0) == 0) d.endpoints.insert(n.managedBy);
}
void DesiredState::affectedBy(const model::SecurityGroup& g, DirtyKeys& d) const { d.vpcs.insert(g.vpcId.str()); }
// An ACL also decides which path may carry the endpoints in its VPC and those of
// services whose load balancers are there (ListenerSpec::statelessAcls). ACLs
// change rarely; the walk over load balancers is the price of not indexing them by VPC.
void DesiredState::affectedBy(const model::NetworkAcl& a, DirtyKeys& d) const {
  d.vpcs.insert(a.vpcId.str());
  for (const auto& e : endpointsIn(a.vpcId.str())) d.endpoints.insert(e);
  for (const auto& [arn, lb] : lbs_)
    if (lb.value.vpcId == a.vpcId) endpointsBehindLb(arn, d);
}
// A VPC's host plan reads its interfaces, never its endpoints: an endpoint's
// addresses and groups are on its interfaces, which are changed with it.
void DesiredState::affectedBy(const model::VpcEndpoint& e, DirtyKeys& d) const { d.endpoints.insert(e.id.str()); }
void DesiredState::affectedBy(const model::ServiceConfiguration& s, DirtyKeys& d) const {
  for (const auto& e : endpointsOf(s.id.str())) d.endpoints.insert(e);
}
void DesiredState::endpointsBehindLb(const std::string& lbArn, DirtyKeys& d) const {
  for (const auto& s : servicesOn(lbArn)) {
    for (const auto& e : endpointsOf(s)) d.endpoints.insert(e);
  }
}
void DesiredState::affectedBy(const model::LoadBalancer& lb, DirtyKeys& d) const {
  d.vpcs.insert(lb.vpcId.str());  // node addresses
  endpointsBehindLb(lb.id.str(), d);
  for (const auto& l : listenersOf(lb.id.str())) {
    if (const auto* li = find(listeners_, l)) d.targetGroups.insert(li->targetGroupArn);
  }
}
void DesiredState::affectedBy(const model::Listener& l, DirtyKeys& d) const {
  endpointsBehindLb(l.loadBalancerArn, d);
  d.targetGroups.insert(l.targetGroupArn);
}
void DesiredState::affectedBy(const model::TargetGroup& tg, DirtyKeys& d) const {
  d.targetGroups.insert(tg.id.str());
  for (const auto& l : listenersTo(tg.id.str())) {
    if (const auto* li = find(listeners_, l)) endpointsBehindLb(li->loadBalancerArn, d);
  }
}

// Routes, associations and targets: the VPC's policy routing (route_plan.h).
void DesiredState::affectedBy(const model::RouteTable& rt, DirtyKeys& d) const { d.vpcs.insert(rt.vpcId.str()); }
// An instance's state decides whether a route to it is active or a blackhole; its
// interface (address, SourceDestCheck) is an interface change of its own.
void DesiredState::affectedBy(const model::Instance& i, DirtyKeys& d) const {
  if (!routesTo(i.id.str()).empty()) d.vpcs.insert(i.vpcId.str());
}

template <typename T>
DirtyKeys DesiredState::set(Table<T>& table, std::string_view id, std::optional<T> next, uint64_t revision) {
  DirtyKeys d;
  if (auto it = table.find(id); it != table.end()) {
    affectedBy(it->second.value, d);
    index(it->second.value, false);
    table.erase(it);
  }
  if (next) {
    index(*next, true);
    auto& slot = table[std::string(id)];
    slot.value = std::move(*next);
    slot.revision = revision;
    affectedBy(slot.value, d);
  }
  return d;
}

template <typename T>
DirtyKeys DesiredState::replace(Table<T>& table, std::string_view id, const std::optional<store::Object>& now) {
  auto it = table.find(id);
  if (now && it != table.end() && it->second.revision >= now->revision) return {};  // already held
  return set(table, id, now ? decode<T>(*now) : std::nullopt, now ? now->revision : 0);
}

DirtyKeys DesiredState::apply(std::string_view kind, std::string_view id, const std::optional<store::Object>& now) {
  if (kind == model::Vpc::kKind) return replace(vpcs_, id, now);
  if (kind == model::Subnet::kKind) return replace(subnets_, id, now);
  if (kind == model::NetworkInterface::kKind) return replace(interfaces_, id, now);
  if (kind == model::SecurityGroup::kKind) return replace(groups_, id, now);
  if (kind == model::NetworkAcl::kKind) return replace(acls_, id, now);
  if (kind == model::VpcEndpoint::kKind) return replace(endpoints_, id, now);
  if (kind == model::ServiceConfiguration::kKind) return replace(services_, id, now);
  if (kind == model::LoadBalancer::kKind) return replace(lbs_, id, now);
  if (kind == model::Listener::kKind) return replace(listeners_, id, now);
  if (kind == model::TargetGroup::kKind) return replace(tgs_, id, now);
  if (kind == model::RouteTable::kKind) return replace(routeTables_, id, now);
  if (kind == model::Instance::kKind) return replace(instances_, id, now);
  return {};
}

DirtyKeys DesiredState::putEndpoint(const model::VpcEndpoint& e, uint64_t revision) {
  auto it = endpoints_.find(e.id.str());
  if (it != endpoints_.end() && it->second.revision >= revision) return {};
  return set(endpoints_, e.id.str(), std::optional<model::VpcEndpoint>(e), revision);
}

void DesiredState::overrideEndpoint(const model::VpcEndpoint& e) {
  auto it = endpoints_.find(e.id.str());
  if (it == endpoints_.end() || it->second.value.vpcId != e.vpcId || it->second.value.serviceId != e.serviceId) return;
  it->second.value = e;
}

void DesiredState::eraseEndpoint(const std::string& id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return;
  index(it->second.value, false);
  endpoints_.erase(it);
}

DirtyKeys DesiredState::load(const store::ReadView& view) {
  *this = DesiredState();
  DirtyKeys all;
  for (std::string_view kind :
       {model::Vpc::kKind, model::Subnet::kKind, model::NetworkInterface::kKind, model::SecurityGroup::kKind,
        model::NetworkAcl::kKind, model::ServiceConfiguration::kKind, model::LoadBalancer::kKind,
        model::Listener::kKind, model::TargetGroup::kKind, model::VpcEndpoint::kKind, model::RouteTable::kKind,
        model::Instance::kKind}) {
    view.forEach(kind, [&](const store::Object& o) {
      (void)apply(kind, o.id, o);
      return true;
    });
  }
  for (const auto& [id, _] : vpcs_) all.vpcs.insert(id);
  for (const auto& [id, _] : endpoints_) all.endpoints.insert(id);
  for (const auto& [id, _] : tgs_) all.targetGroups.insert(id);
  // VPCs that only their contents still name (a VPC erased before its subnets) are
  // keys too, so what is left of them on the host is removed.
  for (const auto& [id, _] : subnetsByVpc_) all.vpcs.insert(id);
  for (const auto& [id, _] : ifacesByVpc_) all.vpcs.insert(id);
  return all;
}

}  // namespace lp::reconciler
