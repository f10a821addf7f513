#include "daemon/metrics_sampler.h"

#include <sys/prctl.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "control/metrics_attribution.h"

namespace lp::daemon {

MetricsSampler::MetricsSampler(const control::ControlContext& ctx, dataplane::CounterSource& forwarder,
                               metrics::SeriesStore& series, metrics::UsageLedger& usage,
                               std::chrono::milliseconds every)
    : ctx_(ctx), forwarder_(forwarder), series_(series), usage_(usage), every_(every), marksBefore_(usage.marks()) {}

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

// Cumulative figures that went back were counted anew (a link made again).
uint64_t MetricsSampler::bytesSince(uint64_t before, uint64_t now) { return now >= before ? now - before : now; }

// An interface's bytes the first time this process reads it: the forwarder's part
// is all new (it counts from zero with the process); the kernel's part goes on
// from what a run killed before it counted, whose ledger already holds the bytes
// up to its mark (kept in the ledger's checkpoint with them). A kernel count
// below its mark was made anew (a clean stop took it away): all new.
uint64_t MetricsSampler::firstBytes(const std::string& id, uint64_t total, uint64_t kept) {
  uint64_t mark = 0;
  if (auto it = marksBefore_.find(id); it != marksBefore_.end()) {
    mark = it->second;
    marksBefore_.erase(it);
  }
  return (total - kept) + bytesSince(mark, kept);
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
      auto keptIt = now.kept.find(id);
      const dataplane::TrafficCounters k = keptIt == now.kept.end() ? dataplane::TrafficCounters{} : keptIt->second;
      series_.record(info->second, {c.bytesIn + c.bytesOut, c.connections, c.resets, c.active, c.dropped},
                     {k.bytesIn + k.bytesOut, k.connections, k.resets, k.active, k.dropped});
      uint64_t total = c.bytesIn + c.bytesOut;
      uint64_t kept = std::min(k.bytesIn + k.bytesOut, total);
      usage_.addBytes(info->second.endpointId, info->second.consumerAccount, info->second.serviceName,
                      was == last_.interfaces.end() ? firstBytes(id, total, kept)
                                                    : bytesSince(was->second.bytesIn + was->second.bytesOut, total));
      marks_[id] = kept;
    }
    std::erase_if(infos_, [&](const auto& kv) { return !now.interfaces.count(kv.first); });
    std::erase_if(marks_, [&](const auto& kv) { return !now.interfaces.count(kv.first); });
    std::map<std::string, uint64_t> marks = marksBefore_;  // those not read again yet stay
    for (const auto& [id, kept] : marks_)
      if (kept) marks[id] = kept;
    usage_.setMarks(std::move(marks));
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
