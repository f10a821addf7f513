// SeriesStore: per-minute points from cumulative counters, AWS's dimension sets as
// sums over interfaces, statistics per period, visibility per account, retention
// and the cap, and the file that carries the figures over a restart. Manual clock.
#include "metrics/series_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lp::metrics {
namespace {

using namespace std::chrono_literals;

constexpr const char* kConsumer = "222222222222";
constexpr const char* kProvider = "111111111111";
constexpr const char* kOther = "333333333333";
constexpr const char* kSvcName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
constexpr const char* kLb = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web/0123456789abcdef";

// 2026-12-05T10:00:00Z, on a minute boundary.
WallTime t0() { return WallTime(std::chrono::seconds(1796464800)); }

InterfaceInfo iface(std::string eni, std::string subnet, std::string az, std::string vpce = "vpce-1") {
  InterfaceInfo i;
  i.interfaceId = std::move(eni);
  i.endpointId = std::move(vpce);
  i.vpcId = "vpc-c";
  i.subnetId = std::move(subnet);
  i.serviceName = kSvcName;
  i.serviceId = "vpce-svc-0123456789abcdef0";
  i.loadBalancerArn = kLb;
  i.az = std::move(az);
  i.consumerAccount = kConsumer;
  i.providerAccount = kProvider;
  return i;
}

MetricId endpointMetric(std::string name, bool withSubnet = false, std::string subnet = "subnet-a") {
  MetricId m{std::string(kEndpointsNamespace), std::move(name),
             {{"Endpoint Type", "Interface"}, {"Service Name", kSvcName}, {"VPC Endpoint Id", "vpce-1"},
              {"VPC Id", "vpc-c"}}};
  if (withSubnet) m.dimensions.emplace_back("Subnet Id", subnet);
  std::sort(m.dimensions.begin(), m.dimensions.end());
  return m;
}

MetricId serviceMetric(std::string name, Dimensions extra = {}) {
  MetricId m{std::string(kServicesNamespace), std::move(name), {{"Service Id", "vpce-svc-0123456789abcdef0"}}};
  for (auto& d : extra) m.dimensions.push_back(d);
  std::sort(m.dimensions.begin(), m.dimensions.end());
  return m;
}

class SeriesStoreTest : public ::testing::Test {
 protected:
  ManualClock clock_{t0()};
  SeriesStore store_{clock_, {}};

  std::vector<Datapoint> stats(const std::string& account, const MetricId& m, std::chrono::seconds period = 60s,
                               WallTime from = t0(), WallTime to = t0() + 1h) {
    auto r = store_.statistics(account, m, from, to, period);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r.value() : std::vector<Datapoint>{};
  }
};

TEST_F(SeriesStoreTest, CumulativeCountersBecomePerMinuteDeltas) {
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {1000, 2, 0, 1});
  clock_.advance(20s);
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {1500, 3, 0, 2});  // same minute: adds
  clock_.advance(60s);
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {4000, 3, 1, 0});  // next minute

  auto bytes = stats(kConsumer, endpointMetric("BytesProcessed"));
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0].timestamp, t0());
  EXPECT_EQ(bytes[0].sum, 1500);
  EXPECT_EQ(bytes[1].timestamp, t0() + 60s);
  EXPECT_EQ(bytes[1].sum, 2500);
  auto conns = stats(kConsumer, endpointMetric("NewConnections"));
  ASSERT_EQ(conns.size(), 2u);  // nothing new in the second minute, but bytes moved: a point of 0
  EXPECT_EQ(conns[0].sum, 3);
  EXPECT_EQ(conns[1].sum, 0);
  auto active = stats(kConsumer, endpointMetric("ActiveConnections"));
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].maximum, 2);  // the most open at once in that minute
  EXPECT_EQ(active[1].maximum, 0);
  auto rst = stats(kConsumer, endpointMetric("RstPacketsReceived"));
  EXPECT_EQ(rst.back().sum, 1);
}

// PacketsDropped: the data plane's dropped packets per minute, per endpoint
// interface; an endpoint's figure is its own, never another's; kept on file.
TEST_F(SeriesStoreTest, DroppedPacketsArePacketsDroppedPerMinute) {
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {0, 0, 0, 0, 3});
  store_.record(iface("eni-b", "subnet-b", "us-east-1b"), {100, 1, 0, 0, 0});
  clock_.advance(60s);
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {0, 0, 0, 0, 10});
  auto d = stats(kConsumer, endpointMetric("PacketsDropped", true, "subnet-a"));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].sum, 3);
  EXPECT_EQ(d[1].sum, 7);
  auto other = stats(kConsumer, endpointMetric("PacketsDropped", true, "subnet-b"));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].sum, 0);
  EXPECT_EQ(unitOf(kEndpointsNamespace, "PacketsDropped"), "Count");
  EXPECT_EQ(unitOf(kServicesNamespace, "PacketsDropped"), "");  // an endpoint metric only, as on AWS
}

