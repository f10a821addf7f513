// planDns from a real (SQLite) store filled directly with the records the control
// plane writes: which names exist, with which addresses, seen from where.
#include "reconciler/dns_plan.h"
#include "reconciler/reconciler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../store/store_fixture.h"
#include "dns/dns_server.h"
#include "dns_test_util.h"
#include "model/endpoint.h"
#include "model/resources.h"

namespace lp::reconciler {
namespace {

using nlohmann::json;

const std::string kRegional = "vpce-0aaa-abcdefgh.ec2.us-east-1.vpce.amazonaws.com";
const std::string kZonalA = "vpce-0aaa-abcdefgh-us-east-1a.ec2.us-east-1.vpce.amazonaws.com";
const std::string kZonalB = "vpce-0aaa-abcdefgh-us-east-1b.ec2.us-east-1.vpce.amazonaws.com";
const std::string kPrivate = "ec2.us-east-1.amazonaws.com";

class DnsPlanTest : public store::testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    vpc("vpc-c", "10.1.0.0/16", true, true);
    vpc("vpc-d", "10.2.0.0/16", true, false);
    vpc("vpc-x", "10.3.0.0/16", false, false);
    put(model::ServiceConfiguration::kKind, "vpce-svc-ec2",
        {{"id", "vpce-svc-ec2"},
         {"ownerId", "amazon"},
         {"serviceName", "com.amazonaws.us-east-1.ec2"},
         {"privateDnsName", kPrivate}});
    eni("eni-a", "vpc-c", "use1-az1", "10.1.1.50");
    eni("eni-b", "vpc-c", "use1-az2", "10.1.2.50");
    endpoint("vpce-0aaa", "vpc-c", "available", true, {"eni-a", "eni-b"});
  }
  void vpc(const std::string& id, const std::string& cidr, bool dnsSupport, bool dnsHostnames) {
    put(model::Vpc::kKind, id,
        {{"id", id},
         {"ownerId", "222222222222"},
         {"cidrBlock", cidr},
         {"enableDnsSupport", dnsSupport},
         {"enableDnsHostnames", dnsHostnames}});
  }
  void eni(const std::string& id, const std::string& vpcId, const std::string& zone, const std::string& ip) {
    put(model::NetworkInterface::kKind, id,
        {{"id", id},
         {"vpcId", vpcId},
         {"zoneId", zone},
         {"privateIp", ip},
         {"interfaceType", "vpc_endpoint"},
         {"requesterManaged", true}});
  }
  void endpoint(const std::string& id, const std::string& vpcId, const std::string& state, bool privateDns,
                std::vector<std::string> enis, const std::string& label = "abcdefgh") {
    std::string base = id + "-" + label;
    json entries =
        json::array({{{"dnsName", base + ".ec2.us-east-1.vpce.amazonaws.com"}, {"zoneId", ""}},
                     {{"dnsName", base + "-us-east-1a.ec2.us-east-1.vpce.amazonaws.com"}, {"zoneId", "use1-az1"}},
                     {{"dnsName", base + "-us-east-1b.ec2.us-east-1.vpce.amazonaws.com"}, {"zoneId", "use1-az2"}}});
    if (privateDns) entries.push_back({{"dnsName", kPrivate}, {"zoneId", ""}});
    put(model::VpcEndpoint::kKind, id,
        {{"id", id},
         {"vpcId", vpcId},
         {"serviceId", "vpce-svc-ec2"},
         {"state", state},
         {"privateDnsEnabled", privateDns},
         {"networkInterfaceIds", enis},
         {"dnsEntries", entries}});
  }
  dns::ZoneSnapshot plan() {
    dns::ZoneSnapshot s;
    store_->read([&](const store::ReadView& v) { s = planDns(v, "us-east-1"); });
    return s;
  }
};

TEST_F(DnsPlanTest, EndpointSpecificNamesAreSharedPrivateNameOnlyInItsVpc) {
  auto s = plan();
  EXPECT_EQ(s.shared.zones, std::vector<std::string>{"us-east-1.vpce.amazonaws.com"});
  EXPECT_EQ(s.shared.a.at(kRegional), (std::vector<std::string>{"10.1.1.50", "10.1.2.50"}));
  EXPECT_EQ(s.shared.a.at(kZonalA), std::vector<std::string>{"10.1.1.50"});
  EXPECT_EQ(s.shared.a.at(kZonalB), std::vector<std::string>{"10.1.2.50"});
  ASSERT_EQ(s.views.size(), 1u);
  EXPECT_EQ(s.views.at("vpc-c").zones, std::vector<std::string>{kPrivate});
  EXPECT_EQ(s.views.at("vpc-c").a.at(kPrivate), (std::vector<std::string>{"10.1.1.50", "10.1.2.50"}));
}

