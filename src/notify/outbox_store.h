// OutboxStore: what the notifier needs of the SNS state the control plane keeps
// (the outbox, the per-subscriber delivery queue, the signing certificate), so
// notify/ depends on that state's shape (model/sns.h) but not on control/.
// Implemented over control::SnsService by daemon::SnsOutbox; tests may fake it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/sns.h"

namespace lp::notify {

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // Turns up to maxMessages outbox messages into one delivery per confirmed
  // subscription; returns how many messages it took.
  virtual Result<int> fanOut(int maxMessages) = 0;
  // Every delivery still owed, in the order the messages were accepted.
  virtual std::vector<model::SnsDelivery> pendingDeliveries() const = 0;
  // The subscriber took the delivery: it is done.
  virtual Status deliverySucceeded(const std::string& deliveryId) = 0;
  // The attempt failed: schedule the next one, or give up when policy says so.
  // Returns whether it was given up.
  virtual Result<bool> deliveryFailed(const std::string& deliveryId, const std::string& error,
                                      const model::SnsRetryPolicy& policy) = 0;
  // Publishes the signing certificate (what the API serves at the SigningCertURL).
  virtual Status publishSigningCert(const std::string& name, const std::string& pem) = 0;
  // A number that grows whenever the state may have changed, and a wait (up to
  // timeout) for it to pass seen.
  virtual uint64_t version() const = 0;
  virtual void waitForChange(uint64_t seen, std::chrono::milliseconds timeout) const = 0;
};

}  // namespace lp::notify
