// SnsService: Publish and the store side of delivery. A message becomes an
// "sns-outbox" row (enqueueSnsMessage, in the caller's transaction); fanOut()
// turns it into one "sns-delivery" row per confirmed subscription; the notifier
// reports each attempt (deliverySucceeded, deliveryFailed). Also the signing
// certificate the notifier publishes. Stateless over a ControlContext; any thread.
#include <algorithm>
#include <map>

#include "common/log.h"
#include "common/strings.h"
#include "control/sns_common.h"

namespace lp::control {

using namespace sns_internal;

namespace {

constexpr size_t kMaxMessageBytes = 256 * 1024;

// Subject rules of SNS: 1-99 printable ASCII characters, no line breaks.
Status validateSubject(const std::string& s) {
  if (s.empty() || s.size() > 99) return invalid("Invalid parameter: Subject");
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return invalid("Invalid parameter: Subject");
  return Status::Ok();
}

Status validateMessageAttributes(const std::map<std::string, model::SnsMessageAttribute>& attrs) {
  if (attrs.size() > 10) return invalid("Invalid parameter: MessageAttributes: at most 10 attributes are allowed");
  for (const auto& [name, a] : attrs) {
    bool nameOk = !name.empty() && name.size() <= 256 && name.front() != '.' && name.back() != '.' &&
                  name.find("..") == std::string::npos && !startsWith(toLower(name), "aws.") &&
                  !startsWith(toLower(name), "amazon.") && std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.';
                  });
    if (!nameOk) return err::make(err::kInvalidParameterValue, "The message attribute name '{}' is invalid.", name);
    std::string base = a.dataType.substr(0, a.dataType.find('.'));
    if (base != "String" && base != "Number" && base != "Binary")
      return err::make(err::kInvalidParameterValue,
                       "The message attribute '{}' has an invalid message attribute type, the set of supported type "
                       "prefixes is Binary, Number, and String.",
                       name);
    if (a.stringValue.empty())
      return err::make(err::kInvalidParameterValue,
                       "The message attribute '{}' must contain non-empty message attribute value.", name);
    if (base == "Number" && !json::accept(a.stringValue))
      return err::make(err::kInvalidParameterValue, "The message attribute '{}' with type 'Number' must be a number.",
                       name);
  }
  return Status::Ok();
}

