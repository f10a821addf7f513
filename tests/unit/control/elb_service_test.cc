#include "control/elb_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <regex>

#include "control/store_indexes.h"
#include "model/cidr.h"
#include "model/endpoint.h"

namespace lp::control {
namespace {

using model::LoadBalancer;
using model::NetworkInterface;

constexpr char kProvider[] = "111111111111";
constexpr char kOther[] = "222222222222";

class ElbServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-elb-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = store::openSqliteStore(dir_, control::storeIndexer());
    ASSERT_TRUE(s.ok()) << s.status().toString();
    store_ = std::move(s.value());
    region_.zoneIds = {"use1-az1", "use1-az2", "use1-az3"};
    region_.accounts = {{kProvider, "provider", "AK1", "S1"}, {kOther, "consumer", "AK2", "S2"}};
    ctx_ = std::make_unique<ControlContext>(*store_, clock_, random_, region_, Limits{});
    vpc_ = addVpc(kProvider, "10.0.0.0/16");
    subnetA_ = addSubnet(kProvider, vpc_, "10.0.1.0/24", "use1-az1");
    subnetB_ = addSubnet(kProvider, vpc_, "10.0.2.0/24", "use1-az2");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  model::VpcId addVpc(const std::string& owner, const std::string& cidr) {
    model::Vpc v;
    v.id = model::VpcId::generate(random_);
    v.ownerId = owner;
    v.cidrBlock = cidr;
    EXPECT_TRUE(store_
                    ->update([&](store::WriteTxn& w) {
                      Txn(w).put(v);
                      return Status::Ok();
                    })
                    .ok());
    return v.id;
  }
  std::string addSubnet(const std::string& owner, const model::VpcId& vpc, const std::string& cidr,
                        const std::string& zone) {
    model::Subnet s;
    s.id = model::SubnetId::generate(random_);
    s.ownerId = owner;
    s.vpcId = vpc;
    s.cidrBlock = cidr;
    s.zoneId = zone;
    EXPECT_TRUE(store_
                    ->update([&](store::WriteTxn& w) {
                      Txn(w).put(s);
                      return Status::Ok();
                    })
                    .ok());
    return s.id.str();
  }
  template <typename R>
  std::vector<R> all() {
    std::vector<R> out;
    store_->read([&](const store::ReadView& r) { out = View(r).list<R>(); });
    return out;
  }
  CallContext as(const std::string& account) { return CallContext{account, "req", false}; }

