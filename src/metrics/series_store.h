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
// Fed with cumulative counters (the data plane's), so a sample that is missed only
// moves its traffic into the next sample's minute. Points older than the
// retention are dropped, and the total number of points is capped (oldest minutes
// go first), so memory is bounded. With a file, closed minutes are appended to it
// as JSON lines and read back at start: the figures survive a restart.
//
// Thread-safety: every public method may be called from any thread (one mutex).
#pragma once

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
  bool operator==(const MinutePoint&) const = default;
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
  size_t maxPoints = 2'000'000;           // ~100 MB at most; the oldest minutes go first
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

  // One sample of an interface's cumulative counters at the clock's now. The
  // data plane starts with the daemon, as this store does, so the first sample of
  // an interface counts from zero.
  void record(const InterfaceInfo& info, const CumulativeCounters& c);
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
  size_t pointCount() const;

 private:
  struct Series {
    InterfaceInfo info;
    std::optional<CumulativeCounters> last;  // previous sample in this process
    std::map<int64_t, MinutePoint> minutes;  // minute index (epoch minutes) -> point
    bool infoWritten = false;
  };
  void appendLocked(const std::string& line);
  void evictLocked(int64_t nowMinute);
  void rewriteLocked();
  std::vector<const Series*> matchLocked(const std::string& account, const MetricId& metric) const;

  const Clock& clock_;
  SeriesStoreOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Series> series_;  // by interface id
  std::map<int64_t, size_t> perMinute_;   // minute -> points in it, for the cap
  size_t points_ = 0;
  int64_t flushedThrough_ = 0;  // minutes < this are on file
  size_t linesOnFile_ = 0;
  std::ofstream file_;
};

}  // namespace lp::metrics
