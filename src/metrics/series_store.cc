#include "metrics/series_store.h"

#include <algorithm>
#include <array>
#include <bit>
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

// Which counter of a minute a metric reads (the first five in MinutePoint's and
// RollupPoint::fields' order); kEndpoints: distinct endpoints connected.
enum class Field { kBytes, kNewConnections, kResets, kActive, kDropped, kEndpoints };

struct MetricDef {
  std::string_view name;
  std::string_view unit;
  Field field;
};

// PacketsDropped: what the endpoint interface's security groups refuse, and on
// the kernel fast path the bandwidth cap's and the connection limit's drops
// (reconciler/fastpath_sink.h).
constexpr std::array<MetricDef, 5> kEndpointMetrics{{
    {"ActiveConnections", "Count", Field::kActive},
    {"BytesProcessed", "Bytes", Field::kBytes},
    {"NewConnections", "Count", Field::kNewConnections},
    {"PacketsDropped", "Count", Field::kDropped},
    {"RstPacketsReceived", "Count", Field::kResets},
}};
constexpr std::array<MetricDef, 5> kServiceMetrics{{
    {"ActiveConnections", "Count", Field::kActive},
    {"BytesProcessed", "Bytes", Field::kBytes},
    {"EndpointsCount", "Count", Field::kEndpoints},
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
    case Field::kEndpoints:
      return p.connected;
  }
  return 0;
}

// Minutes per point of each tier, and the tier's index.
constexpr std::array<int64_t, 3> kTierMinutes{1, 5, 60};
int tierIndex(int tierMinutes) { return tierMinutes == 60 ? 2 : tierMinutes == 5 ? 1 : 0; }

// Floor division (minutes before 1970 do not occur, but a bad file could hold them).
int64_t slotOf(int64_t minute, int64_t per) { return minute >= 0 ? minute / per : -((-minute + per - 1) / per); }

nlohmann::json minuteJson(const std::string& id, int64_t m, const MinutePoint& p) {
  nlohmann::json j{{"i", id}, {"m", m}, {"b", p.bytes}, {"n", p.newConnections}, {"r", p.resets}, {"a", p.activeMax}};
  if (p.dropped) j["d"] = p.dropped;
  if (p.connected) j["c"] = 1;
  return j;
}

// The kept part of an interface's counters as the minutes on file counted it.
nlohmann::json markJson(const std::string& id, const CumulativeCounters& k) {
  return {{"i", id}, {"k", {k.bytes, k.connections, k.resets, k.dropped}}};
}

bool sameKept(const CumulativeCounters& a, const CumulativeCounters& b) {
  return a.bytes == b.bytes && a.connections == b.connections && a.resets == b.resets && a.dropped == b.dropped;
}

nlohmann::json rollupJson(const std::string& id, int64_t perMinutes, int64_t slot, const RollupPoint& p) {
  nlohmann::json f = nlohmann::json::array();
  for (const FieldRollup& r : p.fields) f.push_back({r.sum, r.minimum, r.maximum});
  return {{"i", id}, {"p", perMinutes}, {"t", slot}, {"tm", p.trafficMask}, {"cm", p.connectedMask}, {"f", f}};
}

std::optional<RollupPoint> rollupFrom(const nlohmann::json& j) {
  RollupPoint p;
  if (!j.contains("tm") || !j["tm"].is_number_unsigned() || !j.contains("cm") || !j["cm"].is_number_unsigned() ||
      !j.contains("f") || !j["f"].is_array() || j["f"].size() < 4 || j["f"].size() > p.fields.size())
    return std::nullopt;  // 4: written before PacketsDropped was counted
  p.trafficMask = j["tm"].get<uint64_t>();
  p.connectedMask = j["cm"].get<uint64_t>();
  for (size_t k = 0; k < j["f"].size(); ++k) {
    const auto& f = j["f"][k];
    if (!f.is_array() || f.size() != 3 || !f[0].is_number_unsigned() || !f[1].is_number_unsigned() ||
        !f[2].is_number_unsigned())
      return std::nullopt;
    p.fields[k] = {f[0].get<uint64_t>(), f[1].get<uint64_t>(), f[2].get<uint64_t>()};
  }
  return p;
}

