// EndpointService over a real SQLite store: lifecycle, who may see and change
// what, and that a refused call leaves nothing behind.
#include "control/endpoint_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/time.h"
#include "control/elb_service.h"
#include "control/network_interface_service.h"
#include "control/subnet_service.h"
#include "security_group_test_fixture.h"

namespace lp::control::testing {
namespace {

namespace es = model::endpoint_state;

class EndpointServiceTest : public SecurityGroupFixture {
 protected:
  void SetUp() override {
    SecurityGroupFixture::SetUp();
    ASSERT_TRUE(syncAwsServiceCatalog(*ctx_).ok());
  }
  EndpointService eps() { return EndpointService(*ctx_); }

  model::Subnet makeSubnet(const model::Vpc& vpc, const std::string& cidr, const std::string& zoneId,
                           const std::string& account) {
    auto s = SubnetService(*ctx_).createSubnet(as(account), {vpc.id.str(), cidr, "", zoneId, {}});
    EXPECT_TRUE(s.ok()) << s.status().toString();
    return s->subnet;
  }
  model::Vpc dnsVpc(const std::string& account, const std::string& cidr) {
    auto vpc = makeVpc(account, cidr);
    EXPECT_TRUE(VpcService(*ctx_).modifyVpcAttribute(as(account), vpc.id.str(), std::nullopt, true).ok());
    return vpc;
  }
  // An NLB of account's in use1-az1 only (a new VPC with CIDR cidr, a /16); its ARN.
  std::string loadBalancer(const std::string& account, const std::string& cidr) {
    auto vpc = makeVpc(account, cidr);
    auto sub = makeSubnet(vpc, cidr.substr(0, cidr.rfind(".0.0/")) + ".1.0/24", "use1-az1", account);
    CreateLoadBalancerInput lbIn;
    lbIn.name = "nlb-" + cidr.substr(0, cidr.find(".0.0/")).substr(cidr.find('.') + 1);
    lbIn.subnets = {sub.id.str()};
    auto lb = ElbService(*ctx_).createLoadBalancer(as(account), lbIn);
    EXPECT_TRUE(lb.ok()) << lb.status().toString();
    return lb.ok() ? lb->id.str() : "";
  }
  Result<ServiceConfigurationInfo> serviceNamed(const std::string& account, const std::string& arn,
                                                const std::string& privateDnsName) {
    CreateServiceConfigurationInput in;
    in.networkLoadBalancerArns = {arn};
    in.privateDnsName = privateDnsName;
    return eps().createServiceConfiguration(as(account), in);
  }
  model::ServiceConfiguration stored(const model::ServiceId& id) {
    std::optional<model::ServiceConfiguration> s;
    store_->read([&](const store::ReadView& r) { s = View(r).get<model::ServiceConfiguration>(id); });
    EXPECT_TRUE(s.has_value());
    return s.value_or(model::ServiceConfiguration{});
  }
  std::string privateDnsNameOf(const model::ServiceId& id) {
    auto s = stored(id);
    return s.privateDnsName + "/" + s.privateDnsNameState;
  }
  // A provider service in use1-az1 only, open to the consumer.
  model::ServiceConfiguration publish(bool acceptance) {
    CreateServiceConfigurationInput in;
    in.acceptanceRequired = acceptance;
    in.networkLoadBalancerArns = {loadBalancer(kProvider, "10.9.0.0/16")};
    auto svc = eps().createServiceConfiguration(as(kProvider), in);
    EXPECT_TRUE(svc.ok()) << svc.status().toString();
    EXPECT_TRUE(eps()
                    .modifyServicePermissions(as(kProvider), svc->service.id.str(),
                                              {std::string("arn:aws:iam::") + kConsumer + ":root"}, {})
                    .ok());
    return svc->service;
  }
  CreateVpcEndpointInput endpointTo(const std::string& service, const model::Vpc& vpc,
                                    std::vector<std::string> subnets) {
    CreateVpcEndpointInput in;
    in.vpcEndpointType = "Interface";
    in.vpcId = vpc.id.str();
    in.serviceName = service;
    in.subnetIds = std::move(subnets);
    return in;
  }
  size_t count(std::string_view kind) {
    size_t n = 0;
    store_->read([&](const store::ReadView& r) {
      r.forEach(kind, [&](const store::Object&) {
        ++n;
        return true;
      });
    });
    return n;
  }
  model::VpcEndpoint endpoint(const model::VpcEndpointId& id) {
    std::optional<model::VpcEndpoint> e;
    store_->read([&](const store::ReadView& r) { e = View(r).get<model::VpcEndpoint>(id); });
    EXPECT_TRUE(e.has_value());
    return e.value_or(model::VpcEndpoint{});
  }
};

TEST_F(EndpointServiceTest, EndpointToAnAwsServiceGetsInterfacesAndSeedShapedDnsNames) {
  auto vpc = dnsVpc(kConsumer, "10.1.0.0/16");
  auto a = makeSubnet(vpc, "10.1.1.0/24", "use1-az1", kConsumer);
  auto b = makeSubnet(vpc, "10.1.2.0/24", "use1-az2", kConsumer);
  auto e =
      eps().createVpcEndpoint(as(kConsumer), endpointTo("com.amazonaws.us-east-1.ec2", vpc, {a.id.str(), b.id.str()}));
  ASSERT_TRUE(e.ok()) << e.status().toString();
  const auto& ep = e->endpoint;
  EXPECT_EQ(ep.state, es::kPending);
  EXPECT_TRUE(ep.privateDnsEnabled);  // AWS services default to private DNS
  ASSERT_EQ(ep.networkInterfaceIds.size(), 2u);
  ASSERT_EQ(ep.dnsEntries.size(), 4u);
  std::string first = ep.id.str() + "-" + ep.dnsLabel;
  EXPECT_EQ(ep.dnsEntries[0].dnsName, first + ".ec2.us-east-1.vpce.amazonaws.com");
  // Zonal names use the consumer's zone names, which differ from the provider's.
  EXPECT_EQ(ep.dnsEntries[1].zoneId.empty(), false);
  std::string zoneName = region_.zoneName(kConsumer, ep.dnsEntries[1].zoneId);
  EXPECT_EQ(ep.dnsEntries[1].dnsName, first + "-" + zoneName + ".ec2.us-east-1.vpce.amazonaws.com");
  EXPECT_EQ(ep.dnsEntries[3].dnsName, "ec2.us-east-1.amazonaws.com");
  EXPECT_EQ(e->groups.size(), 1u);
  EXPECT_EQ(e->groups[0].second, "default");
}

TEST_F(EndpointServiceTest, ARefusedCreateLeavesNoInterfaceBehind) {
  auto vpc = dnsVpc(kConsumer, "10.2.0.0/16");
  auto a = makeSubnet(vpc, "10.2.1.0/24", "use1-az1", kConsumer);
  // A /28 holds 11 assignable addresses: fill it.
  auto full = makeSubnet(vpc, "10.2.2.0/28", "use1-az2", kConsumer);
  for (int i = 0; i < 11; ++i) {
    NetworkInterfaceService enis(*ctx_);
    ASSERT_TRUE(enis.createNetworkInterface(as(kConsumer), {full.id.str(), "", "", {}, "", {}}).ok());
  }
  size_t enisBefore = count(model::NetworkInterface::kKind);
  auto e = eps().createVpcEndpoint(as(kConsumer),
                                   endpointTo("com.amazonaws.us-east-1.sts", vpc, {a.id.str(), full.id.str()}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), err::kInsufficientFreeAddresses);
  EXPECT_EQ(count(model::NetworkInterface::kKind), enisBefore);
  EXPECT_EQ(count(model::VpcEndpoint::kKind), 0u);
}

TEST_F(EndpointServiceTest, AcceptanceWorkflowAndWhoMayDoWhat) {
  auto svc = publish(/*acceptance=*/true);
  auto vpc = dnsVpc(kConsumer, "10.3.0.0/16");
  auto a = makeSubnet(vpc, "10.3.1.0/24", "use1-az1", kConsumer);
  auto e = eps().createVpcEndpoint(as(kConsumer), endpointTo(svc.serviceName, vpc, {a.id.str()}));
  ASSERT_TRUE(e.ok()) << e.status().toString();
  auto id = e->endpoint.id;
  EXPECT_EQ(e->endpoint.state, es::kPendingAcceptance);
  EXPECT_FALSE(e->endpoint.privateDnsEnabled);

  // The consumer cannot decide for the provider; the provider cannot delete.
  EXPECT_EQ(eps().acceptConnections(as(kConsumer), svc.id.str(), {id.str()}).status().code(), err::kServiceIdNotFound);
  auto del = eps().deleteVpcEndpoints(as(kProvider), {id.str()});
  ASSERT_TRUE(del.ok());
  ASSERT_EQ(del->size(), 1u);
  EXPECT_EQ((*del)[0].code, err::kEndpointNotFound);
  EXPECT_EQ(endpoint(id).state, es::kPendingAcceptance);
  auto gone = eps().deleteServiceConfigurations(as(kProvider), {svc.id.str()});
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ((*gone)[0].code, err::kExistingVpcEndpointConnections);

  auto acc = eps().acceptConnections(as(kProvider), svc.id.str(), {id.str()});
  ASSERT_TRUE(acc.ok());
  EXPECT_TRUE(acc->empty());
  EXPECT_EQ(endpoint(id).state, es::kPending);
  auto rej = eps().rejectConnections(as(kProvider), svc.id.str(), {id.str()});
  ASSERT_TRUE(rej.ok());
  EXPECT_EQ(endpoint(id).state, es::kRejected);
  // The provider sees the connection; the consumer sees none of its own kind.
  auto conns = eps().describeConnections(as(kProvider), {}, {});
  ASSERT_TRUE(conns.ok());
  ASSERT_EQ(conns->items.size(), 1u);
  EXPECT_EQ(conns->items[0].endpoint.ownerId, kConsumer);
  EXPECT_TRUE(eps().describeConnections(as(kConsumer), {}, {})->items.empty());

  // Notifications of the endpoint and of the service go with them.
  model::ConnectionNotification forEndpoint, forService;
  forEndpoint.id = model::ConnectionNotificationId::generate(random_);
  forEndpoint.ownerId = kConsumer;
  forEndpoint.vpcEndpointId = id;
  forService.id = model::ConnectionNotificationId::generate(random_);
  forService.ownerId = kProvider;
  forService.serviceId = svc.id;
  put(forEndpoint);
  put(forService);
  ASSERT_EQ(count(model::ConnectionNotification::kKind), 2u);
  ASSERT_TRUE(eps().deleteVpcEndpoints(as(kConsumer), {id.str()})->empty());
  EXPECT_EQ(endpoint(id).state, es::kDeleting);
  EXPECT_TRUE(endpoint(id).networkInterfaceIds.empty());
  EXPECT_EQ(count(model::ConnectionNotification::kKind), 1u);
  EXPECT_TRUE(eps().deleteServiceConfigurations(as(kProvider), {svc.id.str()})->empty());
  EXPECT_EQ(count(model::ConnectionNotification::kKind), 0u);
}

// The lifecycle timeline's record: each change the API makes is stored with the
// endpoint, with its time, the action and the calling account; refused calls and
// dry runs add nothing.
TEST_F(EndpointServiceTest, EachStateChangeIsRecordedWithItsTimeActionAndAccount) {
  auto svc = publish(/*acceptance=*/true);
  auto vpc = dnsVpc(kConsumer, "10.3.0.0/16");
  auto a = makeSubnet(vpc, "10.3.1.0/24", "use1-az1", kConsumer);
  auto e = eps().createVpcEndpoint(as(kConsumer), endpointTo(svc.serviceName, vpc, {a.id.str()}));
  ASSERT_TRUE(e.ok()) << e.status().toString();
  auto id = e->endpoint.id;
  std::string created = iso8601Millis(clock_.now());
  clock_.advance(std::chrono::seconds(3));
  // Refused: the consumer accepting, the provider deleting, a dry run, accepting twice.
  EXPECT_FALSE(eps().acceptConnections(as(kConsumer), svc.id.str(), {id.str()}).ok());
  ASSERT_TRUE(eps().deleteVpcEndpoints(as(kProvider), {id.str()}).ok());
  auto dry = as(kProvider);
  dry.dryRun = true;
  EXPECT_FALSE(eps().acceptConnections(dry, svc.id.str(), {id.str()}).ok());
  ASSERT_EQ(endpoint(id).stateHistory.size(), 1u);

  ASSERT_TRUE(eps().acceptConnections(as(kProvider), svc.id.str(), {id.str()})->empty());
  std::string accepted = iso8601Millis(clock_.now());
  EXPECT_EQ(eps().acceptConnections(as(kProvider), svc.id.str(), {id.str()})->size(), 1u);  // not pendingAcceptance
  clock_.advance(std::chrono::milliseconds(1500));
  ASSERT_TRUE(eps().rejectConnections(as(kProvider), svc.id.str(), {id.str()})->empty());
  std::string rejected = iso8601Millis(clock_.now());
  clock_.advance(std::chrono::seconds(2));
  ASSERT_TRUE(eps().deleteVpcEndpoints(as(kConsumer), {id.str()})->empty());
  std::string deleting = iso8601Millis(clock_.now());

  auto h = endpoint(id).stateHistory;
  std::vector<model::EndpointStateChange> want = {
      {std::string(es::kPendingAcceptance), created, "CreateVpcEndpoint", kConsumer, ""},
      {std::string(es::kPending), accepted, "AcceptVpcEndpointConnections", kProvider, ""},
      {std::string(es::kRejected), rejected, "RejectVpcEndpointConnections", kProvider, ""},
      {std::string(es::kDeleting), deleting, "DeleteVpcEndpoints", kConsumer, ""},
  };
  EXPECT_EQ(h, want);
  EXPECT_EQ(endpoint(id).stateChangedAt, deleting);
}

// The history is bounded: the oldest changes go first. A stored endpoint from before
// the history existed reads as one with none.
TEST(EndpointStateHistory, KeepsTheLastChangesOnlyAndOldRecordsReadEmpty) {
  model::VpcEndpoint e;
  for (size_t i = 0; i < model::kStateHistoryLimit + 5; ++i)
    e.changeState(i % 2 ? es::kAvailable : es::kPending, std::string("t").append(std::to_string(i)), model::kReconcilerCause, "");
  ASSERT_EQ(e.stateHistory.size(), model::kStateHistoryLimit);
  EXPECT_EQ(e.stateHistory.front().at, "t5");
  EXPECT_EQ(e.stateHistory.back().at, "t" + std::to_string(model::kStateHistoryLimit + 4));
  EXPECT_EQ(e.state, e.stateHistory.back().state);
  EXPECT_EQ(e.stateChangedAt, e.stateHistory.back().at);

  auto old = nlohmann::json::parse(R"({"id":"vpce-0123456789abcdef0","state":"available"})").get<model::VpcEndpoint>();
  EXPECT_TRUE(old.stateHistory.empty());
  auto round = nlohmann::json(e).get<model::VpcEndpoint>();
  EXPECT_EQ(round.stateHistory, e.stateHistory);
}

// Pages walk the owner index from the token's id (issue 14): every endpoint once,
// in id order, filters applied before the page is cut, and the same tokens as before.
TEST_F(EndpointServiceTest, DescribeVpcEndpointsPagesThroughEveryEndpointOnce) {
  setLimit(&Limits::interfaceEndpointsPerVpc, 20);
  auto svc = publish(false);
  auto a = makeVpc(kConsumer, "10.1.0.0/16");
  auto b = makeVpc(kConsumer, "10.2.0.0/16");
  auto sa = makeSubnet(a, "10.1.1.0/24", "use1-az1", kConsumer);
  auto sb = makeSubnet(b, "10.2.1.0/24", "use1-az1", kConsumer);
  std::vector<std::string> inA;
  for (int i = 0; i < 12; ++i) {
    bool first = i % 3 != 0;
    auto e = eps().createVpcEndpoint(as(kConsumer),
                                     endpointTo(svc.serviceName, first ? a : b, {first ? sa.id.str() : sb.id.str()}));
    ASSERT_TRUE(e.ok()) << e.status().toString();
    if (first) inA.push_back(e->endpoint.id.str());
  }
  std::sort(inA.begin(), inA.end());
  DescribeInput in;
  in.filters = {{"vpc-id", {a.id.str()}}};
  in.page.maxResults = 5;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = eps().describeVpcEndpoints(as(kConsumer), in);
    ASSERT_TRUE(page.ok()) << page.status().toString();
    for (const auto& r : page->items) seen.push_back(r.endpoint.id.str());
    in.page.nextToken = page->nextToken;
    ++pages;
  } while (!in.page.nextToken.empty() && pages < 10);
  EXPECT_EQ(seen, inA);
  EXPECT_EQ(pages, 2);  // 8 in VPC a: 5, then 3 with no token after them
  in.page.nextToken = "not-a-token";
  EXPECT_EQ(eps().describeVpcEndpoints(as(kConsumer), in).status().code(), err::kInvalidNextToken);
  // Named ids: only the caller's, and one unknown id fails the call.
  DescribeInput named;
  named.ids = {inA[3], inA[1]};
  auto two = eps().describeVpcEndpoints(as(kConsumer), named);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->items.size(), 2u);
  EXPECT_EQ(two->items[0].endpoint.id.str(), inA[1]);
  EXPECT_EQ(eps().describeVpcEndpoints(as(kProvider), named).status().code(), err::kEndpointIdNotFound);
  auto provider = eps().describeConnections(as(kProvider), {}, PageRequest{5, ""});
  ASSERT_TRUE(provider.ok());
  EXPECT_EQ(provider->items.size(), 5u);
  EXPECT_FALSE(provider->nextToken.empty());
}

