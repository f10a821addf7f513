// SNS-compatible topics, subscriptions, the outbox of messages waiting to be
// published, and the per-subscriber delivery queue. Values only; the rules are in
// control/sns_service, the delivery in notify/.
//
// Store kinds and ids:
//   "sns-topic"         id = topic ARN (arn:aws:sns:<region>:<account>:<name>)
//   "sns-subscription"  id = subscription ARN (<topic ARN>:<uuid>)
//   "sns-outbox"        id = sortable key (revision, then a uuid): a message accepted
//                       for a topic (Publish, or a connection event) not yet fanned out
//   "sns-delivery"      id = sortable key: one message owed to one subscriber; deleted
//                       only once the subscriber answered 2xx (or retries ran out)
// The sortable keys keep the order messages were accepted in, so each subscriber
// receives them in that order.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/ids.h"
#include "model/resources.h"

namespace lp::model {

// How long and how often a failing HTTP(S) delivery is retried: exponential
// backoff from minDelay doubling up to maxDelay, until maxAttempts attempts or
// maxAge after the message was accepted, whichever comes first.
struct SnsRetryPolicy {
  int64_t minDelayMs = 1000;
  int64_t maxDelayMs = 20000;
  int maxAttempts = 100;
  int64_t maxAgeMs = 3600 * 1000;
  // Delay before attempt number attempts+1, after attempts failures (>= 1).
  int64_t delayAfter(int attempts) const {
    int64_t d = minDelayMs;
    for (int i = 1; i < attempts && d < maxDelayMs; ++i) d *= 2;
    return d < maxDelayMs ? d : maxDelayMs;
  }
};

// A store id that is a whole string (an ARN or a sortable key).
struct SnsKey {
  std::string v;
  const std::string& str() const { return v; }
  bool empty() const { return v.empty(); }
  bool operator==(const SnsKey&) const = default;
};
inline void to_json(nlohmann::json& j, const SnsKey& k) { j = k.v; }
inline void from_json(const nlohmann::json& j, SnsKey& k) { k.v = j.get<std::string>(); }

struct SnsTopic {
  static constexpr std::string_view kKind = "sns-topic";
  SnsKey id;  // the ARN
  AccountId ownerId;
  std::string name;
  std::string displayName;
  std::string policy;          // "" = the default policy (owner only)
  std::string deliveryPolicy;  // "" = none set
  std::string signatureVersion = "1";
  int64_t subscriptionsDeleted = 0;
  std::string createdAt;
  Tags tags;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsTopic, id, ownerId, name, displayName, policy, deliveryPolicy,
                                                signatureVersion, subscriptionsDeleted, createdAt, tags)

struct SnsSubscription {
  static constexpr std::string_view kKind = "sns-subscription";
  SnsKey id;  // the subscription ARN
  AccountId ownerId;
  std::string topicArn;
  std::string protocol;  // http | https
  std::string endpoint;  // the URL
  bool confirmed = false;
  std::string token;  // confirmation token (the only authentication of the SubscribeURL)
  bool rawMessageDelivery = false;
  std::string createdAt;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsSubscription, id, ownerId, topicArn, protocol, endpoint, confirmed,
                                                token, rawMessageDelivery, createdAt)

struct SnsMessageAttribute {
  std::string dataType;     // String, Number, Binary, String.Array (+ custom suffix)
  std::string stringValue;  // or the base64 text of a Binary value
  bool operator==(const SnsMessageAttribute&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsMessageAttribute, dataType, stringValue)

// A message accepted for a topic and not yet turned into deliveries.
struct SnsOutboxMessage {
  static constexpr std::string_view kKind = "sns-outbox";
  SnsKey id;  // sortable key
  std::string topicArn;
  std::string messageId;  // uuid, returned by Publish, the same in every delivery
  std::string subject;
  std::string message;
  std::string messageStructure;  // "" or "json"
  std::map<std::string, SnsMessageAttribute> messageAttributes;
  std::string timestamp;  // when accepted, ISO 8601 millis
  // Who published: an account id, or "vpce.amazonaws.com" for connection
  // events (checked against the topic policy when fanned out).
  std::string publisher;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsOutboxMessage, id, topicArn, messageId, subject, message,
                                                messageStructure, messageAttributes, timestamp, publisher)

namespace sns_message_type {
inline constexpr std::string_view kSubscriptionConfirmation = "SubscriptionConfirmation";
inline constexpr std::string_view kNotification = "Notification";
}  // namespace sns_message_type

// One message owed to one subscriber.
struct SnsDelivery {
  static constexpr std::string_view kKind = "sns-delivery";
  SnsKey id;  // sortable key
  std::string subscriptionArn;
  std::string topicArn;
  std::string endpoint;
  std::string type;  // sns_message_type
  std::string messageId;
  std::string subject;
  std::string message;  // the text for this subscriber (MessageStructure already resolved)
  std::map<std::string, SnsMessageAttribute> messageAttributes;
  std::string timestamp;
  std::string token;  // SubscriptionConfirmation only
  bool raw = false;   // RawMessageDelivery: the body is the message itself
  std::string signatureVersion = "1";
  int attempts = 0;
  int64_t createdAtMs = 0;    // wall clock, ms since epoch
  int64_t nextAttemptMs = 0;  // wall clock, ms since epoch: not before
  std::string lastError;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsDelivery, id, subscriptionArn, topicArn, endpoint, type, messageId,
                                                subject, message, messageAttributes, timestamp, token, raw,
                                                signatureVersion, attempts, createdAtMs, nextAttemptMs, lastError)

// The certificate subscribers verify message signatures with, published by the
// notifier at start so the API can serve it. Kind "sns-signing-cert", id "current".
struct SnsSigningCert {
  static constexpr std::string_view kKind = "sns-signing-cert";
  SnsKey id{"current"};
  std::string name;  // the file name in the SigningCertURL
  std::string pem;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SnsSigningCert, id, name, pem)

// The service principal that publishes connection notifications.
inline constexpr std::string_view kVpceServicePrincipal = "vpce.amazonaws.com";

}  // namespace lp::model
