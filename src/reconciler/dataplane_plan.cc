#include "reconciler/dataplane_plan.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "model/elb.h"
#include "model/endpoint.h"
#include "model/region.h"
#include "model/resources.h"

namespace lp::reconciler {

namespace {

namespace es = model::endpoint_state;

bool isIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// The node the load balancer has in a zone (by zone id), else its first one.
const model::LoadBalancerNode* nodeFor(const model::LoadBalancer& lb, const std::string& zoneId) {
  for (const auto& n : lb.nodes) {
    if (n.zoneId == zoneId && !n.privateIp.empty()) return &n;
  }
  for (const auto& n : lb.nodes) {
    if (!n.privateIp.empty()) return &n;
  }
  return nullptr;
}

// Whether the ACL lets every packet through both ways: the entry with the lowest
// rule number in each direction allows every protocol, anywhere.
bool allowsEverything(const model::NetworkAcl& acl) {
  for (bool egress : {false, true}) {
    const model::NetworkAclEntry* first = nullptr;
    for (const auto& e : acl.entries)
      if (e.egress == egress && (!first || e.ruleNumber < first->ruleNumber)) first = &e;
    if (!first || first->ruleAction != "allow" || first->protocol != "-1" || first->cidrBlock != "0.0.0.0/0")
      return false;
  }
  return true;
}

// Whether a network ACL associated with one of the VPC's subnets filters packets.
bool aclsFilter(const DesiredState& state, const std::string& vpcId) {
  for (const auto& id : state.aclsIn(vpcId)) {
    const auto* acl = DesiredState::find(state.networkAcls(), id);
    if (acl && !acl->associations.empty() && !allowsEverything(*acl)) return true;
  }
  return false;
}

int healthCheckPort(const model::TargetGroup& tg, const model::Target& t) {
  if (tg.healthCheckPort.empty() || tg.healthCheckPort == "traffic-port") return t.port;
  auto p = parseInt(tg.healthCheckPort);
  return p && *p > 0 && *p < 65536 ? static_cast<int>(*p) : t.port;
}

}  // namespace

std::vector<dataplane::HealthCheckSpec> planHealthChecks(const DesiredState& state, const std::string& tgArn) {
  std::vector<dataplane::HealthCheckSpec> out;
  const auto* tg = DesiredState::find(state.targetGroups(), tgArn);
  if (!tg || !tg->healthCheckEnabled) return out;
  // Every target of the group, checked from a node of the first load balancer
  // whose listener forwards to it.
  std::set<std::string> checked;
  for (const auto& arn : state.listenersTo(tgArn)) {
    const auto* l = DesiredState::find(state.listeners(), arn);
    const auto* lb = l ? DesiredState::find(state.loadBalancers(), l->loadBalancerArn) : nullptr;
    if (!lb) continue;
    for (const auto& t : tg->targets) {
      std::string key = model::targetHealthKey(tgArn, t.ip, t.port);
      if (checked.count(key)) continue;
      const auto* node = nodeFor(*lb, t.zoneId);
      if (!node) continue;
      checked.insert(key);
      dataplane::HealthCheckSpec c;
      c.key = key;
      c.ns = "lp-" + lb->vpcId.str();
      c.sourceIp = node->privateIp;
      c.ip = t.ip;
      c.port = healthCheckPort(*tg, t);
      c.intervalSeconds = tg->healthCheckIntervalSeconds;
      c.timeoutSeconds = tg->healthCheckTimeoutSeconds;
      c.healthyThreshold = tg->healthyThresholdCount;
      c.unhealthyThreshold = tg->unhealthyThresholdCount;
      out.push_back(std::move(c));
    }
  }
  return out;
}

EndpointDataplane planEndpointDataplane(const DesiredState& state, const std::string& endpointId) {
  EndpointDataplane plan;
  const auto* e = DesiredState::find(state.endpoints(), endpointId);
  // Listeners exist while an endpoint is on its way to or in service; every other
  // state has none, so its live connections are reset.
  if (!e || (e->state != es::kPending && e->state != es::kAvailable)) return plan;
  const auto* s = DesiredState::find(state.services(), e->serviceId.str());
  if (!s) return plan;
  // port -> targets, source address still to be chosen per zone (node list kept alongside).
  struct PortTarget {
    dataplane::TargetSpec spec;
    const model::LoadBalancer* lb = nullptr;  // null for an AWS service backend
  };
  std::map<int, std::vector<PortTarget>> ports;
  bool statelessAcls = aclsFilter(state, e->vpcId.str());
  if (s->ownerId == model::kAmazonAccount) {
    // "proxy-v2:HOST:PORT": a backend that takes a PROXY v2 header first (the
    // daemon's own HTTPS listener, which attributes requests to their endpoint).
    constexpr std::string_view kProxyV2 = "proxy-v2:";
    const bool proxyV2 = startsWith(s->backend, kProxyV2);
    const std::string backend = proxyV2 ? s->backend.substr(kProxyV2.size()) : s->backend;
    auto colon = backend.rfind(':');
    if (backend.empty()) {
      plan.failed = {{"ServiceBackendUnavailable",
                      "No backend is configured for " + s->serviceName +
                          " on this host; name one under [aws_service_backends] in the daemon config"}};
      return plan;
    }
    std::string host = colon == std::string::npos ? "" : backend.substr(0, colon);
    auto port = parseInt(colon == std::string::npos ? "" : backend.substr(colon + 1));
    if (host == "localhost") host = "127.0.0.1";
    if (!isIpv4(host) || !port || *port <= 0 || *port > 65535) {
      plan.failed = {{"ServiceBackendUnavailable", "The backend '" + s->backend + "' configured for " + s->serviceName +
                                                       " is not an IPv4 address and port"}};
      return plan;
    }
    PortTarget pt;
    pt.spec.ip = host;
    pt.spec.port = static_cast<int>(*port);
    pt.spec.proxyProtocolV2 = proxyV2;
    ports[kAwsServicePort].push_back(pt);
  } else {
    for (const auto& arn : s->networkLoadBalancerArns) {
      const auto* lb = DesiredState::find(state.loadBalancers(), arn);
      if (!lb) continue;
      statelessAcls = statelessAcls || aclsFilter(state, lb->vpcId.str());
      for (const auto& larn : state.listenersOf(arn)) {
        const auto* l = DesiredState::find(state.listeners(), larn);
        const auto* tg = l ? DesiredState::find(state.targetGroups(), l->targetGroupArn) : nullptr;
        if (!tg) continue;
        auto& list = ports[l->port];
        if (!list.empty() && list.front().lb != lb) continue;  // the first load balancer on a port wins
        for (const auto& t : tg->targets) {
          PortTarget pt;
          pt.lb = lb;
          pt.spec.healthKey =
              tg->healthCheckEnabled ? model::targetHealthKey(tg->id.str(), t.ip, t.port) : std::string();
          pt.spec.ns = "lp-" + lb->vpcId.str();
          pt.spec.ip = t.ip;
          pt.spec.port = t.port;
          pt.spec.zoneId = t.zoneId;
          pt.spec.proxyProtocolV2 = tg->proxyProtocolV2();
          auto term = tg->attributes.find("target_health_state.unhealthy.connection_termination.enabled");
          pt.spec.terminateWhenUnhealthy = term == tg->attributes.end() || term->second != "false";
          list.push_back(std::move(pt));
        }
        if (tg->targets.empty() && list.empty()) list.push_back(PortTarget{{}, lb});
      }
    }
  }
  for (const auto& eniId : e->networkInterfaceIds) {
    const auto* ni = DesiredState::find(state.interfaces(), eniId.str());
    if (!ni || ni->privateIp.empty()) continue;
    for (const auto& [port, targets] : ports) {
      dataplane::ListenerSpec ls;
      ls.endpointId = endpointId;
      ls.interfaceId = eniId.str();
      ls.zoneId = ni->zoneId;
      ls.ns = "lp-" + e->vpcId.str();
      ls.ip = ni->privateIp;
      ls.port = port;
      ls.forwarding = e->state == es::kAvailable;
      ls.statelessAcls = statelessAcls;
      for (const auto& pt : targets) {
        if (pt.spec.ip.empty()) continue;  // a listener with no registered target yet
        dataplane::TargetSpec t = pt.spec;
        if (pt.lb) {
          const auto* node = nodeFor(*pt.lb, ni->zoneId);
          if (!node) continue;
          t.sourceIp = node->privateIp;
        }
        ls.targets.push_back(std::move(t));
      }
      plan.listeners.push_back(std::move(ls));
    }
  }
  return plan;
}

DataplanePlan planDataplane(const store::ReadView& view) {
  DesiredState state;
  (void)state.load(view);
  DataplanePlan plan;
  for (const auto& [arn, _] : state.targetGroups()) {
    for (auto& c : planHealthChecks(state, arn)) plan.snapshot.healthChecks.push_back(std::move(c));
  }
  for (const auto& [id, _] : state.endpoints()) {
    auto ep = planEndpointDataplane(state, id);
    if (ep.failed) plan.failed[id] = *ep.failed;
    for (auto& l : ep.listeners) plan.snapshot.listeners.push_back(std::move(l));
  }
  return plan;
}

}  // namespace lp::reconciler
