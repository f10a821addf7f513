#include "reconciler/route_plan.h"

#include <algorithm>
#include <map>

#include "model/cidr.h"
#include "model/instance.h"
#include "model/network.h"
#include "model/route_state.h"

namespace lp::reconciler {

namespace {

std::string normalized(const std::string& cidr) {
  auto c = model::Cidr::parse(cidr);
  return c ? c->toString() : "";
}

}  // namespace

uint32_t tableNumber(const std::string& routeTableId) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and restarts, unlike std::hash
  for (unsigned char c : routeTableId) {
    h ^= c;
    h *= 16777619u;
  }
  return kRouteTableBase + h % kRouteTableSpan;
}

RoutingPlan planRouting(const DesiredState& state, const std::string& vpcId, const std::vector<SubnetBridge>& bridges) {
  RoutingPlan plan;
  std::map<std::string, const SubnetBridge*> bridgeOf;
  for (const auto& b : bridges) bridgeOf[b.subnetId] = &b;

  // Which table each subnet uses: its explicit association, else the main one.
  std::map<std::string, std::string> tableOf;  // subnet id -> route table id
  std::string mainTable;
  for (const auto& id : state.routeTablesIn(vpcId)) {
    const auto* rt = DesiredState::find(state.routeTables(), id);
    if (!rt) continue;
    for (const auto& a : rt->associations) {
      if (a.main) mainTable = id;
      if (!a.subnetId.empty()) tableOf[a.subnetId.str()] = id;
    }
  }
  std::map<std::string, std::vector<std::string>> bridgesUsing;  // route table id -> bridges
  for (const auto& b : bridges) {
    auto it = tableOf.find(b.subnetId);
    const std::string& t = it == tableOf.end() ? mainTable : it->second;
    if (!t.empty()) bridgesUsing[t].push_back(b.bridge);
  }

  std::set<uint32_t> used;
  for (const auto& [id, users] : bridgesUsing) {  // by id: collisions resolve the same way every time
    const auto* rt = DesiredState::find(state.routeTables(), id);
    if (!rt || std::none_of(rt->routes.begin(), rt->routes.end(), [](const auto& r) { return !r.isLocal(); })) {
      continue;  // only the local route: the namespace's main table is exactly that
    }
    RouteTablePlan tp;
    tp.routeTableId = id;
    tp.table = tableNumber(id);
    while (used.count(tp.table)) tp.table = kRouteTableBase + (tp.table - kRouteTableBase + 1) % kRouteTableSpan;
    used.insert(tp.table);

    std::map<std::string, net::RouteInfo> byDst;
    for (const auto& r : rt->routes) {
      if (!r.isLocal()) continue;
      std::string dst = normalized(r.destinationCidrBlock);
      if (!dst.empty()) byDst[dst] = {tp.table, dst, "", "", true};
    }
    for (const auto& b : bridges) {
      std::string dst = normalized(b.cidr);
      if (!dst.empty()) byDst[dst] = {tp.table, dst, "", b.bridge, false};
    }
    for (const auto& r : rt->routes) {
      if (r.isLocal()) continue;
      std::string dst = normalized(r.destinationCidrBlock);
      if (dst.empty()) continue;
      net::RouteInfo ri{tp.table, dst, "", "", true};
      // Via the target while DescribeRouteTables says active (model/route_state.h).
      const auto* n = DesiredState::find(state.interfaces(), r.networkInterfaceId.str());
      const auto* i = r.instanceId.empty() ? nullptr : DesiredState::find(state.instances(), r.instanceId.str());
      auto via = n ? bridgeOf.find(n->subnetId.str()) : bridgeOf.end();
      if (model::routeCarriesTraffic(r, n, i) && !n->privateIp.empty() && via != bridgeOf.end()) {
        ri = {tp.table, dst, n->privateIp, via->second->bridge, false};
        plan.targets.insert(n->id.str());
      }
      byDst[dst] = ri;
    }
    for (auto& [_, ri] : byDst) tp.routes.push_back(std::move(ri));
    std::sort(tp.routes.begin(), tp.routes.end());
    for (const auto& b : users) plan.rules.push_back({kRoutePref, b, tp.table});
    plan.tables.push_back(std::move(tp));
  }
  std::sort(plan.rules.begin(), plan.rules.end());
  return plan;
}

}  // namespace lp::reconciler
