// SnsService: topics, subscriptions, Publish through the outbox, fan-out to
// confirmed subscribers only, retry bookkeeping, and the topic policy rules that
// gate connection notifications.
#include "control/sns_service.h"

#include <gtest/gtest.h>

#include "sns_test_fixture.h"

namespace lp::control {
namespace {

using testing::SnsFixture;

class SnsServiceTest : public SnsFixture {};

TEST_F(SnsServiceTest, CreateTopicIsIdempotentByNameAndPerAccount) {
  std::string a = topic("orders");
  EXPECT_EQ(a, "arn:aws:sns:us-east-1:111111111111:orders");
  EXPECT_EQ(topic("orders"), a);
  EXPECT_EQ(topic("orders", kOther), "arn:aws:sns:us-east-1:222222222222:orders");
  EXPECT_EQ(all<model::SnsTopic>().size(), 2u);
  for (const std::string& bad : std::vector<std::string>{"", "a b", "x.fifo", std::string(257, 'x'), "semi;colon"})
    EXPECT_EQ(sns().createTopic(as(kOwner), bad, {}, {}).status().code(), "InvalidParameter") << bad;
  EXPECT_EQ(sns().createTopic(as(kOwner), "p", {{"Policy", "{nope"}}, {}).status().code(), "InvalidParameter");
  EXPECT_EQ(sns().createTopic(as(kOwner), "p", {{"KmsMasterKeyId", "k"}}, {}).status().code(), "InvalidParameter");
  EXPECT_EQ(all<model::SnsTopic>().size(), 2u);
}

TEST_F(SnsServiceTest, OtherAccountsTopicsAreAuthorizationErrors) {
  std::string arn = topic("mine");
  EXPECT_EQ(sns().getTopicAttributes(as(kOther), arn).status().code(), "AuthorizationError");
  EXPECT_EQ(sns().publish(as(kOther), {arn, "", "", "hi", {}, "", {}}).status().code(), "AuthorizationError");
  EXPECT_EQ(sns().deleteTopic(as(kOther), arn).code(), "AuthorizationError");
  EXPECT_EQ(sns().setTopicAttributes(as(kOther), arn, "DisplayName", "x").code(), "AuthorizationError");
  EXPECT_EQ(sns().getTopicAttributes(as(kOwner), arn + "x").status().code(), "NotFound");
  EXPECT_EQ(sns().getTopicAttributes(as(kOwner), "arn:aws:sns:eu-west-1:111111111111:mine").status().code(),
            "InvalidParameter");
  EXPECT_TRUE(sns().deleteTopic(as(kOwner), arn + "x").ok());  // missing: not an error, as in SNS
  EXPECT_EQ(all<model::SnsTopic>().size(), 1u);
}

TEST_F(SnsServiceTest, AttributesShowDefaultsAndCounts) {
  std::string arn = topic("t");
  confirmedSubscription(arn, "http://127.0.0.1:9/a");
  ASSERT_TRUE(sns().subscribe(as(kOwner), {arn, "https", "https://127.0.0.1:9/b", {}, false}).ok());
  auto attrs = sns().getTopicAttributes(as(kOwner), arn);
  ASSERT_TRUE(attrs.ok());
  std::map<std::string, std::string> m(attrs->begin(), attrs->end());
  EXPECT_EQ(m["Owner"], kOwner);
  EXPECT_EQ(m["SubscriptionsConfirmed"], "1");
  EXPECT_EQ(m["SubscriptionsPending"], "1");
  EXPECT_EQ(m["Policy"], defaultTopicPolicy(arn, kOwner));
  EXPECT_FALSE(policyAllowsServicePublish(m["Policy"], "vpce.amazonaws.com", arn));
  ASSERT_TRUE(sns().setTopicAttributes(as(kOwner), arn, "Policy", vpcePolicy(arn)).ok());
  EXPECT_EQ(sns().setTopicAttributes(as(kOwner), arn, "Policy", "[]").code(), "InvalidParameter");
  attrs = sns().getTopicAttributes(as(kOwner), arn);
  m = std::map<std::string, std::string>(attrs->begin(), attrs->end());
  EXPECT_EQ(m["Policy"], vpcePolicy(arn));
}

TEST_F(SnsServiceTest, PolicyRulesForTheVpceServicePrincipal) {
  const std::string arn = "arn:aws:sns:us-east-1:111111111111:t";
  auto allows = [&](const std::string& p) { return policyAllowsServicePublish(p, "vpce.amazonaws.com", arn); };
  EXPECT_TRUE(allows(vpcePolicy(arn)));
  EXPECT_TRUE(allows(
      R"({"Statement":{"Effect":"Allow","Principal":{"Service":["x.amazonaws.com","vpce.amazonaws.com"]},"Action":["sns:*"]}})"));
  EXPECT_TRUE(
      allows(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:sns:*:*:t"}]})"));
  EXPECT_FALSE(allows(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"vpce.amazonaws.com"},"Action":"SNS:Subscribe"}]})"));
  EXPECT_FALSE(
      allows(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"SNS:Publish"}]})"));
  EXPECT_FALSE(allows(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"vpce.amazonaws.com"},"Action":"SNS:Publish","Resource":"arn:aws:sns:us-east-1:111111111111:other"}]})"));
  EXPECT_FALSE(
      allows(R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"vpce.amazonaws.com"},"Action":"SNS:Publish"},)"
             R"({"Effect":"Deny","Principal":"*","Action":"sns:publish"}]})"));
  EXPECT_FALSE(allows(""));
  EXPECT_FALSE(allows("not json"));
  EXPECT_TRUE(validateTopicPolicy(vpcePolicy(arn)).ok());
  EXPECT_FALSE(validateTopicPolicy(R"({"Statement":[]})").ok());
  EXPECT_FALSE(validateTopicPolicy(R"({"Statement":[{"Effect":"Allow","Action":"*"}]})").ok());
  EXPECT_FALSE(
      validateTopicPolicy(R"({"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]})")
          .ok());
}