  LoadBalancer makeLb(const std::string& name, std::vector<std::string> subnets = {}) {
    CreateLoadBalancerInput in;
    in.name = name;
    in.type = "network";
    in.scheme = "internal";
    in.subnets = subnets.empty() ? std::vector<std::string>{subnetA_, subnetB_} : subnets;
    auto r = ElbService(*ctx_).createLoadBalancer(as(kProvider), in);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r.value() : LoadBalancer{};
  }
  model::TargetGroup makeTg(const std::string& name, const model::VpcId& vpc, int port = 8080) {
    CreateTargetGroupInput in;
    in.name = name;
    in.protocol = "TCP";
    in.port = port;
    in.vpcId = vpc.str();
    in.targetType = "ip";
    auto r = ElbService(*ctx_).createTargetGroup(as(kProvider), in);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? r.value() : model::TargetGroup{};
  }
  Result<model::Listener> listen(const LoadBalancer& lb, const std::string& tgArn, int port) {
    CreateListenerInput in;
    in.loadBalancerArn = lb.id.str();
    in.protocol = "TCP";
    in.port = port;
    in.defaultActions = {{"forward", tgArn, {}}};
    return ElbService(*ctx_).createListener(as(kProvider), in);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  SeededRandom random_{42};
  model::RegionConfig region_;
  std::unique_ptr<ControlContext> ctx_;
  model::VpcId vpc_;
  std::string subnetA_, subnetB_;
};

TEST_F(ElbServiceTest, LoadBalancerGetsOneRequesterManagedNodePerSubnet) {
  LoadBalancer lb = makeLb("web-nlb");
  std::smatch m;
  std::string arn = lb.id.str();
  ASSERT_TRUE(std::regex_match(
      arn, m,
      std::regex("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web-nlb/([0-9a-f]{16})")))
      << arn;
  EXPECT_EQ(lb.dnsName, "web-nlb-" + m[1].str() + ".elb.us-east-1.amazonaws.com");
  EXPECT_EQ(lb.vpcId, vpc_);
  EXPECT_EQ(lb.state, "active");
  ASSERT_EQ(lb.nodes.size(), 2u);

  auto enis = all<NetworkInterface>();
  ASSERT_EQ(enis.size(), 2u);
  for (const auto& node : lb.nodes) {
    auto eni = std::find_if(enis.begin(), enis.end(), [&](auto& e) { return e.id == node.networkInterfaceId; });
    ASSERT_NE(eni, enis.end());
    EXPECT_EQ(eni->interfaceType, "network_load_balancer");
    EXPECT_TRUE(eni->requesterManaged);
    EXPECT_EQ(eni->description, "ELB net/web-nlb/" + m[1].str());
    EXPECT_EQ(eni->ownerId, kProvider);
    EXPECT_EQ(eni->managedBy, arn);
    EXPECT_EQ(eni->subnetId, node.subnetId);
    EXPECT_EQ(eni->zoneId, node.zoneId);
    EXPECT_EQ(eni->privateIp, node.privateIp);
  }
  // The first assignable address of each subnet (AWS reserves .0-.3).
  EXPECT_EQ(lb.nodes[0].privateIp, "10.0.1.4");
  EXPECT_EQ(lb.nodes[0].zoneId, "use1-az1");
  EXPECT_EQ(lb.nodes[1].privateIp, "10.0.2.4");
  EXPECT_EQ(lb.nodes[1].zoneId, "use1-az2");
}

TEST_F(ElbServiceTest, SubnetMappingChoosesTheNodeAddressAndATakenOneIsRefused) {
  CreateLoadBalancerInput in;
  in.name = "pinned";
  in.subnetMappings = {{subnetA_, "10.0.1.77", ""}};
  auto lb = ElbService(*ctx_).createLoadBalancer(as(kProvider), in);
  ASSERT_TRUE(lb.ok()) << lb.status().toString();
  EXPECT_EQ(lb->nodes.at(0).privateIp, "10.0.1.77");

  in.name = "pinned-again";
  auto dup = ElbService(*ctx_).createLoadBalancer(as(kProvider), in);
  EXPECT_EQ(dup.status().code(), "InvalidConfigurationRequest");
  in.subnetMappings = {{subnetA_, "10.0.9.9", ""}};
  EXPECT_EQ(ElbService(*ctx_).createLoadBalancer(as(kProvider), in).status().code(), "InvalidConfigurationRequest");
  EXPECT_EQ(all<LoadBalancer>().size(), 1u);
  EXPECT_EQ(all<NetworkInterface>().size(), 1u);
}

TEST_F(ElbServiceTest, BadNamesAreValidationErrors) {
  for (std::string bad :
       {"", "-lead", "trail-", "has_underscore", "internal-lb", "a234567890123456789012345678901x3", "dot.ted"}) {
    CreateLoadBalancerInput in;
    in.name = bad;
    in.subnets = {subnetA_};
    EXPECT_EQ(ElbService(*ctx_).createLoadBalancer(as(kProvider), in).status().code(), "ValidationError") << bad;
  }
  EXPECT_TRUE(all<LoadBalancer>().empty());
  EXPECT_TRUE(all<NetworkInterface>().empty());
}

TEST_F(ElbServiceTest, SubnetsMustBeTheCallersInOneVpcAndDistinctZones) {
  std::string sameZone = addSubnet(kProvider, vpc_, "10.0.3.0/24", "use1-az1");
  auto otherVpc = addVpc(kProvider, "10.1.0.0/16");
  std::string elsewhere = addSubnet(kProvider, otherVpc, "10.1.1.0/24", "use1-az3");
  auto otherAccountVpc = addVpc(kOther, "10.2.0.0/16");
  std::string foreign = addSubnet(kOther, otherAccountVpc, "10.2.1.0/24", "use1-az3");

  auto create = [&](std::vector<std::string> subnets) {
    CreateLoadBalancerInput in;
    in.name = "x";
    in.subnets = std::move(subnets);
    return ElbService(*ctx_).createLoadBalancer(as(kProvider), in).status().code();
  };
  EXPECT_EQ(create({subnetA_, sameZone}), "InvalidConfigurationRequest");
  EXPECT_EQ(create({subnetA_, elsewhere}), "InvalidConfigurationRequest");
  EXPECT_EQ(create({foreign}), "SubnetNotFound");
  EXPECT_EQ(create({"subnet-0123456789abcdef0"}), "SubnetNotFound");
  EXPECT_EQ(create({}), "ValidationError");
  EXPECT_TRUE(all<LoadBalancer>().empty());
  EXPECT_TRUE(all<NetworkInterface>().empty());
}

TEST_F(ElbServiceTest, SameNameIsIdempotentWithSameSettingsAndADuplicateOtherwise) {
  LoadBalancer first = makeLb("web");
  CreateLoadBalancerInput in;
  in.name = "web";
  in.subnets = {subnetB_, subnetA_};
  auto again = ElbService(*ctx_).createLoadBalancer(as(kProvider), in);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id.str(), first.id.str());
  in.subnets = {subnetA_};
  EXPECT_EQ(ElbService(*ctx_).createLoadBalancer(as(kProvider), in).status().code(), "DuplicateLoadBalancerName");
  EXPECT_EQ(all<NetworkInterface>().size(), 2u);
}

TEST_F(ElbServiceTest, OtherAccountsNeitherSeeNorDeleteALoadBalancer) {
  LoadBalancer lb = makeLb("mine");
  ElbService svc(*ctx_);
  auto theirs = svc.describeLoadBalancers(as(kOther), {});
  ASSERT_TRUE(theirs.ok());
  EXPECT_TRUE(theirs->items.empty());
  EXPECT_EQ(svc.describeLoadBalancers(as(kOther), {{lb.id.str()}, {}, {}}).status().code(), "LoadBalancerNotFound");
  EXPECT_EQ(svc.describeLoadBalancers(as(kOther), {{}, {"mine"}, {}}).status().code(), "LoadBalancerNotFound");
  EXPECT_EQ(svc.deleteLoadBalancer(as(kOther), lb.id.str()).code(), "LoadBalancerNotFound");
  EXPECT_EQ(svc.deleteLoadBalancer(as(kProvider), "not-an-arn").code(), "ValidationError");
  EXPECT_EQ(all<LoadBalancer>().size(), 1u);
}

TEST_F(ElbServiceTest, DeleteRemovesNodesAndListenersButNotWhileAServiceUsesIt) {
  LoadBalancer lb = makeLb("svc-nlb");
  auto tg = makeTg("tg", vpc_);
  ASSERT_TRUE(listen(lb, tg.id.str(), 443).ok());
  model::ServiceConfiguration sc;
  sc.id = model::ServiceId::generate(random_);
  sc.ownerId = kProvider;
  sc.networkLoadBalancerArns = {lb.id.str()};
  ASSERT_TRUE(store_
                  ->update([&](store::WriteTxn& w) {
                    Txn(w).put(sc);
                    return Status::Ok();
                  })
                  .ok());

  ElbService svc(*ctx_);
  EXPECT_EQ(svc.deleteLoadBalancer(as(kProvider), lb.id.str()).code(), "ResourceInUse");
  EXPECT_EQ(all<NetworkInterface>().size(), 2u);

  ASSERT_TRUE(store_
                  ->update([&](store::WriteTxn& w) {
                    Txn(w).erase<model::ServiceConfiguration>(sc.id);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(svc.deleteLoadBalancer(as(kProvider), lb.id.str()).ok());
  EXPECT_TRUE(all<LoadBalancer>().empty());
  EXPECT_TRUE(all<NetworkInterface>().empty());
  EXPECT_TRUE(all<model::Listener>().empty());
  // The target group is free again.
  EXPECT_TRUE(svc.deleteTargetGroup(as(kProvider), tg.id.str()).ok());
}

TEST_F(ElbServiceTest, TargetGroupValidation) {
  ElbService svc(*ctx_);
  auto base = [&] {
    CreateTargetGroupInput in;
    in.name = "tg";
    in.protocol = "TCP";
    in.port = 80;
    in.vpcId = vpc_.str();
    in.targetType = "ip";
    return in;
  };
  auto code = [&](CreateTargetGroupInput in) { return svc.createTargetGroup(as(kProvider), in).status().code(); };
  auto in = base();
  in.healthCheckIntervalSeconds = 4;
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.healthCheckIntervalSeconds = 301;
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.healthyThresholdCount = 11;
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.unhealthyThresholdCount = 1;
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.healthCheckPort = "70000";
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.protocol = "UDP";
  EXPECT_EQ(code(in), "InvalidConfigurationRequest");
  in = base();
  in.protocol = "SCTP";
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.targetType = "lambda";
  EXPECT_EQ(code(in), "InvalidConfigurationRequest");
  in = base();
  in.port.reset();
  EXPECT_EQ(code(in), "ValidationError");
  in = base();
  in.vpcId = "vpc-0123456789abcdef0";
  EXPECT_EQ(code(in), "ValidationError");
  EXPECT_TRUE(all<model::TargetGroup>().empty());

  in = base();
  in.healthCheckIntervalSeconds = 10;
  in.healthCheckTimeoutSeconds = 5;
  in.healthyThresholdCount = 3;
  in.healthCheckPort = "9000";
  auto tg = svc.createTargetGroup(as(kProvider), in);
  ASSERT_TRUE(tg.ok()) << tg.status().toString();
  EXPECT_TRUE(std::regex_match(tg->id.str(), std::regex("arn:aws:elasticloadbalancing:us-east-1:111111111111:"
                                                        "targetgroup/tg/[0-9a-f]{16}")));
  EXPECT_EQ(tg->healthCheckIntervalSeconds, 10);
  EXPECT_EQ(tg->healthCheckPort, "9000");
  EXPECT_EQ(svc.createTargetGroup(as(kProvider), in)->id.str(), tg->id.str());  // same settings: same group
  in.port = 81;
  EXPECT_EQ(code(in), "DuplicateTargetGroupName");
}

TEST_F(ElbServiceTest, TargetsMustBePrivateOrInTheVpcAndRecordTheirZone) {
  auto tg = makeTg("tg", vpc_, 8080);
  ElbService svc(*ctx_);
  EXPECT_EQ(svc.registerTargets(as(kProvider), tg.id.str(), {{"8.8.8.8", {}, ""}}).code(), "InvalidTarget");
  EXPECT_EQ(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}, {"not-ip", {}, ""}}).code(),
            "InvalidTarget");
  EXPECT_EQ(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", 0, ""}}).code(), "ValidationError");
  EXPECT_EQ(svc.registerTargets(as(kOther), tg.id.str(), {{"10.0.1.10", {}, ""}}).code(), "TargetGroupNotFound");
  ASSERT_TRUE(svc.registerTargets(as(kProvider), tg.id.str(),
                                  {{"10.0.1.10", {}, ""}, {"10.0.2.20", 9090, ""}, {"192.168.5.5", {}, "all"}})
                  .ok());
  auto health = svc.describeTargetHealth(as(kProvider), tg.id.str(), {});
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->size(), 3u);
  EXPECT_EQ((*health)[0].target, (model::Target{"10.0.1.10", 8080, "use1-az1"}));
  EXPECT_EQ((*health)[1].target, (model::Target{"10.0.2.20", 9090, "use1-az2"}));
  EXPECT_EQ((*health)[2].target, (model::Target{"192.168.5.5", 8080, ""}));
  EXPECT_EQ((*health)[1].healthCheckPort, "9090");

  EXPECT_EQ(svc.deregisterTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", 9999, ""}}).code(), "InvalidTarget");
  ASSERT_TRUE(svc.deregisterTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}}).ok());
  EXPECT_EQ(svc.describeTargetHealth(as(kProvider), tg.id.str(), {})->size(), 2u);
}