// Minute index k (0 .. 59) of a rollup slot, closed with point p.
void addToRollup(RollupPoint& rp, int64_t k, const MinutePoint& p) {
  const uint64_t bit = uint64_t{1} << k;
  if (p.connected) rp.connectedMask |= bit;
  if (!p.hasTraffic() || (rp.trafficMask & bit)) return;
  for (size_t f = 0; f < rp.fields.size(); ++f) {
    const uint64_t v = valueOf(p, static_cast<Field>(f));
    FieldRollup& r = rp.fields[f];
    r.minimum = rp.trafficMask ? std::min(r.minimum, v) : v;
    r.maximum = rp.trafficMask ? std::max(r.maximum, v) : v;
    r.sum += v;
  }
  rp.trafficMask |= bit;
}

// Statistics of the values that fall in one period.
struct Bucket {
  double count = 0, sum = 0, minimum = 0, maximum = 0;
  void add(double n, double s, double mn, double mx) {
    if (n <= 0) return;
    minimum = count == 0 ? mn : std::min(minimum, mn);
    maximum = count == 0 ? mx : std::max(maximum, mx);
    count += n;
    sum += s;
  }
};

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
  // Rollup slots read from their own line; the others are rebuilt from the minutes.
  std::map<std::string, std::array<std::set<int64_t>, kRollups>> loadedSlots;
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
      const std::string id = j["i"].get<std::string>();
      if (j.contains("k")) {
        const auto& k = j["k"];
        if (!k.is_array() || k.size() != 4 ||
            !std::all_of(k.begin(), k.end(), [](const auto& v) { return v.is_number_unsigned(); })) {
          ++bad;
          continue;
        }
        series_[id].mark = CumulativeCounters{k[0].get<uint64_t>(), k[1].get<uint64_t>(), k[2].get<uint64_t>(), 0,
                                              k[3].get<uint64_t>()};
      } else if (j.contains("m")) {
        if (!j["m"].is_number_integer()) {
          ++bad;
          continue;
        }
        MinutePoint p{j.value("b", uint64_t{0}), j.value("n", uint64_t{0}), j.value("r", uint64_t{0}),
                      j.value("a", uint64_t{0}), j.value("d", uint64_t{0}), j.value("c", 0) == 1};
        series_[id].minutes[j["m"].get<int64_t>()] = p;
      } else if (j.contains("p")) {
        auto point = rollupFrom(j);
        int64_t per = j["p"].is_number_integer() ? j["p"].get<int64_t>() : 0;
        if (!point || (per != 5 && per != 60) || !j.contains("t") || !j["t"].is_number_integer()) {
          ++bad;
          continue;
        }
        int r = tierIndex(static_cast<int>(per)) - 1;
        int64_t slot = j["t"].get<int64_t>();
        series_[id].rollups[r][slot] = *point;
        loadedSlots[id][r].insert(slot);
      } else {
        series_[id].info = infoFrom(j);
      }
    }
    if (bad) LP_LOG_WARN("metrics: skipped {} unreadable lines of {}", bad, options_.path);
  }
  // Series whose info line was lost cannot be attributed to anyone: drop them.
  std::erase_if(series_, [](const auto& kv) { return kv.second.info.interfaceId.empty(); });
  for (auto& [id, s] : series_) {
    if (s.mark) s.keptLast = *s.mark;  // record() takes the minute's start from it
    // Slots open at the last stop (or whose line a crash cut) are rebuilt from
    // their closed minutes; the minute under way is rolled up when it closes.
    auto& loaded = loadedSlots[id];
    for (const auto& [m, p] : s.minutes) {
      if (m >= now) break;
      for (int r = 0; r < kRollups; ++r) {
        const int64_t per = kTierMinutes[r + 1], slot = slotOf(m, per);
        if (!loaded[r].count(slot)) addToRollup(s.rollups[r][slot], m - slot * per, p);
      }
    }
    for (const auto& [m, p] : s.minutes) {
      ++perSlot_[0][m];
      ++tierPoints_[0];
    }
    for (int r = 0; r < kRollups; ++r)
      for (const auto& [slot, p] : s.rollups[r]) {
        ++perSlot_[r + 1][slot];
        ++tierPoints_[r + 1];
      }
  }
  evictLocked(now);
  rewriteLocked();
  return Status::Ok();
}

MinutePoint& SeriesStore::minuteLocked(Series& s, int64_t minute) {
  auto [it, made] = s.minutes.try_emplace(minute);
  if (made) {
    ++perSlot_[0][minute];
    ++tierPoints_[0];
  }
  return it->second;
}

