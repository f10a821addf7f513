// The control-plane fixture with SNS helpers, for the SNS, notification and
// notifier tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "control/sns_service.h"
#include "control_test_fixture.h"

namespace lp::control::testing {

class SnsFixture : public ControlFixture {
 public:
  static constexpr const char* kOwner = kProvider;
  static constexpr const char* kOther = kConsumer;

 protected:
  SnsFixture() : ControlFixture(1'800'000'000) {}
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
};

}  // namespace lp::control::testing
