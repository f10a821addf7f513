// SeriesStore: the CloudWatch figures of interface endpoints, as AWS publishes
// them in the namespaces AWS/PrivateLinkEndpoints (to the endpoint's owner) and
// AWS/PrivateLinkServices (to the service's owner).
//
// What is stored is one series per endpoint network interface: per minute, the
// bytes processed, new connections and connections ended by a reset counted in
// that minute, and the most connections open at once seen in it. Every metric and
// dimension set AWS defines is an aggregation of these at query time (sum over
// the interfaces that match the dimension values, minute by minute), so nothing
// is stored twice. A minute in which an interface moved nothing and held no open
// connection has no point (CloudWatch too returns no datapoint for it).
//
// EndpointsCount (AWS/PrivateLinkServices) is a gauge: each minute in which an
// endpoint was available to the service (markConnected), its interfaces' points
// say so, and the count is the number of distinct endpoints among the matching
// interfaces.
//
// Fed with cumulative counters (the data plane's), so a sample that is missed only
// moves its traffic into the next sample's minute.
//
// Rollups as CloudWatch keeps them: minute points for 15 days, 5-minute points for
// 63 days, 1-hour points for 455 days. A rollup point is built as its minutes
// close (not when they expire), per interface: per metric the sum, minimum and
// maximum of its minutes, and bit masks of the minutes that had traffic and that
// had the endpoint connected, so SampleCount and EndpointsCount stay exact across
// interfaces. (Minimum and Maximum of a rolled-up period over several interfaces
// are the extremes of single interfaces' minutes, not of their per-minute sums.)
// A query whose StartTime is older than the minute retention is answered from the
// 5-minute points, older than 63 days from the 1-hour points; its Period must then
// be a multiple of 300 or 3600 or, as in CloudWatch, no datapoint is returned.
//
// Each tier is capped at maxPoints (oldest slots go first) and each drops what is
// past its retention, so memory is bounded. With a file, closed minutes and closed
// rollup slots are appended to it as JSON lines and read back at start: the
// figures survive a restart.
//
// Thread-safety: every public method may be called from any thread (one mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace lp::metrics {

inline constexpr std::string_view kEndpointsNamespace = "AWS/PrivateLinkEndpoints";
inline constexpr std::string_view kServicesNamespace = "AWS/PrivateLinkServices";

// Who an endpoint network interface belongs to, and the dimension values its
// figures carry.
struct InterfaceInfo {
  std::string interfaceId;      // eni-...
  std::string endpointId;       // vpce-...
  std::string endpointType = "Interface";
  std::string vpcId;            // the consumer VPC
  std::string subnetId;
  std::string serviceName;      // com.amazonaws.vpce.<region>.vpce-svc-...
  std::string serviceId;        // vpce-svc-...
  std::string loadBalancerArn;  // "" for AWS services (no load balancer)
  std::string az;               // zone name as the service owner sees it
  std::string consumerAccount;  // sees AWS/PrivateLinkEndpoints
  std::string providerAccount;  // sees AWS/PrivateLinkServices
  bool operator==(const InterfaceInfo&) const = default;
};

// Cumulative counters of one interface since the data plane started.
struct CumulativeCounters {
  uint64_t bytes = 0;
  uint64_t connections = 0;
  uint64_t resets = 0;
  uint64_t active = 0;  // open now (a gauge)
  uint64_t dropped = 0;  // packets the data plane dropped (security groups, cap, connection limit)
};

struct MinutePoint {
  uint64_t bytes = 0;
  uint64_t newConnections = 0;
  uint64_t resets = 0;
  uint64_t activeMax = 0;
  uint64_t dropped = 0;
  bool connected = false;  // the endpoint was available to the service (EndpointsCount)
  bool hasTraffic() const { return bytes || newConnections || resets || activeMax || dropped; }
  bool operator==(const MinutePoint&) const = default;
};

// One metric over a rollup slot's minutes that had traffic.
struct FieldRollup {
  uint64_t sum = 0;
  uint64_t minimum = 0;
  uint64_t maximum = 0;
  bool operator==(const FieldRollup&) const = default;
};

// A 5-minute or 1-hour point of one interface. Bit k of a mask is the slot's k-th minute.
struct RollupPoint {
  uint64_t trafficMask = 0;
  uint64_t connectedMask = 0;
  std::array<FieldRollup, 5> fields{};  // bytes, new connections, resets, active, dropped (MinutePoint's order)
  bool operator==(const RollupPoint&) const = default;
};

using Dimensions = std::vector<std::pair<std::string, std::string>>;  // name, value

struct MetricId {
  std::string ns;
  std::string name;
  Dimensions dimensions;  // sorted by name
  bool operator<(const MetricId& o) const {
    return std::tie(ns, name, dimensions) < std::tie(o.ns, o.name, o.dimensions);
  }
  bool operator==(const MetricId&) const = default;
};