TEST_F(SnsServiceTest, SubscribeQueuesAConfirmationAndTheTokenConfirms) {
  std::string arn = topic("t");
  EXPECT_EQ(sns().subscribe(as(kOwner), {arn, "email", "a@b.c", {}, false}).status().code(), "InvalidParameter");
  EXPECT_EQ(sns().subscribe(as(kOwner), {arn, "http", "https://x/", {}, false}).status().code(), "InvalidParameter");
  EXPECT_EQ(sns().subscribe(as(kOwner), {arn, "http", "http://", {}, false}).status().code(), "InvalidParameter");
  auto r = sns().subscribe(as(kOwner), {arn, "http", "http://127.0.0.1:9/x", {}, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "pending confirmation");
  auto deliveries = all<model::SnsDelivery>();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].type, "SubscriptionConfirmation");
  auto subs = all<model::SnsSubscription>();
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(deliveries[0].token, subs[0].token);
  EXPECT_GE(subs[0].token.size(), 64u);

  EXPECT_EQ(sns().confirmSubscription(arn, "wrong").status().code(), "InvalidParameter");
  EXPECT_EQ(sns().confirmSubscription(arn + "x", subs[0].token).status().code(), "NotFound");
  auto c = sns().confirmSubscription(arn, subs[0].token);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, subs[0].id.str());
  EXPECT_TRUE(all<model::SnsSubscription>()[0].confirmed);
  EXPECT_TRUE(all<model::SnsDelivery>().empty());  // nothing left to confirm
  // Subscribing the same endpoint again answers the same subscription.
  auto again = sns().subscribe(as(kOwner), {arn, "http", "http://127.0.0.1:9/x", {}, false});
  EXPECT_EQ(*again, subs[0].id.str());
}

TEST_F(SnsServiceTest, PublishGoesThroughTheOutboxToConfirmedSubscribersOnly) {
  std::string arn = topic("t");
  std::string sub = confirmedSubscription(arn, "http://127.0.0.1:9/a");
  ASSERT_TRUE(sns().subscribe(as(kOwner), {arn, "http", "http://127.0.0.1:9/pending", {}, false}).ok());
  size_t before = all<model::SnsDelivery>().size();  // the pending one's confirmation
  auto id = sns().publish(as(kOwner), {arn, "", "", "hello", std::string("subj"), "", {{"k", {"String", "v"}}}});
  ASSERT_TRUE(id.ok()) << id.status().toString();
  auto outbox = all<model::SnsOutboxMessage>();
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].messageId, *id);
  EXPECT_EQ(all<model::SnsDelivery>().size(), before);

  auto n = sns().fanOut(100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(all<model::SnsOutboxMessage>().empty());
  auto ds = all<model::SnsDelivery>();
  ASSERT_EQ(ds.size(), before + 1);
  const auto& d = ds.back();
  EXPECT_EQ(d.type, "Notification");
  EXPECT_EQ(d.subscriptionArn, sub);
  EXPECT_EQ(d.messageId, *id);
  EXPECT_EQ(d.subject, "subj");
  EXPECT_EQ(d.message, "hello");
  EXPECT_EQ(d.messageAttributes.at("k").stringValue, "v");

  for (auto bad : std::vector<PublishInput>{{arn, "", "", "", {}, "", {}},
                                            {arn, "", "", "x", std::string("a\nb"), "", {}},
                                            {arn, "", "", "x", {}, "json", {}},
                                            {arn, "", "", R"({"http":"x"})", {}, "json", {}},
                                            {arn, "", "+15555550100", "x", {}, "", {}},
                                            {arn, "", "", "x", {}, "", {{"AWS.x", {"String", "v"}}}},
                                            {arn, "", "", "x", {}, "", {{"n", {"Number", "abc"}}}}})
    EXPECT_FALSE(sns().publish(as(kOwner), bad).ok());
  EXPECT_TRUE(all<model::SnsOutboxMessage>().empty());
}

