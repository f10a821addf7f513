// The operators' page: `GET /metrics` in Prometheus's text format on its own
// listener ([metrics] prometheus_listen, loopback by default), never on the API
// port, since it is not signed and shows every account's figures.
//
// What it shows, beside the families code counts into the process registry (API
// requests and latency, store commits, notification deliveries):
// - per endpoint interface, the data plane's figures that CloudWatch's
//   AWS/PrivateLinkEndpoints is built from, labelled by the endpoint's account,
//   endpoint, service, VPC, subnet and zone, and summed per service, load balancer
//   and zone for the provider (AWS/PrivateLinkServices); as of the metrics
//   sampler's last round, so at most [metrics] sample_seconds old;
// - the reconciler's queue, passes, resyncs and errors; DNS queries and answers
//   by RCODE; the version and uptime.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/api_service.h"
#include "daemon/metrics_sampler.h"
#include "metrics/prometheus.h"

namespace lp::dns {
class DnsServer;
}
namespace lp::reconciler {
class Reconciler;
}

namespace lp::daemon {

struct PrometheusSources {
  const MetricsSampler* sampler = nullptr;  // null: no data plane
  const reconciler::Reconciler* reconciler = nullptr;
  const dns::DnsServer* dns = nullptr;
  std::chrono::steady_clock::time_point started;
  std::string version;
};

// The collectors read the sources at every scrape: remove them (after the
// listener has stopped) before any source goes away.
void addDaemonCollectors(metrics::prom::Registry& registry, PrometheusSources sources);
void removeDaemonCollectors(metrics::prom::Registry& registry);

// The endpoint and service families for these figures (pure; tested alone).
void writeInterfaceFigures(metrics::prom::Exposition& out, const std::vector<InterfaceFigures>& figures);

// GET /metrics; anything else is 404 (or 405 for another method on /metrics).
api::HttpResponse prometheusResponse(const metrics::prom::Registry& registry, const api::HttpRequest& request);

}  // namespace lp::daemon
