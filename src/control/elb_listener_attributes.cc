#include "control/elb_listener_attributes.h"

#include <charconv>

namespace lp::control {

namespace {

constexpr std::string_view kIdleTimeoutKey = "tcp.idle_timeout.seconds";

Status missing(std::string_view field) {
  return err::make(err::kValidationError,
                   "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                   field);
}

// The listener, through DescribeListeners' own lookup (ARN checks, ListenerNotFound).
Status findListener(ControlContext& ctx, const CallContext& call, const std::string& arn) {
  if (arn.empty()) return missing("listenerArn");
  DescribeListenersInput in;
  in.arns = {arn};
  LP_ASSIGN_OR_RETURN(auto page, ElbService(ctx).describeListeners(call, in));
  if (page.items.empty()) return err::make(err::kListenerNotFound, "One or more listeners not found");
  return Status::Ok();
}

Attributes currentAttributes(const ControlContext& ctx) {
  return {{std::string(kIdleTimeoutKey), std::to_string(ctx.dataplaneIdleTimeoutSeconds)}};
}

Status checkChange(const ControlContext& ctx, const std::string& key, const std::string& value) {
  if (key != kIdleTimeoutKey)
    return err::make(err::kValidationError, "Listener attribute key '{}' is not recognized", key);
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  bool number = ec == std::errc() && end == value.data() + value.size();
  // The value read back is always accepted, even when the configured one lies
  // outside AWS's range (a test's few seconds).
  if (number && seconds == ctx.dataplaneIdleTimeoutSeconds) return Status::Ok();
  if (!number || seconds < 60 || seconds > 6000)
    return err::make(err::kValidationError,
                     "Listener attribute '{}' value '{}' is not valid: it must be an integer from 60 to 6000", key,
                     value);
  return err::make(err::kInvalidConfigurationRequest,
                   "The idle timeout is {} seconds for every listener here (the data plane's, [dataplane] "
                   "idle_timeout_seconds); it cannot be set per listener",
                   ctx.dataplaneIdleTimeoutSeconds);
}

}  // namespace

Result<Attributes> describeListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn) {
  LP_RETURN_IF_ERROR(findListener(ctx, call, arn));
  return currentAttributes(ctx);
}

Result<Attributes> modifyListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn,
                                            const Attributes& changes) {
  if (arn.empty()) return missing("listenerArn");
  if (changes.empty()) return missing("attributes");
  for (const auto& [k, v] : changes) LP_RETURN_IF_ERROR(checkChange(ctx, k, v));
  LP_RETURN_IF_ERROR(findListener(ctx, call, arn));
  return currentAttributes(ctx);
}

}  // namespace lp::control
