#include "metrics/series_store.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/log.h"

namespace lp::metrics {

namespace {

using std::chrono::duration_cast;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kEndpointType = "Endpoint Type";
constexpr std::string_view kServiceName = "Service Name";
constexpr std::string_view kVpcEndpointId = "VPC Endpoint Id";
constexpr std::string_view kVpcId = "VPC Id";
constexpr std::string_view kSubnetId = "Subnet Id";
constexpr std::string_view kServiceId = "Service Id";
constexpr std::string_view kLoadBalancerArn = "Load Balancer Arn";
constexpr std::string_view kAz = "Az";

// Which counter of a minute a metric reads.
enum class Field { kBytes, kNewConnections, kResets, kActive, kDropped };

struct MetricDef {
  std::string_view name;
  std::string_view unit;
  Field field;
};

// Only the metrics the data plane measures. EndpointsCount is an AWS metric too,
// but nothing here counts it yet, so it is not listed (rather than shown as a
// made-up zero). PacketsDropped: what the endpoint interface's security groups
// refuse, and on the kernel fast path the bandwidth cap's and the connection
// limit's drops (reconciler/fastpath_sink.h).
constexpr std::array<MetricDef, 5> kEndpointMetrics{{
    {"ActiveConnections", "Count", Field::kActive},
    {"BytesProcessed", "Bytes", Field::kBytes},
    {"NewConnections", "Count", Field::kNewConnections},
    {"PacketsDropped", "Count", Field::kDropped},
    {"RstPacketsReceived", "Count", Field::kResets},
}};
constexpr std::array<MetricDef, 4> kServiceMetrics{{
    {"ActiveConnections", "Count", Field::kActive},
    {"BytesProcessed", "Bytes", Field::kBytes},
    {"NewConnections", "Count", Field::kNewConnections},
    {"RstPacketsSent", "Count", Field::kResets},
}};

bool isEndpoints(std::string_view ns) { return ns == kEndpointsNamespace; }

const MetricDef* findMetric(std::string_view ns, std::string_view name) {
  auto find = [&](const auto& defs) -> const MetricDef* {
    for (const auto& d : defs)
      if (d.name == name) return &d;
    return nullptr;
  };
  if (ns == kEndpointsNamespace) return find(kEndpointMetrics);
  if (ns == kServicesNamespace) return find(kServiceMetrics);
  return nullptr;
}

Dimensions sorted(Dimensions d) {
  std::sort(d.begin(), d.end());
  return d;
}

// The dimension sets AWS publishes, filled with one interface's values. Sets that
// need a load balancer are left out for AWS services (they have none).
std::vector<Dimensions> dimensionSets(std::string_view ns, const InterfaceInfo& i) {
  std::vector<Dimensions> out;
  auto s = [](std::string_view v) { return std::string(v); };
  if (isEndpoints(ns)) {
    Dimensions base{{s(kEndpointType), i.endpointType},
                    {s(kServiceName), i.serviceName},
                    {s(kVpcEndpointId), i.endpointId},
                    {s(kVpcId), i.vpcId}};
    out.push_back(sorted(base));
    base.emplace_back(s(kSubnetId), i.subnetId);
    out.push_back(sorted(base));
  } else {
    out.push_back({{s(kServiceId), i.serviceId}});
    if (!i.loadBalancerArn.empty()) {
      out.push_back(sorted({{s(kServiceId), i.serviceId}, {s(kLoadBalancerArn), i.loadBalancerArn}}));
      out.push_back(
          sorted({{s(kServiceId), i.serviceId}, {s(kLoadBalancerArn), i.loadBalancerArn}, {s(kAz), i.az}}));
    }
    out.push_back(sorted({{s(kServiceId), i.serviceId}, {s(kVpcEndpointId), i.endpointId}}));
  }
  return out;
}

bool visibleTo(std::string_view ns, const InterfaceInfo& i, const std::string& account) {
  return isEndpoints(ns) ? i.consumerAccount == account : i.providerAccount == account;
}

uint64_t valueOf(const MinutePoint& p, Field f) {
  switch (f) {
    case Field::kBytes:
      return p.bytes;
    case Field::kNewConnections:
      return p.newConnections;
    case Field::kResets:
      return p.resets;
    case Field::kActive:
      return p.activeMax;
    case Field::kDropped:
      return p.dropped;
  }
  return 0;
}

int64_t minuteOf(WallTime t) { return duration_cast<minutes>(t.time_since_epoch()).count(); }

// Counters that went backwards were reset (a new data plane): all of it is new.
uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

nlohmann::json infoJson(const InterfaceInfo& i) {
  return {{"i", i.interfaceId},       {"e", i.endpointId},       {"t", i.endpointType},
          {"v", i.vpcId},             {"s", i.subnetId},         {"sn", i.serviceName},
          {"si", i.serviceId},        {"lb", i.loadBalancerArn}, {"az", i.az},
          {"ca", i.consumerAccount},  {"pa", i.providerAccount}};
}

InterfaceInfo infoFrom(const nlohmann::json& j) {
  InterfaceInfo i;
  i.interfaceId = j.value("i", "");
  i.endpointId = j.value("e", "");
  i.endpointType = j.value("t", "Interface");
  i.vpcId = j.value("v", "");
  i.subnetId = j.value("s", "");
  i.serviceName = j.value("sn", "");
  i.serviceId = j.value("si", "");
  i.loadBalancerArn = j.value("lb", "");
  i.az = j.value("az", "");
  i.consumerAccount = j.value("ca", "");
  i.providerAccount = j.value("pa", "");
  return i;
}

}  // namespace

std::string_view unitOf(std::string_view ns, std::string_view metric) {
  const MetricDef* d = findMetric(ns, metric);
  return d ? d->unit : std::string_view{};
}

SeriesStore::SeriesStore(const Clock& clock, SeriesStoreOptions options)
    : clock_(clock), options_(std::move(options)), flushedThrough_(minuteOf(clock.now())) {}

SeriesStore::~SeriesStore() = default;

Status SeriesStore::load() {
  std::lock_guard lock(mu_);
  const int64_t now = minuteOf(clock_.now());
  flushedThrough_ = now;
  if (options_.path.empty()) return Status::Ok();
  {
    std::ifstream in(options_.path);
    std::string line;
    size_t bad = 0;
    while (in && std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object() || !j.contains("i") || !j["i"].is_string()) {
        ++bad;  // a line cut short by a crash
        continue;
      }
      Series& s = series_[j["i"].get<std::string>()];
      if (j.contains("m")) {
        if (!j["m"].is_number_integer()) {
          ++bad;
          continue;
        }
        MinutePoint p{j.value("b", uint64_t{0}), j.value("n", uint64_t{0}), j.value("r", uint64_t{0}),
                      j.value("a", uint64_t{0}), j.value("d", uint64_t{0})};
        s.minutes[j["m"].get<int64_t>()] = p;
      } else {
        s.info = infoFrom(j);
      }
    }
    if (bad) LP_LOG_WARN("metrics: skipped {} unreadable lines of {}", bad, options_.path);
  }
  // Series whose info line was lost cannot be attributed to anyone: drop them.
  std::erase_if(series_, [](const auto& kv) { return kv.second.info.interfaceId.empty(); });
  for (const auto& [id, s] : series_)
    for (const auto& [m, p] : s.minutes) {
      ++perMinute_[m];
      ++points_;
    }
  evictLocked(now);
  rewriteLocked();
  return Status::Ok();
}

