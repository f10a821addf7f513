// NetHostProvisioner against the real kernel, from a store filled directly: VPC
// and workload namespaces, bridges, addresses, security groups as nftables, orphan
// removal and teardown. Needs root; ids carry the pid so parallel runs never meet,
// and the fixture tears everything down even when an assertion fails.
#include "reconciler/net_host_provisioner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../test_namespaces.h"
#include "model/endpoint.h"
#include "model/network.h"
#include "model/resources.h"
#include "net/netlink.h"
#include "net/netns.h"
#include "store/store.h"

namespace lp::reconciler {
namespace {

using nlohmann::json;

class NetHostProvisionerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/lp-nettest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = store::openSqliteStore(dir_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(getpid()));
    u_ = hex;
    prov_ = std::make_unique<NetHostProvisioner>(dir_, dir_ + "/etc-netns");
  }
  void TearDown() override {
    if (prov_) prov_->teardown();
    for (const auto& ns : net::listNamespaces("lp-")) {
      if (ns.find(u_) != std::string::npos) (void)net::deleteNamespace(ns);
    }
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string id(const std::string& prefix, const std::string& n) { return prefix + "-0" + u_ + "0000000" + n; }
  void put(std::string_view kind, const std::string& oid, const json& body) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& t) {
                      t.put(kind, oid, body.dump());
                      return Status::Ok();
                    })
                    .ok());
  }
  void erase(std::string_view kind, const std::string& oid) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& t) {
                      t.erase(kind, oid);
                      return Status::Ok();
                    })
                    .ok());
  }
  ProvisionReport apply() {
    ProvisionReport r;
    store_->read([&](const store::ReadView& v) { r = prov_->applyPlan(planHost(v)); });
    return r;
  }
  // A VPC 10.7.0.0/16 with subnet 10.7.1.0/24, a group "open" whose members
  // reach each other and a group "web" that lets only members of "open" reach port 80.
  void basicVpc() {
    vpc_ = id("vpc", "1");
    subnet_ = id("subnet", "1");
    open_ = id("sg", "1");
    web_ = id("sg", "2");
    put(model::Vpc::kKind, vpc_, {{"id", vpc_}, {"ownerId", "111111111111"}, {"cidrBlock", "10.7.0.0/16"}});
    put(model::Subnet::kKind, subnet_,
        {{"id", subnet_}, {"ownerId", "111111111111"}, {"vpcId", vpc_}, {"cidrBlock", "10.7.1.0/24"}});
    json all = {{"id", "sgr-1"}, {"egress", true}, {"protocol", "-1"}, {"cidr", "0.0.0.0/0"}};
    // Like a VPC's default group: its members reach each other.
    json self = {{"id", "sgr-3"}, {"protocol", "-1"}, {"groupId", open_}};
    put(model::SecurityGroup::kKind, open_,
        {{"id", open_}, {"ownerId", "111111111111"}, {"vpcId", vpc_}, {"name", "open"}, {"rules", {all, self}}});
    json web80 = {{"id", "sgr-2"}, {"protocol", "tcp"}, {"fromPort", 80}, {"toPort", 80}, {"groupId", open_}};
    put(model::SecurityGroup::kKind, web_,
        {{"id", web_}, {"ownerId", "111111111111"}, {"vpcId", vpc_}, {"name", "web"}, {"rules", {web80, all}}});
  }
  std::string eni(const std::string& n, const std::string& ip, const std::string& type,
                  std::vector<std::string> groups) {
    std::string e = id("eni", n);
    put(model::NetworkInterface::kKind, e,
        {{"id", e},
         {"ownerId", "111111111111"},
         {"vpcId", vpc_},
         {"subnetId", subnet_},
         {"privateIp", ip},
         {"interfaceType", type},
         {"groupIds", groups}});
    return e;
  }
  std::vector<std::string> addrs(const std::string& ns, const std::string& link) {
    auto nl = net::Netlink::open(ns);
    if (!nl) return {};
    auto a = (*nl)->addresses(link);
    return a ? *a : std::vector<std::string>{};
  }
  int sh(const std::string& cmd) { return system(cmd.c_str()); }
  // 0 when a TCP SYN from the interface's namespace gets an answer (accept or RST).
  int reach(const std::string& eniId, const std::string& ip, int port = 9) {
    return sh("ip netns exec lp-" + eniId +
              " /usr/bin/python3 -c \"import socket,sys;s=socket.socket();s.settimeout(2)\n"
              "try: s.connect(('" +
              ip + "'," + std::to_string(port) + "))\nexcept ConnectionRefusedError: sys.exit(0)\n\" 2>/dev/null");
  }

  std::string dir_, u_, vpc_, subnet_, open_, web_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<NetHostProvisioner> prov_;
};

