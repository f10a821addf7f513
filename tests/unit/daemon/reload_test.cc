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
  file.dataplane = false;
  file.region.accounts[1].secretAccessKey = "rotated";
  file.region.serviceBackends["sts"] = "127.0.0.1:9000";
  file.limits.vpcsPerAccount = 7;
  auto c = diffConfig(running, file);
  EXPECT_TRUE(c.applied.empty());
  ASSERT_EQ(c.needsRestart.size(), 5u);
  EXPECT_EQ(c.needsRestart[0], "limits.vpcs_per_account: 50 -> 7");
  c.needsRestart.erase(c.needsRestart.begin());
  EXPECT_EQ(c.needsRestart[0].rfind("accounts: ", 0), 0u);
  EXPECT_EQ(c.needsRestart[0].find("rotated"), std::string::npos) << "secrets are never logged";
  EXPECT_EQ(c.needsRestart[1], "aws_service_backends: {} -> {sts=127.0.0.1:9000}");
  EXPECT_EQ(c.needsRestart[2], "listen: 127.0.0.1:4566 -> 0.0.0.0:4566");
  EXPECT_EQ(c.needsRestart[3], "dataplane.enabled: true -> false");
  EXPECT_EQ(c.next.listen, "127.0.0.1:4566");
  EXPECT_TRUE(c.next.dataplane);
  EXPECT_EQ(c.next.limits.vpcsPerAccount, 50);
}

TEST(ReloadTest, UnchangedFileChangesNothing) {
  auto c = diffConfig(defaultConfig(), defaultConfig());
  EXPECT_TRUE(c.applied.empty());
  EXPECT_TRUE(c.needsRestart.empty());
}

}  // namespace
}  // namespace lp::daemon
