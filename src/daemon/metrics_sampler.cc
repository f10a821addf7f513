#include "daemon/metrics_sampler.h"

#include <sys/prctl.h>

#include <thread>
#include <vector>

#include "control/metrics_attribution.h"

namespace lp::daemon {

MetricsSampler::MetricsSampler(const control::ControlContext& ctx, dataplane::CounterSource& forwarder,
                               metrics::SeriesStore& series, metrics::UsageLedger& usage,
                               std::chrono::milliseconds every)
    : ctx_(ctx), forwarder_(forwarder), series_(series), usage_(usage), every_(every) {}

MetricsSampler::~MetricsSampler() { stop(); }

void MetricsSampler::start() {
  loop_ = std::make_unique<BackgroundLoop>(BackgroundLoop::Hooks{
      [this, named = false]() mutable {
        // Named so top, perf and bench/dataplane/metrics_cost.py can tell its CPU from the forwarding loops'.
        if (!named) named = prctl(PR_SET_NAME, "linkplane-stats") == 0;
        sampleOnce();
        return every_;
      },
      [](std::chrono::milliseconds timeout) {
        std::this_thread::sleep_for(timeout);
        return false;
      }});
  loop_->start();
}

void MetricsSampler::stop() {
  if (!loop_) return;
  loop_->stop();
  loop_.reset();
  sampleOnce();  // what moved since the last round
  series_.flush(/*openMinute=*/true);
  usage_.flush(/*openHour=*/true);
}

std::shared_ptr<const std::vector<InterfaceFigures>> MetricsSampler::latest() const {
  std::lock_guard lock(latestMu_);
  return latest_;
}

void MetricsSampler::sampleOnce() {
  uint64_t activity = forwarder_.activity();
  bool anyOpen = false;
  for (const auto& [id, c] : last_.interfaces) anyOpen |= c.active > 0;
  if (activity != lastActivity_ || anyOpen) {
    lastActivity_ = activity;
    dataplane::CountersReport now = forwarder_.counters();
    std::vector<std::string> unknown;
    for (const auto& [id, c] : now.interfaces)
      if (!infos_.count(id)) unknown.push_back(id);
    if (!unknown.empty())
      for (auto& [id, info] : control::endpointInterfaceInfos(ctx_, unknown)) infos_[id] = std::move(info);
    for (const auto& [id, c] : now.interfaces) {
      auto was = last_.interfaces.find(id);
      if (was != last_.interfaces.end() && was->second == c && c.active == 0) continue;  // nothing to add
      auto info = infos_.find(id);
      if (info == infos_.end()) continue;  // not (or no longer) an endpoint interface in the store
      series_.record(info->second, {c.bytesIn + c.bytesOut, c.connections, c.resets, c.active, c.dropped});
      uint64_t before = was == last_.interfaces.end() ? 0 : was->second.bytesIn + was->second.bytesOut;
      uint64_t now = c.bytesIn + c.bytesOut;
      usage_.addBytes(info->second.endpointId, info->second.consumerAccount, info->second.serviceName,
                      now >= before ? now - before : now);
    }
    std::erase_if(infos_, [&](const auto& kv) { return !now.interfaces.count(kv.first); });
    auto figures = std::make_shared<std::vector<InterfaceFigures>>();
    figures->reserve(now.interfaces.size());
    for (const auto& [id, c] : now.interfaces) {
      auto info = infos_.find(id);
      if (info != infos_.end())
        figures->push_back({info->second, {c.bytesIn + c.bytesOut, c.connections, c.resets, c.active, c.dropped}});
    }
    {
      std::lock_guard lock(latestMu_);
      latest_ = std::move(figures);
    }
    last_ = std::move(now);
  }
  // EndpointsCount: every minute an endpoint is available, whether or not it moved traffic.
  bool listed = false;
  if (uint64_t rev = ctx_.store.revision(); rev != availableRev_) {
    availableRev_ = rev;  // read before the lists: a write in between only makes the next round read again
    availableInterfaces_ = control::availableEndpointInterfaces(ctx_);
    availableEndpoints_ = control::availableEndpoints(ctx_);
    listed = true;
  }
  // Once a minute and when the list changed, not every round: marking 20,000
  // interfaces each round was a third of an idle daemon's time at 10,000
  // endpoints (perf, bench/scale).
  if (int64_t minute = series_.minuteNow(); listed || minute != markedMinute_) {
    markedMinute_ = minute;
    for (const auto& info : availableInterfaces_) series_.markConnected(info);
  }
  series_.flush();
  usage_.observe(availableEndpoints_);
  usage_.flush();
}

}  // namespace lp::daemon
