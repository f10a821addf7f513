// Connection events of interface endpoints (Connect, Accept, Reject, Delete), the
// seam between the endpoint lifecycle and connection notifications: the endpoint
// service calls recordConnectionEvent() inside the same store transaction as the
// state change, so a notification is durable exactly when the change is.
// Pure over the transaction; any thread.
#pragma once

#include <string_view>

#include "control/context.h"
#include "control/typed_store.h"
#include "model/endpoint.h"

namespace lp::control {

namespace connection_event {
inline constexpr std::string_view kConnect = "Connect";
inline constexpr std::string_view kAccept = "Accept";
inline constexpr std::string_view kReject = "Reject";
inline constexpr std::string_view kDelete = "Delete";
}  // namespace connection_event

// Writes, in t, one outbox row per connection notification that subscribes to
// event: those of the endpoint's service (provider) and of the endpoint itself
// (consumer).
void recordConnectionEvent(Txn& t, const ControlContext& ctx, const model::VpcEndpoint& endpoint,
                           std::string_view event);

}  // namespace lp::control
