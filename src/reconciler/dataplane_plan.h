// DataplanePlan: the data plane's snapshot for the store's view, as plain values:
// one listener per live endpoint interface and listener port of the service's
// load balancers (or port 443 to the configured backend of an AWS service), each
// with the targets it may use, and the TCP health checks of every target behind
// a load balancer listener. Pure, no I/O; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/snapshot.h"
#include "reconciler/desired_state.h"
#include "store/store.h"

namespace lp::reconciler {

struct DataplanePlan {
  dataplane::Snapshot snapshot;
  // Endpoints that cannot be provisioned: id -> (LastError code, message).
  std::map<std::string, std::pair<std::string, std::string>> failed;
};

// The listener port of AWS-service endpoints (HTTPS, as AWS service endpoints are).
inline constexpr int kAwsServicePort = 443;

// The whole store view at once (tests; the per-key plans below add up to it).
DataplanePlan planDataplane(const store::ReadView& view);

// One endpoint's listeners (none unless pending or available), or why it cannot
// forward at all.
struct EndpointDataplane {
  std::vector<dataplane::ListenerSpec> listeners;
  std::optional<std::pair<std::string, std::string>> failed;  // LastError code, message
};
EndpointDataplane planEndpointDataplane(const DesiredState& state, const std::string& endpointId);
// The health checks of one target group (none unless a load balancer listener
// forwards to it).
std::vector<dataplane::HealthCheckSpec> planHealthChecks(const DesiredState& state, const std::string& tgArn);

}  // namespace lp::reconciler