// A ListMetrics filter: namespace and name "" = any; a dimension with no value
// matches any value of that name.
struct MetricFilter {
  std::string ns;
  std::string name;
  std::vector<std::pair<std::string, std::optional<std::string>>> dimensions;
};

struct Datapoint {
  WallTime timestamp;  // start of the period
  double sampleCount = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
  double average() const { return sampleCount > 0 ? sum / sampleCount : 0; }
};


struct SeriesStoreOptions {
  std::chrono::hours retention{24 * 15};  // CloudWatch keeps 1-minute data 15 days
  std::chrono::hours fiveMinuteRetention{24 * 63};
  std::chrono::hours hourRetention{24 * 455};
  size_t maxPoints = 2'000'000;           // per tier; the oldest slots go first
  std::string path;                       // "" = memory only
};

// The unit AWS gives a metric ("Bytes" or "Count"); "" when the metric is unknown
// in the namespace.
std::string_view unitOf(std::string_view ns, std::string_view metric);

class SeriesStore {
 public:
  SeriesStore(const Clock& clock, SeriesStoreOptions options);
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // Reads the file (if any) back, dropping what is past the retention, and
  // rewrites it compacted. Call once before record().
  Status load();

  // One sample of an interface's cumulative counters at the clock's now; kept:
  // the part of them counted in kernel state that outlives the daemon (the
  // kernel paths' counters, which a restart after kill -9 reads on from where
  // they were). The forwarder's part starts with the daemon, as this store does,
  // so the first sample of an interface counts it from zero; the kept part from
  // how far the closed minutes on file had counted it (a mark line written with
  // them), or from zero when it is below that (made anew).
  void record(const InterfaceInfo& info, const CumulativeCounters& c, const CumulativeCounters& kept = {});
  // The interface's endpoint is available to its service in the minute under way
  // (EndpointsCount). Call for each interface of each available endpoint once a
  // minute (minuteNow() moved) and whenever the list changes.
  void markConnected(const InterfaceInfo& info);
  // The minute under way (epoch minutes) by the store's clock.
  int64_t minuteNow() const;
  // Closes the minutes before now: appends them to the file, drops what is past
  // the retention or over the cap. Call after each round of record(). With
  // openMinute (a clean stop), the minute under way is written too; a later
  // line for the same minute replaces it when the file is read back.
  void flush(bool openMinute = false);

  // Metrics with at least one point, visible to account, matching the filter.
  std::vector<MetricId> list(const std::string& account, const MetricFilter& filter) const;
  // Statistics of one metric per period over [start, end), periods aligned to
  // start. Only the series the account may see contribute. Errors carry
  // CloudWatch's codes: InvalidParameterValue (unknown namespace or metric, bad
  // period or range), InvalidParameterCombination (more than 1,440 datapoints).
  // An unknown dimension set is no error: it has no data, as in CloudWatch.
  Result<std::vector<Datapoint>> statistics(const std::string& account, const MetricId& metric,
                                                           WallTime start, WallTime end,
                                                           std::chrono::seconds period) const;
  // Points of every tier (minutes, 5-minute, 1-hour).
  size_t pointCount() const;
  // Points of one tier: 1, 5 or 60 (minutes per point).
  size_t pointCount(int tierMinutes) const;

 private:
  static constexpr int kRollups = 2;  // 5-minute, 1-hour
  struct Series {
    InterfaceInfo info;
    std::optional<CumulativeCounters> last;  // previous sample in this process
    // The kept part (record()): as of the closed minutes on file (read back or
    // written), as of the last sample, and as of the last sample of an earlier
    // minute than lastMinute's.
    std::optional<CumulativeCounters> mark;
    CumulativeCounters keptLast, keptBeforeMinute;
    int64_t lastMinute = -1;
    std::map<int64_t, MinutePoint> minutes;  // minute index (epoch minutes) -> point
    std::array<std::map<int64_t, RollupPoint>, kRollups> rollups;  // slot index (epoch minutes / 5 or 60)
    bool infoWritten = false;
  };
  MinutePoint& minuteLocked(Series& s, int64_t minute);
  size_t pointCountLocked() const;
  void rollUpLocked(Series& s, int64_t minute, const MinutePoint& p);
  void appendLocked(const std::string& line);
  void evictLocked(int64_t nowMinute);
  void rewriteLocked();
  std::vector<const Series*> matchLocked(const std::string& account, const MetricId& metric) const;

  const Clock& clock_;
  SeriesStoreOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Series> series_;  // by interface id
  // Per tier (minutes, 5-minute, 1-hour): slot -> points in it, for the cap.
  std::array<std::map<int64_t, size_t>, 1 + kRollups> perSlot_;
  std::array<size_t, 1 + kRollups> tierPoints_{};
  int64_t flushedThrough_ = 0;  // minutes < this are on file and rolled up
  size_t linesOnFile_ = 0;
  std::ofstream file_;
};

}  // namespace lp::metrics