TEST_F(NetHostProvisionerTest, VpcSubnetAndWorkloadsBecomeNamespacesThatReachEachOther) {
  basicVpc();
  std::string w1 = eni("1", "10.7.1.10", "interface", {open_});
  std::string w2 = eni("2", "10.7.1.11", "interface", {open_});
  apply();
  std::string vns = "lp-" + vpc_;
  ASSERT_TRUE(net::namespaceExists(vns));
  EXPECT_EQ(*net::getSysctl(vns, "net/ipv4/ip_forward"), "1");
  // The namespace's own connections (health checks, the splice path) keep off the
  // ports clients pick, which the fast path carries to targets unchanged.
  EXPECT_EQ(*net::getSysctl(vns, "net/ipv4/ip_local_port_range"), "10000\t32767");
  EXPECT_EQ(addrs(vns, bridgeName(subnet_)), std::vector<std::string>{"10.7.1.1/24"});
  EXPECT_EQ(addrs("lp-" + w1, "eth0"), std::vector<std::string>{"10.7.1.10/24"});
  std::ifstream rc(dir_ + "/etc-netns/lp-" + w1 + "/resolv.conf");
  std::string line;
  std::getline(rc, line);
  EXPECT_EQ(line, "nameserver 10.7.0.2");
  // BIG TCP on the bridge and both ends of each workload's veth (where the kernel has it).
  auto vnl = net::Netlink::open(vns);
  auto wnl = net::Netlink::open("lp-" + w1);
  ASSERT_TRUE(vnl.ok() && wnl.ok());
  if (*(*wnl)->gsoIpv4MaxSize("eth0") != 0) {
    EXPECT_EQ(*(*wnl)->gsoIpv4MaxSize("eth0"), 185000u);
    EXPECT_EQ(*(*vnl)->gsoIpv4MaxSize(bridgeName(subnet_)), 185000u);
    auto links = (*vnl)->links();
    ASSERT_TRUE(links.ok());
    for (const auto& l : *links) {
      if (l.kind == "veth") {
        EXPECT_EQ(*(*vnl)->gsoIpv4MaxSize(l.name), 185000u) << l.name;
      }
    }
  }
  // Workload to workload across the bridge, and to the subnet router.
  EXPECT_EQ(reach(w1, "10.7.1.11"), 0);
  EXPECT_EQ(reach(w2, "10.7.1.1"), 0);
  // The VPC has no way out: no default route.
  EXPECT_EQ(*(*net::Netlink::open(vns))->defaultRouteGateway(), "");

  // Deleting an interface removes its namespace; a second pass changes nothing.
  erase(model::NetworkInterface::kKind, w2);
  apply();
  EXPECT_FALSE(net::namespaceExists("lp-" + w2));
  EXPECT_TRUE(net::namespaceExists("lp-" + w1));
  apply();
  EXPECT_TRUE(net::namespaceExists("lp-" + w1));

  prov_->teardown();
  EXPECT_FALSE(net::namespaceExists(vns));
  EXPECT_FALSE(net::namespaceExists("lp-" + w1));
}

