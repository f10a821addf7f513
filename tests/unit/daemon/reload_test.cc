// SIGHUP: what a changed config file does to a running daemon, key by key.
#include "daemon/reload.h"

#include <gtest/gtest.h>

namespace lp::daemon {
namespace {

TEST(ReloadTest, LogLevelAppliesAtOnce) {
  Config running = defaultConfig();
  Config file = running;
  file.logLevel = "debug";
  auto c = diffConfig(running, file);
  EXPECT_EQ(c.applied, (std::vector<std::string>{"log_level: info -> debug"}));
  EXPECT_TRUE(c.needsRestart.empty());
  EXPECT_EQ(c.next.logLevel, "debug");
}

TEST(ReloadTest, WhatNeedsARestartIsNamedAndKeepsItsRunningValue) {
  Config running = defaultConfig();
  Config file = running;
  file.listen = "0.0.0.0:4566";
  file.tlsListen = "127.0.0.1:4443";
  file.dataplane = false;
  auto c = diffConfig(running, file);
  EXPECT_TRUE(c.applied.empty());
  EXPECT_EQ(c.needsRestart, (std::vector<std::string>{"listen: 127.0.0.1:4566 -> 0.0.0.0:4566",
                                                      "tls_listen: 127.0.0.1:0 -> 127.0.0.1:4443",
                                                      "dataplane.enabled: true -> false"}));
  EXPECT_EQ(c.next.listen, "127.0.0.1:4566");
  EXPECT_EQ(c.next.tlsListen, "127.0.0.1:0");
  EXPECT_TRUE(c.next.dataplane);
  EXPECT_FALSE(c.accountsChanged);
  EXPECT_FALSE(c.backendsChanged);
}

// Accounts, limits and service backends are live: named in the log, taken into the
// next config. A secret is compared, never printed.
TEST(ReloadTest, AccountsLimitsAndBackendsAreAppliedAndNamed) {
  Config running = defaultConfig();
  ASSERT_EQ(running.region.accounts.size(), 2u);
  const model::Account provider = running.region.accounts[0], consumer = running.region.accounts[1];
  Config file = running;
  file.region.accounts[0].secretAccessKey = "rotated-secret";
  file.region.accounts.erase(file.region.accounts.begin() + 1);
  file.region.accounts.push_back({"333333333333", "carol", "AKCAROL", "carol-secret"});
  file.region.serviceBackends["sts"] = "127.0.0.1:9000";
  file.limits.vpcsPerAccount = 7;
  file.limits.networkAclsPerVpc = 9;
  auto c = diffConfig(running, file);
  EXPECT_TRUE(c.needsRestart.empty()) << c.needsRestart[0];
  EXPECT_EQ(c.applied, (std::vector<std::string>{
                           "limits.vpcs_per_account: 50 -> 7",
                           "limits.network_acls_per_vpc: 200 -> 9",
                           "accounts: " + provider.id + " (" + provider.name + ") secret of key " +
                               provider.accessKeyId + " changed",
                           "accounts: removed " + consumer.id + " (" + consumer.name + ", key " +
                               consumer.accessKeyId + ")",
                           "accounts: added 333333333333 (carol, key AKCAROL)",
                           "aws_service_backends: {} -> {sts=127.0.0.1:9000}",
                       }));
  for (const auto& line : c.applied) {
    EXPECT_EQ(line.find("rotated-secret"), std::string::npos) << "secrets are never logged";
    EXPECT_EQ(line.find("carol-secret"), std::string::npos) << "secrets are never logged";
  }
  EXPECT_TRUE(c.accountsChanged);
  EXPECT_TRUE(c.backendsChanged);
  EXPECT_EQ(c.next.limits.vpcsPerAccount, 7);
  EXPECT_EQ(c.next.limits.networkAclsPerVpc, 9);
  ASSERT_EQ(c.next.region.accounts.size(), 2u);
  EXPECT_EQ(c.next.region.accounts[1].accessKeyId, "AKCAROL");
  EXPECT_EQ(c.next.region.serviceBackends.at("sts"), "127.0.0.1:9000");
}

TEST(ReloadTest, AChangedAccessKeyIsNamedWithBothKeyIds) {
  Config running = defaultConfig();
  Config file = running;
  const auto& a = running.region.accounts[1];
  file.region.accounts[1].accessKeyId = "AKNEWKEY";
  file.region.accounts[1].secretAccessKey = "new-secret";
  auto c = diffConfig(running, file);
  EXPECT_EQ(c.applied, (std::vector<std::string>{"accounts: " + a.id + " (" + a.name + ") key " + a.accessKeyId +
                                                 " -> AKNEWKEY"}));
}

TEST(ReloadTest, UnchangedFileChangesNothing) {
  auto c = diffConfig(defaultConfig(), defaultConfig());
  EXPECT_TRUE(c.applied.empty());
  EXPECT_TRUE(c.needsRestart.empty());
}

}  // namespace
}  // namespace lp::daemon