void SeriesStore::record(const InterfaceInfo& info, const CumulativeCounters& c, const CumulativeCounters& kept) {
  std::lock_guard lock(mu_);
  const int64_t minute = minuteOf(clock_.now());
  Series& s = series_[info.interfaceId];
  if (!(s.info == info)) {
    s.info = info;
    s.infoWritten = false;
  }
  MinutePoint d;
  if (s.last) {
    const CumulativeCounters& before = *s.last;
    d = {delta(c.bytes, before.bytes), delta(c.connections, before.connections), delta(c.resets, before.resets),
         c.active, delta(c.dropped, before.dropped)};
  } else {  // the first sample in this process: the forwarder's part new, the kernel's past its mark
    const CumulativeCounters mark = s.mark.value_or(CumulativeCounters{});
    auto first = [](uint64_t total, uint64_t k, uint64_t m) {
      k = std::min(k, total);
      return (total - k) + delta(k, m);
    };
    d = {first(c.bytes, kept.bytes, mark.bytes), first(c.connections, kept.connections, mark.connections),
         first(c.resets, kept.resets, mark.resets), c.active, first(c.dropped, kept.dropped, mark.dropped)};
  }
  s.last = c;
  if (minute != s.lastMinute) {
    s.keptBeforeMinute = s.keptLast;
    s.lastMinute = minute;
  }
  s.keptLast = kept;
  if (!d.hasTraffic()) return;
  MinutePoint& p = minuteLocked(s, minute);
  p.bytes += d.bytes;
  p.newConnections += d.newConnections;
  p.resets += d.resets;
  p.activeMax = std::max(p.activeMax, d.activeMax);
  p.dropped += d.dropped;
}

int64_t SeriesStore::minuteNow() const { return minuteOf(clock_.now()); }

void SeriesStore::markConnected(const InterfaceInfo& info) {
  std::lock_guard lock(mu_);
  const int64_t minute = minuteOf(clock_.now());
  Series& s = series_[info.interfaceId];
  if (!(s.info == info)) {
    s.info = info;
    s.infoWritten = false;
  }
  minuteLocked(s, minute).connected = true;
}

// A minute that closed, into the 5-minute and 1-hour points of its series.
void SeriesStore::rollUpLocked(Series& s, int64_t minute, const MinutePoint& p) {
  for (int r = 0; r < kRollups; ++r) {
    const int64_t per = kTierMinutes[r + 1];
    const int64_t slot = slotOf(minute, per);
    auto [it, made] = s.rollups[r].try_emplace(slot);
    if (made) {
      ++perSlot_[r + 1][slot];
      ++tierPoints_[r + 1];
    }
    addToRollup(it->second, minute - slot * per, p);
  }
}

void SeriesStore::flush(bool openMinute) {
  std::lock_guard lock(mu_);
  const int64_t now = minuteOf(clock_.now());
  if (now <= flushedThrough_ && !openMinute) return;
  const int64_t through = std::max(now, flushedThrough_);  // minutes < through close now
  for (auto& entry : series_) {  // not a structured binding: the lambda below captures it (Clang 14)
    const std::string& id = entry.first;
    Series& s = entry.second;
    // Minutes that close now go into the rollups (once: flushedThrough_ moves past them).
    for (auto it = s.minutes.lower_bound(flushedThrough_); it != s.minutes.end() && it->first < through; ++it)
      rollUpLocked(s, it->first, it->second);
    if (!file_.is_open()) continue;
    // With openMinute (a clean stop), the minute under way is written too; a later
    // line for the same minute replaces it when the file is read back.
    const int64_t writeThrough = openMinute ? now + 1 : through;
    auto line = [&](const nlohmann::json& j) {
      if (!s.infoWritten) {
        appendLocked(infoJson(s.info).dump());
        s.infoWritten = true;
      }
      appendLocked(j.dump());
    };
    for (auto it = s.minutes.lower_bound(flushedThrough_); it != s.minutes.end() && it->first < writeThrough; ++it)
      line(minuteJson(id, it->first, it->second));
    // How far the minutes on file counted the kept part (record()).
    if (s.lastMinute >= 0) {
      const CumulativeCounters& onFile = s.lastMinute < writeThrough ? s.keptLast : s.keptBeforeMinute;
      if (s.mark ? !sameKept(*s.mark, onFile) : !sameKept(onFile, CumulativeCounters{})) {
        line(markJson(id, onFile));
        s.mark = onFile;
      }
    }
    // Rollup slots that closed with these minutes: [first open slot before, first open slot now).
    for (int r = 0; r < kRollups; ++r) {
      const int64_t per = kTierMinutes[r + 1];
      const int64_t from = slotOf(flushedThrough_, per), to = slotOf(through, per);
      for (auto it = s.rollups[r].lower_bound(from); it != s.rollups[r].end() && it->first < to; ++it)
        line(rollupJson(id, per, it->first, it->second));
    }
  }
  if (file_.is_open()) file_.flush();
  flushedThrough_ = through;
  evictLocked(now);
  // The file holds every closed point ever appended; rewrite it once it is
  // mostly points already evicted.
  if (file_.is_open() && linesOnFile_ > 2 * pointCountLocked() + 1000) rewriteLocked();
}

