// Topic policies: SNS's default policy for a topic, the checks a Policy
// attribute must pass, and whether a policy lets a service principal publish.
// Pure functions; any thread.
#include <algorithm>
#include <functional>

#include "common/strings.h"
#include "control/sns_common.h"

namespace lp::control {

using namespace sns_internal;

namespace {

bool lowerEquals(std::string_view a, std::string_view b) { return toLower(a) == toLower(b); }

bool matchesAny(const json& v, const std::function<bool(const std::string&)>& pred) {
  if (v.is_string()) return pred(v.get<std::string>());
  if (v.is_array())
    for (const auto& e : v)
      if (e.is_string() && pred(e.get<std::string>())) return true;
  return false;
}

}  // namespace

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

}  // namespace lp::control
