#include "control/sns_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "common/log.h"
#include "common/strings.h"

namespace lp::control {

using model::SnsDelivery;
using model::SnsOutboxMessage;
using model::SnsSubscription;
using model::SnsTopic;
using nlohmann::json;

namespace {

constexpr size_t kPageSize = 100;
constexpr int kMaxTopicsPerAccount = 1000;
constexpr int kMaxSubscriptionsPerTopic = 1000;
constexpr size_t kMaxMessageBytes = 256 * 1024;
constexpr std::string_view kPendingConfirmation = "pending confirmation";

template <typename... Args>
Status invalid(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kInvalidParameter, f, std::forward<Args>(args)...);
}
Status topicNotFound() { return err::make(err::kSnsNotFound, "Topic does not exist"); }
Status notAuthorized(const CallContext& call, std::string_view action, std::string_view resource) {
  return err::make(err::kSnsAuthorizationError,
                   "User: arn:aws:iam::{}:root is not authorized to perform: SNS:{} on resource: {}", call.account,
                   action, resource);
}

// Sortable store keys: the revision of the writing transaction, then a counter
// that only grows within this process (revisions grow across restarts).
std::string sortableKey(const Txn& t) {
  static std::atomic<uint64_t> seq{0};
  return fmt::format("{:020}-{:012}", t.revision(), seq.fetch_add(1));
}

int64_t nowMs(const ControlContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.now().time_since_epoch()).count();
}

bool validTopicName(std::string_view n) {
  if (n.empty() || n.size() > 256) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool lowerEquals(std::string_view a, std::string_view b) { return toLower(a) == toLower(b); }

// Compares a secret without an early exit, so timing does not reveal a prefix.
bool sameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The topic named by arn, checked for the caller: malformed or another region is
// InvalidParameter, another account's AuthorizationError, a missing one NotFound.
Result<SnsTopic> ownedTopic(const View& v, const ControlContext& ctx, const CallContext& call, const std::string& arn,
                            std::string_view action, std::string_view param = "TopicArn") {
  if (arn.empty()) return invalid("Invalid parameter: {}", param);
  auto parts = parseTopicArn(arn);
  if (!parts || parts->region != ctx.regionName()) return invalid("Invalid parameter: {}", param);
  if (parts->account != call.account) return notAuthorized(call, action, arn);
  auto t = v.get<SnsTopic>(arn);
  if (!t) return topicNotFound();
  return std::move(*t);
}

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

void eraseDeliveriesWhere(Txn& t, const std::function<bool(const SnsDelivery&)>& pred) {
  for (const auto& d : t.listWhere<SnsDelivery>(pred)) t.erase<SnsDelivery>(d.id.str());
}

bool matchesAny(const json& v, const std::function<bool(const std::string&)>& pred) {
  if (v.is_string()) return pred(v.get<std::string>());
  if (v.is_array())
    for (const auto& e : v)
      if (e.is_string() && pred(e.get<std::string>())) return true;
  return false;
}

}  // namespace

std::optional<TopicArnParts> parseTopicArn(const std::string& arn) {
  auto parts = split(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sns") return std::nullopt;
  if (parts[4].size() != 12 || !std::all_of(parts[4].begin(), parts[4].end(), ::isdigit)) return std::nullopt;
  if (parts[3].empty() || !validTopicName(parts[5])) return std::nullopt;
  return TopicArnParts{parts[3], parts[4], parts[5]};
}

std::string defaultTopicPolicy(const std::string& topicArn, const std::string& owner) {
  json statement = {
      {"Sid", "__default_statement_ID"},
      {"Effect", "Allow"},
      {"Principal", {{"AWS", "*"}}},
      {"Action",
       {"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
        "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"}},
      {"Resource", topicArn},
      {"Condition", {{"StringEquals", {{"AWS:SourceOwner", owner}}}}},
  };
  json policy = {{"Version", "2008-10-17"}, {"Id", "__default_policy_ID"}, {"Statement", json::array({statement})}};
  return policy.dump();
}

Status validateTopicPolicy(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid("Invalid parameter: Policy Error: the policy is not valid JSON");
  if (auto v = j.find("Version"); v != j.end() && (!v->is_string() || (*v != "2008-10-17" && *v != "2012-10-17")))
    return invalid("Invalid parameter: Policy Error: Version must be 2008-10-17 or 2012-10-17");
  auto st = j.find("Statement");
  if (st == j.end()) return invalid("Invalid parameter: Policy Error: null Statement");
  json statements = st->is_array() ? *st : json::array({*st});
  if (statements.empty()) return invalid("Invalid parameter: Policy Error: null Statement");
  for (const auto& s : statements) {
    if (!s.is_object()) return invalid("Invalid parameter: Policy Error: a Statement is not an object");
    auto e = s.find("Effect");
    if (e == s.end() || !e->is_string() || (*e != "Allow" && *e != "Deny"))
      return invalid("Invalid parameter: Policy Error: Effect must be Allow or Deny");
    if (!s.contains("Principal") && !s.contains("NotPrincipal"))
      return invalid("Invalid parameter: Policy Error: a Statement has no Principal");
    if (!s.contains("Action") && !s.contains("NotAction"))
      return invalid("Invalid parameter: Policy Error: a Statement has no Action");
    for (const char* key : {"Action", "NotAction", "Resource"}) {
      auto a = s.find(key);
      if (a == s.end()) continue;
      bool ok = a->is_string() || (a->is_array() && !a->empty() &&
                                   std::all_of(a->begin(), a->end(), [](const json& x) { return x.is_string(); }));
      if (!ok) return invalid("Invalid parameter: Policy Error: {} must be a string or a list of strings", key);
    }
  }
  return Status::Ok();
}

bool policyAllowsServicePublish(const std::string& policy, std::string_view servicePrincipal,
                                const std::string& topicArn) {
  auto j = json::parse(policy, nullptr, false);
  if (!j.is_object() || !j.contains("Statement")) return false;
  json statements = j["Statement"].is_array() ? j["Statement"] : json::array({j["Statement"]});
  bool allowed = false;
  for (const auto& s : statements) {
    if (!s.is_object() || !s.contains("Principal") || !s.contains("Action")) continue;
    const json& p = s["Principal"];
    bool principal =
        (p.is_string() && p == "*") ||
        (p.is_object() && p.contains("Service") &&
         matchesAny(p["Service"], [&](const std::string& x) { return lowerEquals(x, servicePrincipal); })) ||
        (p.is_object() && p.contains("AWS") && !s.contains("Condition") &&
         matchesAny(p["AWS"], [](const std::string& x) { return x == "*"; }));
    bool action = matchesAny(s["Action"], [](const std::string& a) {
      std::string l = toLower(a);
      return l == "sns:publish" || l == "sns:*" || l == "*";
    });
    bool resource = !s.contains("Resource") ||
                    matchesAny(s["Resource"], [&](const std::string& r) { return wildcardMatch(r, topicArn); });
    if (!principal || !action || !resource) continue;
    if (s.value("Effect", "") == "Deny") return false;
    if (s.value("Effect", "") == "Allow") allowed = true;
  }
  return allowed;
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

std::string enqueueSnsMessage(Txn& t, const ControlContext& ctx, SnsOutboxMessage msg) {
  msg.id = model::SnsKey{sortableKey(t)};
  if (msg.messageId.empty()) msg.messageId = ctx.random.uuid();
  if (msg.timestamp.empty()) msg.timestamp = iso8601Millis(ctx.clock.now());
  t.put(msg);
  return msg.messageId;
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

namespace {

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