TEST_F(NetHostProvisionerTest, EndpointAddressReadyAndGuardedBySecurityGroups) {
  basicVpc();
  std::string member = eni("1", "10.7.1.10", "interface", {open_});
  std::string stranger = eni("2", "10.7.1.11", "interface", {web_});
  std::string ep = eni("3", "10.7.1.50", "vpc_endpoint", {web_});
  std::string vpce = id("vpce", "1");
  put(model::VpcEndpoint::kKind, vpce, {{"id", vpce}, {"vpcId", vpc_}, {"networkInterfaceIds", {ep}}});
  auto r = apply();
  EXPECT_TRUE(r.endpointsReady[vpce]);
  std::string vns = "lp-" + vpc_;
  EXPECT_EQ(addrs(vns, bridgeName(subnet_)), std::vector<std::string>{"10.7.1.1/24"});
  EXPECT_EQ(addrs(vns, "lo"), (std::vector<std::string>{"10.7.0.2/32", "10.7.1.50/32", "127.0.0.1/8"}));

  // A listener on the endpoint address, in the VPC namespace (as the data plane's).
  std::string nc = "ip netns exec " + vns +
                   " timeout 5 /usr/bin/python3 -c \"import socket;s=socket.socket();"
                   "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('10.7.1.50',80));s.listen(8);"
                   "[s.accept()[0].close() for _ in range(8)]\" & sleep 0.3";
  sh(nc);
  auto connect = [&](const std::string& eniId, int port) {
    return sh("ip netns exec lp-" + eniId +
              " timeout 3 /usr/bin/python3 -c \"import socket;s=socket.socket();s.settimeout(1);"
              "s.connect(('10.7.1.50'," +
              std::to_string(port) + "))\" 2>/dev/null");
  };
  EXPECT_EQ(connect(member, 80), 0);    // a member of "open" may reach port 80
  EXPECT_NE(connect(stranger, 80), 0);  // a member of "web" only may not
  // Changing the group takes effect on the next pass.
  json web80 = {{"id", "sgr-2"}, {"protocol", "tcp"}, {"fromPort", 80}, {"toPort", 80}, {"cidr", "10.7.1.11/32"}};
  json all = {{"id", "sgr-1"}, {"egress", true}, {"protocol", "-1"}, {"cidr", "0.0.0.0/0"}};
  put(model::SecurityGroup::kKind, web_,
      {{"id", web_}, {"ownerId", "111111111111"}, {"vpcId", vpc_}, {"name", "web"}, {"rules", {web80, all}}});
  apply();
  EXPECT_EQ(connect(stranger, 80), 0);
  EXPECT_NE(connect(member, 80), 0);

  // The endpoint interface gone: its address leaves lo.
  erase(model::NetworkInterface::kKind, ep);
  apply();
  EXPECT_EQ(addrs(vns, "lo"), (std::vector<std::string>{"10.7.0.2/32", "127.0.0.1/8"}));
}

