// SnsService: http/https subscriptions (Subscribe, ConfirmSubscription,
// ListSubscriptionsByTopic, Unsubscribe) and the check of a subscriber's URL
// (setSubscriberEndpointCheck). Stateless over a ControlContext; any thread (the
// registered checks are behind a mutex).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "common/strings.h"
#include "control/sns_common.h"

namespace lp::control {

using namespace sns_internal;

namespace {

constexpr int kMaxSubscriptionsPerTopic = 1000;

constexpr std::string_view kPendingConfirmation = "pending confirmation";

// Compares a secret without an early exit, so timing does not reveal a prefix.
bool sameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool validUrlFor(const std::string& protocol, const std::string& url) {
  std::string prefix = protocol + "://";
  if (!startsWith(toLower(url), prefix) || url.size() > 2048) return false;
  std::string rest = url.substr(prefix.size());
  std::string hostport = rest.substr(0, rest.find_first_of("/?#"));
  if (hostport.empty() || hostport.find('@') != std::string::npos) return false;
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

std::mutex gChecksMu;

std::map<const ControlContext*, const SubscriberEndpointCheck*> gChecks;

const SubscriberEndpointCheck* subscriberEndpointCheck(const ControlContext& ctx) {
  std::lock_guard lock(gChecksMu);
  auto it = gChecks.find(&ctx);
  return it == gChecks.end() ? nullptr : it->second;
}

}  // namespace

void setSubscriberEndpointCheck(const ControlContext& ctx, const SubscriberEndpointCheck* check) {
  std::lock_guard lock(gChecksMu);
  if (check)
    gChecks[&ctx] = check;
  else
    gChecks.erase(&ctx);
}

Result<std::string> SnsService::subscribe(const CallContext& call, const SubscribeInput& in) {
  std::string protocol = toLower(in.protocol);
  if (protocol.empty()) return invalid("Invalid parameter: Protocol");
  if (protocol != "http" && protocol != "https")
    return invalid("Invalid parameter: Protocol: only http and https subscriptions are supported here, not '{}'",
                   in.protocol);
  if (!validUrlFor(protocol, in.endpoint))
    return invalid("Invalid parameter: Endpoint must match the specified protocol ({}://...)", protocol);
  // Before any request is sent (the confirmation goes out as soon as this returns).
  if (const SubscriberEndpointCheck* check = subscriberEndpointCheck(ctx_)) {
    if (auto why = check->refuse(in.endpoint))
      return invalid("Invalid parameter: Endpoint Reason: linkplane does not send to this endpoint: {}", *why);
  }
  bool raw = false;
  for (const auto& [k, v] : in.attributes) {
    if (k == "RawMessageDelivery") {
      if (v != "true" && v != "false") return invalid("Invalid parameter: Attributes Reason: RawMessageDelivery");
      raw = v == "true";
    } else {
      return invalid("Invalid parameter: Attributes Reason: Unknown or unsupported attribute {}", k);
    }
  }
  std::string answer;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(SnsTopic topic, ownedTopic(t, ctx_, call, in.topicArn, "Subscribe"));
    auto subs = t.listWhere<SnsSubscription>([&](const SnsSubscription& s) { return s.topicArn == topic.id.str(); });
    SnsSubscription sub;
    auto same = std::find_if(subs.begin(), subs.end(), [&](const SnsSubscription& s) {
      return s.protocol == protocol && s.endpoint == in.endpoint;
    });
    if (same != subs.end()) {
      sub = *same;
      if (sub.confirmed) {
        answer = sub.id.str();
        return Status::Ok();
      }
      // Still pending: send the confirmation again, as SNS does.
    } else {
      if (subs.size() >= kMaxSubscriptionsPerTopic)
        return err::make(err::kSnsSubscriptionLimitExceeded, "Subscription limit exceeded");
      sub.id = model::SnsKey{topic.id.str() + ":" + ctx_.random.uuid()};
      sub.ownerId = call.account;
      sub.topicArn = topic.id.str();
      sub.protocol = protocol;
      sub.endpoint = in.endpoint;
      sub.token = ctx_.random.hex(64) + ctx_.random.hex(64);
      sub.rawMessageDelivery = raw;
      sub.createdAt = nowIso(ctx_);
      t.put(sub);
    }
    SnsDelivery d;
    d.id = model::SnsKey{sortableKey(t)};
    d.subscriptionArn = sub.id.str();
    d.topicArn = sub.topicArn;
    d.endpoint = sub.endpoint;
    d.type = std::string(model::sns_message_type::kSubscriptionConfirmation);
    d.messageId = ctx_.random.uuid();
    d.message = fmt::format(
        "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included "
        "in this message.",
        sub.topicArn);
    d.timestamp = nowIso(ctx_);
    d.token = sub.token;
    d.signatureVersion = topic.signatureVersion;
    d.createdAtMs = d.nextAttemptMs = nowMs(ctx_);
    t.put(d);
    answer = in.returnSubscriptionArn ? sub.id.str() : std::string(kPendingConfirmation);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return answer;
}

Result<std::string> SnsService::confirmSubscription(const std::string& topicArn, const std::string& token) {
  if (topicArn.empty()) return invalid("Invalid parameter: TopicArn");
  if (token.empty()) return invalid("Invalid parameter: Token");
  auto parts = parseTopicArn(topicArn);
  if (!parts || parts->region != ctx_.regionName()) return invalid("Invalid parameter: TopicArn");
  std::string arn;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    if (!t.get<SnsTopic>(topicArn)) return topicNotFound();
    auto subs = t.listWhere<SnsSubscription>([&](const SnsSubscription& s) {
      return s.topicArn == topicArn && !s.token.empty() && sameSecret(s.token, token);
    });
    if (subs.empty()) return invalid("Invalid token");
    SnsSubscription sub = subs.front();
    arn = sub.id.str();
    if (sub.confirmed) return Status::Ok();
    sub.confirmed = true;
    t.put(sub);
    // Nothing more to confirm: drop a confirmation message still being retried.
    eraseDeliveriesWhere(t, [&](const SnsDelivery& d) {
      return d.subscriptionArn == arn && d.type == model::sns_message_type::kSubscriptionConfirmation;
    });
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return arn;
}

Result<Page<SnsSubscription>> SnsService::listSubscriptionsByTopic(const CallContext& call, const std::string& topicArn,
                                                                   const std::string& nextToken) {
  std::optional<Result<SnsTopic>> topic;
  std::vector<SnsSubscription> subs;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    topic = ownedTopic(v, ctx_, call, topicArn, "ListSubscriptionsByTopic");
    if (topic->ok())
      subs = v.listWhere<SnsSubscription>([&](const SnsSubscription& s) { return s.topicArn == topicArn; });
  });
  if (!topic->ok()) return topic->status();
  PageRequest req{static_cast<int64_t>(kPageSize), nextToken};
  auto page = paginate(std::move(subs), req, [](const SnsSubscription& s) -> const std::string& { return s.id.str(); });
  if (!page.ok()) return invalid("Invalid parameter: NextToken");
  return page;
}

Status SnsService::unsubscribe(const CallContext& call, const std::string& subscriptionArn) {
  auto colon = subscriptionArn.rfind(':');
  if (subscriptionArn.empty() || colon == std::string::npos) return invalid("Invalid parameter: SubscriptionArn");
  std::string topicArn = subscriptionArn.substr(0, colon);
  if (!parseTopicArn(topicArn)) return invalid("Invalid parameter: SubscriptionArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto parts = parseTopicArn(topicArn);
    if (parts->account != call.account) return notAuthorized(call, "Unsubscribe", subscriptionArn);
    auto sub = t.get<SnsSubscription>(subscriptionArn);
    if (!sub) return err::make(err::kSnsNotFound, "Subscription does not exist");
    t.erase<SnsSubscription>(subscriptionArn);
    eraseDeliveriesWhere(t, [&](const SnsDelivery& d) { return d.subscriptionArn == subscriptionArn; });
    if (auto topic = t.get<SnsTopic>(topicArn)) {
      ++topic->subscriptionsDeleted;
      t.put(*topic);
    }
    return Status::Ok();
  });
}

}  // namespace lp::control
