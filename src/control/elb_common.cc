#include "control/elb_common.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace lp::control::elb_internal {

Status required(std::string_view field) {
  return validation(
      "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", field);
}

namespace {

bool isAlnumOrHyphen(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

Status validateResourceName(std::string_view name, std::string_view noun) {
  if (name.empty()) return validation("{} name must not be empty", noun);
  if (name.size() > 32) return validation("{} name '{}' cannot be longer than '32' characters", noun, name);
  if (!isAlnumOrHyphen(name))
    return validation("{} name '{}' can only contain characters that are alphanumeric characters or hyphens(-)", noun,
                      name);
  if (name.front() == '-' || name.back() == '-')
    return validation("{} name '{}' cannot begin or end with '-'", noun, name);
  return Status::Ok();
}

Status validateElbTags(const model::Tags& tags) {
  if (tags.size() > model::kMaxTagsPerResource)
    return err::make(err::kTooManyTags,
                     "The quota for the number of tags that can be assigned to a resource has been reached");
  std::set<std::string> seen;
  for (const auto& t : tags) {
    if (t.key.empty() || t.key.size() > 128) return validation("Tag keys must be between 1 and 128 characters");
    if (t.value.size() > 256) return validation("Tag values must be at most 256 characters");
    if (startsWith(t.key, "aws:")) return validation("Tag keys starting with 'aws:' are reserved for internal use");
    if (!seen.insert(t.key).second)
      return err::make(err::kDuplicateTagKeys, "Tag key was specified more than once: {}", t.key);
  }
  return Status::Ok();
}

Result<int> intInRange(std::optional<int64_t> v, int64_t lo, int64_t hi, std::string_view field, int dflt) {
  if (!v) return dflt;
  if (*v < lo || *v > hi)
    return validation(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must have "
        "value between {} and {}",
        *v, field, lo, hi);
  return static_cast<int>(*v);
}

namespace {

bool isHex(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// arn:aws:elasticloadbalancing:<region>:<12 digits>:<resource>; the resource part.
std::optional<std::string_view> elbResource(std::string_view arn) {
  auto parts = split(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "elasticloadbalancing" ||
      parts[3].empty() || parts[4].size() != 12 ||
      !std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return arn.substr(arn.size() - parts[5].size());
}

}  // namespace

bool isArnOf(std::string_view arn, std::string_view kind) {
  auto res = elbResource(arn);
  if (!res) return false;
  auto p = split(*res, '/');
  if (kind == "loadbalancer")
    return p.size() == 4 && p[0] == "loadbalancer" && p[1] == "net" && validateResourceName(p[2], "").ok() &&
           isHex(p[3], 16);
  if (kind == "targetgroup")
    return p.size() == 3 && p[0] == "targetgroup" && validateResourceName(p[1], "").ok() && isHex(p[2], 16);
  if (kind == "listener")
    return p.size() == 5 && p[0] == "listener" && p[1] == "net" && validateResourceName(p[2], "").ok() &&
           isHex(p[3], 16) && isHex(p[4], 16);
  return false;
}

std::string arnPrefix(const ControlContext& ctx, const CallContext& call) {
  return fmt::format("arn:aws:elasticloadbalancing:{}:{}:", ctx.regionName(), call.account);
}

Result<LoadBalancer> findLoadBalancer(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "loadbalancer")) return validation("'{}' is not a valid load balancer ARN", arn);
  auto lb = v.get<LoadBalancer>(arn);
  if (!lb || lb->ownerId != call.account)
    return err::make(err::kLoadBalancerNotFound, "Load balancers '[{}]' not found", arn);
  return std::move(*lb);
}

Result<TargetGroup> findTargetGroup(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "targetgroup")) return validation("'{}' is not a valid target group ARN", arn);
  auto tg = v.get<TargetGroup>(arn);
  if (!tg || tg->ownerId != call.account)
    return err::make(err::kTargetGroupNotFound, "Target groups '{}' not found", arn);
  return std::move(*tg);
}

Result<Listener> findListener(const View& v, const CallContext& call, const std::string& arn) {
  if (!isArnOf(arn, "listener")) return validation("'{}' is not a valid listener ARN", arn);
  auto l = v.get<Listener>(arn);
  if (!l || l->ownerId != call.account) return err::make(err::kListenerNotFound, "One or more listeners not found");
  return std::move(*l);
}

bool targetGroupInUse(const View& v, const std::string& tgArn) {
  return v.count<Listener>(index::kTargetGroup, tgArn) > 0;
}

}  // namespace lp::control::elb_internal