void SeriesStore::record(const InterfaceInfo& info, const CumulativeCounters& c) {
  std::lock_guard lock(mu_);
  const int64_t minute = minuteOf(clock_.now());
  Series& s = series_[info.interfaceId];
  if (!(s.info == info)) {
    s.info = info;
    s.infoWritten = false;
  }
  CumulativeCounters before = s.last.value_or(CumulativeCounters{});
  s.last = c;
  MinutePoint d{delta(c.bytes, before.bytes), delta(c.connections, before.connections),
                delta(c.resets, before.resets), c.active, delta(c.dropped, before.dropped)};
  if (d.bytes == 0 && d.newConnections == 0 && d.resets == 0 && d.activeMax == 0 && d.dropped == 0) return;
  auto [it, made] = s.minutes.try_emplace(minute);
  if (made) {
    ++perMinute_[minute];
    ++points_;
  }
  MinutePoint& p = it->second;
  p.bytes += d.bytes;
  p.newConnections += d.newConnections;
  p.resets += d.resets;
  p.activeMax = std::max(p.activeMax, d.activeMax);
  p.dropped += d.dropped;
}

void SeriesStore::flush(bool openMinute) {
  std::lock_guard lock(mu_);
  const int64_t now = minuteOf(clock_.now());
  if (now <= flushedThrough_ && !openMinute) return;
  const int64_t through = openMinute ? now + 1 : now;  // exclusive
  if (file_.is_open()) {
    for (auto& [id, s] : series_) {
      auto it = s.minutes.lower_bound(flushedThrough_);
      if (it == s.minutes.end() || it->first >= through) continue;
      if (!s.infoWritten) {
        appendLocked(infoJson(s.info).dump());
        s.infoWritten = true;
      }
      for (; it != s.minutes.end() && it->first < through; ++it) {
        const MinutePoint& p = it->second;
        appendLocked(nlohmann::json{{"i", id},
                                    {"m", it->first},
                                    {"b", p.bytes},
                                    {"n", p.newConnections},
                                    {"r", p.resets},
                                    {"a", p.activeMax},
                                    {"d", p.dropped}}
                         .dump());
      }
    }
    file_.flush();
  }
  flushedThrough_ = now;
  evictLocked(now);
  // The file holds every closed minute ever appended; rewrite it once it is
  // mostly points already evicted.
  if (file_.is_open() && linesOnFile_ > 2 * points_ + 1000) rewriteLocked();
}