void SeriesStore::appendLocked(const std::string& line) {
  file_ << line << '\n';
  ++linesOnFile_;
}

void SeriesStore::evictLocked(int64_t nowMinute) {
  const std::array<std::chrono::hours, 3> retention{options_.retention, options_.fiveMinuteRetention,
                                                    options_.hourRetention};
  for (int t = 0; t <= kRollups; ++t) {
    const int64_t per = kTierMinutes[t];
    const int64_t cutoff = slotOf(nowMinute - duration_cast<minutes>(retention[t]).count(), per);
    auto& perSlot = perSlot_[t];
    while (!perSlot.empty() && (perSlot.begin()->first < cutoff || tierPoints_[t] > options_.maxPoints)) {
      const int64_t oldest = perSlot.begin()->first;
      for (auto& [id, s] : series_)
        tierPoints_[t] -= t == 0 ? s.minutes.erase(oldest) : s.rollups[t - 1].erase(oldest);
      perSlot.erase(perSlot.begin());
    }
  }
  // Series with no points left and not sampled in this process are gone.
  std::erase_if(series_, [](const auto& kv) {
    const Series& s = kv.second;
    return s.minutes.empty() && s.rollups[0].empty() && s.rollups[1].empty() && !s.last;
  });
}

void SeriesStore::rewriteLocked() {
  if (options_.path.empty()) return;
  file_.close();
  const std::string tmp = options_.path + ".tmp";
  size_t lines = 0;
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (auto& [id, s] : series_) {
      if (s.minutes.empty() && s.rollups[0].empty() && s.rollups[1].empty()) {
        s.infoWritten = false;
        continue;
      }
      out << infoJson(s.info).dump() << '\n';
      s.infoWritten = true;
      ++lines;
      if (s.mark) {
        out << markJson(id, *s.mark).dump() << '\n';
        ++lines;
      }
      for (const auto& [m, p] : s.minutes) {
        if (m >= flushedThrough_) break;  // the open minute is written when it closes
        out << minuteJson(id, m, p).dump() << '\n';
        ++lines;
      }
      for (int r = 0; r < kRollups; ++r) {
        const int64_t open = slotOf(flushedThrough_, kTierMinutes[r + 1]);
        for (const auto& [slot, p] : s.rollups[r]) {
          if (slot >= open) break;  // rebuilt from its minutes at the next start, or written when it closes
          out << rollupJson(id, kTierMinutes[r + 1], slot, p).dump() << '\n';
          ++lines;
        }
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
      if (!visibleTo(ns, s.info, account)) continue;
      // Listed when it has minute data (15 days; CloudWatch lists what had data in two weeks).
      bool traffic = std::any_of(s.minutes.begin(), s.minutes.end(), [](const auto& kv) { return kv.second.hasTraffic(); });
      bool connected = std::any_of(s.minutes.begin(), s.minutes.end(), [](const auto& kv) { return kv.second.connected; });
      if (!traffic && !connected) continue;
      for (const Dimensions& dims : dimensionSets(ns, s.info)) {
        bool match = std::all_of(filter.dimensions.begin(), filter.dimensions.end(), [&](const auto& f) {
          return std::any_of(dims.begin(), dims.end(), [&](const auto& d) {
            return d.first == f.first && (!f.second || d.second == *f.second);
          });
        });
        if (!match) continue;
        auto add = [&](const auto& defs) {
          for (const auto& m : defs)
            if ((filter.name.empty() || filter.name == m.name) && (m.field == Field::kEndpoints ? connected : traffic))
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
  if (!def && metric.name != "PacketsDropped")
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

  // CloudWatch's rule: a StartTime older than the minute data needs a period of
  // whole 5-minute points, older than the 5-minute data whole hours; otherwise no
  // datapoints come back.
  const WallTime now = clock_.now();
  const int tier = start >= now - options_.retention             ? 0
                   : start >= now - options_.fiveMinuteRetention ? 1
                                                                  : 2;
  const int64_t per = kTierMinutes[tier];
  if (period.count() % (per * 60) != 0) return std::vector<Datapoint>{};

  std::lock_guard lock(mu_);
  const int64_t startSec = duration_cast<seconds>(start.time_since_epoch()).count();
  const int64_t endSec = duration_cast<seconds>(end.time_since_epoch()).count();
  // A point counts when it starts inside [start, end).
  const int64_t perSec = per * 60;
  const int64_t first = startSec >= 0 ? (startSec + perSec - 1) / perSec : startSec / perSec;
  const int64_t last = endSec >= 0 ? (endSec + perSec - 1) / perSec : endSec / perSec;  // exclusive
  const auto matched = matchLocked(account, metric);
  std::map<int64_t, Bucket> byBucket;
  auto bucketOf = [&](int64_t slotStartSec) { return (slotStartSec - startSec) / period.count(); };

  if (def->field == Field::kEndpoints) {
    // Per minute, the distinct endpoints connected among the matching interfaces.
    std::map<int64_t, std::set<std::string_view>> perMinute;
    for (const Series* s : matched) {
      if (tier == 0) {
        for (auto it = s->minutes.lower_bound(first); it != s->minutes.end() && it->first < last; ++it)
          if (it->second.connected) perMinute[it->first].insert(s->info.endpointId);
        continue;
      }
      const auto& points = s->rollups[tier - 1];
      for (auto it = points.lower_bound(first); it != points.end() && it->first < last; ++it)
        for (uint64_t mask = it->second.connectedMask; mask; mask &= mask - 1)
          perMinute[it->first * per + std::countr_zero(mask)].insert(s->info.endpointId);
    }
    for (const auto& [m, eps] : perMinute) {
      const double v = static_cast<double>(eps.size());
      byBucket[bucketOf(slotOf(m, per) * perSec)].add(1, v, v, v);
    }
  } else if (tier == 0) {
    std::map<int64_t, double> perMinute;  // summed over the matching interfaces
    for (const Series* s : matched)
      for (auto it = s->minutes.lower_bound(first); it != s->minutes.end() && it->first < last; ++it)
        if (it->second.hasTraffic()) perMinute[it->first] += static_cast<double>(valueOf(it->second, def->field));
    for (const auto& [m, v] : perMinute) byBucket[bucketOf(m * 60)].add(1, v, v, v);
  } else {
    struct Slot {
      uint64_t mask = 0;
      double sum = 0, minimum = 0, maximum = 0;
    };
    std::map<int64_t, Slot> perSlot;
    const auto k = static_cast<size_t>(def->field);
    for (const Series* s : matched) {
      const auto& points = s->rollups[tier - 1];
      for (auto it = points.lower_bound(first); it != points.end() && it->first < last; ++it) {
        const RollupPoint& p = it->second;
        if (!p.trafficMask) continue;
        Slot& sl = perSlot[it->first];
        const FieldRollup& f = p.fields[k];
        sl.minimum = sl.mask ? std::min(sl.minimum, double(f.minimum)) : double(f.minimum);
        sl.maximum = sl.mask ? std::max(sl.maximum, double(f.maximum)) : double(f.maximum);
        sl.sum += static_cast<double>(f.sum);
        sl.mask |= p.trafficMask;
      }
    }
    for (const auto& [slot, sl] : perSlot)
      byBucket[bucketOf(slot * perSec)].add(std::popcount(sl.mask), sl.sum, sl.minimum, sl.maximum);
  }

  std::vector<Datapoint> out;
  for (const auto& [b, bucket] : byBucket) {
    Datapoint d;
    d.timestamp = start + seconds(b * period.count());
    d.sampleCount = bucket.count;
    d.sum = bucket.sum;
    d.minimum = bucket.minimum;
    d.maximum = bucket.maximum;
    out.push_back(d);
  }
  return out;
}

size_t SeriesStore::pointCountLocked() const { return tierPoints_[0] + tierPoints_[1] + tierPoints_[2]; }

size_t SeriesStore::pointCount() const {
  std::lock_guard lock(mu_);
  return pointCountLocked();
}

size_t SeriesStore::pointCount(int tierMinutes) const {
  std::lock_guard lock(mu_);
  return tierPoints_[tierIndex(tierMinutes)];
}

}  // namespace lp::metrics
