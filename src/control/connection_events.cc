#include "control/connection_events.h"

namespace lp::control {

// Outbox rows arrive with connection notifications (issue 6); until then no
// notification can exist, so there is nothing to record.
void recordConnectionEvent(Txn& t, const ControlContext& ctx, const model::VpcEndpoint& endpoint,
                           std::string_view event) {}

}  // namespace lp::control
