#include "notify/delivery_scheduler.h"

#include <algorithm>
#include <deque>

namespace lp::notify {

std::string deliveryAccount(const model::SnsDelivery& d) {
  // arn:aws:sns:<region>:<account>:<name>
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = d.topicArn.find(':', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  auto end = d.topicArn.find(':', pos);
  return end == std::string::npos ? std::string() : d.topicArn.substr(pos, end - pos);
}

void InFlightDeliveries::add(const model::SnsDelivery& d) {
  subscribers_.insert(d.subscriptionArn);
  ++perAccount_[deliveryAccount(d)];
  ++total_;
}

void InFlightDeliveries::remove(const model::SnsDelivery& d) {
  if (!subscribers_.erase(d.subscriptionArn)) return;
  auto it = perAccount_.find(deliveryAccount(d));
  if (it != perAccount_.end() && --it->second == 0) perAccount_.erase(it);
  --total_;
}

int InFlightDeliveries::account(const std::string& accountId) const {
  auto it = perAccount_.find(accountId);
  return it == perAccount_.end() ? 0 : it->second;
}

DeliveryPlan planDeliveries(const std::vector<model::SnsDelivery>& pending, const InFlightDeliveries& inFlight,
                            int64_t nowMs, const DeliveryLimits& limits) {
  DeliveryPlan plan;
  // The head of each subscriber's queue, when due and the subscriber is idle,
  // queued per account in the order the accounts' messages were accepted.
  std::set<std::string> seen;
  std::vector<std::string> accounts;
  std::map<std::string, std::deque<size_t>> ready;
  for (size_t i = 0; i < pending.size(); ++i) {
    const auto& d = pending[i];
    if (!seen.insert(d.subscriptionArn).second) continue;  // not the head
    if (inFlight.subscriberBusy(d.subscriptionArn)) continue;
    if (d.nextAttemptMs > nowMs) {
      plan.nextDueMs = plan.nextDueMs ? std::min(*plan.nextDueMs, d.nextAttemptMs) : d.nextAttemptMs;
      continue;
    }
    std::string account = deliveryAccount(d);
    auto& q = ready[account];
    if (q.empty()) accounts.push_back(account);
    q.push_back(i);
  }
  // Round-robin over the accounts, one start each per turn.
  int total = inFlight.total();
  std::map<std::string, int> started;
  for (bool progress = true; progress && total < limits.total;) {
    progress = false;
    for (const auto& a : accounts) {
      if (total >= limits.total) break;
      auto& q = ready[a];
      if (q.empty() || inFlight.account(a) + started[a] >= limits.perAccount) continue;
      plan.start.push_back(q.front());
      q.pop_front();
      ++started[a];
      ++total;
      progress = true;
    }
  }
  return plan;
}

}  // namespace lp::notify
