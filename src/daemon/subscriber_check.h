// DaemonSubscriberCheck: where SNS may deliver, for this daemon: the config's
// [sns] subscriber_networks, its own listeners (and, for a wildcard listener,
// every address of the host), and the CIDR blocks of the VPCs in the store at the
// moment of the check. The same notify::SubscriberGate answers Subscribe (through
// control::SubscriberEndpointCheck) and every connection the notifier opens.
//
// Owned by the daemon; outlives the API server and the notifier; any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "control/context.h"
#include "control/sns_service.h"
#include "daemon/config.h"
#include "notify/subscriber_gate.h"

namespace lp::daemon {

class DaemonSubscriberCheck final : public control::SubscriberEndpointCheck {
 public:
  // Fails on a listen address that is not an IP address.
  static Result<std::unique_ptr<DaemonSubscriberCheck>> create(control::ControlContext& ctx, const Config& config);
  explicit DaemonSubscriberCheck(std::unique_ptr<notify::SubscriberGate> gate) : gate_(std::move(gate)) {}

  std::optional<std::string> refuse(const std::string& url) const override { return gate_->refuseUrl(url); }
  notify::SubscriberGate& gate() { return *gate_; }
  // A listener bound to a port the config left to the kernel ("ADDR", port).
  void addListener(const std::string& addr, uint16_t port);

 private:
  std::unique_ptr<notify::SubscriberGate> gate_;
};

}  // namespace lp::daemon
