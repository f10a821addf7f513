// nftables calls never crash the daemon however many descriptors it holds (issue
// 14): libnftables waits with select(), which glibc aborts on a descriptor >= 1024,
// so every call runs in a helper process (net::NftRunner). Against the real
// kernel: the real NetHostProvisioner under 5,000 open descriptors, a killed
// helper replaced on the next call, rulesets too big for one socket buffer.
// Needs root; namespaces carry the pid, and a run that crashed has its namespaces
// removed by the next one.
#include "net/nft_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../test_descriptors.h"
#include "../test_namespaces.h"
#include "model/endpoint.h"
#include "model/resources.h"
#include "net/netns.h"
#include "net/nftables.h"
#include "reconciler/net_host_provisioner.h"
#include "store/store.h"

namespace lp::net {
namespace {

using nlohmann::json;

// stdout of a shell command (run outside the helper, as an operator would look).
std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Waits until pid has exited (a zombie: the runner has not reaped it yet).
bool waitExited(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pidField, comm, state;
    if (!(stat >> pidField >> comm >> state) || state == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Ids in this file are <kind>-0<pid, 8 hex>00fd000<n>: the marker and the pid let
// a later run remove the namespaces of a run that aborted before its TearDown.
constexpr const char* kMarker = "00fd000";

void removeVpcNamespacesOfDeadRuns() {
  const std::string prefix = "lp-vpc-0";
  for (const auto& ns : listNamespaces(prefix)) {
    if (ns.size() != prefix.size() + 8 + 7 + 1 || ns.compare(prefix.size() + 8, 7, kMarker) != 0) continue;
    long pid = std::strtol(ns.substr(prefix.size(), 8).c_str(), nullptr, 16);
    if (pid > 0 && !testenv::processAlive(pid)) (void)deleteNamespace(ns);
  }
}

class NftWithManyDescriptorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    removeVpcNamespacesOfDeadRuns();
    char tmpl[] = "/tmp/lp-nfttest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = store::openSqliteStore(dir_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    char hex[16];
    snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(getpid()));
    u_ = hex;
    prov_ = std::make_unique<reconciler::NetHostProvisioner>(dir_, dir_ + "/etc-netns");
  }
  void TearDown() override {
    if (prov_) prov_->teardown();
    for (const auto& ns : listNamespaces("lp-")) {
      if (ns.find(u_ + kMarker) != std::string::npos) (void)deleteNamespace(ns);
    }
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string id(const std::string& kind, int n) { return kind + "-0" + u_ + kMarker + std::to_string(n); }
  void put(std::string_view kind, const std::string& oid, const json& body) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& t) {
                      t.put(kind, oid, body.dump());
                      return Status::Ok();
                    })
                    .ok());
  }
  // VPC n: 10.<n>.0.0/16, subnet 10.<n>.1.0/24, groups "open" (all egress) and
  // "web" (port 443 from 10.<n>.1.0/24), an endpoint whose interface 10.<n>.1.50
  // is in "web". Returns the endpoint id.
  std::string vpcWithEndpoint(int n) {
    std::string vpc = id("vpc", n), subnet = id("subnet", n), open = id("sg", 10 * n + 1), web = id("sg", 10 * n + 2);
    std::string net = "10." + std::to_string(n);
    put(model::Vpc::kKind, vpc, {{"id", vpc}, {"ownerId", "111111111111"}, {"cidrBlock", net + ".0.0/16"}});
    put(model::Subnet::kKind, subnet,
        {{"id", subnet}, {"ownerId", "111111111111"}, {"vpcId", vpc}, {"cidrBlock", net + ".1.0/24"}});
    json all = {{"id", "sgr-1"}, {"egress", true}, {"protocol", "-1"}, {"cidr", "0.0.0.0/0"}};
    put(model::SecurityGroup::kKind, open,
        {{"id", open}, {"ownerId", "111111111111"}, {"vpcId", vpc}, {"name", "open"}, {"rules", {all}}});
    json https = {{"id", "sgr-2"}, {"protocol", "tcp"}, {"fromPort", 443}, {"toPort", 443}, {"cidr", net + ".1.0/24"}};
    put(model::SecurityGroup::kKind, web,
        {{"id", web}, {"ownerId", "111111111111"}, {"vpcId", vpc}, {"name", "web"}, {"rules", {https, all}}});
    std::string eni = id("eni", n), vpce = id("vpce", n);
    put(model::NetworkInterface::kKind, eni,
        {{"id", eni},
         {"ownerId", "111111111111"},
         {"vpcId", vpc},
         {"subnetId", subnet},
         {"privateIp", net + ".1.50"},
         {"interfaceType", "vpc_endpoint"},
         {"groupIds", {web}}});
    put(model::VpcEndpoint::kKind, vpce, {{"id", vpce}, {"vpcId", vpc}, {"networkInterfaceIds", {eni}}});
    return vpce;
  }

  std::string dir_, u_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<reconciler::NetHostProvisioner> prov_;
};

