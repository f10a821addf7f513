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

Attributes currentAttributes() { return {{std::string(kIdleTimeoutKey), std::to_string(kListenerIdleTimeoutSeconds)}}; }

Status checkChange(const std::string& key, const std::string& value) {
  if (key != kIdleTimeoutKey)
    return err::make(err::kValidationError, "Listener attribute key '{}' is not recognized", key);
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 60 || seconds > 6000)
    return err::make(err::kValidationError,
                     "Listener attribute '{}' value '{}' is not valid: it must be an integer from 60 to 6000", key,
                     value);
  if (seconds != kListenerIdleTimeoutSeconds)
    return err::make(err::kInvalidConfigurationRequest,
                     "The idle timeout is {} seconds for every listener here (the data plane's); it cannot be set "
                     "per listener",
                     kListenerIdleTimeoutSeconds);
  return Status::Ok();
}

}  // namespace

Result<Attributes> describeListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn) {
  LP_RETURN_IF_ERROR(findListener(ctx, call, arn));
  return currentAttributes();
}

Result<Attributes> modifyListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn,
                                            const Attributes& changes) {
  if (arn.empty()) return missing("listenerArn");
  if (changes.empty()) return missing("attributes");
  for (const auto& [k, v] : changes) LP_RETURN_IF_ERROR(checkChange(k, v));
  LP_RETURN_IF_ERROR(findListener(ctx, call, arn));
  return currentAttributes();
}

}  // namespace lp::control
