// Connection notifications: the topic-policy gate, ownership of the service or
// endpoint, ClientToken, and connection events becoming outbox rows inside the
// endpoint's own transaction (and vanishing with it when it rolls back).
#include "control/notification_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "control/connection_events.h"
#include "sns_test_fixture.h"

namespace lp::control {
namespace {

using testing::SnsFixture;

class NotificationServiceTest : public SnsFixture {
 protected:
  void SetUp() override {
    SnsFixture::SetUp();
    svc_.id = model::ServiceId("vpce-svc-0123456789abcdef0");
    svc_.ownerId = kOwner;
    svc_.serviceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
    put(svc_);
    ep_.id = model::VpcEndpointId("vpce-0aaaaaaaaaaaaaaaa");
    ep_.ownerId = kOther;
    ep_.vpcId = model::VpcId("vpc-0bbbbbbbbbbbbbbbb");
    ep_.serviceId = svc_.id;
    ep_.serviceName = svc_.serviceName;
    ep_.state = "pendingAcceptance";
    put(ep_);
  }
  NotificationService notifications() { return NotificationService(*ctx_); }
  std::string vpceTopic(const std::string& name, const std::string& account) {
    std::string arn = topic(name, account);
    EXPECT_TRUE(sns().setTopicAttributes(as(account), arn, "Policy", vpcePolicy(arn)).ok());
    return arn;
  }
  CreateConnectionNotificationInput forService(const std::string& arn, std::vector<std::string> events) {
    return {svc_.id.str(), "", arn, std::move(events), ""};
  }
  Status record(std::string_view event, bool commit = true) {
    return store_->update([&](store::WriteTxn& w) -> Status {
      Txn t(w);
      recordConnectionEvent(t, *ctx_, ep_, event);
      return commit ? Status::Ok() : Status("InternalError", "rolled back");
    });
  }