// Issue 15: a workload's own groups guard it, from workloads of its own subnet
// too, whatever br_netfilter does (its sysctl is off in the VPC namespace here);
// a workload cannot step around its groups by sending from another address.
TEST_F(NetHostProvisionerTest, SameSubnetWorkloadsMeetIngressRulesWithoutBrNetfilter) {
  basicVpc();
  std::string member = eni("1", "10.7.1.10", "interface", {open_});
  std::string web = eni("2", "10.7.1.11", "interface", {web_});
  std::string other = eni("3", "10.7.1.12", "interface", {open_});
  apply();
  std::string vns = "lp-" + vpc_;
  if (net::getSysctl(vns, "net/bridge/bridge-nf-call-iptables").ok()) {
    ASSERT_TRUE(net::setSysctl(vns, "net/bridge/bridge-nf-call-iptables", "0").ok());
  }
  EXPECT_EQ(reach(member, "10.7.1.11", 80), 0);  // "web" lets members of "open" in on 80
  EXPECT_NE(reach(member, "10.7.1.11", 81), 0);  // and nothing else
  EXPECT_NE(reach(web, "10.7.1.10", 80), 0);     // "web" is no member of "open"
  EXPECT_EQ(reach(other, "10.7.1.10", 22), 0);   // members of "open" reach each other
  // A rule added: the next pass applies it.
  json web81 = {{"id", "sgr-4"}, {"protocol", "tcp"}, {"fromPort", 81}, {"toPort", 81}, {"cidr", "10.7.1.10/32"}};
  json web80 = {{"id", "sgr-2"}, {"protocol", "tcp"}, {"fromPort", 80}, {"toPort", 80}, {"groupId", open_}};
  json all = {{"id", "sgr-1"}, {"egress", true}, {"protocol", "-1"}, {"cidr", "0.0.0.0/0"}};
  put(model::SecurityGroup::kKind, web_,
      {{"id", web_}, {"ownerId", "111111111111"}, {"vpcId", vpc_}, {"name", "web"}, {"rules", {web80, web81, all}}});
  apply();
  EXPECT_EQ(reach(member, "10.7.1.11", 81), 0);
  EXPECT_NE(reach(other, "10.7.1.11", 81), 0);
  // "web"'s member takes a member's address as a second one and sends from it: its
  // port drops it, so it is not let in as a member of "open".
  ASSERT_EQ(sh("ip -n lp-" + web + " addr add 10.7.1.10/32 dev eth0"), 0);
  EXPECT_NE(sh("ip netns exec lp-" + web +
               " /usr/bin/python3 -c \"import socket,sys;s=socket.socket();s.settimeout(2);"
               "s.bind(('10.7.1.10',0))\ntry: s.connect(('10.7.1.12',22))\n"
               "except ConnectionRefusedError: sys.exit(0)\n\" 2>/dev/null"),
            0);
}

TEST_F(NetHostProvisionerTest, ASubnetHasABridgeOnlyWhileItHasWorkloads) {
  basicVpc();
  std::string ep = eni("3", "10.7.1.50", "vpc_endpoint", {web_});
  std::string vpce = id("vpce", "1");
  put(model::VpcEndpoint::kKind, vpce, {{"id", vpce}, {"vpcId", vpc_}, {"networkInterfaceIds", {ep}}});
  EXPECT_TRUE(apply().endpointsReady[vpce]);
  std::string vns = "lp-" + vpc_;
  auto nl = net::Netlink::open(vns);
  ASSERT_TRUE(nl.ok());
  // Endpoints alone: the address is local, no bridge (deleting one costs the kernel
  // an rcu_barrier under the RTNL lock).
  EXPECT_FALSE((*nl)->link(bridgeName(subnet_)).ok());
  EXPECT_EQ(addrs(vns, "lo"), (std::vector<std::string>{"10.7.0.2/32", "10.7.1.50/32", "127.0.0.1/8"}));

  // A workload joins: the bridge and its router appear, and the workload reaches the
  // endpoint's address on its own subnet (ARP answered for the address on lo).
  std::string w = eni("1", "10.7.1.10", "interface", {open_});
  apply();
  EXPECT_EQ(addrs(vns, bridgeName(subnet_)), std::vector<std::string>{"10.7.1.1/24"});
  EXPECT_EQ(reach(w, "10.7.1.50", 80), 0);  // "web" lets members of "open" in on port 80
  EXPECT_EQ(reach(w, "10.7.1.1"), 0);

  // The last workload leaves: the bridge goes, the endpoint's address stays.
  erase(model::NetworkInterface::kKind, w);
  apply();
  EXPECT_FALSE((*nl)->link(bridgeName(subnet_)).ok());
  EXPECT_EQ(addrs(vns, "lo"), (std::vector<std::string>{"10.7.0.2/32", "10.7.1.50/32", "127.0.0.1/8"}));

  // A namespace laid out the old way (the address on a port-less bridge) converges.
  ASSERT_TRUE((*nl)->ensureBridge(bridgeName(subnet_)).ok());
  ASSERT_TRUE((*nl)->addAddress(bridgeName(subnet_), "10.7.1.50/32").ok());
  ASSERT_TRUE((*nl)->removeAddress("lo", "10.7.1.50/32").ok());
  apply();
  EXPECT_FALSE((*nl)->link(bridgeName(subnet_)).ok());
  EXPECT_EQ(addrs(vns, "lo"), (std::vector<std::string>{"10.7.0.2/32", "10.7.1.50/32", "127.0.0.1/8"}));
}