TEST_F(ElbServiceTest, TargetHealthFollowsUseAndTheObservedRecord) {
  LoadBalancer lb = makeLb("nlb");
  auto tg = makeTg("tg", vpc_, 8080);
  ElbService svc(*ctx_);
  ASSERT_TRUE(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}, {"10.0.2.10", {}, ""}}).ok());
  auto state = [&](size_t i) {
    auto h = svc.describeTargetHealth(as(kProvider), tg.id.str(), {});
    EXPECT_TRUE(h.ok());
    return (*h)[i].health;
  };
  EXPECT_EQ(state(0), (model::TargetHealthRecord{"unused", "Target.NotInUse",
                                                 "Target group is not configured to receive traffic from the load "
                                                 "balancer"}));
  ASSERT_TRUE(listen(lb, tg.id.str(), 80).ok());
  EXPECT_EQ(state(0).state, "initial");
  EXPECT_EQ(state(0).reason, "Elb.InitialHealthChecking");

  // What the data plane writes.
  ASSERT_TRUE(
      store_
          ->update([&](store::WriteTxn& w) {
            w.put(model::TargetHealthRecord::kKind, model::targetHealthKey(tg.id.str(), "10.0.1.10", 8080),
                  R"({"state":"healthy","reason":"","description":""})");
            w.put(model::TargetHealthRecord::kKind, model::targetHealthKey(tg.id.str(), "10.0.2.10", 8080),
                  R"({"state":"unhealthy","reason":"Target.FailedHealthChecks","description":"Health checks failed"})");
            return Status::Ok();
          })
          .ok());
  EXPECT_EQ(state(0), (model::TargetHealthRecord{"healthy", "", ""}));
  EXPECT_EQ(state(1), (model::TargetHealthRecord{"unhealthy", "Target.FailedHealthChecks", "Health checks failed"}));

  auto asked = svc.describeTargetHealth(as(kProvider), tg.id.str(), {{"10.0.1.99", {}, ""}});
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ((*asked)[0].health.reason, "Target.NotRegistered");

  // Deregistering forgets the observed health: registering again starts over.
  ASSERT_TRUE(svc.deregisterTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}}).ok());
  ASSERT_TRUE(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}}).ok());
  auto again = svc.describeTargetHealth(as(kProvider), tg.id.str(), {{"10.0.1.10", {}, ""}});
  EXPECT_EQ((*again)[0].health.state, "initial");
}

