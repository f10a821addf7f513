// What the sns_*.cc files of SnsService share: SNS's error answers, the
// caller's topic by ARN, store keys that sort in write order, the clock in
// milliseconds, removing queued deliveries. Not for use elsewhere.
// Pure over their arguments (a View or Txn the caller holds); any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "control/sns_service.h"

namespace lp::control::sns_internal {

using model::SnsDelivery;
using model::SnsOutboxMessage;
using model::SnsSubscription;
using model::SnsTopic;
using nlohmann::json;

constexpr size_t kPageSize = 100;

template <typename... Args>
Status invalid(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kInvalidParameter, f, std::forward<Args>(args)...);
}

Status topicNotFound();

Status notAuthorized(const CallContext& call, std::string_view action, std::string_view resource);

// Sortable store keys: the revision of the writing transaction, then a counter
// that only grows within this process (revisions grow across restarts).
std::string sortableKey(const Txn& t);

int64_t nowMs(const ControlContext& ctx);

// The topic named by arn, checked for the caller: malformed or another region is
// InvalidParameter, another account's AuthorizationError, a missing one NotFound.
Result<SnsTopic> ownedTopic(const View& v, const ControlContext& ctx, const CallContext& call, const std::string& arn,
                            std::string_view action, std::string_view param = "TopicArn");

void eraseDeliveriesWhere(Txn& t, const std::function<bool(const SnsDelivery&)>& pred);

}  // namespace lp::control::sns_internal