// The per-VPC quota, ClientToken idempotency and IP allocation read store
// indexes: after a restart (the store reloads them from its objects) they must
// still see every endpoint written before it.
TEST_F(EndpointServiceTest, QuotaClientTokenAndAddressesHoldAfterRestart) {
  setLimit(&Limits::interfaceEndpointsPerVpc, 3);
  auto svc = publish(false);
  auto vpc = makeVpc(kConsumer, "10.1.0.0/16");
  auto sub = makeSubnet(vpc, "10.1.1.0/24", "use1-az1", kConsumer);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto in = endpointTo(svc.serviceName, vpc, {sub.id.str()});
    in.clientToken = "token-" + std::to_string(i);
    auto e = eps().createVpcEndpoint(as(kConsumer), in);
    ASSERT_TRUE(e.ok()) << e.status().toString();
    ids.push_back(e->endpoint.id.str());
  }
  store_.reset();
  auto reopened = store::openSqliteStore(dir_, indexer());
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  ctx_ = std::make_unique<ControlContext>(*store_, clock_, random_, region_, ctx_->limits());

  auto again = endpointTo(svc.serviceName, vpc, {sub.id.str()});
  again.clientToken = "token-1";
  auto same = eps().createVpcEndpoint(as(kConsumer), again);
  ASSERT_TRUE(same.ok()) << same.status().toString();
  EXPECT_EQ(same->endpoint.id.str(), ids[1]);
  auto third = eps().createVpcEndpoint(as(kConsumer), endpointTo(svc.serviceName, vpc, {sub.id.str()}));
  ASSERT_TRUE(third.ok()) << third.status().toString();
  auto fourth = eps().createVpcEndpoint(as(kConsumer), endpointTo(svc.serviceName, vpc, {sub.id.str()}));
  EXPECT_EQ(fourth.status().code(), err::kVpcEndpointLimitExceeded);
  std::set<std::string> addresses;
  for (const auto& eni : all<model::NetworkInterface>())
    if (eni.subnetId == sub.id) {
      EXPECT_TRUE(addresses.insert(eni.privateIp).second) << eni.privateIp;
    }
  EXPECT_EQ(addresses.size(), 3u);
}

