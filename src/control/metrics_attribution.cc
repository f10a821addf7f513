#include "control/metrics_attribution.h"

#include "control/typed_store.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::control {

namespace {

// The attribution of endpoint interface id, or nullopt when it is not one.
std::optional<metrics::InterfaceInfo> interfaceInfo(const ControlContext& ctx, View& v, const std::string& id) {
  auto eni = v.get<model::NetworkInterface>(id);
  if (!eni || eni->interfaceType != "vpc_endpoint") return std::nullopt;
  auto ep = v.get<model::VpcEndpoint>(eni->managedBy);
  if (!ep) return std::nullopt;
  auto svc = v.get<model::ServiceConfiguration>(ep->serviceId);
  metrics::InterfaceInfo i;
  i.interfaceId = id;
  i.endpointId = ep->id.str();
  i.endpointType = ep->type;
  i.vpcId = ep->vpcId.str();
  i.subnetId = eni->subnetId.str();
  i.serviceName = ep->serviceName;
  i.serviceId = ep->serviceId.str();
  i.consumerAccount = ep->ownerId;
  if (svc) {
    i.providerAccount = svc->ownerId;
    // The data plane counts per endpoint interface, not per load balancer: a
    // service with several is attributed to its first.
    if (!svc->networkLoadBalancerArns.empty()) i.loadBalancerArn = svc->networkLoadBalancerArns.front();
    i.az = svc->isAwsService() ? eni->zoneId : ctx.zoneName(svc->ownerId, eni->zoneId);
  }
  return i;
}

}  // namespace

std::map<std::string, metrics::InterfaceInfo> endpointInterfaceInfos(const ControlContext& ctx,
                                                                     const std::vector<std::string>& interfaceIds) {
  std::map<std::string, metrics::InterfaceInfo> out;
  ctx.store.read([&](const store::ReadView& rv) {
    View v(rv);
    for (const std::string& id : interfaceIds)
      if (auto i = interfaceInfo(ctx, v, id)) out.emplace(id, std::move(*i));
  });
  return out;
}

std::vector<metrics::InterfaceInfo> availableEndpointInterfaces(const ControlContext& ctx) {
  std::vector<metrics::InterfaceInfo> out;
  ctx.store.read([&](const store::ReadView& rv) {
    View v(rv);
    rv.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
      auto ep = decodeShared<model::VpcEndpoint>(o);
      if (ep && ep->state == model::endpoint_state::kAvailable)
        for (const auto& eni : ep->networkInterfaceIds)
          if (auto i = interfaceInfo(ctx, v, eni.str())) out.push_back(std::move(*i));
      return true;
    });
  });
  return out;
}

std::vector<metrics::AvailableEndpoint> availableEndpoints(const ControlContext& ctx) {
  std::vector<metrics::AvailableEndpoint> out;
  ctx.store.read([&](const store::ReadView& rv) {
    rv.forEach(model::VpcEndpoint::kKind, [&](const store::Object& o) {
      auto ep = decodeShared<model::VpcEndpoint>(o);
      if (ep && ep->state == model::endpoint_state::kAvailable)
        out.push_back({ep->id.str(), ep->ownerId, ep->serviceName, static_cast<int>(ep->networkInterfaceIds.size())});
      return true;
    });
  });
  return out;
}

std::string vpcOfEndpoint(const ControlContext& ctx, const std::string& vpceId) {
  std::string vpc;
  ctx.store.read([&](const store::ReadView& rv) {
    if (auto ep = View(rv).get<model::VpcEndpoint>(vpceId)) vpc = ep->vpcId.str();
  });
  return vpc;
}

}  // namespace lp::control