// Issue 14: with ~1,000 descriptors open the daemon aborted in its first nftables
// call ("bit out of range 0 - FD_SETSIZE on fd_set") and crash-looped on restart.
TEST_F(NftWithManyDescriptorsTest, ProvisionerAppliesSecurityGroupsWithFiveThousandDescriptorsOpen) {
  std::string vpce1 = vpcWithEndpoint(1), vpce2 = vpcWithEndpoint(2);
  testenv::ManyOpenDescriptors held(5000);
  ASSERT_EQ(held.held(), 5000);
  ASSERT_GT(testenv::ManyOpenDescriptors::nextDescriptor(), 5000);
  // An earlier test may have started the helper: the one used here is forked now,
  // from a process holding all these descriptors.
  if (pid_t earlier = NftRunner::shared().helperPid(); earlier > 0) {
    ASSERT_EQ(kill(earlier, SIGKILL), 0);
    ASSERT_TRUE(waitExited(earlier));
  }

  reconciler::ProvisionReport report;
  store_->read([&](const store::ReadView& v) { report = prov_->applyPlan(reconciler::planHost(v)); });

  EXPECT_TRUE(report.endpointsReady[vpce1]);
  EXPECT_TRUE(report.endpointsReady[vpce2]);
  for (int n : {1, 2}) {
    std::string ns = "lp-" + id("vpc", n);
    auto tables = nftQueryJson(ns, "list tables");
    ASSERT_TRUE(tables.ok()) << tables.status().toString();
    EXPECT_NE(tables->find(reconciler::kSgTable), std::string::npos) << *tables;
    // The same, seen by the nft command in the namespace: the rules guard the endpoint.
    std::string listed = capture("ip netns exec " + ns + " nft -j list table inet " + reconciler::kSgTable);
    EXPECT_NE(listed.find("10." + std::to_string(n) + ".1.50"), std::string::npos) << listed;
  }
}

class NftRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ns_ = testenv::testNamespace("nft");
    ASSERT_TRUE(createNamespace(ns_).ok());
  }
  void TearDown() override {
    if (!ns_.empty()) (void)deleteNamespace(ns_);
  }

  static Status addTable(const std::string& ns, const std::string& name) {
    return nftRunJson(ns, R"({"nftables":[{"add":{"table":{"family":"inet","name":")" + name + R"("}}}]})");
  }

  std::string ns_;
};

TEST_F(NftRunnerTest, KilledHelperIsReplacedAndTheNextCallWorks) {
  ASSERT_TRUE(addTable(ns_, "lp-one").ok());
  pid_t first = NftRunner::shared().helperPid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(waitExited(first));

  ASSERT_TRUE(addTable(ns_, "lp-two").ok());
  auto tables = nftQueryJson(ns_, "list tables");
  ASSERT_TRUE(tables.ok()) << tables.status().toString();
  EXPECT_NE(tables->find("lp-one"), std::string::npos);
  EXPECT_NE(tables->find("lp-two"), std::string::npos);
  pid_t second = NftRunner::shared().helperPid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  // The dead helper was reaped, not left a zombie.
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(first)));
}

TEST_F(NftRunnerTest, HelperKilledDuringACallFailsThatCallOnlyWithAClearError) {
  // Killed with no wait: the next call either sees it gone and starts another, or
  // loses it mid-call and says so; the call after that works either way.
  ASSERT_TRUE(nftQueryJson(ns_, "list tables").ok());
  ASSERT_EQ(kill(NftRunner::shared().helperPid(), SIGKILL), 0);
  auto racing = nftQueryJson(ns_, "list tables");
  if (!racing.ok()) {
    EXPECT_NE(racing.status().message().find("nftables helper"), std::string::npos) << racing.status().toString();
  }
  EXPECT_TRUE(nftQueryJson(ns_, "list tables").ok());
}

TEST_F(NftRunnerTest, ErrorsAndMissingNamespacesComeBackAsStatus) {
  auto bad = nftRunJson(ns_, R"({"nftables":[{"add":{"nonsense":{}}}]})");
  EXPECT_FALSE(bad.ok());
  auto missing = nftQueryJson(ns_ + "-absent", "list tables");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), "InvalidNamespace.NotFound");
  EXPECT_TRUE(nftQueryJson(ns_, "list tables").ok());
}

TEST_F(NftRunnerTest, RulesetsLargerThanASocketBufferCrossWhole) {
  // 30,000 set elements: 400 KB of JSON in, more out (a socket buffer is 208 KB).
  json elems = json::array();
  for (int i = 0; i < 30000; ++i) {
    elems.push_back("10." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250) + "." +
                    std::to_string(1 + i / 62500));
  }
  json batch = {
      {"nftables",
       {{{"add", {{"table", {{"family", "inet"}, {"name", "lp-big"}}}}}},
        {{"add", {{"set", {{"family", "inet"}, {"table", "lp-big"}, {"name", "peers"}, {"type", "ipv4_addr"}}}}}},
        {{"add", {{"element", {{"family", "inet"}, {"table", "lp-big"}, {"name", "peers"}, {"elem", elems}}}}}}}}};
  std::string in = batch.dump();
  ASSERT_GT(in.size(), 300u * 1024);
  ASSERT_TRUE(nftRunJson(ns_, in).ok());
  auto out = nftQueryJson(ns_, "list set inet lp-big peers");
  ASSERT_TRUE(out.ok()) << out.status().toString();
  auto parsed = json::parse(*out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  size_t count = 0;
  for (const auto& item : parsed["nftables"]) {
    if (item.contains("set")) count = item["set"]["elem"].size();
  }
  EXPECT_EQ(count, 30000u);
}

TEST_F(NftRunnerTest, OwnRunnerStopsItsHelperWhenDestroyed) {
  pid_t pid = -1;
  {
    NftRunner runner;
    ASSERT_TRUE(runner.run(ns_, "list tables").ok());
    pid = runner.helperPid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
}

}  // namespace
}  // namespace lp::net
