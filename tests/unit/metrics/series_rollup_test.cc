// SeriesStore rollups (1-minute points 15 days, 5-minute 63 days, 1-hour 455
// days), CloudWatch's period rules for old StartTimes, EndpointsCount, and the
// rollups' file across a restart. Manual clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "metrics/series_store.h"

namespace lp::metrics {
namespace {

using namespace std::chrono_literals;

constexpr const char* kConsumer = "222222222222";
constexpr const char* kProvider = "111111111111";
constexpr const char* kSvcId = "vpce-svc-0123456789abcdef0";

// 2026-12-05T10:00:00Z, on an hour boundary.
WallTime t0() { return WallTime(std::chrono::seconds(1796464800)); }

InterfaceInfo iface(std::string eni, std::string vpce, std::string az = "us-east-1a") {
  InterfaceInfo i;
  i.interfaceId = std::move(eni);
  i.endpointId = std::move(vpce);
  i.vpcId = "vpc-c";
  i.subnetId = "subnet-" + az;
  i.serviceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
  i.serviceId = kSvcId;
  i.loadBalancerArn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web/0123456789abcdef";
  i.az = std::move(az);
  i.consumerAccount = kConsumer;
  i.providerAccount = kProvider;
  return i;
}

MetricId serviceMetric(std::string name, Dimensions extra = {}) {
  MetricId m{std::string(kServicesNamespace), std::move(name), {{"Service Id", kSvcId}}};
  for (auto& d : extra) m.dimensions.push_back(d);
  std::sort(m.dimensions.begin(), m.dimensions.end());
  return m;
}

class SeriesRollupTest : public ::testing::Test {
 protected:
  ManualClock clock_{t0()};

  // Two hours of traffic on one interface: 100 bytes and 1 connection a minute.
  void twoHoursOfTraffic(SeriesStore& s) {
    for (int m = 0; m < 120; ++m) {
      clock_.advance(10s);
      s.record(iface("eni-a", "vpce-1"), {uint64_t(100 * (m + 1)), uint64_t(m + 1), 0, 1});
      clock_.advance(50s);
      s.flush();
    }
  }
  // Jumps the clock forward in hour steps (the sampler flushes every round).
  void advanceDays(SeriesStore& s, int days) {
    for (int h = 0; h < 24 * days; ++h) {
      clock_.advance(1h);
      s.flush();
    }
  }
  static std::vector<Datapoint> stats(const SeriesStore& s, const MetricId& m, std::chrono::seconds period,
                                      const std::string& account = kProvider, WallTime from = t0(),
                                      WallTime to = t0() + 2h) {
    auto r = s.statistics(account, m, from, to, period);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : std::vector<Datapoint>{};
  }
};

TEST_F(SeriesRollupTest, OldStartTimesAreAnsweredFromTheRollups) {
  SeriesStore s(clock_, {});
  twoHoursOfTraffic(s);
  auto bytes = serviceMetric("BytesProcessed");
  // Within 15 days: minute data, any multiple of 60.
  ASSERT_EQ(stats(s, bytes, 60s).size(), 120u);
  auto fresh = stats(s, bytes, 300s);
  ASSERT_EQ(fresh.size(), 24u);
  EXPECT_EQ(fresh[0].sum, 500);
  EXPECT_EQ(fresh[0].sampleCount, 5);

  advanceDays(s, 20);  // past the minute retention
  EXPECT_EQ(s.pointCount(1), 0u);
  EXPECT_EQ(s.pointCount(5), 24u);
  EXPECT_EQ(s.pointCount(60), 2u);
  EXPECT_TRUE(stats(s, bytes, 60s).empty()) << "a StartTime older than 15 days needs a multiple of 300";
  EXPECT_TRUE(stats(s, bytes, 420s).empty());
  auto five = stats(s, bytes, 300s);
  ASSERT_EQ(five.size(), 24u);
  EXPECT_EQ(five[0].timestamp, t0());
  EXPECT_EQ(five[0].sum, 500);
  EXPECT_EQ(five[0].sampleCount, 5);
  EXPECT_EQ(five[0].minimum, 100);
  EXPECT_EQ(five[0].maximum, 100);
  auto tenMin = stats(s, bytes, 600s);
  ASSERT_EQ(tenMin.size(), 12u);
  EXPECT_EQ(tenMin[11].sum, 1000);
  auto conns = stats(s, serviceMetric("NewConnections"), 3600s);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[1].sum, 60);
  EXPECT_EQ(conns[1].sampleCount, 60);

  advanceDays(s, 50);  // 70 days: only 1-hour points
  EXPECT_EQ(s.pointCount(5), 0u);
  EXPECT_TRUE(stats(s, bytes, 300s).empty()) << "older than 63 days needs a multiple of 3600";
  auto hours = stats(s, bytes, 3600s);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].sum, 6000);
  EXPECT_EQ(hours[0].sampleCount, 60);
  EXPECT_EQ(hours[0].timestamp, t0());
  EXPECT_EQ(stats(s, bytes, 7200s)[0].sum, 12000);
  // The consumer's view of the same traffic rolls up too; another account sees nothing.
  MetricId ep{std::string(kEndpointsNamespace),
              "BytesProcessed",
              {{"Endpoint Type", "Interface"},
               {"Service Name", iface("", "").serviceName},
               {"VPC Endpoint Id", "vpce-1"},
               {"VPC Id", "vpc-c"}}};
  std::sort(ep.dimensions.begin(), ep.dimensions.end());
  EXPECT_EQ(stats(s, ep, 3600s, kConsumer)[0].sum, 6000);
  EXPECT_TRUE(stats(s, ep, 3600s, kProvider).empty());

  advanceDays(s, 400);  // 470 days: gone
  EXPECT_EQ(s.pointCount(), 0u);
  EXPECT_TRUE(stats(s, bytes, 3600s).empty());
}

