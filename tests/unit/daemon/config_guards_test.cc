// The [throttle] and [audit] tables: read over the defaults, refused when they would
// refuse every call or never rotate.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/config.h"

namespace lp::daemon {
namespace {

class GuardConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-guard-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Config> load(const std::string& text) {
    std::ofstream(dir_ + "/linkplane.toml") << text;
    return loadConfig(dir_ + "/linkplane.toml");
  }
  std::string dir_;
};

TEST_F(GuardConfig, DefaultsAreEc2sBucketsTimesTenAndA64MiBLog) {
  auto c = load("");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_TRUE(c->throttle.enabled);
  EXPECT_EQ(c->throttle.mutatingRate, 50);
  EXPECT_EQ(c->throttle.mutatingBurst, 500);
  EXPECT_EQ(c->throttle.readRate, 200);
  EXPECT_EQ(c->throttle.readBurst, 1000);
  EXPECT_EQ(c->auditMaxFileBytes, 64 << 20);
  EXPECT_EQ(c->auditMaxFiles, 10);
}

TEST_F(GuardConfig, TablesAreReadIntegersOrFractions) {
  auto c = load("[throttle]\nenabled = false\nmutating_rate = 0.5\nmutating_burst = 3\nread_rate = 7\n"
                "read_burst = 9.5\n[audit]\nmax_file_bytes = 4096\nmax_files = 2\nrefused_per_second = 0\n");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_FALSE(c->throttle.enabled);
  EXPECT_EQ(c->throttle.mutatingRate, 0.5);
  EXPECT_EQ(c->throttle.mutatingBurst, 3);
  EXPECT_EQ(c->throttle.readRate, 7);
  EXPECT_EQ(c->throttle.readBurst, 9.5);
  EXPECT_EQ(c->auditMaxFileBytes, 4096);
  EXPECT_EQ(c->auditMaxFiles, 2);
  EXPECT_EQ(c->auditRefusedPerSecond, 0);
}

TEST_F(GuardConfig, ValuesThatWouldRefuseEverythingAreRefusedAtStart) {
  for (auto bad : {"[throttle]\nmutating_rate = 0\n", "[throttle]\nread_burst = 0.5\n", "[throttle]\nread_rate = -1\n",
                   "[audit]\nmax_file_bytes = 100\n", "[audit]\nmax_files = 0\n", "[audit]\nrefused_per_second = -3\n",
                   "[throttle]\nmutating_rate = \"fast\"\n", "[throttle]\nburst = 3\n"}) {
    auto c = load(bad);
    EXPECT_FALSE(c.ok()) << bad;
  }
}

// [console]: the sign-in backoff's limits, each within its range; the defaults are
// SignInLimits' own (5 free, 10 s doubling to 15 min).
TEST_F(GuardConfig, ConsoleSignInLimitsAreReadAndOutOfRangeRefused) {
  auto d = load("");
  ASSERT_TRUE(d.ok()) << d.status().toString();
  EXPECT_EQ(d->consoleSignIn.free, 5);
  EXPECT_EQ(d->consoleSignIn.firstDelay, std::chrono::seconds(10));
  EXPECT_EQ(d->consoleSignIn.maxDelay, std::chrono::seconds(900));
  auto c = load("[console]\nsignin_free_failures = 3\nsignin_first_delay_seconds = 2\nsignin_max_delay_seconds = 60\n"
                "signin_forget_seconds = 600\nsignin_max_entries = 500\n");
  ASSERT_TRUE(c.ok()) << c.status().toString();
  EXPECT_EQ(c->consoleSignIn.free, 3);
  EXPECT_EQ(c->consoleSignIn.firstDelay, std::chrono::seconds(2));
  EXPECT_EQ(c->consoleSignIn.maxDelay, std::chrono::seconds(60));
  EXPECT_EQ(c->consoleSignIn.forget, std::chrono::seconds(600));
  EXPECT_EQ(c->consoleSignIn.maxEntries, 500u);
  for (auto bad : {"[console]\nsignin_free_failures = 0\n", "[console]\nsignin_first_delay_seconds = 0\n",
                   "[console]\nsignin_first_delay_seconds = 30\nsignin_max_delay_seconds = 20\n",
                   "[console]\nsignin_forget_seconds = 5\n", "[console]\nsignin_max_entries = 10\n",
                   "[console]\nsignin_free_failures = \"five\"\n", "[console]\nsignin_tries = 3\n"}) {
    auto r = load(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = load("[console]\nsignin_free_failures = 0\n");
  EXPECT_NE(r.status().message().find("console.signin_free_failures must be 1 to 1000"), std::string::npos)
      << r.status().toString();
}

}  // namespace
}  // namespace lp::daemon