TEST_F(ElbServiceTest, ListenerRules) {
  LoadBalancer lb = makeLb("nlb");
  auto tg = makeTg("tg", vpc_);
  auto tg2 = makeTg("tg2", vpc_);
  auto otherVpc = addVpc(kProvider, "10.9.0.0/16");
  auto farTg = makeTg("far", otherVpc);
  ElbService svc(*ctx_);

  auto l = listen(lb, tg.id.str(), 443);
  ASSERT_TRUE(l.ok()) << l.status().toString();
  std::string lbHex = lb.id.str().substr(lb.id.str().size() - 16);
  EXPECT_TRUE(std::regex_match(l->id.str(), std::regex("arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/"
                                                       "net/nlb/" +
                                                       lbHex + "/[0-9a-f]{16}")));
  EXPECT_EQ(listen(lb, tg.id.str(), 443)->id.str(), l->id.str());  // identical: the same listener
  EXPECT_EQ(listen(lb, tg2.id.str(), 443).status().code(), "DuplicateListener");
  EXPECT_EQ(listen(lb, farTg.id.str(), 80).status().code(), "InvalidConfigurationRequest");
  EXPECT_EQ(listen(lb, tg.id.str(), 0).status().code(), "ValidationError");
  EXPECT_EQ(listen(lb, "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/nope/0123456789abcdef", 80)
                .status()
                .code(),
            "TargetGroupNotFound");
  LoadBalancer lb2 = makeLb("nlb2", {subnetA_});
  EXPECT_EQ(listen(lb2, tg.id.str(), 80).status().code(), "TargetGroupAssociationLimit");

  CreateListenerInput udp{lb.id.str(), "UDP", 53, {{"forward", tg.id.str(), {}}}, {}};
  EXPECT_EQ(svc.createListener(as(kProvider), udp).status().code(), "UnsupportedProtocol");
  CreateListenerInput redirect{lb.id.str(), "TCP", 81, {{"redirect", "", {}}}, {}};
  EXPECT_EQ(svc.createListener(as(kProvider), redirect).status().code(), "InvalidLoadBalancerAction");
  CreateListenerInput viaForwardConfig{lb.id.str(), "TCP", 8443, {{"forward", "", {tg2.id.str()}}}, {}};
  ASSERT_TRUE(svc.createListener(as(kProvider), viaForwardConfig).ok());

  EXPECT_EQ(svc.deleteTargetGroup(as(kProvider), tg.id.str()).code(), "ResourceInUse");
  auto listed = svc.describeListeners(as(kProvider), {lb.id.str(), {}, {}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(svc.describeListeners(as(kOther), {lb.id.str(), {}, {}}).status().code(), "LoadBalancerNotFound");
  EXPECT_EQ(svc.describeListeners(as(kOther), {"", {l->id.str()}, {}}).status().code(), "ListenerNotFound");
  EXPECT_EQ(svc.deleteListener(as(kOther), l->id.str()).code(), "ListenerNotFound");
  ASSERT_TRUE(svc.deleteListener(as(kProvider), l->id.str()).ok());
  EXPECT_EQ(svc.describeListeners(as(kProvider), {"", {l->id.str()}, {}}).status().code(), "ListenerNotFound");
  EXPECT_TRUE(svc.deleteTargetGroup(as(kProvider), tg.id.str()).ok());

  auto byLb = svc.describeTargetGroups(as(kProvider), {lb.id.str(), {}, {}, {}});
  ASSERT_TRUE(byLb.ok());
  ASSERT_EQ(byLb->items.size(), 1u);
  EXPECT_EQ(byLb->items[0].group.id.str(), tg2.id.str());
  EXPECT_EQ(byLb->items[0].loadBalancerArns, std::vector<std::string>{lb.id.str()});
}

TEST_F(ElbServiceTest, TargetGroupAttributes) {
  auto tg = makeTg("tg", vpc_);
  ElbService svc(*ctx_);
  auto attrs = svc.describeTargetGroupAttributes(as(kProvider), tg.id.str());
  ASSERT_TRUE(attrs.ok());
  auto value = [](const Attributes& a, const std::string& k) {
    for (auto& [key, v] : a)
      if (key == k) return v;
    return std::string("<absent>");
  };
  EXPECT_EQ(value(*attrs, "proxy_protocol_v2.enabled"), "false");
  EXPECT_EQ(value(*attrs, "deregistration_delay.timeout_seconds"), "300");
  EXPECT_EQ(value(*attrs, "stickiness.type"), "source_ip");

  auto changed = svc.modifyTargetGroupAttributes(
      as(kProvider), tg.id.str(),
      {{"proxy_protocol_v2.enabled", "true"}, {"deregistration_delay.timeout_seconds", "30"}});
  ASSERT_TRUE(changed.ok()) << changed.status().toString();
  EXPECT_EQ(changed->size(), attrs->size());  // the full list comes back
  EXPECT_EQ(value(*changed, "proxy_protocol_v2.enabled"), "true");
  EXPECT_EQ(value(*changed, "deregistration_delay.timeout_seconds"), "30");
  auto stored = all<model::TargetGroup>();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].proxyProtocolV2());

  auto code = [&](Attributes a) {
    return svc.modifyTargetGroupAttributes(as(kProvider), tg.id.str(), a).status().code();
  };
  EXPECT_EQ(code({{"proxy_protocol_v2.enabled", "yes"}}), "ValidationError");
  EXPECT_EQ(code({{"proxy_protocol_v2.enabled", "false"}, {"no.such.key", "1"}}), "ValidationError");
  EXPECT_EQ(code({{"deregistration_delay.timeout_seconds", "3601"}}), "ValidationError");
  EXPECT_EQ(code({{"stickiness.type", "lb_cookie"}}), "InvalidConfigurationRequest");
  EXPECT_EQ(code({}), "ValidationError");
  // Refused changes left the group as it was.
  EXPECT_EQ(value(*svc.describeTargetGroupAttributes(as(kProvider), tg.id.str()), "proxy_protocol_v2.enabled"), "true");
  EXPECT_EQ(svc.describeTargetGroupAttributes(as(kOther), tg.id.str()).status().code(), "TargetGroupNotFound");
}