void SeriesStore::appendLocked(const std::string& line) {
  file_ << line << '\n';
  ++linesOnFile_;
}

void SeriesStore::evictLocked(int64_t nowMinute) {
  const int64_t cutoff = nowMinute - duration_cast<minutes>(options_.retention).count();
  while (!perMinute_.empty() && (perMinute_.begin()->first < cutoff || points_ > options_.maxPoints)) {
    const int64_t oldest = perMinute_.begin()->first;
    for (auto& [id, s] : series_) points_ -= s.minutes.erase(oldest);
    perMinute_.erase(perMinute_.begin());
  }
  // Series with no points left and not sampled in this process are gone.
  std::erase_if(series_, [](const auto& kv) { return kv.second.minutes.empty() && !kv.second.last; });
}

void SeriesStore::rewriteLocked() {
  if (options_.path.empty()) return;
  file_.close();
  const std::string tmp = options_.path + ".tmp";
  size_t lines = 0;
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto& [id, s] : series_) {
      if (s.minutes.empty()) {
        s.infoWritten = false;
        continue;
      }
      out << infoJson(s.info).dump() << '\n';
      s.infoWritten = true;
      ++lines;
      for (const auto& [m, p] : s.minutes) {
        if (m >= flushedThrough_) break;  // the open minute is written when it closes
        out << nlohmann::json{{"i", id}, {"m", m}, {"b", p.bytes}, {"n", p.newConnections}, {"r", p.resets},
                              {"a", p.activeMax}, {"d", p.dropped}}
                   .dump()
            << '\n';
        ++lines;
      }
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.path, ec);
  if (ec) LP_LOG_WARN("metrics: cannot replace {}: {}", options_.path, ec.message());
  linesOnFile_ = lines;
  file_.open(options_.path, std::ios::app);
  if (!file_) LP_LOG_WARN("metrics: cannot append to {}; figures will not survive a restart", options_.path);
}

