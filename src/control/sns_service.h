// SnsService: the SNS Query API subset (topics, http/https subscriptions,
// Publish) and the store side of delivery (outbox fan-out, delivery bookkeeping)
// that the notifier in notify/ drives. Topics belong to one account; another
// account's topic answers AuthorizationError, as SNS does without a policy
// granting it.
//
// Every accepted message goes the same way: an "sns-outbox" row written in the
// caller's transaction (Publish, or a connection event in the endpoint's state
// change), fanned out by fanOut() into one "sns-delivery" row per confirmed
// subscription (one transaction that also deletes the outbox row), each deleted
// only after its subscriber answered 2xx. At-least-once, across crashes.
//
// Stateless over a ControlContext; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "model/sns.h"

namespace lp::control {

using SnsAttributes = std::vector<std::pair<std::string, std::string>>;

using SnsRetryPolicy = model::SnsRetryPolicy;

struct SubscribeInput {
  std::string topicArn;
  std::string protocol;
  std::string endpoint;
  SnsAttributes attributes;
  bool returnSubscriptionArn = false;
};

struct PublishInput {
  std::string topicArn;
  std::string targetArn;
  std::string phoneNumber;
  std::string message;
  std::optional<std::string> subject;
  std::string messageStructure;
  std::map<std::string, model::SnsMessageAttribute> messageAttributes;
};

// Whether SNS may send to a subscription endpoint URL (issue 19: no deliveries
// to the host's loopback, link-local or private services unless the config
// allows them, nor into VPCs). Implemented over notify::SubscriberGate by the
// daemon; any thread.
class SubscriberEndpointCheck {
 public:
  virtual ~SubscriberEndpointCheck() = default;
  // nullopt when allowed; otherwise why not.
  virtual std::optional<std::string> refuse(const std::string& url) const = 0;
};

// The check Subscribe consults for the services over ctx (null: none, every
// endpoint allowed, as in unit tests of other rules). Set by the daemon before
// the API serves; check must outlive ctx's use. Kept beside ctx rather than in
// it so this rule does not touch every user of ControlContext.
void setSubscriberEndpointCheck(const ControlContext& ctx, const SubscriberEndpointCheck* check);

class SnsService {
 public:
  explicit SnsService(ControlContext& ctx) : ctx_(ctx) {}

  // Idempotent by name: the existing topic's ARN for a name the account has.
  Result<model::SnsTopic> createTopic(const CallContext& call, const std::string& name, const SnsAttributes& attrs,
                                      const model::Tags& tags);
  // Removes the topic, its subscriptions and everything still queued for them.
  // A topic that does not exist is not an error (as in SNS).
  Status deleteTopic(const CallContext& call, const std::string& topicArn);
  // 100 per page, in ARN order.
  Result<Page<std::string>> listTopics(const CallContext& call, const std::string& nextToken);
  Result<SnsAttributes> getTopicAttributes(const CallContext& call, const std::string& topicArn);
  Status setTopicAttributes(const CallContext& call, const std::string& topicArn, const std::string& name,
                            const std::string& value);
  // The subscription ARN, or "pending confirmation" until confirmed (unless
  // ReturnSubscriptionArn). Queues the SubscriptionConfirmation message.
  Result<std::string> subscribe(const CallContext& call, const SubscribeInput& in);
  // Anyone holding the token may confirm (the token is the authentication): this
  // backs both the API action and the unauthenticated SubscribeURL.
  Result<std::string> confirmSubscription(const std::string& topicArn, const std::string& token);
  Result<Page<model::SnsSubscription>> listSubscriptionsByTopic(const CallContext& call, const std::string& topicArn,
                                                                const std::string& nextToken);
  Status unsubscribe(const CallContext& call, const std::string& subscriptionArn);
  // The MessageId.
  Result<std::string> publish(const CallContext& call, const PublishInput& in);

  // Notifier side. Fans out up to maxMessages outbox rows (oldest first), one
  // transaction each; returns how many were processed.
  Result<int> fanOut(int maxMessages);
  std::vector<model::SnsDelivery> pendingDeliveries() const;
  // The subscriber answered 2xx: the delivery is done.
  Status deliverySucceeded(const std::string& deliveryId);
  // The attempt failed: schedule the next one, or give up when policy says so.
  // Returns whether it was given up.
  Result<bool> deliveryFailed(const std::string& deliveryId, const std::string& error, const SnsRetryPolicy& policy);
  // Publishes the signing certificate (what the API serves at the SigningCertURL).
  Status publishSigningCert(const std::string& name, const std::string& pem);

 private:
  ControlContext& ctx_;
};

// Queues msg for its topic in t (fills id, messageId and timestamp when empty).
// Returns the MessageId.
std::string enqueueSnsMessage(Txn& t, const ControlContext& ctx, model::SnsOutboxMessage msg);

// The SNS default topic policy for a topic (owner may do everything).
std::string defaultTopicPolicy(const std::string& topicArn, const std::string& owner);
// Checks that text is a JSON policy document SNS would accept; the reason otherwise.
Status validateTopicPolicy(const std::string& text);
// Whether the policy lets the service principal (e.g. vpce.amazonaws.com) call
// SNS:Publish on topicArn: an Allow statement naming it (or "*") for SNS:Publish,
// SNS:* or *, whose Resource (if any) matches the ARN, and no Deny that does.
bool policyAllowsServicePublish(const std::string& policy, std::string_view servicePrincipal,
                                const std::string& topicArn);

// Topic ARN parts; nullopt when not an SNS topic ARN.
struct TopicArnParts {
  std::string region;
  std::string account;
  std::string name;
};
std::optional<TopicArnParts> parseTopicArn(const std::string& arn);

// The EffectiveDeliveryPolicy attribute for a retry policy.
std::string effectiveDeliveryPolicy(const SnsRetryPolicy& p);

}  // namespace lp::control