TEST_F(EndpointServiceTest, ServicesAreInvisibleWithoutPermission) {
  auto svc = publish(false);
  auto outsider = as("333333333333");
  region_.accounts.push_back({"333333333333", "outsider", "AKO", "so"});
  ctx_->replaceSettings({region_, ctx_->limits()});
  auto list = eps().describeVpcEndpointServices(outsider, {}, {}, {});
  ASSERT_TRUE(list.ok());
  for (const auto& s : list->items) EXPECT_NE(s.service.serviceName, svc.serviceName);
  EXPECT_EQ(list->items.size(), awsServiceCatalog().size());
  auto named = eps().describeVpcEndpointServices(outsider, {svc.serviceName}, {}, {});
  EXPECT_EQ(named.status().code(), err::kInvalidServiceName);
  auto mine = eps().describeVpcEndpointServices(as(kConsumer), {svc.serviceName}, {}, {});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(mine->items[0].zoneNames, std::vector<std::string>{region_.zoneName(kConsumer, "use1-az1")});
}

TEST_F(EndpointServiceTest, ModifyMovesInterfacesAndKeepsOnePerZone) {
  auto vpc = dnsVpc(kConsumer, "10.4.0.0/16");
  auto a = makeSubnet(vpc, "10.4.1.0/24", "use1-az1", kConsumer);
  auto a2 = makeSubnet(vpc, "10.4.3.0/24", "use1-az1", kConsumer);
  auto in = endpointTo("com.amazonaws.us-east-1.kms", vpc, {a.id.str()});
  in.privateDnsEnabled = false;
  auto e = eps().createVpcEndpoint(as(kConsumer), in);
  ASSERT_TRUE(e.ok());
  auto id = e->endpoint.id;
  ModifyVpcEndpointInput m;
  m.vpcEndpointId = id.str();
  m.addSubnetIds = {a2.id.str()};
  EXPECT_EQ(eps().modifyVpcEndpoint(as(kConsumer), m).code(), err::kDuplicateSubnetsInSameZone);
  // Swapping the zone's subnet in one call works: removals come first.
  m.removeSubnetIds = {a.id.str()};
  ASSERT_TRUE(eps().modifyVpcEndpoint(as(kConsumer), m).ok());
  auto after = endpoint(id);
  ASSERT_EQ(after.subnetIds, std::vector<model::SubnetId>{a2.id});
  ASSERT_EQ(after.networkInterfaceIds.size(), 1u);
  EXPECT_NE(after.networkInterfaceIds[0], e->endpoint.networkInterfaceIds[0]);
  EXPECT_EQ(count(model::NetworkInterface::kKind), 1u);
}

