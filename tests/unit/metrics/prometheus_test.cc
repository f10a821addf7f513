#include "metrics/prometheus.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lp::metrics::prom {
namespace {

TEST(Prometheus, CountersRenderWithHelpTypeAndEscapedLabels) {
  Registry r;
  auto& c = r.counter("lp_test_requests_total", "Requests.", {"action", "code"});
  c.add({"DescribeVpcs", "OK"});
  c.add({"DescribeVpcs", "OK"}, 2);
  c.add({"Say \"hi\"\\\n", "X"});
  EXPECT_EQ(c.value({"DescribeVpcs", "OK"}), 3u);
  EXPECT_EQ(r.render(),
            "# HELP lp_test_requests_total Requests.\n"
            "# TYPE lp_test_requests_total counter\n"
            "lp_test_requests_total{action=\"DescribeVpcs\",code=\"OK\"} 3\n"
            "lp_test_requests_total{action=\"Say \\\"hi\\\"\\\\\\n\",code=\"X\"} 1\n");
}

TEST(Prometheus, SameNameGivesTheSameFamily) {
  Registry r;
  auto& a = r.counter("lp_x_total", "X.", {"l"});
  auto& b = r.counter("lp_x_total", "other help", {"m"});
  EXPECT_EQ(&a, &b);
}

TEST(Prometheus, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  auto& h = r.histogram("lp_lat_seconds", "Latency.", {"action"}, {0.01, 0.1});
  h.observe({"A"}, 0.005);
  h.observe({"A"}, 0.05);
  h.observe({"A"}, 3);
  EXPECT_EQ(r.render(),
            "# HELP lp_lat_seconds Latency.\n"
            "# TYPE lp_lat_seconds histogram\n"
            "lp_lat_seconds_bucket{action=\"A\",le=\"0.01\"} 1\n"
            "lp_lat_seconds_bucket{action=\"A\",le=\"0.1\"} 2\n"
            "lp_lat_seconds_bucket{action=\"A\",le=\"+Inf\"} 3\n"
            "lp_lat_seconds_sum{action=\"A\"} 3.055\n"
            "lp_lat_seconds_count{action=\"A\"} 3\n");
}

// Label values come from clients: the number of series stays bounded whatever they send.
TEST(Prometheus, SeriesPastTheCapFoldIntoOther) {
  Registry r;
  auto& c = r.counter("lp_many_total", "Many.", {"v"});
  for (size_t i = 0; i < kMaxSeries + 50; ++i) c.add({std::to_string(i)});
  EXPECT_EQ(c.value({"_other"}), 50u);
  EXPECT_EQ(c.value({"0"}), 1u);
  std::string page = r.render();
  EXPECT_EQ(static_cast<size_t>(std::count(page.begin(), page.end(), '\n')), kMaxSeries + 1 + 2);
}

TEST(Prometheus, WrongNumberOfLabelValuesDoesNotBreakThePage) {
  Registry r;
  auto& c = r.counter("lp_two_total", "Two.", {"a", "b"});
  c.add({"only-a"});
  EXPECT_NE(r.render().find("lp_two_total{a=\"only-a\",b=\"\"} 1\n"), std::string::npos);
}

TEST(Prometheus, CollectorsRunAtEveryScrapeUntilRemoved) {
  Registry r;
  int calls = 0;
  r.addCollector("k", [&](Exposition& e) {
    ++calls;
    e.family("lp_gauge", "gauge", "A gauge.");
    e.sample("lp_gauge", 2.5);
  });
  EXPECT_NE(r.render().find("lp_gauge 2.5\n"), std::string::npos);
  r.render();
  EXPECT_EQ(calls, 2);
  r.removeCollector("k");
  EXPECT_EQ(r.render(), "");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace lp::metrics::prom
