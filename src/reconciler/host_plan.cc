#include "reconciler/host_plan.h"

#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/resources.h"
#include "model/security_group_rules.h"
#include "reconciler/filter_plan.h"

namespace lp::reconciler {

namespace {

std::string tail(const std::string& id, size_t n) { return id.size() <= n ? id : id.substr(id.size() - n); }

}  // namespace

std::string bridgeName(const std::string& subnetId) { return "lp-br-" + tail(subnetId, 9); }
std::string vethName(const std::string& interfaceId) { return "lp-v" + tail(interfaceId, 11); }

std::optional<VpcPlan> planVpc(const DesiredState& state, const std::string& vpcId) {
  const auto* v = DesiredState::find(state.vpcs(), vpcId);
  if (!v) return std::nullopt;
  auto vcidr = model::Cidr::parse(v->cidrBlock);
  if (!vcidr) return std::nullopt;
  // The VPC's own groups and interfaces: a group rule may only name groups of its VPC.
  std::vector<model::SecurityGroup> groups;
  for (const auto& id : state.groupsIn(vpcId)) {
    if (const auto* g = DesiredState::find(state.securityGroups(), id)) groups.push_back(*g);
  }
  std::vector<model::NetworkInterface> interfaces;
  std::vector<SubnetBridge> subnetBridges;
  std::map<std::string, std::string> typeOf;
  for (const auto& id : state.interfacesIn(vpcId)) {
    if (const auto* i = DesiredState::find(state.interfaces(), id)) {
      interfaces.push_back(*i);
      typeOf[id] = i->interfaceType;
    }
  }
  VpcPlan vp;
  vp.vpcId = vpcId;
  vp.ns = "lp-" + vp.vpcId;
  std::string resolver = vcidr->at(2).toString();
  vp.resolverCidr = resolver + "/32";
  FilterInputs filter;
  filter.resolver = resolver;
  std::map<std::string, std::string> aclOf;  // subnet id -> its network ACL
  for (const auto& aid : state.aclsIn(vpcId)) {
    const auto* a = DesiredState::find(state.networkAcls(), aid);
    if (!a) continue;
    filter.acls[aid] = *a;
    for (const auto& as : a->associations) aclOf[as.subnetId.str()] = aid;
  }
  for (const auto& sid : state.subnetsIn(vpcId)) {
    const auto* s = DesiredState::find(state.subnets(), sid);
    auto c = s ? model::Cidr::parse(s->cidrBlock) : std::nullopt;
    if (!c) continue;
    filter.subnets.push_back({sid, s->cidrBlock, aclOf.count(sid) ? aclOf[sid] : ""});
    BridgePlan b;
    b.name = bridgeName(sid);
    b.routerCidr = c->at(1).toString() + "/" + std::to_string(c->prefix);
    bool ports = false;
    for (const auto& i : interfaces) {
      if (i.subnetId != s->id || i.privateIp.empty()) continue;
      vp.interfaceIds.push_back(i.id.str());
      if (i.interfaceType == "interface") {
        WorkloadPlan w;
        w.interfaceId = i.id.str();
        w.ns = "lp-" + w.interfaceId;
        w.vethName = vethName(w.interfaceId);
        w.bridge = b.name;
        w.cidr = i.privateIp + "/" + std::to_string(c->prefix);
        w.gateway = c->at(1).toString();
        w.resolver = resolver;
        filter.ports.push_back({w.vethName, i.privateIp, i.sourceDestCheck});
        vp.workloads.push_back(std::move(w));
        ports = true;
      } else {
        vp.hostAddresses.push_back(i.privateIp + "/32");
      }
    }
    if (ports) {
      subnetBridges.push_back({sid, s->cidrBlock, b.name});
      vp.bridges.push_back(std::move(b));
    }
  }
  vp.routing = planRouting(state, vpcId, subnetBridges);
  for (auto& w : vp.workloads) {
    if (!vp.routing.targets.count(w.interfaceId)) continue;
    const auto* i = DesiredState::find(state.interfaces(), w.interfaceId);
    w.forwarding = i && !i->sourceDestCheck;
    filter.routeTargets[w.interfaceId] = i ? i->sourceDestCheck : true;
  }
  filter.rules = model::effectiveRules(groups, interfaces);
  filter.typeOf = std::move(typeOf);
  vp.nftRuleset = filterRuleset(filter);
  return vp;
}

std::vector<std::string> endpointInterfaces(const DesiredState& state, const std::string& endpointId) {
  std::vector<std::string> out;
  if (const auto* e = DesiredState::find(state.endpoints(), endpointId)) {
    for (const auto& i : e->networkInterfaceIds) out.push_back(i.str());
  }
  return out;
}

HostPlan planHost(const store::ReadView& view) {
  DesiredState state;
  (void)state.load(view);
  HostPlan plan;
  for (const auto& [id, _] : state.vpcs()) {
    if (auto vp = planVpc(state, id)) plan.vpcs.push_back(std::move(*vp));
  }
  for (const auto& [id, _] : state.endpoints()) plan.endpointInterfaces[id] = endpointInterfaces(state, id);
  return plan;
}

}  // namespace lp::reconciler