TEST_F(NetHostProvisionerTest, RestartRemovesOrphansFromTheLedgerOnly) {
  basicVpc();
  std::string w1 = eni("1", "10.7.1.10", "interface", {open_});
  apply();
  // Someone else's lp- namespace must survive our orphan sweep.
  std::string foreign = "lp-foreign-" + u_;
  ASSERT_TRUE(net::createNamespace(foreign).ok());
  // "kill -9": a new provisioner over the same state dir, with the VPC gone.
  prov_.reset();
  erase(model::Vpc::kKind, vpc_);
  erase(model::Subnet::kKind, subnet_);
  erase(model::NetworkInterface::kKind, w1);
  prov_ = std::make_unique<NetHostProvisioner>(dir_, dir_ + "/etc-netns");
  apply();
  EXPECT_FALSE(net::namespaceExists("lp-" + vpc_));
  EXPECT_FALSE(net::namespaceExists("lp-" + w1));
  EXPECT_TRUE(net::namespaceExists(foreign));
  (void)net::deleteNamespace(foreign);
}

// Route tables as policy routing (route_plan.h): the plan's rule and table are made,
// a rule of this code's range the plan no longer has goes with its table's routes,
// rules at other preferences (the fast path's, the kernel's) stay, a second start
// adds nothing, and the router forwards only while a route sends to it.
TEST_F(NetHostProvisionerTest, RouteTablesConvergeOnTheirOwnRulesAndTablesOnly) {
  basicVpc();
  std::string router = eni("1", "10.7.1.10", "interface", {open_});
  put(model::NetworkInterface::kKind, router,
      {{"id", router},
       {"ownerId", "111111111111"},
       {"vpcId", vpc_},
       {"subnetId", subnet_},
       {"privateIp", "10.7.1.10"},
       {"groupIds", {open_}},
       {"sourceDestCheck", false}});
  std::string rtb = id("rtb", "1");
  json local = {{"destinationCidrBlock", "10.7.0.0/16"}, {"gatewayId", "local"}};
  json toRouter = {{"destinationCidrBlock", "10.98.0.0/24"}, {"gatewayId", ""}, {"networkInterfaceId", router}};
  put(model::RouteTable::kKind, rtb,
      {{"id", rtb}, {"vpcId", vpc_}, {"routes", {local, toRouter}}, {"associations", {{{"id", "a"}, {"main", true}}}}});
  apply();
  std::string vns = "lp-" + vpc_;
  std::string br = bridgeName(subnet_);
  auto nl = net::Netlink::open(vns);
  ASSERT_TRUE(nl.ok());
  // Someone else's rule (the fast path's), and one of ours from a table since gone.
  net::RuleInfo foreign{150, "", 0x4c50};
  net::RuleInfo stale{31000, "lp-br-gone", kRouteTableBase + 1};
  ASSERT_TRUE((*nl)->addRule(foreign).ok());
  ASSERT_TRUE((*nl)->addRule(stale).ok());
  ASSERT_TRUE((*nl)->replaceRoute({stale.table, "10.97.0.0/24", "", "", true}).ok());

  uint32_t t = tableNumber(rtb);
  std::vector<net::RouteInfo> want = {
      {t, "10.7.0.0/16", "", "", true}, {t, "10.7.1.0/24", "", br, false}, {t, "10.98.0.0/24", "10.7.1.10", br, false}};
  auto ours = [&] {
    std::vector<net::RuleInfo> out;
    auto all = (*nl)->rules();
    EXPECT_TRUE(all.ok());
    for (const auto& r : all.ok() ? *all : std::vector<net::RuleInfo>{}) {
      if (r.pref >= kRoutePrefMin && r.pref <= kRoutePrefMax) out.push_back(r);
    }
    return out;
  };
  auto hasRule = [&](const net::RuleInfo& r) {
    auto all = (*nl)->rules();
    return all.ok() ? std::count(all->begin(), all->end(), r) : -1;
  };
  // A restart (a new provisioner: nothing known) converges on what is there.
  prov_ = std::make_unique<NetHostProvisioner>(dir_, dir_ + "/etc-netns");
  apply();
  EXPECT_EQ(ours(), (std::vector<net::RuleInfo>{{kRoutePref, br, t}}));
  EXPECT_EQ(*(*nl)->routes(t), want);
  EXPECT_EQ(hasRule(foreign), 1);
  EXPECT_EQ(*(*nl)->routes(stale.table), std::vector<net::RouteInfo>{});
  EXPECT_EQ(*net::getSysctl("lp-" + router, "net/ipv4/ip_forward"), "1");
  prov_ = std::make_unique<NetHostProvisioner>(dir_, dir_ + "/etc-netns");
  apply();
  EXPECT_EQ(ours().size(), 1u);
  EXPECT_EQ(*(*nl)->routes(t), want);
  // The kernel routes a packet from the subnet's bridge by the table.
  std::string out = testenv::commandOutput("ip -n " + vns + " route get 10.98.0.7 from 10.7.1.20 iif " + br + " 2>&1");
  EXPECT_NE(out.find("via 10.7.1.10"), std::string::npos) << out;

  // The route deleted: no rule, an empty table, and the router stops forwarding.
  put(model::RouteTable::kKind, rtb,
      {{"id", rtb}, {"vpcId", vpc_}, {"routes", {local}}, {"associations", {{{"id", "a"}, {"main", true}}}}});
  apply();
  EXPECT_TRUE(ours().empty());
  EXPECT_EQ(*(*nl)->routes(t), std::vector<net::RouteInfo>{});
  EXPECT_EQ(hasRule(foreign), 1);
  EXPECT_EQ(*net::getSysctl("lp-" + router, "net/ipv4/ip_forward"), "0");
}

}  // namespace
TEST_F(NetHostProvisionerTest, ANewNamespaceIsRefusedPastTheDescriptorReserve) {
  basicVpc();
  DescriptorUse use{100, 256};
  prov_ = std::make_unique<NetHostProvisioner>(dir_, dir_ + "/etc-netns", [&] { return use; });
  std::optional<VpcPlan> plan;
  store_->read([&](const store::ReadView& v) { plan = planHost(v).vpcs.at(0); });
  // 256 - 64 kept - 10 for the VPC: 182 in use is the last count that still fits.
  use.open = 183;
  auto refused = prov_->applyVpc(*plan);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), "InsufficientCapacity");
  EXPECT_NE(refused.status().message().find("Too many open files"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find(plan->ns), std::string::npos);
  EXPECT_FALSE(net::namespaceExists(plan->ns));

  use.open = 182;
  ASSERT_TRUE(prov_->applyVpc(*plan).ok());
  EXPECT_TRUE(net::namespaceExists(plan->ns));
  // A namespace already made is converged whatever the count: only new ones are refused.
  use.open = 255;
  EXPECT_TRUE(prov_->applyVpc(*plan).ok());
  prov_->teardown();
}

}  // namespace lp::reconciler
