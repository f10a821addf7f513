#include "control/sns_common.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>

namespace lp::control::sns_internal {

Status topicNotFound() { return err::make(err::kSnsNotFound, "Topic does not exist"); }

Status notAuthorized(const CallContext& call, std::string_view action, std::string_view resource) {
  return err::make(err::kSnsAuthorizationError,
                   "User: arn:aws:iam::{}:root is not authorized to perform: SNS:{} on resource: {}", call.account,
                   action, resource);
}

std::string sortableKey(const Txn& t) {
  static std::atomic<uint64_t> seq{0};
  return fmt::format("{:020}-{:012}", t.revision(), seq.fetch_add(1));
}

int64_t nowMs(const ControlContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.now().time_since_epoch()).count();
}

Result<SnsTopic> ownedTopic(const View& v, const ControlContext& ctx, const CallContext& call, const std::string& arn,
                            std::string_view action, std::string_view param) {
  if (arn.empty()) return invalid("Invalid parameter: {}", param);
  auto parts = parseTopicArn(arn);
  if (!parts || parts->region != ctx.regionName()) return invalid("Invalid parameter: {}", param);
  if (parts->account != call.account) return notAuthorized(call, action, arn);
  auto t = v.get<SnsTopic>(arn);
  if (!t) return topicNotFound();
  return std::move(*t);
}

void eraseDeliveriesWhere(Txn& t, const std::function<bool(const SnsDelivery&)>& pred) {
  for (const auto& d : t.listWhere<SnsDelivery>(pred)) t.erase<SnsDelivery>(d.id.str());
}

}  // namespace lp::control::sns_internal
