// DataplanePlan: the data plane's snapshot for the store's view, as plain values:
// one listener per live endpoint interface and listener port of the service's
// load balancers (or port 443 to the configured backend of an AWS service), each
// with the targets it may use, and the TCP health checks of every target behind
// a load balancer listener. Pure: built from a ReadView, no I/O; any thread.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "dataplane/snapshot.h"
#include "store/store.h"

namespace lp::reconciler {

struct DataplanePlan {
  dataplane::Snapshot snapshot;
  // Endpoints that cannot be provisioned: id -> (LastError code, message).
  std::map<std::string, std::pair<std::string, std::string>> failed;
};

// The listener port of AWS-service endpoints (HTTPS, as AWS service endpoints are).
inline constexpr int kAwsServicePort = 443;

DataplanePlan planDataplane(const store::ReadView& view);

}  // namespace lp::reconciler
