// A control plane over a real SQLite store in a temporary directory, with a
// manual clock and seeded randomness, for the SNS, notification and notifier
// tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/random.h"
#include "common/time.h"
#include "control/context.h"
#include "control/sns_service.h"
#include "control/typed_store.h"

namespace lp::control::testing {

class SnsFixture : public ::testing::Test {
 public:
  static constexpr char kOwner[] = "111111111111";
  static constexpr char kOther[] = "222222222222";

 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-snstest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = store::openSqliteStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().toString();
    store_ = std::move(*s);
    region_.zoneIds = {"use1-az1", "use1-az2"};
    region_.accounts = {{kOwner, "provider", "AKP", "sp"}, {kOther, "consumer", "AKC", "sc"}};
    ctx_ = std::make_unique<ControlContext>(ControlContext{*store_, clock_, random_, region_, Limits{}});
  }
  void TearDown() override {
    ctx_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CallContext as(const std::string& account) { return CallContext{account, "req", false}; }
  SnsService sns() { return SnsService(*ctx_); }

  std::string topic(const std::string& name, const std::string& account = kOwner) {
    auto t = sns().createTopic(as(account), name, {}, {});
    EXPECT_TRUE(t.ok()) << t.status().toString();
    return t.ok() ? t->id.str() : "";
  }
  static std::string vpcePolicy(const std::string& arn) {
    return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpce.amazonaws.com"},)"
           R"("Action":"SNS:Publish","Resource":")" +
           arn + R"("}]})";
  }
  // A subscription confirmed through its token; returns its ARN.
  std::string confirmedSubscription(const std::string& arn, const std::string& url) {
    auto r = sns().subscribe(as(kOwner), {arn, "http", url, {}, true});
    EXPECT_TRUE(r.ok()) << r.status().toString();
    std::string token;
    for (const auto& s : all<model::SnsSubscription>())
      if (s.id.str() == *r) token = s.token;
    auto c = sns().confirmSubscription(arn, token);
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return *r;
  }
  template <typename R>
  std::vector<R> all() {
    std::vector<R> out;
    store_->read([&](const store::ReadView& r) { out = View(r).list<R>(); });
    return out;
  }
  template <typename R>
  void put(const R& r) {
    ASSERT_TRUE(store_
                    ->update([&](store::WriteTxn& w) {
                      Txn(w).put(r);
                      return Status::Ok();
                    })
                    .ok());
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{WallTime(std::chrono::seconds(1'800'000'000))};
  SeededRandom random_{42};
  model::RegionConfig region_;
  std::unique_ptr<ControlContext> ctx_;
};

}  // namespace lp::control::testing