std::vector<MetricId> SeriesStore::list(const std::string& account, const MetricFilter& filter) const {
  std::set<MetricId> found;
  std::lock_guard lock(mu_);
  for (std::string_view ns : {kEndpointsNamespace, kServicesNamespace}) {
    if (!filter.ns.empty() && filter.ns != ns) continue;
    for (const auto& [id, s] : series_) {
      if (s.minutes.empty() || !visibleTo(ns, s.info, account)) continue;
      for (const Dimensions& dims : dimensionSets(ns, s.info)) {
        bool match = std::all_of(filter.dimensions.begin(), filter.dimensions.end(), [&](const auto& f) {
          return std::any_of(dims.begin(), dims.end(), [&](const auto& d) {
            return d.first == f.first && (!f.second || d.second == *f.second);
          });
        });
        if (!match) continue;
        auto add = [&](const auto& defs) {
          for (const auto& m : defs)
            if (filter.name.empty() || filter.name == m.name)
              found.insert(MetricId{std::string(ns), std::string(m.name), dims});
        };
        if (isEndpoints(ns))
          add(kEndpointMetrics);
        else
          add(kServiceMetrics);
      }
    }
  }
  return {found.begin(), found.end()};
}

std::vector<const SeriesStore::Series*> SeriesStore::matchLocked(const std::string& account,
                                                                   const MetricId& metric) const {
  std::vector<const Series*> out;
  Dimensions want = sorted(metric.dimensions);
  for (const auto& [id, s] : series_) {
    if (!visibleTo(metric.ns, s.info, account)) continue;
    for (const Dimensions& dims : dimensionSets(metric.ns, s.info))
      if (dims == want) {
        out.push_back(&s);
        break;
      }
  }
  return out;
}

Result<std::vector<Datapoint>> SeriesStore::statistics(const std::string& account, const MetricId& metric,
                                                        WallTime start, WallTime end, seconds period) const {
  if (metric.ns != kEndpointsNamespace && metric.ns != kServicesNamespace)
    return Status("InvalidParameterValue", "The namespace " + metric.ns + " is not one linkplane publishes.");
  const MetricDef* def = findMetric(metric.ns, metric.name);
  if (!def && metric.name != "PacketsDropped" && metric.name != "EndpointsCount")
    return Status("InvalidParameterValue", "The metric " + metric.name + " does not exist in " + metric.ns + ".");
  if (period.count() <= 0 || period.count() % 60 != 0)
    return Status("InvalidParameterValue", "The parameter Period must be a multiple of 60.");
  if (start >= end)
    return Status("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.");
  const auto span = duration_cast<seconds>(end - start);
  const int64_t buckets = (span.count() + period.count() - 1) / period.count();
  if (buckets > 1440)
    return Status("InvalidParameterCombination",
                  "You have requested up to " + std::to_string(buckets) +
                      " datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by "
                      "increasing Period, or decreasing the time range.");
  if (!def) return std::vector<Datapoint>{};  // an AWS metric nothing here measures: no data

  std::lock_guard lock(mu_);
  // A minute counts when it starts inside [start, end).
  const int64_t first = (duration_cast<seconds>(start.time_since_epoch()).count() + 59) / 60;
  const int64_t last = (duration_cast<seconds>(end.time_since_epoch()).count() + 59) / 60;  // exclusive
  std::map<int64_t, double> perMinute;  // summed over the matching interfaces
  for (const Series* s : matchLocked(account, metric))
    for (auto it = s->minutes.lower_bound(first); it != s->minutes.end() && it->first < last; ++it)
      perMinute[it->first] += static_cast<double>(valueOf(it->second, def->field));

  std::map<int64_t, Datapoint> byBucket;
  const int64_t startSec = duration_cast<seconds>(start.time_since_epoch()).count();
  for (const auto& [m, v] : perMinute) {
    const int64_t b = (m * 60 - startSec) / period.count();
    auto [it, made] = byBucket.try_emplace(b);
    Datapoint& d = it->second;
    if (made) {
      d.timestamp = start + seconds(b * period.count());
      d.minimum = d.maximum = v;
    }
    d.sampleCount += 1;
    d.sum += v;
    d.minimum = std::min(d.minimum, v);
    d.maximum = std::max(d.maximum, v);
  }
  std::vector<Datapoint> out;
  for (auto& [b, d] : byBucket) out.push_back(d);
  return out;
}

size_t SeriesStore::pointCount() const {
  std::lock_guard lock(mu_);
  return points_;
}

}  // namespace lp::metrics