TEST_F(SnsServiceTest, JsonMessageStructurePicksTheProtocolEntry) {
  std::string arn = topic("t");
  confirmedSubscription(arn, "http://127.0.0.1:9/a");
  ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", R"({"default":"d","http":"h"})", {}, "json", {}}).ok());
  ASSERT_TRUE(sns().fanOut(10).ok());
  EXPECT_EQ(all<model::SnsDelivery>().at(0).message, "h");
}

TEST_F(SnsServiceTest, FailedDeliveriesBackOffExponentiallyAndGiveUpWithinBounds) {
  SnsRetryPolicy p{1000, 8000, 6, 60000};
  EXPECT_EQ(p.delayAfter(1), 1000);
  EXPECT_EQ(p.delayAfter(2), 2000);
  EXPECT_EQ(p.delayAfter(3), 4000);
  EXPECT_EQ(p.delayAfter(4), 8000);
  EXPECT_EQ(p.delayAfter(30), 8000);

  std::string arn = topic("t");
  confirmedSubscription(arn, "http://127.0.0.1:9/a");
  ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", "m", {}, "", {}}).ok());
  ASSERT_TRUE(sns().fanOut(10).ok());
  auto d = all<model::SnsDelivery>().at(0);
  int64_t t0 = d.nextAttemptMs;
  for (int i = 1; i <= 5; ++i) {
    auto gaveUp = sns().deliveryFailed(d.id.str(), "refused", p);
    ASSERT_TRUE(gaveUp.ok());
    EXPECT_FALSE(*gaveUp);
    auto now = all<model::SnsDelivery>().at(0);
    EXPECT_EQ(now.attempts, i);
    EXPECT_EQ(now.nextAttemptMs, t0 + p.delayAfter(i));
    EXPECT_EQ(now.lastError, "refused");
  }
  auto gaveUp = sns().deliveryFailed(d.id.str(), "refused", p);  // the 6th attempt is the last
  ASSERT_TRUE(gaveUp.ok());
  EXPECT_TRUE(*gaveUp);
  EXPECT_TRUE(all<model::SnsDelivery>().empty());
}

TEST_F(SnsServiceTest, DeleteTopicAndUnsubscribeDropWhatIsQueued) {
  std::string arn = topic("t");
  std::string sub = confirmedSubscription(arn, "http://127.0.0.1:9/a");
  ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", "m1", {}, "", {}}).ok());
  ASSERT_TRUE(sns().fanOut(10).ok());
  ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", "m2", {}, "", {}}).ok());
  EXPECT_EQ(sns().unsubscribe(as(kOther), sub).code(), "AuthorizationError");
  ASSERT_TRUE(sns().unsubscribe(as(kOwner), sub).ok());
  EXPECT_TRUE(all<model::SnsDelivery>().empty());
  EXPECT_EQ(sns().unsubscribe(as(kOwner), sub).code(), "NotFound");
  ASSERT_TRUE(sns().deleteTopic(as(kOwner), arn).ok());
  EXPECT_TRUE(all<model::SnsOutboxMessage>().empty());
  EXPECT_TRUE(all<model::SnsTopic>().empty());
}

TEST_F(SnsServiceTest, ListTopicsPagesByHundred) {
  for (int i = 0; i < 150; ++i) topic(fmt::format("t{:03}", i));
  topic("theirs", kOther);
  auto p1 = sns().listTopics(as(kOwner), "");
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->items.size(), 100u);
  auto p2 = sns().listTopics(as(kOwner), p1->nextToken);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->items.size(), 50u);
  EXPECT_TRUE(p2->nextToken.empty());
  EXPECT_EQ(p2->items.back(), "arn:aws:sns:us-east-1:111111111111:t149");
  EXPECT_EQ(sns().listTopics(as(kOwner), "!!").status().code(), "InvalidParameter");
}

}  // namespace
}  // namespace lp::control