TEST_F(EndpointServiceTest, PrivateDnsNamesUnderAwsDomainsAreRefused) {
  auto arn = loadBalancer(kProvider, "10.9.0.0/16");
  size_t before = count(model::ServiceConfiguration::kKind);
  for (const char* name :
       {"sts.us-east-1.amazonaws.com", "STS.US-EAST-1.AmazonAWS.com", "amazonaws.com", "*.amazonaws.com",
        "*.us-east-1.vpce.amazonaws.com", "s3.cn-north-1.amazonaws.com.cn", "ec2.us-east-1.api.aws", "aws"}) {
    auto s = serviceNamed(kProvider, arn, name);
    EXPECT_EQ(s.status().code(), err::kInvalidParameter) << name;
  }
  EXPECT_EQ(count(model::ServiceConfiguration::kKind), before);
  // Only whole labels count: these are not AWS's.
  auto own = serviceNamed(kProvider, arn, "api.notamazonaws.com");
  ASSERT_TRUE(own.ok()) << own.status().toString();
  EXPECT_TRUE(serviceNamed(kProvider, arn, "amazonaws.com.example").ok());
  ModifyServiceConfigurationInput m;
  m.serviceId = own->service.id.str();
  m.privateDnsName = "sts.us-east-1.amazonaws.com";
  EXPECT_EQ(eps().modifyServiceConfiguration(as(kProvider), m).code(), err::kInvalidParameter);
  EXPECT_EQ(privateDnsNameOf(own->service.id), "api.notamazonaws.com/pendingVerification");
}

