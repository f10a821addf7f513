// DeliveryScheduler: which owed deliveries to start now, so that no subscriber
// and no account holds up another's (issue 19: ten endpoints that accept and
// never answer delayed another account's confirmation by 149 s when deliveries
// went one after another).
//
// Rules: a subscriber has at most one delivery in flight (its queue is ordered,
// and a delivery never answered counts as in flight until its timeout); an
// account (the topic's owner) has at most perAccount in flight; all accounts
// together at most total, shared round-robin between accounts with due work.
// Pure: the notifier passes the owed deliveries, what is in flight and the time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/sns.h"

namespace lp::notify {

struct DeliveryLimits {
  int total = 32;       // in flight at once (the worker threads)
  int perAccount = 8;   // in flight at once for one topic owner
};

// What is in flight now. Not thread-safe; the notifier guards it.
class InFlightDeliveries {
 public:
  void add(const model::SnsDelivery& d);
  void remove(const model::SnsDelivery& d);
  bool subscriberBusy(const std::string& subscriptionArn) const { return subscribers_.count(subscriptionArn) > 0; }
  int account(const std::string& accountId) const;
  int total() const { return total_; }

 private:
  std::set<std::string> subscribers_;
  std::map<std::string, int> perAccount_;
  int total_ = 0;
};

struct DeliveryPlan {
  std::vector<size_t> start;           // indexes into pending, to start now
  std::optional<int64_t> nextDueMs;    // earliest retry time of a subscriber waiting on one
};

// pending: every owed delivery, in the order the messages were accepted.
DeliveryPlan planDeliveries(const std::vector<model::SnsDelivery>& pending, const InFlightDeliveries& inFlight,
                            int64_t nowMs, const DeliveryLimits& limits);

// The account a delivery counts against: the owner of its topic (from the ARN).
std::string deliveryAccount(const model::SnsDelivery& d);

}  // namespace lp::notify