// The message text a subscriber of protocol gets.
std::string messageFor(const SnsOutboxMessage& m, const std::string& protocol) {
  if (m.messageStructure != "json") return m.message;
  auto j = json::parse(m.message, nullptr, false);
  if (j.is_object()) {
    if (auto it = j.find(protocol); it != j.end() && it->is_string()) return it->get<std::string>();
    if (auto it = j.find("default"); it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return m.message;
}

}  // namespace

std::string enqueueSnsMessage(Txn& t, const ControlContext& ctx, SnsOutboxMessage msg) {
  msg.id = model::SnsKey{sortableKey(t)};
  if (msg.messageId.empty()) msg.messageId = ctx.random.uuid();
  if (msg.timestamp.empty()) msg.timestamp = iso8601Millis(ctx.clock.now());
  t.put(msg);
  return msg.messageId;
}

Result<std::string> SnsService::publish(const CallContext& call, const PublishInput& in) {
  if (!in.phoneNumber.empty()) return invalid("Invalid parameter: PhoneNumber: SMS is not supported here");
  if (!in.topicArn.empty() && !in.targetArn.empty())
    return invalid("Invalid parameter: TopicArn or TargetArn Reason: Only one of them may be given");
  std::string arn = in.topicArn.empty() ? in.targetArn : in.topicArn;
  if (arn.empty()) return invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
  if (in.message.empty()) return invalid("Invalid parameter: Empty message");
  if (in.message.size() > kMaxMessageBytes) return invalid("Invalid parameter: Message too long");
  if (in.subject) LP_RETURN_IF_ERROR(validateSubject(*in.subject));
  if (!in.messageStructure.empty()) {
    if (in.messageStructure != "json") return invalid("Invalid parameter: MessageStructure");
    auto j = json::parse(in.message, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return invalid("Invalid parameter: Message Structure - JSON message body failed to parse");
    if (!j.contains("default") || !j["default"].is_string())
      return invalid("Invalid parameter: Message Structure - No default entry in JSON message body");
  }
  LP_RETURN_IF_ERROR(validateMessageAttributes(in.messageAttributes));
  std::string messageId;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SnsTopic topic,
                        ownedTopic(t, ctx_, call, arn, "Publish", in.topicArn.empty() ? "TargetArn" : "TopicArn"));
    SnsOutboxMessage m;
    m.topicArn = topic.id.str();
    m.subject = in.subject.value_or("");
    m.message = in.message;
    m.messageStructure = in.messageStructure;
    m.messageAttributes = in.messageAttributes;
    m.publisher = call.account;
    messageId = enqueueSnsMessage(t, ctx_, std::move(m));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return messageId;
}

Result<int> SnsService::fanOut(int maxMessages) {
  std::vector<std::string> ids;
  ctx_.store.read([&](const store::ReadView& r) {
    r.forEach(SnsOutboxMessage::kKind, [&](const store::Object& o) {
      ids.push_back(o.id);
      return static_cast<int>(ids.size()) < maxMessages;
    });
  });
  int done = 0;
  for (const auto& id : ids) {
    Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
      Txn t(w);
      auto m = t.get<SnsOutboxMessage>(id);
      if (!m) return Status::Ok();  // raced with a topic delete
      t.erase<SnsOutboxMessage>(id);
      auto topic = t.get<SnsTopic>(m->topicArn);
      if (!topic) {
        LP_LOG_WARN("sns: message {} dropped: topic {} no longer exists", m->messageId, m->topicArn);
        return Status::Ok();
      }
      if (m->publisher == model::kVpceServicePrincipal &&
          !policyAllowsServicePublish(topic->policy, model::kVpceServicePrincipal, topic->id.str())) {
        LP_LOG_WARN("sns: message {} dropped: the policy of {} no longer lets {} publish", m->messageId, m->topicArn,
                    model::kVpceServicePrincipal);
        return Status::Ok();
      }
      int64_t now = nowMs(ctx_);
      for (const auto& s : t.listWhere<SnsSubscription>(
               [&](const SnsSubscription& s) { return s.topicArn == m->topicArn && s.confirmed; })) {
        SnsDelivery d;
        d.id = model::SnsKey{sortableKey(t)};
        d.subscriptionArn = s.id.str();
        d.topicArn = m->topicArn;
        d.endpoint = s.endpoint;
        d.type = std::string(model::sns_message_type::kNotification);
        d.messageId = m->messageId;
        d.subject = m->subject;
        d.message = messageFor(*m, s.protocol);
        d.messageAttributes = m->messageAttributes;
        d.timestamp = m->timestamp;
        d.raw = s.rawMessageDelivery;
        d.signatureVersion = topic->signatureVersion;
        d.createdAtMs = d.nextAttemptMs = now;
        t.put(d);
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    ++done;
  }
  return done;
}

std::vector<SnsDelivery> SnsService::pendingDeliveries() const {
  std::vector<SnsDelivery> out;
  ctx_.store.read([&](const store::ReadView& r) { out = View(r).list<SnsDelivery>(); });
  return out;
}

Status SnsService::deliverySucceeded(const std::string& deliveryId) {
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    if (t.get<SnsDelivery>(deliveryId)) t.erase<SnsDelivery>(deliveryId);
    return Status::Ok();
  });
}

Result<bool> SnsService::deliveryFailed(const std::string& deliveryId, const std::string& error,
                                        const SnsRetryPolicy& policy) {
  bool gaveUp = false;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto d = t.get<SnsDelivery>(deliveryId);
    if (!d) return Status::Ok();
    int64_t now = nowMs(ctx_);
    d->attempts += 1;
    d->lastError = error;
    int64_t next = now + policy.delayAfter(d->attempts);
    if (d->attempts >= policy.maxAttempts || next - d->createdAtMs > policy.maxAgeMs) {
      LP_LOG_WARN("sns: giving up on {} message {} to {} after {} attempts: {}", d->type, d->messageId, d->endpoint,
                  d->attempts, error);
      t.erase<SnsDelivery>(deliveryId);
      gaveUp = true;
      return Status::Ok();
    }
    d->nextAttemptMs = next;
    t.put(*d);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return gaveUp;
}

Status SnsService::publishSigningCert(const std::string& name, const std::string& pem) {
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto cur = t.get<model::SnsSigningCert>(std::string("current"));
    if (cur && cur->name == name && cur->pem == pem) return Status::Ok();
    model::SnsSigningCert c;
    c.name = name;
    c.pem = pem;
    t.put(c);
    return Status::Ok();
  });
}

}  // namespace lp::control