TEST_F(EndpointServiceTest, APrivateDnsNameBelongsToTheFirstAccountThatClaimsIt) {
  auto mine = serviceNamed(kProvider, loadBalancer(kProvider, "10.9.0.0/16"), "api.example.com");
  ASSERT_TRUE(mine.ok()) << mine.status().toString();
  auto theirs = loadBalancer(kConsumer, "10.8.0.0/16");
  size_t before = count(model::ServiceConfiguration::kKind);
  // The same name in any spelling, a name under it, a domain above it, a wildcard over it.
  for (const char* name : {"api.example.com", "API.Example.COM", "v1.api.example.com", "example.com", "*.example.com",
                           "*.api.example.com"}) {
    auto s = serviceNamed(kConsumer, theirs, name);
    EXPECT_EQ(s.status().code(), err::kInvalidParameter) << name;
  }
  EXPECT_EQ(count(model::ServiceConfiguration::kKind), before);
  // A sibling does not overlap; Modify follows the same rule and changes nothing when refused.
  auto sibling = serviceNamed(kConsumer, theirs, "web.example.com");
  ASSERT_TRUE(sibling.ok()) << sibling.status().toString();
  ModifyServiceConfigurationInput m;
  m.serviceId = sibling->service.id.str();
  m.privateDnsName = "api.example.com";
  EXPECT_EQ(eps().modifyServiceConfiguration(as(kConsumer), m).code(), err::kInvalidParameter);
  EXPECT_EQ(privateDnsNameOf(sibling->service.id), "web.example.com/pendingVerification");
  // The owner may reuse its name on another service.
  EXPECT_TRUE(serviceNamed(kProvider, loadBalancer(kProvider, "10.7.0.0/16"), "api.example.com").ok());
  // Once the owner lets go of the name on every service, it is free.
  auto held = eps().describeServiceConfigurations(as(kProvider), {});
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->items.size(), 2u);
  for (const auto& s : held->items) {
    ModifyServiceConfigurationInput drop;
    drop.serviceId = s.service.id.str();
    drop.removePrivateDnsName = true;
    ASSERT_TRUE(eps().modifyServiceConfiguration(as(kProvider), drop).ok());
  }
  ASSERT_TRUE(eps().modifyServiceConfiguration(as(kConsumer), m).ok());
  EXPECT_EQ(privateDnsNameOf(sibling->service.id), "api.example.com/pendingVerification");
  ASSERT_TRUE(eps().startPrivateDnsVerification(as(kConsumer), sibling->service.id.str()).ok());
  EXPECT_EQ(privateDnsNameOf(sibling->service.id), "api.example.com/verified");
}

