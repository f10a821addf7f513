// What the elb_*.cc files of ElbService share: AWS's ELBv2 validation errors,
// the shape of ELB ARNs, the caller's load balancers, target groups and
// listeners by ARN, Marker paging. Not for use elsewhere.
// Pure over their arguments (a View or Txn the caller holds); any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/elb_service.h"

namespace lp::control::elb_internal {

using model::Listener;
using model::LoadBalancer;
using model::TargetGroup;

constexpr int64_t kMaxPageSize = 400;

template <typename... Args>
Status validation(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kValidationError, f, std::forward<Args>(args)...);
}
template <typename... Args>
Status invalidConfig(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kInvalidConfigurationRequest, f, std::forward<Args>(args)...);
}

Status required(std::string_view field);

// Load balancer and target group names share one rule set (1-32 alphanumerics or
// hyphens, no hyphen at either end); noun is "Load balancer" or "Target group".
Status validateResourceName(std::string_view name, std::string_view noun);

Status validateElbTags(const model::Tags& tags);

Result<int> intInRange(std::optional<int64_t> v, int64_t lo, int64_t hi, std::string_view field, int dflt);

// "loadbalancer/net/<name>/<hex16>", "targetgroup/<name>/<hex16>",
// "listener/net/<lb-name>/<lb-hex16>/<hex16>".
bool isArnOf(std::string_view arn, std::string_view kind);

std::string arnPrefix(const ControlContext& ctx, const CallContext& call);

// Lookups of the caller's resources: another account's ARN answers NotFound.
Result<LoadBalancer> findLoadBalancer(const View& v, const CallContext& call, const std::string& arn);

Result<TargetGroup> findTargetGroup(const View& v, const CallContext& call, const std::string& arn);

Result<Listener> findListener(const View& v, const CallContext& call, const std::string& arn);

template <typename R, typename KeyFn>
Result<Page<R>> markerPage(std::vector<R> items, const MarkerPage& p, KeyFn key) {
  if (p.pageSize && (*p.pageSize < 1 || *p.pageSize > kMaxPageSize))
    return validation(
        "1 validation error detected: Value '{}' at 'pageSize' failed to satisfy constraint: Member must "
        "have value between 1 and {}",
        *p.pageSize, kMaxPageSize);
  PageRequest req{p.pageSize.value_or(kMaxPageSize), p.marker};
  auto page = paginate(std::move(items), req, key, kMaxPageSize);
  if (!page.ok()) return validation("Invalid Marker '{}'", p.marker);
  return page;
}

bool targetGroupInUse(const View& v, const std::string& tgArn);

}  // namespace lp::control::elb_internal
