// A control plane over a real SQLite store in a temporary directory (StoreFixture),
// with a manual clock and seeded randomness: the base of the control-plane fixtures.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../store/store_fixture.h"
#include "common/random.h"
#include "common/time.h"
#include "control/context.h"
#include "control/store_indexes.h"
#include "control/typed_store.h"

namespace lp::control::testing {

inline constexpr char kProvider[] = "111111111111";
inline constexpr char kConsumer[] = "222222222222";

class ControlFixture : public store::testing::StoreFixture {
 protected:
  explicit ControlFixture(int64_t startSeconds = 1'790'000'000)
      : clock_{WallTime(std::chrono::seconds(startSeconds))} {}

  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    region_.zoneIds = {"use1-az1", "use1-az2"};
    region_.accounts = {{kProvider, "provider", "AKP", "sp"}, {kConsumer, "consumer", "AKC", "sc"}};
    ctx_ = std::make_unique<ControlContext>(*store_, clock_, random_, region_, Limits{});
  }
  store::Indexer indexer() const override { return storeIndexer(); }
  void TearDown() override {
    ctx_.reset();
    StoreFixture::TearDown();
  }

  // A limit as a reload sets it (ControlContext::replaceSettings).
  void setLimit(int Limits::*field, int value) {
    Limits l = ctx_->limits();
    l.*field = value;
    ctx_->replaceSettings({ctx_->settings()->region, l});
  }

  CallContext as(const std::string& account, bool dryRun = false) { return CallContext{account, "req", dryRun}; }

  template <typename R>
  std::vector<R> all() {
    std::vector<R> out;
    store_->read([&](const store::ReadView& r) { out = View(r).list<R>(); });
    return out;
  }
  using StoreFixture::put;
  template <typename R>
  void put(const R& r) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& w) {
                      Txn(w).put(r);
                      return Status::Ok();
                    })
                    .ok());
  }

  ManualClock clock_;
  SeededRandom random_{42};
  model::RegionConfig region_;
  std::unique_ptr<ControlContext> ctx_;
};

}  // namespace lp::control::testing
