// SnsOutbox: the notifier's view of the SNS state (notify::OutboxStore) over the
// control plane's SnsService and the store's revision. Owned by the daemon beside
// the notifier, which it outlives; any thread.
#pragma once

#include "control/context.h"
#include "control/sns_service.h"
#include "notify/outbox_store.h"

namespace lp::daemon {

class SnsOutbox final : public notify::OutboxStore {
 public:
  explicit SnsOutbox(control::ControlContext& ctx) : ctx_(ctx) {}

  Result<int> fanOut(int maxMessages) override { return control::SnsService(ctx_).fanOut(maxMessages); }
  std::vector<model::SnsDelivery> pendingDeliveries() const override {
    return control::SnsService(ctx_).pendingDeliveries();
  }
  Status deliverySucceeded(const std::string& deliveryId) override {
    return control::SnsService(ctx_).deliverySucceeded(deliveryId);
  }
  Result<bool> deliveryFailed(const std::string& deliveryId, const std::string& error,
                              const model::SnsRetryPolicy& policy) override {
    return control::SnsService(ctx_).deliveryFailed(deliveryId, error, policy);
  }
  Status publishSigningCert(const std::string& name, const std::string& pem) override {
    return control::SnsService(ctx_).publishSigningCert(name, pem);
  }
  uint64_t version() const override { return ctx_.store.revision(); }
  void waitForChange(uint64_t seen, std::chrono::milliseconds timeout) const override {
    (void)ctx_.store.waitForRevision(seen, timeout);
  }

 private:
  control::ControlContext& ctx_;
};

}  // namespace lp::daemon
