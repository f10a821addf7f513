#include "control/connection_events.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "control/sns_service.h"
#include "model/sns.h"

namespace lp::control {

// Each matching, enabled notification gets one outbox row in t, so the message
// is durable exactly when the state change is (the notifier publishes it to the
// topic later). The body is documented in docs/notifications.md.
void recordConnectionEvent(Txn& t, const ControlContext& ctx, const model::VpcEndpoint& endpoint,
                           std::string_view event) {
  auto wants = [&](const model::ConnectionNotification& n) {
    return n.state == "Enabled" && std::find(n.events.begin(), n.events.end(), event) != n.events.end();
  };
  // The service's notifications and the endpoint's, in id order as one list.
  auto notifications = endpoint.serviceId.empty() ? std::vector<model::ConnectionNotification>{}
                                                  : t.listIndexed<model::ConnectionNotification>(
                                                        index::kService, endpoint.serviceId.str(), wants);
  if (!endpoint.id.empty())
    for (auto& n : t.listIndexed<model::ConnectionNotification>(index::kEndpoint, endpoint.id.str(), wants))
      if (endpoint.serviceId.empty() || n.serviceId != endpoint.serviceId) notifications.push_back(std::move(n));
  std::sort(notifications.begin(), notifications.end(),
            [](const auto& a, const auto& b) { return a.id.str() < b.id.str(); });
  if (notifications.empty()) return;
  auto service = t.get<model::ServiceConfiguration>(endpoint.serviceId);
  std::string time = iso8601Millis(ctx.clock.now());
  for (const auto& n : notifications) {
    nlohmann::ordered_json body;
    body["eventType"] = event;
    body["eventTime"] = time;
    body["connectionNotificationId"] = n.id.str();
    body["vpcEndpointId"] = endpoint.id.str();
    body["vpcEndpointOwner"] = endpoint.ownerId;
    body["vpcEndpointState"] = endpoint.state;
    body["vpcId"] = endpoint.vpcId.str();
    body["serviceId"] = endpoint.serviceId.str();
    body["serviceName"] = endpoint.serviceName;
    body["serviceOwner"] = service ? service->ownerId : std::string();
    body["region"] = ctx.regionName();
    model::SnsOutboxMessage m;
    m.topicArn = n.topicArn;
    m.subject = "VPC Endpoint Connection Notification";
    m.message = body.dump();
    m.publisher = std::string(model::kVpceServicePrincipal);
    enqueueSnsMessage(t, ctx, std::move(m));
  }
}

}  // namespace lp::control
