// DescribeListenerAttributes and ModifyListenerAttributes. Terraform's
// aws_lb_listener reads the attributes of every non-TLS listener on each refresh
// (provider 5.7x and later) and fails when the call is unknown, so an NLB listener
// must answer it. The one attribute of a TCP listener is tcp.idle_timeout.seconds.
#pragma once

#include <string>

#include "control/elb_service.h"

namespace lp::control {

// A flow through a listener with no packets for ControlContext::
// dataplaneIdleTimeoutSeconds ([dataplane] idle_timeout_seconds, 350 s by default,
// PrivateLink's and NLB's default) is dropped: the kernel fast path's conntrack
// timeout; the splice path keeps an idle connection while TCP keepalive is
// answered. It is one value for the whole data plane, not a setting of each listener.

// The attributes of a listener of the caller's: ListenerNotFound otherwise.
Result<Attributes> describeListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn);
// Accepts tcp.idle_timeout.seconds only at the data plane's value (a no-op, as when
// Terraform writes back what it read); another value in AWS's range 60..6000 is
// InvalidConfigurationRequest, anything else ValidationError. Nothing changes.
Result<Attributes> modifyListenerAttributes(ControlContext& ctx, const CallContext& call, const std::string& arn,
                                            const Attributes& changes);

}  // namespace lp::control