TEST_F(SeriesRollupTest, EndpointsCountIsDistinctConnectedEndpointsPerMinute) {
  SeriesStore s(clock_, {});
  for (int m = 0; m < 10; ++m) {
    s.markConnected(iface("eni-1a", "vpce-1", "us-east-1a"));
    s.markConnected(iface("eni-1b", "vpce-1", "us-east-1b"));  // the same endpoint in a second zone
    if (m < 5) s.markConnected(iface("eni-2a", "vpce-2", "us-east-1a"));
    clock_.advance(60s);
    s.flush();
  }
  auto count = serviceMetric("EndpointsCount");
  auto perMinute = stats(s, count, 60s, kProvider, t0(), t0() + 10min);
  ASSERT_EQ(perMinute.size(), 10u);
  EXPECT_EQ(perMinute[0].maximum, 2);
  EXPECT_EQ(perMinute[9].maximum, 1);
  auto five = stats(s, count, 300s, kProvider, t0(), t0() + 10min);
  ASSERT_EQ(five.size(), 2u);
  EXPECT_EQ(five[0].average(), 2);
  EXPECT_EQ(five[1].average(), 1);
  EXPECT_EQ(five[1].sampleCount, 5);
  auto one =
      stats(s, serviceMetric("EndpointsCount", {{"VPC Endpoint Id", "vpce-1"}}), 600s, kProvider, t0(), t0() + 10min);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].maximum, 1);
  auto zoneB = stats(
      s, serviceMetric("EndpointsCount", {{"Load Balancer Arn", iface("", "").loadBalancerArn}, {"Az", "us-east-1b"}}),
      600s, kProvider, t0(), t0() + 10min);
  ASSERT_EQ(zoneB.size(), 1u);
  EXPECT_EQ(zoneB[0].maximum, 1);
  EXPECT_TRUE(stats(s, count, 60s, kConsumer, t0(), t0() + 10min).empty());
  // Listed for the provider; an idle endpoint has no traffic metrics to list.
  MetricFilter f;
  f.name = "EndpointsCount";
  EXPECT_EQ(s.list(kProvider, f).size(), 6u);  // {Service Id}, +LB, +LB+Az (2 zones), +VPC Endpoint Id (2)
  f.name = "BytesProcessed";
  EXPECT_TRUE(s.list(kProvider, f).empty());
  EXPECT_TRUE(stats(s, serviceMetric("BytesProcessed"), 60s, kProvider, t0(), t0() + 10min).empty());
  // From the rollups after 20 days, the same figures.
  advanceDays(s, 20);
  auto old = stats(s, count, 300s, kProvider, t0(), t0() + 10min);
  ASSERT_EQ(old.size(), 2u);
  EXPECT_EQ(old[0].average(), 2);
  EXPECT_EQ(old[0].sampleCount, 5);
  EXPECT_EQ(old[1].average(), 1);
}

TEST_F(SeriesRollupTest, RollupsSurviveARestartAndOpenSlotsAreRebuilt) {
  auto dir = std::filesystem::temp_directory_path() / ("lp-rollup-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SeriesStoreOptions o;
  o.path = (dir / "metrics.jsonl").string();
  {
    SeriesStore s(clock_, o);
    ASSERT_TRUE(s.load().ok());
    twoHoursOfTraffic(s);
    // Seven more minutes: the 5-minute slot 2:05 and the hour 2:00 are open at the stop.
    for (int m = 0; m < 7; ++m) {
      clock_.advance(10s);
      s.record(iface("eni-a", "vpce-1"), {uint64_t(12000 + 10 * (m + 1)), 120, 0, 0});
      clock_.advance(50s);
      s.flush();
    }
    s.flush(/*openMinute=*/true);
  }
  {
    SeriesStore s(clock_, o);
    ASSERT_TRUE(s.load().ok());
    advanceDays(s, 20);
  }
  // After 20 days the file holds rollups only; a third start reads them back.
  SeriesStore s(clock_, o);
  ASSERT_TRUE(s.load().ok());
  EXPECT_EQ(s.pointCount(1), 0u);
  auto bytes = serviceMetric("BytesProcessed");
  auto hours = stats(s, bytes, 3600s, kProvider, t0(), t0() + 3h);
  ASSERT_EQ(hours.size(), 3u);
  EXPECT_EQ(hours[0].sum, 6000);
  EXPECT_EQ(hours[1].sum, 6000);
  EXPECT_EQ(hours[2].sum, 70);  // the hour open at the first stop, rebuilt from its minutes
  EXPECT_EQ(hours[2].sampleCount, 7);
  auto five = stats(s, bytes, 300s, kProvider, t0() + 2h, t0() + 3h);
  ASSERT_EQ(five.size(), 2u);
  EXPECT_EQ(five[0].sum, 50);
  EXPECT_EQ(five[1].sum, 20);
  std::filesystem::remove_all(dir);
}

TEST_F(SeriesRollupTest, EachTierIsCapped) {
  SeriesStoreOptions o;
  o.maxPoints = 10;
  SeriesStore s(clock_, o);
  twoHoursOfTraffic(s);
  EXPECT_LE(s.pointCount(1), 10u);
  EXPECT_LE(s.pointCount(5), 10u);
  EXPECT_EQ(s.pointCount(60), 2u);
  // The newest survive.
  auto last = stats(s, serviceMetric("BytesProcessed"), 60s, kProvider, t0() + 110min, t0() + 2h);
  EXPECT_EQ(last.size(), 10u);
}

}  // namespace
}  // namespace lp::metrics