TEST_F(DnsPlanTest, ResolversForVpcsWithDnsSupportAtBasePlusTwo) {
  auto s = plan();
  ASSERT_EQ(s.resolvers.size(), 2u);
  EXPECT_EQ(s.resolvers[0], (dns::VpcResolver{"vpc-c", "lp-vpc-c", "10.1.0.2", 53}));
  EXPECT_EQ(s.resolvers[1], (dns::VpcResolver{"vpc-d", "lp-vpc-d", "10.2.0.2", 53}));
}

TEST_F(DnsPlanTest, OnlyAvailableEndpointsHaveNames) {
  for (const char* state : {"pendingAcceptance", "pending", "rejected", "deleting", "deleted", "failed"}) {
    endpoint("vpce-0aaa", "vpc-c", state, true, {"eni-a", "eni-b"});
    auto s = plan();
    EXPECT_TRUE(s.shared.a.empty()) << state;
    EXPECT_TRUE(s.views.empty()) << state;
  }
}

TEST_F(DnsPlanTest, PrivateDnsOffRemovesOnlyThePrivateName) {
  endpoint("vpce-0aaa", "vpc-c", "available", false, {"eni-a", "eni-b"});
  auto s = plan();
  EXPECT_TRUE(s.views.empty());
  EXPECT_EQ(s.shared.a.count(kRegional), 1u);
}

TEST_F(DnsPlanTest, PrivateDnsNeedsDnsHostnamesInTheVpc) {
  eni("eni-d", "vpc-d", "use1-az1", "10.2.1.50");
  endpoint("vpce-0ddd", "vpc-d", "available", true, {"eni-d"}, "zzzzzzzz");
  auto s = plan();
  EXPECT_EQ(s.views.count("vpc-d"), 0u);
  EXPECT_EQ(s.shared.a.at("vpce-0ddd-zzzzzzzz.ec2.us-east-1.vpce.amazonaws.com"),
            std::vector<std::string>{"10.2.1.50"});
}

TEST_F(DnsPlanTest, ChangesAreVisibleInTheNextSnapshot) {
  auto before = plan();
  eni("eni-c", "vpc-c", "use1-az3", "10.1.3.50");
  endpoint("vpce-0aaa", "vpc-c", "available", true, {"eni-a", "eni-b", "eni-c"});
  auto after = plan();
  EXPECT_FALSE(before == after);
  EXPECT_EQ(after.shared.a.at(kRegional).size(), 3u);
  EXPECT_GT(after.serial, before.serial);
}

// The reconciler in front of a real DnsServer: each pass serves the names of the
// changes it took in, at once (the host listener here; no namespaces).
TEST_F(DnsPlanTest, EachPassPublishesItsChangesToTheServer) {
  dns::DnsServerOptions o;
  o.hostAddress = "127.0.0.1";
  dns::DnsServer server(o);
  ASSERT_TRUE(server.start().ok());
  struct Sink final : NameSink {
    dns::DnsServer& server;
    explicit Sink(dns::DnsServer& s) : server(s) {}
    void publish(std::shared_ptr<const dns::ZoneSnapshot> snap) override { server.publish(std::move(snap)); }
  } sink(server);
  NullHostNetwork host;
  SystemClock clock;
  ReconcilerOptions opts;
  opts.vpcResolvers = false;
  Reconciler reconciler(*store_, host, nullptr, &sink, clock, opts);
  auto pass = [&] { reconciler.reconcileUntilIdle(); };
  auto ask = [&](const std::string& name) {
    auto r = dns::testing::udpExchange(dns::testing::query(name, LDNS_RR_TYPE_A), "127.0.0.1", server.hostPort());
    return r ? dns::testing::parse(*r) : nullptr;
  };
  pass();
  auto a = ask(kRegional);
  ASSERT_TRUE(a);
  EXPECT_EQ(dns::testing::answers(a.get()), (std::vector<std::string>{"10.1.1.50", "10.1.2.50"}));
  // The host sees endpoint-specific names only, never the private one.
  auto p = ask(kPrivate);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);

  endpoint("vpce-0aaa", "vpc-c", "deleting", true, {"eni-a", "eni-b"});
  pass();
  auto gone = ask(kRegional);
  ASSERT_TRUE(gone);
  EXPECT_EQ(ldns_pkt_get_rcode(gone.get()), LDNS_RCODE_NXDOMAIN);
  reconciler.teardown();
  server.stop();
}

}  // namespace
}  // namespace lp::reconciler