TEST_F(ElbServiceTest, DescribePagesWithMarkers) {
  makeLb("a", {subnetA_});
  makeLb("b", {subnetA_});
  makeLb("c", {subnetB_});
  ElbService svc(*ctx_);
  DescribeLoadBalancersInput in;
  in.page.pageSize = 2;
  auto first = svc.describeLoadBalancers(as(kProvider), in);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  ASSERT_FALSE(first->nextToken.empty());
  in.page.marker = first->nextToken;
  auto second = svc.describeLoadBalancers(as(kProvider), in);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_TRUE(second->nextToken.empty());
  std::set<std::string> names{first->items[0].name, first->items[1].name, second->items[0].name};
  EXPECT_EQ(names, (std::set<std::string>{"a", "b", "c"}));

  in.page = {"", 0};
  EXPECT_EQ(svc.describeLoadBalancers(as(kProvider), in).status().code(), "ValidationError");
  in.page = {"", 401};
  EXPECT_EQ(svc.describeLoadBalancers(as(kProvider), in).status().code(), "ValidationError");
  in.page = {"garbage!", {}};
  EXPECT_EQ(svc.describeLoadBalancers(as(kProvider), in).status().code(), "ValidationError");
}

TEST_F(ElbServiceTest, DeletionProtectionRefusesDeleteUntilTurnedOff) {
  LoadBalancer lb = makeLb("guarded");
  ElbService svc(*ctx_);
  auto attrs = svc.modifyLoadBalancerAttributes(as(kProvider), lb.id.str(), {{"deletion_protection.enabled", "true"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().toString();
  EXPECT_EQ(attrs->size(), svc.describeLoadBalancerAttributes(as(kProvider), lb.id.str())->size());
  EXPECT_EQ(svc.deleteLoadBalancer(as(kProvider), lb.id.str()).code(), "OperationNotPermitted");
  EXPECT_EQ(all<NetworkInterface>().size(), 2u);
  EXPECT_EQ(svc.modifyLoadBalancerAttributes(as(kProvider), lb.id.str(), {{"deletion_protection.enabled", "no"}})
                .status()
                .code(),
            "ValidationError");
  EXPECT_EQ(svc.modifyLoadBalancerAttributes(as(kProvider), lb.id.str(), {{"access_logs.s3.enabled", "true"}})
                .status()
                .code(),
            "InvalidConfigurationRequest");
  EXPECT_EQ(svc.modifyLoadBalancerAttributes(as(kOther), lb.id.str(), {{"deletion_protection.enabled", "false"}})
                .status()
                .code(),
            "LoadBalancerNotFound");
  ASSERT_TRUE(
      svc.modifyLoadBalancerAttributes(as(kProvider), lb.id.str(), {{"deletion_protection.enabled", "false"}}).ok());
  EXPECT_TRUE(svc.deleteLoadBalancer(as(kProvider), lb.id.str()).ok());
  EXPECT_TRUE(all<NetworkInterface>().empty());
}

TEST_F(ElbServiceTest, TagsByArnAcrossResourceKinds) {
  LoadBalancer lb = makeLb("tagged");
  auto tg = makeTg("tg", vpc_);
  auto l = listen(lb, tg.id.str(), 80);
  ASSERT_TRUE(l.ok());
  ElbService svc(*ctx_);
  std::vector<std::string> arns{lb.id.str(), tg.id.str(), l->id.str()};
  ASSERT_TRUE(svc.addTags(as(kProvider), arns, {{"env", "prod"}, {"team", "web"}}).ok());
  ASSERT_TRUE(svc.addTags(as(kProvider), {tg.id.str()}, {{"env", "dev"}}).ok());
  ASSERT_TRUE(svc.removeTags(as(kProvider), {lb.id.str()}, {"team"}).ok());
  auto d = svc.describeTags(as(kProvider), arns);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)[0].second, (model::Tags{{"env", "prod"}}));
  EXPECT_EQ((*d)[1].second, (model::Tags{{"env", "dev"}, {"team", "web"}}));
  EXPECT_EQ((*d)[2].second, (model::Tags{{"env", "prod"}, {"team", "web"}}));

  EXPECT_EQ(svc.addTags(as(kProvider), {lb.id.str()}, {{"a", "1"}, {"a", "2"}}).code(), "DuplicateTagKeys");
  model::Tags many;
  for (int i = 0; i < 50; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(svc.addTags(as(kProvider), {lb.id.str()}, many).code(), "TooManyTags");  // 50 + env
  EXPECT_EQ(svc.describeTags(as(kOther), {lb.id.str()}).status().code(), "LoadBalancerNotFound");
  EXPECT_EQ(svc.addTags(as(kOther), {tg.id.str()}, {{"x", "y"}}).code(), "TargetGroupNotFound");
  EXPECT_EQ(svc.removeTags(as(kOther), {l->id.str()}, {"env"}).code(), "ListenerNotFound");
  EXPECT_EQ(svc.describeTags(as(kProvider), {"arn:aws:s3:::bucket"}).status().code(), "ValidationError");
  // A refused call in a batch changed none of its resources.
  EXPECT_EQ(svc.addTags(as(kProvider),
                        {lb.id.str(),
                         "arn:aws:elasticloadbalancing:us-east-1:111111111111:"
                         "targetgroup/gone/0123456789abcdef"},
                        {{"new", "1"}})
                .code(),
            "TargetGroupNotFound");
  EXPECT_EQ((*svc.describeTags(as(kProvider), {lb.id.str()}))[0].second, (model::Tags{{"env", "prod"}}));
}

TEST_F(ElbServiceTest, ModifyTargetGroupChangesHealthChecksOnly) {
  auto tg = makeTg("tg", vpc_, 8080);
  ElbService svc(*ctx_);
  CreateTargetGroupInput change;
  change.healthCheckIntervalSeconds = 5;
  change.healthCheckTimeoutSeconds = 2;
  change.healthCheckPort = "9000";
  auto m = svc.modifyTargetGroup(as(kProvider), tg.id.str(), change);
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(m->group.healthCheckIntervalSeconds, 5);
  EXPECT_EQ(m->group.healthCheckTimeoutSeconds, 2);
  EXPECT_EQ(m->group.healthCheckPort, "9000");
  EXPECT_EQ(m->group.healthyThresholdCount, 5);  // untouched
  EXPECT_EQ(m->group.port, 8080);
  CreateTargetGroupInput bad;
  bad.healthCheckTimeoutSeconds = 10;  // longer than the 5 s interval now set
  EXPECT_EQ(svc.modifyTargetGroup(as(kProvider), tg.id.str(), bad).status().code(), "ValidationError");
  EXPECT_EQ(svc.modifyTargetGroup(as(kOther), tg.id.str(), change).status().code(), "TargetGroupNotFound");
  EXPECT_EQ(all<model::TargetGroup>().at(0).healthCheckTimeoutSeconds, 2);
}

TEST_F(ElbServiceTest, QuotasAreEnforcedPerAccountAndGroup) {
  Limits limits;
  limits.loadBalancersPerAccount = 1;
  limits.targetsPerTargetGroup = 2;
  limits.listenersPerLoadBalancer = 1;
  limits.targetGroupsPerAccount = 2;
  ctx_->replaceSettings({region_, limits});
  LoadBalancer lb = makeLb("only", {subnetA_});
  ElbService svc(*ctx_);
  CreateLoadBalancerInput more;
  more.name = "second";
  more.subnets = {subnetB_};
  EXPECT_EQ(svc.createLoadBalancer(as(kProvider), more).status().code(), "TooManyLoadBalancers");
  EXPECT_EQ(all<NetworkInterface>().size(), 1u);

  auto tg = makeTg("tg", vpc_);
  auto tg2 = makeTg("tg2", vpc_);
  CreateTargetGroupInput third;
  third.name = "tg3";
  third.protocol = "TCP";
  third.port = 80;
  third.vpcId = vpc_.str();
  EXPECT_EQ(svc.createTargetGroup(as(kProvider), third).status().code(), "TooManyTargetGroups");

  EXPECT_EQ(svc.registerTargets(as(kProvider), tg.id.str(),
                                {{"10.0.1.1", {}, ""}, {"10.0.1.2", {}, ""}, {"10.0.1.3", {}, ""}})
                .code(),
            "TooManyTargets");
  EXPECT_TRUE(svc.describeTargetHealth(as(kProvider), tg.id.str(), {})->empty());
  ASSERT_TRUE(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.1", {}, ""}, {"10.0.1.2", {}, ""}}).ok());
  // Registering a target again does not count twice.
  EXPECT_TRUE(svc.registerTargets(as(kProvider), tg.id.str(), {{"10.0.1.2", {}, ""}}).ok());

  ASSERT_TRUE(listen(lb, tg.id.str(), 80).ok());
  EXPECT_EQ(listen(lb, tg2.id.str(), 81).status().code(), "TooManyListeners");

  // The other account has its own quota.
  auto theirVpc = addVpc(kOther, "10.5.0.0/16");
  std::string theirSubnet = addSubnet(kOther, theirVpc, "10.5.1.0/24", "use1-az1");
  CreateLoadBalancerInput theirs;
  theirs.name = "only";
  theirs.subnets = {theirSubnet};
  EXPECT_TRUE(svc.createLoadBalancer(as(kOther), theirs).ok());
}

}  // namespace
}  // namespace lp::control
