// SnsService: topics (Create, Delete, ListTopics, Get/SetTopicAttributes) and
// their ARNs. Subscriptions are in sns_subscriptions.cc, Publish and the
// delivery outbox in sns_publish.cc, topic policies in sns_topic_policy.cc.
// Stateless over a ControlContext; any thread.
#include "control/sns_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "control/sns_common.h"

namespace lp::control {

using namespace sns_internal;

namespace {

constexpr int kMaxTopicsPerAccount = 1000;

bool validTopicName(std::string_view n) {
  if (n.empty() || n.size() > 256) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

std::optional<TopicArnParts> parseTopicArn(const std::string& arn) {
  auto parts = split(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sns") return std::nullopt;
  if (parts[4].size() != 12 || !std::all_of(parts[4].begin(), parts[4].end(), ::isdigit)) return std::nullopt;
  if (parts[3].empty() || !validTopicName(parts[5])) return std::nullopt;
  return TopicArnParts{parts[3], parts[4], parts[5]};
}

std::string effectiveDeliveryPolicy(const SnsRetryPolicy& p) {
  json retry = {{"minDelayTarget", p.minDelayMs / 1000},
                {"maxDelayTarget", p.maxDelayMs / 1000},
                {"numRetries", p.maxAttempts - 1},
                {"numMaxDelayRetries", 0},
                {"numNoDelayRetries", 0},
                {"numMinDelayRetries", 0},
                {"backoffFunction", "exponential"}};
  json http = {{"defaultHealthyRetryPolicy", retry}, {"disableSubscriptionOverrides", false}};
  return json{{"http", http}}.dump();
}

Result<SnsTopic> SnsService::createTopic(const CallContext& call, const std::string& name, const SnsAttributes& attrs,
                                         const model::Tags& tags) {
  if (name.empty()) return invalid("Invalid parameter: Topic Name");
  if (endsWith(name, ".fifo")) return invalid("Invalid parameter: FIFO topics are not supported");
  if (!validTopicName(name)) return invalid("Invalid parameter: Topic Name");
  std::string arn = fmt::format("arn:aws:sns:{}:{}:{}", ctx_.regionName(), call.account, name);
  SnsTopic topic;
  topic.id = model::SnsKey{arn};
  topic.ownerId = call.account;
  topic.name = name;
  for (const auto& [k, v] : attrs) {
    if (k == "DisplayName") {
      if (v.size() > 100) return invalid("Invalid parameter: DisplayName");
      topic.displayName = v;
    } else if (k == "Policy") {
      LP_RETURN_IF_ERROR(validateTopicPolicy(v));
      topic.policy = v;
    } else if (k == "DeliveryPolicy") {
      if (!json::accept(v)) return invalid("Invalid parameter: DeliveryPolicy: not valid JSON");
      topic.deliveryPolicy = v;
    } else if (k == "SignatureVersion") {
      if (v != "1" && v != "2") return invalid("Invalid parameter: SignatureVersion");
      topic.signatureVersion = v;
    } else {
      return invalid("Invalid parameter: Attributes Reason: Unknown or unsupported attribute {}", k);
    }
  }
  if (tags.size() > 50)
    return err::make("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded");
  for (const auto& tag : tags)
    if (tag.key.empty() || tag.key.size() > 128 || tag.value.size() > 256)
      return invalid("Invalid parameter: Tags Reason: tag key or value is invalid");
  topic.tags = tags;
  topic.createdAt = nowIso(ctx_);
  SnsTopic result;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    if (auto existing = t.get<SnsTopic>(arn)) {
      result = *existing;
      return Status::Ok();
    }
    int owned = 0;
    t.raw().forEach(SnsTopic::kKind, [&](const store::Object& o) {
      if (auto tp = decode<SnsTopic>(o); tp && tp->ownerId == call.account) ++owned;
      return true;
    });
    if (owned >= kMaxTopicsPerAccount) return err::make(err::kSnsTopicLimitExceeded, "Topic limit exceeded");
    t.put(topic);
    result = topic;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Status SnsService::deleteTopic(const CallContext& call, const std::string& topicArn) {
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto topic = ownedTopic(t, ctx_, call, topicArn, "DeleteTopic");
    if (!topic.ok()) return topic.status().code() == err::kSnsNotFound ? Status::Ok() : topic.status();
    for (const auto& s : t.listWhere<SnsSubscription>([&](const SnsSubscription& s) { return s.topicArn == topicArn; }))
      t.erase<SnsSubscription>(s.id.str());
    eraseDeliveriesWhere(t, [&](const SnsDelivery& d) { return d.topicArn == topicArn; });
    for (const auto& m :
         t.listWhere<SnsOutboxMessage>([&](const SnsOutboxMessage& m) { return m.topicArn == topicArn; }))
      t.erase<SnsOutboxMessage>(m.id.str());
    t.erase<SnsTopic>(topicArn);
    return Status::Ok();
  });
}

Result<Page<std::string>> SnsService::listTopics(const CallContext& call, const std::string& nextToken) {
  std::vector<std::string> arns;
  ctx_.store.read([&](const store::ReadView& r) {
    for (const auto& tp : View(r).listWhere<SnsTopic>([&](const SnsTopic& x) { return x.ownerId == call.account; }))
      arns.push_back(tp.id.str());
  });
  std::sort(arns.begin(), arns.end());
  PageRequest req{static_cast<int64_t>(kPageSize), nextToken};
  auto page = paginate(std::move(arns), req, [](const std::string& s) -> const std::string& { return s; });
  if (!page.ok()) return invalid("Invalid parameter: NextToken");
  return page;
}

Result<SnsAttributes> SnsService::getTopicAttributes(const CallContext& call, const std::string& topicArn) {
  std::optional<Result<SnsTopic>> topic;
  int64_t confirmed = 0, pending = 0;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    topic = ownedTopic(v, ctx_, call, topicArn, "GetTopicAttributes");
    if (!topic->ok()) return;
    for (const auto& s : v.listWhere<SnsSubscription>([&](const SnsSubscription& s) { return s.topicArn == topicArn; }))
      ++(s.confirmed ? confirmed : pending);
  });
  if (!topic->ok()) return topic->status();
  const SnsTopic& t = topic->value();
  SnsAttributes a;
  a.emplace_back("Policy", t.policy.empty() ? defaultTopicPolicy(t.id.str(), t.ownerId) : t.policy);
  a.emplace_back("Owner", t.ownerId);
  a.emplace_back("SubscriptionsPending", std::to_string(pending));
  a.emplace_back("TopicArn", t.id.str());
  a.emplace_back("EffectiveDeliveryPolicy", effectiveDeliveryPolicy(SnsRetryPolicy{}));
  a.emplace_back("SubscriptionsConfirmed", std::to_string(confirmed));
  a.emplace_back("DisplayName", t.displayName);
  a.emplace_back("SubscriptionsDeleted", std::to_string(t.subscriptionsDeleted));
  a.emplace_back("SignatureVersion", t.signatureVersion);
  if (!t.deliveryPolicy.empty()) a.emplace_back("DeliveryPolicy", t.deliveryPolicy);
  return a;
}

Status SnsService::setTopicAttributes(const CallContext& call, const std::string& topicArn, const std::string& name,
                                      const std::string& value) {
  if (name.empty()) return invalid("Invalid parameter: AttributeName");
  if (name == "Policy") {
    LP_RETURN_IF_ERROR(validateTopicPolicy(value));
  } else if (name == "DisplayName") {
    if (value.size() > 100) return invalid("Invalid parameter: DisplayName");
  } else if (name == "DeliveryPolicy") {
    if (!value.empty() && !json::accept(value)) return invalid("Invalid parameter: DeliveryPolicy: not valid JSON");
  } else if (name == "SignatureVersion") {
    if (value != "1" && value != "2") return invalid("Invalid parameter: SignatureVersion");
  } else {
    return invalid("Invalid parameter: AttributeName");
  }
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SnsTopic topic, ownedTopic(t, ctx_, call, topicArn, "SetTopicAttributes"));
    if (name == "Policy") topic.policy = value;
    if (name == "DisplayName") topic.displayName = value;
    if (name == "DeliveryPolicy") topic.deliveryPolicy = value;
    if (name == "SignatureVersion") topic.signatureVersion = value;
    t.put(topic);
    return Status::Ok();
  });
}

}  // namespace lp::control
