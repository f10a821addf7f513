// planDataplane: the forwarder's snapshot from a store filled directly, as the
// endpoint control plane writes it (endpoint, its interfaces, the service, the
// provider's load balancer, listeners and target groups).
#include "reconciler/dataplane_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../store/store_fixture.h"
#include "model/elb.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::reconciler {
namespace {

using nlohmann::json;

constexpr const char* kLb = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web/0123456789abcdef";
constexpr const char* kTg = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/0123456789abcdef";

class DataplanePlanTest : public store::testing::StoreFixture {
 protected:
  DataplanePlan plan() {
    DataplanePlan p;
    store_->read([&](const store::ReadView& v) { p = planDataplane(v); });
    return p;
  }
  // Provider: NLB with nodes in az1 (10.2.1.5) and az2 (10.2.2.5), listener 443 ->
  // target group with one target per zone. Consumer: endpoint with interfaces in az1
  // and az2.
  void provider(bool proxy = false) {
    put(model::LoadBalancer::kKind, kLb,
        {{"id", kLb},
         {"ownerId", "111111111111"},
         {"vpcId", "vpc-0provider00000001"},
         {"nodes",
          {{{"subnetId", "subnet-0p1"}, {"zoneId", "use1-az1"}, {"privateIp", "10.2.1.5"}},
           {{"subnetId", "subnet-0p2"}, {"zoneId", "use1-az2"}, {"privateIp", "10.2.2.5"}}}}});
    put(model::Listener::kKind, "listener-1",
        {{"id", "listener-1"}, {"loadBalancerArn", kLb}, {"port", 443}, {"targetGroupArn", kTg}});
    json attrs = json::object();
    if (proxy) attrs["proxy_protocol_v2.enabled"] = "true";
    put(model::TargetGroup::kKind, kTg,
        {{"id", kTg},
         {"ownerId", "111111111111"},
         {"vpcId", "vpc-0provider00000001"},
         {"port", 8080},
         {"healthCheckIntervalSeconds", 10},
         {"healthCheckTimeoutSeconds", 5},
         {"healthyThresholdCount", 3},
         {"unhealthyThresholdCount", 2},
         {"attributes", attrs},
         {"targets",
          {{{"ip", "10.2.1.20"}, {"port", 8080}, {"zoneId", "use1-az1"}},
           {{"ip", "10.2.2.20"}, {"port", 8080}, {"zoneId", "use1-az2"}}}}});
    put(model::ServiceConfiguration::kKind, "vpce-svc-0123456789abcdef0",
        {{"id", "vpce-svc-0123456789abcdef0"}, {"ownerId", "111111111111"}, {"networkLoadBalancerArns", {kLb}}});
  }
  void endpoint(const std::string& state, const std::string& service = "vpce-svc-0123456789abcdef0") {
    put(model::NetworkInterface::kKind, "eni-0c1",
        {{"id", "eni-0c1"}, {"vpcId", "vpc-0consumer00000001"}, {"zoneId", "use1-az2"}, {"privateIp", "10.1.2.50"}});
    put(model::NetworkInterface::kKind, "eni-0c2",
        {{"id", "eni-0c2"}, {"vpcId", "vpc-0consumer00000001"}, {"zoneId", "use1-az3"}, {"privateIp", "10.1.3.50"}});
    put(model::VpcEndpoint::kKind, "vpce-0aaaaaaaaaaaaaaa1",
        {{"id", "vpce-0aaaaaaaaaaaaaaa1"},
         {"ownerId", "222222222222"},
         {"vpcId", "vpc-0consumer00000001"},
         {"serviceId", service},
         {"state", state},
         {"networkInterfaceIds", {"eni-0c1", "eni-0c2"}}});
  }
};

TEST_F(DataplanePlanTest, ListenersPerEndpointInterfaceWithSourceFromTheSameZone) {
  provider(/*proxy=*/true);
  endpoint("available");
  auto p = plan();
  EXPECT_TRUE(p.failed.empty());
  ASSERT_EQ(p.snapshot.listeners.size(), 2u);
  const auto& az2 = p.snapshot.listeners[0];
  EXPECT_EQ(az2.endpointId, "vpce-0aaaaaaaaaaaaaaa1");
  EXPECT_EQ(az2.interfaceId, "eni-0c1");
  EXPECT_EQ(az2.ns, "lp-vpc-0consumer00000001");
  EXPECT_EQ(az2.ip, "10.1.2.50");
  EXPECT_EQ(az2.port, 443);
  EXPECT_EQ(az2.zoneId, "use1-az2");
  EXPECT_TRUE(az2.forwarding);
  ASSERT_EQ(az2.targets.size(), 2u);
  for (const auto& t : az2.targets) {
    EXPECT_EQ(t.ns, "lp-vpc-0provider00000001");
    EXPECT_EQ(t.sourceIp, "10.2.2.5");  // the node in the endpoint interface's zone
    EXPECT_TRUE(t.proxyProtocolV2);
    EXPECT_EQ(t.port, 8080);
  }
  EXPECT_EQ(az2.targets[0].healthKey, model::targetHealthKey(kTg, "10.2.1.20", 8080));
  // No node in az3: any node will do.
  EXPECT_EQ(p.snapshot.listeners[1].targets[0].sourceIp, "10.2.1.5");

  ASSERT_EQ(p.snapshot.healthChecks.size(), 2u);
  const auto& h = p.snapshot.healthChecks[0];
  EXPECT_EQ(h.ns, "lp-vpc-0provider00000001");
  EXPECT_EQ(h.sourceIp, "10.2.1.5");
  EXPECT_EQ(h.port, 8080);
  EXPECT_EQ(h.intervalSeconds, 10);
  EXPECT_EQ(h.timeoutSeconds, 5);
  EXPECT_EQ(h.healthyThreshold, 3);
  EXPECT_EQ(h.unhealthyThreshold, 2);
}

TEST_F(DataplanePlanTest, OnlyPendingAndAvailableEndpointsHaveListenersAndOnlyAvailableForward) {
  provider();
  endpoint("pending");
  auto p = plan();
  ASSERT_EQ(p.snapshot.listeners.size(), 2u);
  EXPECT_FALSE(p.snapshot.listeners[0].forwarding);
  EXPECT_FALSE(p.snapshot.listeners[0].targets[0].proxyProtocolV2);
  for (const char* state : {"pendingAcceptance", "rejected", "deleting", "deleted", "failed"}) {
    endpoint(state);
    EXPECT_TRUE(plan().snapshot.listeners.empty()) << state;
  }
  // Health checks run whether or not anyone has an endpoint.
  EXPECT_EQ(plan().snapshot.healthChecks.size(), 2u);
}

TEST_F(DataplanePlanTest, ANetworkAclThatFiltersInEitherVpcMarksTheListenersStateless) {
  provider();
  endpoint("available");
  auto acl = [&](const std::string& id, const std::string& vpc, bool isDefault, bool associated) {
    json entries = json::array();
    for (bool egress : {false, true}) {
      if (isDefault)
        entries.push_back({{"ruleNumber", 100}, {"egress", egress}, {"protocol", "-1"}, {"ruleAction", "allow"},
                           {"cidrBlock", "0.0.0.0/0"}});
      entries.push_back({{"ruleNumber", 32767}, {"egress", egress}, {"protocol", "-1"}, {"ruleAction", "deny"},
                         {"cidrBlock", "0.0.0.0/0"}});
    }
    json assoc = json::array();
    if (associated) assoc.push_back({{"id", "aclassoc-" + id}, {"subnetId", "subnet-" + id}});
    put(model::NetworkAcl::kKind, id,
        {{"id", id}, {"vpcId", vpc}, {"isDefault", isDefault}, {"entries", entries}, {"associations", assoc}});
  };
  auto stateless = [&] {
    auto p = plan();
    EXPECT_EQ(p.snapshot.listeners.size(), 2u);
    bool any = false;
    for (const auto& l : p.snapshot.listeners) any = any || l.statelessAcls;
    return any;
  };
  // Default ACLs (rule 100 allows everything) in both VPCs; a denying one with no subnet.
  acl("acl-c", "vpc-0consumer00000001", true, true);
  acl("acl-p", "vpc-0provider00000001", true, true);
  acl("acl-loose", "vpc-0consumer00000001", false, false);
  EXPECT_FALSE(stateless());
  // Associated with a subnet, it filters: in the consumer's VPC, then in the provider's.
  acl("acl-loose", "vpc-0consumer00000001", false, true);
  EXPECT_TRUE(stateless());
  acl("acl-loose", "vpc-0consumer00000001", false, false);
  EXPECT_FALSE(stateless());
  acl("acl-p", "vpc-0provider00000001", false, true);
  EXPECT_TRUE(stateless());
}

// An ACL change re-plans the endpoints in its VPC and those whose service's load
// balancer is there (incremental reconciler: nothing else would re-plan them).
TEST(DataplanePlanAcl, AnAclChangeDirtiesTheEndpointsInItsVpcAndBehindItsLoadBalancers) {
  DesiredState s;
  uint64_t rev = 0;
  auto put = [&](std::string_view kind, const std::string& id, const json& body) {
    return s.apply(kind, id, store::Object{std::string(kind), id, body.dump(), ++rev});
  };
  put(model::LoadBalancer::kKind, kLb, {{"id", kLb}, {"vpcId", "vpc-p"}});
  put(model::ServiceConfiguration::kKind, "vpce-svc-1", {{"id", "vpce-svc-1"}, {"networkLoadBalancerArns", {kLb}}});
  put(model::VpcEndpoint::kKind, "vpce-1", {{"id", "vpce-1"}, {"vpcId", "vpc-c"}, {"serviceId", "vpce-svc-1"}});
  put(model::VpcEndpoint::kKind, "vpce-2", {{"id", "vpce-2"}, {"vpcId", "vpc-other"}, {"serviceId", "vpce-svc-9"}});
  auto consumer = put(model::NetworkAcl::kKind, "acl-c", {{"id", "acl-c"}, {"vpcId", "vpc-c"}});
  EXPECT_EQ(consumer.endpoints, (std::set<std::string>{"vpce-1"}));
  auto provider = put(model::NetworkAcl::kKind, "acl-p", {{"id", "acl-p"}, {"vpcId", "vpc-p"}});
  EXPECT_EQ(provider.endpoints, (std::set<std::string>{"vpce-1"}));
  EXPECT_TRUE(provider.vpcs.count("vpc-p"));
}

TEST_F(DataplanePlanTest, AwsServiceForwardsToItsBackendOrFailsWithoutOne) {
  put(model::ServiceConfiguration::kKind, "vpce-svc-0aws00000000000001",
      {{"id", "vpce-svc-0aws00000000000001"},
       {"ownerId", "amazon"},
       {"serviceName", "com.amazonaws.us-east-1.ec2"},
       {"backend", "127.0.0.1:4566"}});
  endpoint("available", "vpce-svc-0aws00000000000001");
  auto p = plan();
  ASSERT_EQ(p.snapshot.listeners.size(), 2u);
  EXPECT_EQ(p.snapshot.listeners[0].port, kAwsServicePort);
  ASSERT_EQ(p.snapshot.listeners[0].targets.size(), 1u);
  const auto& t = p.snapshot.listeners[0].targets[0];
  EXPECT_EQ(t.ns, "");  // the host namespace
  EXPECT_EQ(t.ip, "127.0.0.1");
  EXPECT_EQ(t.port, 4566);
  EXPECT_EQ(t.healthKey, "");

  put(model::ServiceConfiguration::kKind, "vpce-svc-0aws00000000000001",
      {{"id", "vpce-svc-0aws00000000000001"}, {"ownerId", "amazon"}, {"serviceName", "com.amazonaws.us-east-1.sqs"}});
  endpoint("pending", "vpce-svc-0aws00000000000001");
  p = plan();
  EXPECT_TRUE(p.snapshot.listeners.empty());
  ASSERT_EQ(p.failed.count("vpce-0aaaaaaaaaaaaaaa1"), 1u);
  EXPECT_EQ(p.failed["vpce-0aaaaaaaaaaaaaaa1"].first, "ServiceBackendUnavailable");
  EXPECT_NE(p.failed["vpce-0aaaaaaaaaaaaaaa1"].second.find("com.amazonaws.us-east-1.sqs"), std::string::npos);
}

}  // namespace
}  // namespace lp::reconciler
