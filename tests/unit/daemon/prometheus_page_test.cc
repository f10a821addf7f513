#include "daemon/prometheus_page.h"

#include <gtest/gtest.h>

namespace lp::daemon {
namespace {

InterfaceFigures figures(std::string eni, std::string endpoint, std::string az, uint64_t bytes, uint64_t active) {
  InterfaceFigures f;
  f.info.interfaceId = std::move(eni);
  f.info.endpointId = std::move(endpoint);
  f.info.vpcId = "vpc-c";
  f.info.subnetId = "subnet-" + az;
  f.info.serviceName = "com.amazonaws.vpce.us-east-1.vpce-svc-1";
  f.info.serviceId = "vpce-svc-1";
  f.info.loadBalancerArn = "arn:lb";
  f.info.az = std::move(az);
  f.info.consumerAccount = "111111111111";
  f.info.providerAccount = "222222222222";
  f.counters = {bytes, 3, 1, active, bytes / 10};
  return f;
}

TEST(PrometheusPage, EndpointFiguresByInterfaceAndServiceFiguresSummedPerZone) {
  metrics::prom::Exposition out;
  writeInterfaceFigures(out, {figures("eni-1", "vpce-1", "us-east-1a", 100, 1),
                              figures("eni-2", "vpce-2", "us-east-1a", 50, 2),
                              figures("eni-3", "vpce-1", "us-east-1b", 7, 0)});
  const std::string& page = out.text();
  EXPECT_NE(page.find("linkplane_endpoint_bytes_total{account=\"111111111111\",endpoint=\"vpce-1\",service=\"com."
                      "amazonaws.vpce.us-east-1.vpce-svc-1\",vpc=\"vpc-c\",subnet=\"subnet-us-east-1a\",zone=\"us-east-"
                      "1a\"} 100\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("linkplane_service_bytes_total{account=\"222222222222\",service_id=\"vpce-svc-1\",load_"
                      "balancer=\"arn:lb\",zone=\"us-east-1a\"} 150\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("linkplane_service_active_connections{account=\"222222222222\",service_id=\"vpce-svc-1\",load_"
                      "balancer=\"arn:lb\",zone=\"us-east-1a\"} 3\n"),
            std::string::npos);
  EXPECT_NE(page.find("# TYPE linkplane_endpoint_active_connections gauge\n"), std::string::npos);
  EXPECT_NE(page.find("linkplane_endpoint_packets_dropped_total{account=\"111111111111\",endpoint=\"vpce-2\",service="
                      "\"com.amazonaws.vpce.us-east-1.vpce-svc-1\",vpc=\"vpc-c\",subnet=\"subnet-us-east-1a\",zone=\"us-"
                      "east-1a\"} 5\n"),
            std::string::npos)
      << page;
}

TEST(PrometheusPage, OnlyGetMetricsIsServed) {
  metrics::prom::Registry registry;
  registry.counter("lp_one_total", "One.", {}).add({});
  // Strings moved in: GCC 12 at -O3 reports a -Wrestrict overlap that cannot happen when
  // a one-character literal is assigned to a std::string (req.target = "/", GCC PR 105329).
  auto request = [](std::string method, std::string target) {
    api::HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    return req;
  };
  auto ok = prometheusResponse(registry, request("GET", "/metrics"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.contentType, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(ok.body.find("lp_one_total 1\n"), std::string::npos);
  EXPECT_EQ(prometheusResponse(registry, request("GET", "/")).status, 404);
  EXPECT_EQ(prometheusResponse(registry, request("POST", "/metrics")).status, 405);
}

}  // namespace
}  // namespace lp::daemon
