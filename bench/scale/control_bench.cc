// Control plane at scale, in process: the real control services over a SQLite
// store in a temporary directory (fsync'd as in production), no API layer, no
// reconciler. One provider publishes a service (auto-accept) behind an NLB; one
// consumer creates VPCS VPCs with a subnet each and ENDPOINTS interface endpoints
// spread over them, one subnet each. Reports CreateVpcEndpoint p50/p99 over the
// first 100 endpoints and over the last 100 (at ENDPOINTS), their ratio, and the
// time of a full DescribeVpcEndpoints listing paginated as the CLI does
// (--page-size 100 and 1000, and one unpaginated call), and of a store reopen.
//
//   control_bench [ENDPOINTS=10000] [VPCS=1000] [DIR=/tmp]
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/time.h"
#include "control/context.h"
#include "control/elb_service.h"
#include "control/endpoint_service.h"
#include "control/store_indexes.h"
#include "control/subnet_service.h"
#include "control/vpc_service.h"

namespace lp::control {
namespace {

constexpr char kProvider[] = "111111111111";
constexpr char kConsumer[] = "222222222222";
constexpr size_t kWindow = 100;  // endpoints per latency sample

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

[[noreturn]] void die(const std::string& what, const Status& st) {
  fmt::print(stderr, "control_bench: {}: {}\n", what, st.toString());
  exit(1);
}

template <typename T>
T must(Result<T> r, const std::string& what) {
  if (!r.ok()) die(what, r.status());
  return std::move(r).value();
}

int run(size_t endpoints, size_t vpcs, const std::string& base) {
  std::string tmpl = base + "/lp-control-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    fmt::print(stderr, "control_bench: cannot make a directory under {}\n", base);
    return 1;
  }
  std::string dir = tmpl;
  int rc = 0;
  {
    auto store = must(store::openSqliteStore(dir, storeIndexer()), "open store");
    SystemClock clock;
    SeededRandom random(7);
    model::RegionConfig region;
    region.zoneIds = {"use1-az1", "use1-az2"};
    region.accounts = {{kProvider, "provider", "AKP", "sp"}, {kConsumer, "consumer", "AKC", "sc"}};
    Limits limits;
    limits.vpcsPerAccount = static_cast<int>(vpcs) + 10;
    limits.interfaceEndpointsPerVpc = static_cast<int>(endpoints);
    limits.networkInterfacesPerAccount = static_cast<int>(endpoints) + 10;
    ControlContext ctx{*store, clock, random, region, limits};
    CallContext provider{kProvider, "bench", false}, consumer{kConsumer, "bench", false};

    // The provider's service.
    auto pvpc = must(VpcService(ctx).createVpc(provider, {"10.200.0.0/16", "", {}}), "provider vpc");
    auto psub = must(SubnetService(ctx).createSubnet(provider, {pvpc.id.str(), "10.200.1.0/24", "", "use1-az1", {}}),
                     "provider subnet");
    CreateLoadBalancerInput lbIn;
    lbIn.name = "bench-nlb";
    lbIn.subnets = {psub.subnet.id.str()};
    auto lb = must(ElbService(ctx).createLoadBalancer(provider, lbIn), "load balancer");
    CreateServiceConfigurationInput svcIn;
    svcIn.acceptanceRequired = false;
    svcIn.networkLoadBalancerArns = {lb.id.str()};
    auto svc = must(EndpointService(ctx).createServiceConfiguration(provider, svcIn), "service");
    must(EndpointService(ctx).modifyServicePermissions(provider, svc.service.id.str(),
                                                       {std::string("arn:aws:iam::") + kConsumer + ":root"}, {}),
         "permissions");

    // The consumer's VPCs, one /24 subnet each (room for 251 interfaces).
    auto setupStart = Clock::now();
    std::vector<std::pair<std::string, std::string>> nets;  // vpc id, subnet id
    for (size_t i = 0; i < vpcs; ++i) {
      std::string cidr = fmt::format("10.{}.{}.0/24", i / 256, i % 256);
      auto vpc = must(VpcService(ctx).createVpc(consumer, {cidr, "", {}}), "consumer vpc");
      auto sub =
          must(SubnetService(ctx).createSubnet(consumer, {vpc.id.str(), cidr, "", "use1-az1", {}}), "consumer subnet");
      nets.emplace_back(vpc.id.str(), sub.subnet.id.str());
    }
    fmt::print("setup: {} VPCs with a subnet each in {:.1f} s\n", vpcs, ms(Clock::now() - setupStart) / 1000);

    std::vector<double> first, last;
    auto createStart = Clock::now();
    for (size_t i = 0; i < endpoints; ++i) {
      const auto& [vpc, subnet] = nets[i % nets.size()];
      CreateVpcEndpointInput in;
      in.vpcEndpointType = "Interface";
      in.vpcId = vpc;
      in.serviceName = svc.service.serviceName;
      in.subnetIds = {subnet};
      auto t0 = Clock::now();
      must(EndpointService(ctx).createVpcEndpoint(consumer, in), "endpoint");
      double took = ms(Clock::now() - t0);
      if (i < kWindow) first.push_back(took);
      if (i + kWindow >= endpoints) last.push_back(took);
      if ((i + 1) % 1000 == 0) fmt::print("  {} endpoints, {:.1f} s\n", i + 1, ms(Clock::now() - createStart) / 1000);
    }
    double p50a = percentile(first, 0.5), p99a = percentile(first, 0.99);
    double p50b = percentile(last, 0.5), p99b = percentile(last, 0.99);
    fmt::print("CreateVpcEndpoint, first {} endpoints: p50 {:.2f} ms  p99 {:.2f} ms\n", first.size(), p50a, p99a);
    fmt::print("CreateVpcEndpoint, last {} (at {}): p50 {:.2f} ms  p99 {:.2f} ms\n", last.size(), endpoints, p50b,
               p99b);
    fmt::print("ratio at {} / at {}: p50 {:.2f}x  p99 {:.2f}x\n", endpoints, kWindow, p50b / p50a, p99b / p99a);

    for (int64_t pageSize : {int64_t{100}, int64_t{1000}, int64_t{0}}) {
      DescribeInput in;
      if (pageSize > 0) in.page.maxResults = pageSize;
      size_t seen = 0, pages = 0;
      auto t0 = Clock::now();
      do {
        auto page = must(EndpointService(ctx).describeVpcEndpoints(consumer, in), "describe");
        seen += page.items.size();
        ++pages;
        in.page.nextToken = page.nextToken;
      } while (!in.page.nextToken.empty());
      std::string how = pageSize > 0 ? fmt::format("MaxResults {}", pageSize) : std::string("no MaxResults");
      fmt::print("DescribeVpcEndpoints, all {} ({}, {} pages): {:.0f} ms\n", seen, how, pages, ms(Clock::now() - t0));
      if (seen != endpoints) {
        fmt::print(stderr, "control_bench: listed {} endpoints, expected {}\n", seen, endpoints);
        rc = 1;
      }
    }
    // What a restart pays before serving: load every object (and index it).
    auto t0 = Clock::now();
    auto again = must(store::openSqliteStore(dir, storeIndexer()), "reopen store");
    fmt::print("store reopen (load every object): {:.0f} ms\n", ms(Clock::now() - t0));
  }
  std::filesystem::remove_all(dir);
  return rc;
}

}  // namespace
}  // namespace lp::control

int main(int argc, char** argv) {
  size_t endpoints = argc > 1 ? std::stoul(argv[1]) : 10000;
  size_t vpcs = argc > 2 ? std::stoul(argv[2]) : 1000;
  std::string dir = argc > 3 ? argv[3] : "/tmp";
  if (endpoints < lp::control::kWindow || vpcs == 0 || vpcs > 65536) {
    fmt::print(stderr, "usage: control_bench [ENDPOINTS>=100] [VPCS 1..65536] [DIR]\n");
    return 2;
  }
  return lp::control::run(endpoints, vpcs, dir);
}
