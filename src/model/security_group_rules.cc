#include "model/security_group_rules.h"

#include <algorithm>
#include <map>

namespace lp::model {

std::vector<InterfaceRules> effectiveRules(const std::vector<model::SecurityGroup>& groups,
                                           const std::vector<model::NetworkInterface>& interfaces) {
  std::map<model::SecurityGroupId, const model::SecurityGroup*> byId;
  for (const auto& g : groups) byId[g.id] = &g;

  // (vpc, group) -> member addresses. Keyed by VPC too: an interface elsewhere
  // carrying a group id never grants access into this VPC.
  std::map<std::pair<model::VpcId, model::SecurityGroupId>, std::vector<std::string>> members;
  for (const auto& e : interfaces) {
    if (e.privateIp.empty()) continue;
    for (const auto& gid : e.groupIds) members[{e.vpcId, gid}].push_back(e.privateIp + "/32");
  }

  std::vector<const model::NetworkInterface*> ordered;
  for (const auto& e : interfaces)
    if (!e.privateIp.empty()) ordered.push_back(&e);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->id < b->id; });

  std::vector<InterfaceRules> out;
  for (const auto* e : ordered) {
    InterfaceRules ir{e->id, e->vpcId, e->privateIp, {}, {}};
    std::vector<model::SecurityGroupId> seen;
    for (const auto& gid : e->groupIds) {
      if (std::find(seen.begin(), seen.end(), gid) != seen.end()) continue;
      seen.push_back(gid);
      auto g = byId.find(gid);
      if (g == byId.end()) continue;
      for (const auto& r : g->second->rules) {
        EffectiveRule er{gid, r.id, r.protocol, r.fromPort, r.toPort, {}};
        if (!r.cidr.empty()) {
          er.peers.push_back(r.cidr);
        } else if (!r.groupId.empty()) {
          auto m = members.find({e->vpcId, r.groupId});
          if (m != members.end()) er.peers = m->second;
        }
        std::sort(er.peers.begin(), er.peers.end());
        er.peers.erase(std::unique(er.peers.begin(), er.peers.end()), er.peers.end());
        if (er.peers.empty()) continue;
        (r.egress ? ir.egress : ir.ingress).push_back(std::move(er));
      }
    }
    out.push_back(std::move(ir));
  }
  return out;
}

}  // namespace lp::model