TEST_F(EndpointServiceTest, VerifyingAStoredAwsNameFailsAndConsumersDoNotGetIt) {
  // A service stored before names under AWS's domains were refused.
  auto svc = stored(publish(/*acceptance=*/false).id);
  svc.privateDnsName = "sts.us-east-1.amazonaws.com";
  svc.privateDnsNameState = "pendingVerification";
  put(svc);
  ASSERT_TRUE(eps().startPrivateDnsVerification(as(kProvider), svc.id.str()).ok());
  EXPECT_EQ(privateDnsNameOf(svc.id), "sts.us-east-1.amazonaws.com/failed");
  auto vpc = dnsVpc(kConsumer, "10.5.0.0/16");
  auto a = makeSubnet(vpc, "10.5.1.0/24", "use1-az1", kConsumer);
  auto e = eps().createVpcEndpoint(as(kConsumer), endpointTo(svc.serviceName, vpc, {a.id.str()}));
  ASSERT_TRUE(e.ok()) << e.status().toString();
  EXPECT_FALSE(e->endpoint.privateDnsEnabled);
  for (const auto& d : e->endpoint.dnsEntries) EXPECT_NE(d.dnsName, "sts.us-east-1.amazonaws.com");
}

}  // namespace
}  // namespace lp::control::testing
