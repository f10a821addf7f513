#include "reconciler/dataplane_provisioner.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "reconciler/dataplane_plan.h"
#include "reconciler/net_host_provisioner.h"

namespace lp::reconciler {

namespace {
constexpr std::chrono::seconds kCountersEvery{2};

nlohmann::json toJson(const dataplane::TrafficCounters& c) {
  return {{"bytesIn", c.bytesIn},
          {"bytesOut", c.bytesOut},
          {"connections", c.connections},
          {"active", c.active},
          {"resets", c.resets}};
}
}  // namespace

DataplaneProvisioner::DataplaneProvisioner(std::unique_ptr<HostProvisioner> inner,
                                           std::unique_ptr<dataplane::Forwarder> forwarder, std::string stateDir)
    : inner_(std::move(inner)),
      forwarder_(std::move(forwarder)),
      countersPath_(stateDir + "/dataplane-counters.json") {}

DataplaneProvisioner::~DataplaneProvisioner() = default;

ProvisionReport DataplaneProvisioner::apply(const store::ReadView& view) {
  DataplanePlan plan = planDataplane(view);
  // Twice: first so that connections of endpoints going away are reset while their
  // addresses still exist (an RST needs its source address), then, once the host
  // network has the new addresses, to listen on them.
  (void)forwarder_->update(plan.snapshot);
  ProvisionReport r = inner_->apply(view);
  dataplane::UpdateResult u = forwarder_->update(plan.snapshot);
  for (const auto& [id, why] : plan.failed) {
    r.endpointsReady.erase(id);
    r.endpointsFailed[id] = why;
  }
  for (const auto& [id, why] : u.listenerErrors) {
    auto it = r.endpointsReady.find(id);
    if (it != r.endpointsReady.end() && it->second) {
      LP_LOG_WARN("dataplane: endpoint {} not ready: {}", id, why);
      it->second = false;
    }
  }
  r.reportsTargetHealth = true;
  for (const auto& [key, h] : forwarder_->health()) {
    if (h.state == dataplane::Health::kHealthy) {
      r.targetHealth[key] = {"healthy", "", ""};
    } else if (h.state == dataplane::Health::kUnhealthy) {
      r.targetHealth[key] = {"unhealthy", h.reason, h.description};
    }
  }
  publishCounters();
  return r;
}

void DataplaneProvisioner::publishCounters() {
  auto now = std::chrono::steady_clock::now();
  if (now - lastCounters_ < kCountersEvery) return;
  lastCounters_ = now;
  auto c = forwarder_->counters();
  if (c.endpoints == lastReport_.endpoints && c.interfaces == lastReport_.interfaces) return;
  nlohmann::json j = {{"endpoints", nlohmann::json::object()}, {"interfaces", nlohmann::json::object()}};
  for (const auto& [id, v] : c.endpoints) {
    j["endpoints"][id] = toJson(v);
    auto was = lastReport_.endpoints.find(id);
    if (was == lastReport_.endpoints.end() || !(was->second == v)) {
      LP_LOG_INFO("dataplane: endpoint {}: {} connections ({} active, {} reset), {} bytes in, {} bytes out", id,
                  v.connections, v.active, v.resets, v.bytesIn, v.bytesOut);
    }
  }
  for (const auto& [id, v] : c.interfaces) j["interfaces"][id] = toJson(v);
  std::string tmp = countersPath_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, countersPath_, ec);
  lastReport_ = std::move(c);
}

void DataplaneProvisioner::teardown() {
  forwarder_->stop();
  inner_->teardown();
}

Result<std::unique_ptr<HostProvisioner>> makeDataplaneProvisioner(const std::string& stateDir,
                                                                  const dataplane::ForwarderOptions& options) {
  LP_ASSIGN_OR_RETURN(auto fwd, dataplane::Forwarder::start(options));
  return std::unique_ptr<HostProvisioner>(
      new DataplaneProvisioner(std::make_unique<NetHostProvisioner>(stateDir), std::move(fwd), stateDir));
}

}  // namespace lp::reconciler
