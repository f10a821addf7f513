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

template <typename R>
std::map<std::string, R> byId(const store::ReadView& view) {
  std::map<std::string, R> out;
  view.forEach(R::kKind, [&](const store::Object& o) {
    auto j = nlohmann::json::parse(o.body, nullptr, false);
    if (j.is_discarded()) return true;
    try {
      out.emplace(o.id, j.get<R>());
    } catch (const nlohmann::json::exception&) {
      // A malformed record is skipped, never fatal to the whole host.
    }
    return true;
  });
  return out;
}

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

int healthCheckPort(const model::TargetGroup& tg, const model::Target& t) {
  if (tg.healthCheckPort.empty() || tg.healthCheckPort == "traffic-port") return t.port;
  auto p = parseInt(tg.healthCheckPort);
  return p && *p > 0 && *p < 65536 ? static_cast<int>(*p) : t.port;
}

}  // namespace

DataplanePlan planDataplane(const store::ReadView& view) {
  DataplanePlan plan;
  auto endpoints = byId<model::VpcEndpoint>(view);
  auto services = byId<model::ServiceConfiguration>(view);
  auto interfaces = byId<model::NetworkInterface>(view);
  auto lbs = byId<model::LoadBalancer>(view);
  auto listeners = byId<model::Listener>(view);
  auto groups = byId<model::TargetGroup>(view);

  // Health checks: every target of a target group behind a load balancer listener.
  std::set<std::string> checked;
  for (const auto& [_, l] : listeners) {
    auto lb = lbs.find(l.loadBalancerArn);
    auto tg = groups.find(l.targetGroupArn);
    if (lb == lbs.end() || tg == groups.end() || !tg->second.healthCheckEnabled) continue;
    for (const auto& t : tg->second.targets) {
      std::string key = model::targetHealthKey(tg->first, t.ip, t.port);
      if (!checked.insert(key).second) continue;
      const auto* node = nodeFor(lb->second, t.zoneId);
      if (!node) continue;
      dataplane::HealthCheckSpec c;
      c.key = key;
      c.ns = "lp-" + lb->second.vpcId.str();
      c.sourceIp = node->privateIp;
      c.ip = t.ip;
      c.port = healthCheckPort(tg->second, t);
      c.intervalSeconds = tg->second.healthCheckIntervalSeconds;
      c.timeoutSeconds = tg->second.healthCheckTimeoutSeconds;
      c.healthyThreshold = tg->second.healthyThresholdCount;
      c.unhealthyThreshold = tg->second.unhealthyThresholdCount;
      plan.snapshot.healthChecks.push_back(std::move(c));
    }
  }

  for (const auto& [id, e] : endpoints) {
    // Listeners exist while an endpoint is on its way to or in service; every other
    // state has none, so its live connections are reset.
    if (e.state != es::kPending && e.state != es::kAvailable) continue;
    auto svc = services.find(e.serviceId.str());
    if (svc == services.end()) continue;
    const auto& s = svc->second;
    // port -> targets, source address still to be chosen per zone (node list kept alongside).
    struct PortTarget {
      dataplane::TargetSpec spec;
      const model::LoadBalancer* lb = nullptr;  // null for an AWS service backend
    };
    std::map<int, std::vector<PortTarget>> ports;
    if (s.ownerId == model::kAmazonAccount) {
      auto colon = s.backend.rfind(':');
      if (s.backend.empty()) {
        plan.failed[id] = {"ServiceBackendUnavailable",
                           "No backend is configured for " + s.serviceName +
                               " on this host; name one under [aws_service_backends] in the daemon config"};
        continue;
      }
      std::string host = colon == std::string::npos ? "" : s.backend.substr(0, colon);
      auto port = parseInt(colon == std::string::npos ? "" : s.backend.substr(colon + 1));
      if (host == "localhost") host = "127.0.0.1";
      if (!isIpv4(host) || !port || *port <= 0 || *port > 65535) {
        plan.failed[id] = {"ServiceBackendUnavailable", "The backend '" + s.backend + "' configured for " +
                                                            s.serviceName + " is not an IPv4 address and port"};
        continue;
      }
      PortTarget pt;
      pt.spec.ip = host;
      pt.spec.port = static_cast<int>(*port);
      ports[kAwsServicePort].push_back(pt);
    } else {
      for (const auto& arn : s.networkLoadBalancerArns) {
        auto lb = lbs.find(arn);
        if (lb == lbs.end()) continue;
        for (const auto& [_, l] : listeners) {
          if (l.loadBalancerArn != arn) continue;
          auto tg = groups.find(l.targetGroupArn);
          if (tg == groups.end()) continue;
          auto& list = ports[l.port];
          if (!list.empty() && list.front().lb != &lb->second) continue;  // the first load balancer on a port wins
          for (const auto& t : tg->second.targets) {
            PortTarget pt;
            pt.lb = &lb->second;
            pt.spec.healthKey =
                tg->second.healthCheckEnabled ? model::targetHealthKey(tg->first, t.ip, t.port) : std::string();
            pt.spec.ns = "lp-" + lb->second.vpcId.str();
            pt.spec.ip = t.ip;
            pt.spec.port = t.port;
            pt.spec.zoneId = t.zoneId;
            pt.spec.proxyProtocolV2 = tg->second.proxyProtocolV2();
            auto term = tg->second.attributes.find("target_health_state.unhealthy.connection_termination.enabled");
            pt.spec.terminateWhenUnhealthy = term == tg->second.attributes.end() || term->second != "false";
            list.push_back(std::move(pt));
          }
          if (tg->second.targets.empty() && list.empty()) list.push_back(PortTarget{{}, &lb->second});
        }
      }
    }
    for (const auto& eniId : e.networkInterfaceIds) {
      auto ni = interfaces.find(eniId.str());
      if (ni == interfaces.end() || ni->second.privateIp.empty()) continue;
      for (const auto& [port, targets] : ports) {
        dataplane::ListenerSpec ls;
        ls.endpointId = id;
        ls.interfaceId = eniId.str();
        ls.zoneId = ni->second.zoneId;
        ls.ns = "lp-" + e.vpcId.str();
        ls.ip = ni->second.privateIp;
        ls.port = port;
        ls.forwarding = e.state == es::kAvailable;
        for (const auto& pt : targets) {
          if (pt.spec.ip.empty()) continue;  // a listener with no registered target yet
          dataplane::TargetSpec t = pt.spec;
          if (pt.lb) {
            const auto* node = nodeFor(*pt.lb, ni->second.zoneId);
            if (!node) continue;
            t.sourceIp = node->privateIp;
          }
          ls.targets.push_back(std::move(t));
        }
        plan.snapshot.listeners.push_back(std::move(ls));
      }
    }
  }
  return plan;
}

}  // namespace lp::reconciler
