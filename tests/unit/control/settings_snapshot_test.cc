// ControlContext's settings snapshot: what a reload publishes, what a request that
// is running keeps, and readers on other threads during a stream of reloads.
//
// Why this is race-free (what TSan checks when this file is built with
// -fsanitize=thread, see docs/install.md): a Settings object is written only before
// it is published (make_shared in replaceSettings) and never after; publishing is a
// release store of the atomic shared_ptr and reading an acquire load, so everything
// written into a snapshot happens-before every read of it. A reader's copy of the
// shared_ptr keeps the snapshot alive; the last owner frees it after its reads
// (shared_ptr's count is atomic). Readers and the writer therefore never touch the
// same non-atomic memory without that ordering.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "control_test_fixture.h"

namespace lp::control::testing {
namespace {

class SettingsSnapshotTest : public ControlFixture {};

TEST_F(SettingsSnapshotTest, ARequestKeepsItsSnapshotWhileTheNextIsPublished) {
  const auto held = ctx_->settings();
  const model::Account* consumer = held->region.accountByKey("AKC");
  ASSERT_NE(consumer, nullptr);

  // The reload: the consumer's key is gone, a third account and a new limit come.
  model::RegionConfig next = region_;
  next.accounts = {{kProvider, "provider", "AKP", "sp"}, {"333333333333", "carol", "AK3", "s3"}};
  Limits limits;
  limits.vpcsPerAccount = 2;
  ctx_->replaceSettings({next, limits});

  // The running request reads its version to the end: the account it found is intact.
  EXPECT_EQ(consumer->id, kConsumer);
  EXPECT_EQ(consumer->secretAccessKey, "sc");
  EXPECT_EQ(held->limits.vpcsPerAccount, Limits{}.vpcsPerAccount);
  // The next request sees the new one.
  const auto now = ctx_->settings();
  EXPECT_EQ(now->region.accountByKey("AKC"), nullptr);
  ASSERT_NE(now->region.accountByKey("AK3"), nullptr);
  EXPECT_EQ(now->region.accountByKey("AK3")->id, "333333333333");
  EXPECT_EQ(ctx_->limits().vpcsPerAccount, 2);
}

TEST_F(SettingsSnapshotTest, TheRegionsNameAndZonesStayAsStarted) {
  model::RegionConfig next = region_;
  next.name = "eu-west-1";
  next.zoneIds = {"euw1-az1"};
  ctx_->replaceSettings({next, Limits{}});
  EXPECT_EQ(ctx_->regionName(), "us-east-1");
  EXPECT_EQ(ctx_->settings()->region.name, "us-east-1");
  EXPECT_EQ(ctx_->settings()->region.zoneIds, region_.zoneIds);
  EXPECT_EQ(ctx_->zoneIds(), region_.zoneIds);
  EXPECT_EQ(ctx_->zoneName(kConsumer, "use1-az1"), region_.zoneName(kConsumer, "use1-az1"));
}

// Readers on four threads while the writer publishes 2000 versions. Each version is
// internally consistent (subnets = 2 x vpcs, the one account is named after vpcs);
// a reader that ever saw a mix of two versions, a version going backwards, or a
// snapshot changing under it fails. The last version is what every reader ends on.
TEST_F(SettingsSnapshotTest, ConcurrentReadersSeeWholeVersionsInOrder) {
  constexpr int kVersions = 2000;
  constexpr int kReaders = 4;
  auto version = [&](int v) {
    Settings s{region_, Limits{}};
    s.limits.vpcsPerAccount = v;
    s.limits.subnetsPerVpc = 2 * v;
    s.region.accounts = {{kProvider, std::to_string(v), "AK" + std::to_string(v), "secret"}};
    return s;
  };
  ctx_->replaceSettings(version(0));
  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::vector<std::string> failures(kReaders);
  std::vector<int> last(kReaders, -1);
  std::vector<long> reads(kReaders, 0);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      started++;
      std::shared_ptr<const Settings> previous = ctx_->settings();
      int previousVersion = previous->limits.vpcsPerAccount;
      while (failures[r].empty()) {
        const bool finished = done.load();  // read before the snapshot: the last one is then the final version
        const auto s = ctx_->settings();
        const int v = s->limits.vpcsPerAccount;
        if (s->limits.subnetsPerVpc != 2 * v || s->region.accounts.size() != 1 ||
            s->region.accounts[0].name != std::to_string(v) || s->region.accounts[0].accessKeyId != "AK" + std::to_string(v))
          failures[r] = "torn snapshot at version " + std::to_string(v);
        if (v < last[r]) failures[r] = "went back from " + std::to_string(last[r]) + " to " + std::to_string(v);
        if (previous->limits.vpcsPerAccount != previousVersion || previous->region.accounts[0].name != std::to_string(previousVersion))
          failures[r] = "a held snapshot changed";
        last[r] = v;
        ++reads[r];
        previous = s;  // held into the next round, across the writer's next publish
        previousVersion = v;
        if (finished) break;
      }
    });
  }
  while (started.load() < kReaders) std::this_thread::yield();
  for (int v = 1; v <= kVersions; ++v) ctx_->replaceSettings(version(v));
  done = true;
  for (auto& t : readers) t.join();
  for (int r = 0; r < kReaders; ++r) {
    EXPECT_EQ(failures[r], "") << "reader " << r;
    EXPECT_EQ(last[r], kVersions) << "reader " << r;
    EXPECT_GT(reads[r], 0) << "reader " << r;
  }
}

}  // namespace
}  // namespace lp::control::testing