TEST_F(SeriesStoreTest, DimensionSetsSumTheirInterfaces) {
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {100, 1, 0, 0});
  store_.record(iface("eni-b", "subnet-b", "us-east-1b"), {50, 1, 0, 0});

  EXPECT_EQ(stats(kConsumer, endpointMetric("BytesProcessed"))[0].sum, 150);
  EXPECT_EQ(stats(kConsumer, endpointMetric("BytesProcessed", true, "subnet-a"))[0].sum, 100);
  EXPECT_EQ(stats(kConsumer, endpointMetric("BytesProcessed", true, "subnet-b"))[0].sum, 50);
  EXPECT_EQ(stats(kProvider, serviceMetric("BytesProcessed"))[0].sum, 150);
  EXPECT_EQ(stats(kProvider, serviceMetric("BytesProcessed", {{"Load Balancer Arn", kLb}}))[0].sum, 150);
  EXPECT_EQ(
      stats(kProvider, serviceMetric("BytesProcessed", {{"Load Balancer Arn", kLb}, {"Az", "us-east-1b"}}))[0].sum,
      50);
  EXPECT_EQ(stats(kProvider, serviceMetric("RstPacketsSent", {{"VPC Endpoint Id", "vpce-1"}}))[0].sum, 0);
  // A dimension set AWS does not publish has no data (not an error, as in CloudWatch).
  MetricId partial{std::string(kEndpointsNamespace), "BytesProcessed", {{"VPC Endpoint Id", "vpce-1"}}};
  EXPECT_TRUE(stats(kConsumer, partial).empty());
}

TEST_F(SeriesStoreTest, EachAccountSeesOnlyItsOwnSide) {
  store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {100, 1, 0, 0});
  EXPECT_TRUE(stats(kProvider, endpointMetric("BytesProcessed")).empty());  // the provider's view is the service's
  EXPECT_TRUE(stats(kConsumer, serviceMetric("BytesProcessed")).empty());
  EXPECT_TRUE(stats(kOther, endpointMetric("BytesProcessed")).empty());
  EXPECT_TRUE(store_.list(kOther, {}).empty());

  auto consumer = store_.list(kConsumer, {});
  ASSERT_EQ(consumer.size(), 10u);  // 5 metrics x 2 dimension sets
  for (const auto& m : consumer) EXPECT_EQ(m.ns, kEndpointsNamespace);
  auto provider = store_.list(kProvider, {});
  EXPECT_EQ(provider.size(), 16u);  // 4 metrics x 4 dimension sets
  MetricFilter f;
  f.name = "BytesProcessed";
  f.dimensions.emplace_back("Subnet Id", std::nullopt);
  auto bySubnet = store_.list(kConsumer, f);
  ASSERT_EQ(bySubnet.size(), 1u);
  EXPECT_EQ(bySubnet[0].dimensions.size(), 5u);
  f.dimensions = {{"Subnet Id", std::string("subnet-zzz")}};
  EXPECT_TRUE(store_.list(kConsumer, f).empty());
}

TEST_F(SeriesStoreTest, PeriodsAggregateMinutes) {
  for (int i = 0; i < 10; ++i) {
    store_.record(iface("eni-a", "subnet-a", "us-east-1a"), {uint64_t(100) * (i + 1), 0, 0, 0});
    clock_.advance(60s);
  }
  auto five = stats(kConsumer, endpointMetric("BytesProcessed"), 300s);
  ASSERT_EQ(five.size(), 2u);
  EXPECT_EQ(five[0].sum, 500);
  EXPECT_EQ(five[0].sampleCount, 5);
  EXPECT_EQ(five[0].average(), 100);
  EXPECT_EQ(five[0].minimum, 100);
  EXPECT_EQ(five[1].timestamp, t0() + 300s);
  // Only minutes starting inside [start, end) count (here 02:00 and 03:00), and
  // periods are aligned to StartTime.
  auto part = stats(kConsumer, endpointMetric("BytesProcessed"), 60s, t0() + 90s, t0() + 200s);
  ASSERT_EQ(part.size(), 2u);
  EXPECT_EQ(part[0].timestamp, t0() + 90s);
  EXPECT_EQ(part[0].sum, 100);
  EXPECT_EQ(part[1].timestamp, t0() + 150s);
}

TEST_F(SeriesStoreTest, BadQueriesGetCloudWatchErrors) {
  auto m = endpointMetric("BytesProcessed");
  EXPECT_EQ(store_.statistics(kConsumer, m, t0(), t0() + 1h, 90s).status().code(), "InvalidParameterValue");
  EXPECT_EQ(store_.statistics(kConsumer, m, t0() + 1h, t0(), 60s).status().code(), "InvalidParameterValue");
  EXPECT_EQ(store_.statistics(kConsumer, m, t0(), t0() + 48h, 60s).status().code(), "InvalidParameterCombination");
  m.ns = "AWS/EC2";
  EXPECT_EQ(store_.statistics(kConsumer, m, t0(), t0() + 1h, 60s).status().code(), "InvalidParameterValue");
  m = endpointMetric("Bogus");
  EXPECT_EQ(store_.statistics(kConsumer, m, t0(), t0() + 1h, 60s).status().code(), "InvalidParameterValue");
}

