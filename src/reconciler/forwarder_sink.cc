#include "reconciler/forwarder_sink.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace lp::reconciler {

namespace {
constexpr std::chrono::seconds kCountersEvery{2};

nlohmann::json toJson(const dataplane::TrafficCounters& c) {
  return {{"bytesIn", c.bytesIn},
          {"bytesOut", c.bytesOut},
          {"connections", c.connections},
          {"active", c.active},
          {"resets", c.resets},
          {"dropped", c.dropped}};
}
}  // namespace

ForwarderSink::ForwarderSink(std::unique_ptr<dataplane::Forwarder> forwarder, std::string stateDir)
    : forwarder_(std::move(forwarder)), source_(forwarder_.get()), countersPath_(stateDir + "/dataplane-counters.json") {}

ForwarderSink::~ForwarderSink() = default;

dataplane::UpdateResult ForwarderSink::apply(const dataplane::SnapshotDelta& delta) { return forwarder_->apply(delta); }

void ForwarderSink::publishCounters() {
  auto now = std::chrono::steady_clock::now();
  if (now - lastCounters_ < kCountersEvery) return;
  lastCounters_ = now;
  uint64_t activity = source_->activity();
  if (activity == lastActivity_) return;  // nothing moved: no need to read 30,000 counters
  lastActivity_ = activity;
  auto c = source_->counters();
  if (c.endpoints == lastReport_.endpoints && c.interfaces == lastReport_.interfaces) return;
  nlohmann::json j = {{"endpoints", nlohmann::json::object()}, {"interfaces", nlohmann::json::object()}};
  for (const auto& [id, v] : c.endpoints) {
    j["endpoints"][id] = toJson(v);
    // Logged when it moved: a new endpoint with no traffic yet is not news (at
    // 10,000 endpoints a restart logged 10,000 such lines).
    auto was = lastReport_.endpoints.find(id);
    const auto& before = was == lastReport_.endpoints.end() ? decltype(v){} : was->second;
    if (!(before == v)) {
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

}  // namespace lp::reconciler