  model::ServiceConfiguration svc_;
  model::VpcEndpoint ep_;
};

TEST_F(NotificationServiceTest, TopicWithoutTheVpceStatementIsRefusedAndNothingIsCreated) {
  std::string plain = topic("plain");
  auto r = notifications().create(as(kOwner), forService(plain, {"Connect"}));
  EXPECT_EQ(r.status().code(), "InvalidConnectionNotification");
  EXPECT_NE(r.status().message().find("vpce.amazonaws.com"), std::string::npos);
  r = notifications().create(as(kOwner), forService("arn:aws:sns:us-east-1:111111111111:missing", {"Connect"}));
  EXPECT_EQ(r.status().code(), "InvalidConnectionNotification");
  r = notifications().create(as(kOwner), forService("arn:aws:sns:eu-west-1:111111111111:plain", {"Connect"}));
  EXPECT_EQ(r.status().code(), "InvalidConnectionNotification");
  r = notifications().create(as(kOwner), forService("not-an-arn", {"Connect"}));
  EXPECT_EQ(r.status().code(), "InvalidConnectionNotification");
  EXPECT_TRUE(all<model::ConnectionNotification>().empty());
}

TEST_F(NotificationServiceTest, OnlyTheOwnerOfTheServiceOrEndpointMayCreate) {
  std::string p = vpceTopic("p", kOwner);
  std::string c = vpceTopic("c", kOther);
  EXPECT_EQ(notifications().create(as(kOther), forService(c, {"Connect"})).status().code(),
            "InvalidVpcEndpointServiceId.NotFound");
  EXPECT_EQ(notifications().create(as(kOwner), {"", ep_.id.str(), p, {"Accept"}, ""}).status().code(),
            "InvalidVpcEndpointId.NotFound");
  EXPECT_EQ(notifications().create(as(kOwner), {svc_.id.str(), ep_.id.str(), p, {"Accept"}, ""}).status().code(),
            "InvalidParameterCombination");
  EXPECT_EQ(notifications().create(as(kOwner), {"", "", p, {"Accept"}, ""}).status().code(), "MissingParameter");
  EXPECT_EQ(notifications().create(as(kOwner), forService(p, {})).status().code(), "MissingParameter");
  EXPECT_EQ(notifications().create(as(kOwner), forService(p, {"Accept", "Boom"})).status().code(),
            "InvalidParameterValue");
  EXPECT_TRUE(all<model::ConnectionNotification>().empty());

  auto n = notifications().create(as(kOwner), forService(p, {"Connect", "Accept", "Connect"}));
  ASSERT_TRUE(n.ok()) << n.status().toString();
  EXPECT_EQ(n->events, (std::vector<std::string>{"Connect", "Accept"}));
  auto m = notifications().create(as(kOther), {"", ep_.id.str(), c, {"Accept"}, ""});
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(m->vpcEndpointId, ep_.id);

  auto mine = notifications().describe(as(kOwner), {});
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(mine->items[0].id, n->id);
  auto failed = notifications().remove(as(kOther), {n->id.str(), m->id.str()});
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ(failed->at(0).resourceId, n->id.str());
  EXPECT_EQ(all<model::ConnectionNotification>().size(), 1u);
}

TEST_F(NotificationServiceTest, ClientTokenMakesCreateIdempotent) {
  std::string p = vpceTopic("p", kOwner);
  auto in = forService(p, {"Connect"});
  in.clientToken = "abc";
  auto a = notifications().create(as(kOwner), in);
  auto b = notifications().create(as(kOwner), in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  in.events = {"Reject"};
  EXPECT_EQ(notifications().create(as(kOwner), in).status().code(), "IdempotentParameterMismatch");
  EXPECT_EQ(all<model::ConnectionNotification>().size(), 1u);
}

TEST_F(NotificationServiceTest, ModifyChecksTheNewTopicToo) {
  std::string p = vpceTopic("p", kOwner);
  std::string q = vpceTopic("q", kOwner);
  std::string plain = topic("plain");
  auto n = notifications().create(as(kOwner), forService(p, {"Connect"}));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(notifications().modify(as(kOwner), {n->id.str(), plain, {}}).code(), "InvalidConnectionNotification");
  EXPECT_EQ(notifications().modify(as(kOther), {n->id.str(), {}, std::vector<std::string>{"Accept"}}).code(),
            "InvalidConnectionNotification");
  ASSERT_TRUE(notifications().modify(as(kOwner), {n->id.str(), q, std::vector<std::string>{"Reject"}}).ok());
  auto got = all<model::ConnectionNotification>().at(0);
  EXPECT_EQ(got.topicArn, q);
  EXPECT_EQ(got.events, std::vector<std::string>{"Reject"});
}

TEST_F(NotificationServiceTest, EventsBecomeOutboxRowsForServiceAndEndpointNotifications) {
  std::string p = vpceTopic("p", kOwner);
  std::string c = vpceTopic("c", kOther);
  ASSERT_TRUE(notifications().create(as(kOwner), forService(p, {"Connect", "Accept"})).ok());
  ASSERT_TRUE(notifications().create(as(kOther), {"", ep_.id.str(), c, {"Accept", "Delete"}, ""}).ok());

  ASSERT_TRUE(record("Connect").ok());
  auto rows = all<model::SnsOutboxMessage>();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topicArn, p);
  EXPECT_EQ(rows[0].publisher, "vpce.amazonaws.com");
  auto body = nlohmann::json::parse(rows[0].message);
  EXPECT_EQ(body["eventType"], "Connect");
  EXPECT_EQ(body["vpcEndpointId"], ep_.id.str());
  EXPECT_EQ(body["vpcEndpointOwner"], kOther);
  EXPECT_EQ(body["vpcEndpointState"], "pendingAcceptance");
  EXPECT_EQ(body["serviceId"], svc_.id.str());
  EXPECT_EQ(body["serviceOwner"], kOwner);
  EXPECT_EQ(body["eventTime"], iso8601Millis(clock_.now()));

  ASSERT_TRUE(record("Accept").ok());
  EXPECT_EQ(all<model::SnsOutboxMessage>().size(), 3u);  // one per notification
  ASSERT_TRUE(record("Reject").ok());                    // nobody asked for Reject
  EXPECT_EQ(all<model::SnsOutboxMessage>().size(), 3u);
}

TEST_F(NotificationServiceTest, AnEventRollsBackWithItsTransaction) {
  std::string p = vpceTopic("p", kOwner);
  ASSERT_TRUE(notifications().create(as(kOwner), forService(p, {"Delete"})).ok());
  EXPECT_FALSE(record("Delete", /*commit=*/false).ok());
  EXPECT_TRUE(all<model::SnsOutboxMessage>().empty());
  ASSERT_TRUE(record("Delete").ok());
  EXPECT_EQ(all<model::SnsOutboxMessage>().size(), 1u);
}

TEST_F(NotificationServiceTest, FanOutDropsServiceMessagesOnceThePolicyNoLongerAllowsThem) {
  std::string p = vpceTopic("p", kOwner);
  confirmedSubscription(p, "http://127.0.0.1:9/hook");
  ASSERT_TRUE(notifications().create(as(kOwner), forService(p, {"Connect"})).ok());
  ASSERT_TRUE(record("Connect").ok());
  ASSERT_TRUE(sns().setTopicAttributes(as(kOwner), p, "Policy", defaultTopicPolicy(p, kOwner)).ok());
  ASSERT_TRUE(record("Connect").ok());
  // Both are judged when published to the topic, which the policy now refuses.
  ASSERT_TRUE(sns().fanOut(10).ok());
  EXPECT_TRUE(all<model::SnsOutboxMessage>().empty());
  EXPECT_TRUE(all<model::SnsDelivery>().empty());
  ASSERT_TRUE(sns().setTopicAttributes(as(kOwner), p, "Policy", vpcePolicy(p)).ok());
  ASSERT_TRUE(record("Connect").ok());
  ASSERT_TRUE(sns().fanOut(10).ok());
  ASSERT_EQ(all<model::SnsDelivery>().size(), 1u);
  EXPECT_EQ(all<model::SnsDelivery>()[0].subject, "VPC Endpoint Connection Notification");
}

}  // namespace
}  // namespace lp::control