TEST_F(SeriesStoreTest, OldMinutesAreDroppedAndTheCapHolds) {
  SeriesStoreOptions o;
  o.retention = 1h;
  o.maxPoints = 30;
  SeriesStore small(clock_, o);
  for (int i = 0; i < 100; ++i) {
    small.record(iface("eni-a", "subnet-a", "us-east-1a"), {uint64_t(i + 1), 0, 0, 0});
    clock_.advance(60s);
    small.flush();
    EXPECT_LE(small.pointCount(1), 30u);  // the cap is per tier (minutes here)
  }
  // From within the minute retention (an older StartTime is answered from the
  // 5-minute points: series_rollup_test.cc).
  auto r = small.statistics(kConsumer, endpointMetric("BytesProcessed"), t0() + 40min, t0() + 100min, 60s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 30u);
  EXPECT_EQ(r->front().timestamp, t0() + 70min);  // the oldest went first
}

TEST_F(SeriesStoreTest, ClosedMinutesSurviveARestart) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-series-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SeriesStoreOptions o;
  o.path = (dir / "metrics.jsonl").string();
  {
    SeriesStore s(clock_, o);
    ASSERT_TRUE(s.load().ok());
    s.record(iface("eni-a", "subnet-a", "us-east-1a"), {700, 7, 0, 0});
    clock_.advance(60s);
    s.record(iface("eni-a", "subnet-a", "us-east-1a"), {900, 7, 0, 0, 4});
    clock_.advance(60s);
    s.flush();
  }
  {
    std::ofstream torn(o.path, std::ios::app);
    torn << "{\"i\":\"eni-a\",\"m\":";  // a line cut short by a crash is skipped
  }
  SeriesStore again(clock_, o);
  ASSERT_TRUE(again.load().ok());
  auto r = again.statistics(kConsumer, endpointMetric("BytesProcessed"), t0(), t0() + 1h, 3600s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].sum, 900);
  EXPECT_EQ(again.list(kProvider, {}).size(), 16u);  // attribution came back too
  auto dropped = again.statistics(kConsumer, endpointMetric("PacketsDropped"), t0(), t0() + 1h, 3600s);
  ASSERT_TRUE(dropped.ok());
  ASSERT_EQ(dropped->size(), 1u);
  EXPECT_EQ((*dropped)[0].sum, 4);
  std::filesystem::remove_all(dir);
}

// The kernel paths' counters outlive a kill -9: the next run's first sample must
// count them from where the closed minutes on file had, the forwarder's from zero.
TEST_F(SeriesStoreTest, KernelCountersReadOnAfterAKillAreCountedOnceFromTheMinutesOnFile) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-series-kept-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SeriesStoreOptions o;
  o.path = (dir / "metrics.jsonl").string();
  const auto a = iface("eni-a", "subnet-a", "us-east-1a");
  {
    SeriesStore s(clock_, o);
    ASSERT_TRUE(s.load().ok());
    s.record(a, {1000, 2, 0, 0, 1}, {800, 1, 0, 0, 1});  // 10:00: the kernel's part 800 bytes
    clock_.advance(60s);
    s.flush();                                            // 10:00 on file, counted to 800
    s.record(a, {1500, 3, 0, 0, 1}, {1200, 2, 0, 0, 1});  // 10:01, not closed: lost with the kill
    clock_.advance(30s);
    s.flush();
  }                     // killed
  clock_.advance(60s);  // 10:02:30; meanwhile the kernel counted on: 1600 bytes, 3 connections
  {
    SeriesStore s(clock_, o);
    ASSERT_TRUE(s.load().ok());
    s.record(a, {1650, 3, 0, 0, 1}, {1600, 3, 0, 0, 1});  // a new process: the forwarder's 50 are new
    clock_.advance(60s);
    s.flush();
    auto bytes = s.statistics(kConsumer, endpointMetric("BytesProcessed"), t0(), t0() + 1h, 3600s);
    ASSERT_TRUE(bytes.ok());
    ASSERT_EQ(bytes->size(), 1u);
    EXPECT_EQ((*bytes)[0].sum, 1000 + (1600 - 800) + 50);  // not 1000 + 1650
    auto conns = s.statistics(kConsumer, endpointMetric("NewConnections"), t0(), t0() + 1h, 3600s);
    ASSERT_TRUE(conns.ok());
    EXPECT_EQ((*conns)[0].sum, 2 + (3 - 1));
    auto dropped = s.statistics(kConsumer, endpointMetric("PacketsDropped"), t0(), t0() + 1h, 3600s);
    ASSERT_TRUE(dropped.ok());
    EXPECT_EQ((*dropped)[0].sum, 1);
  }
  // Kernel counters made anew (below their mark) count whole.
  clock_.advance(60s);
  SeriesStore s(clock_, o);
  ASSERT_TRUE(s.load().ok());
  s.record(a, {300, 1, 0, 0, 0}, {300, 1, 0, 0, 0});
  clock_.advance(60s);
  s.flush();
  auto bytes = s.statistics(kConsumer, endpointMetric("BytesProcessed"), t0(), t0() + 1h, 3600s);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ((*bytes)[0].sum, 1850 + 300);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lp::metrics
