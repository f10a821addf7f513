#include "api/in_flight.h"

namespace lp::api {

InFlightLimiter::Slot::~Slot() {
  if (owner_) owner_->leave(account_);
}

std::optional<InFlightLimiter::Slot> InFlightLimiter::enter(std::string_view account) {
  std::lock_guard lock(mu_);
  auto it = running_.find(account);
  if (it == running_.end()) it = running_.emplace(std::string(account), 0).first;
  if (it->second >= max_) return std::nullopt;
  ++it->second;
  return Slot(this, std::string(account));
}

int InFlightLimiter::running(std::string_view account) const {
  std::lock_guard lock(mu_);
  auto it = running_.find(account);
  return it == running_.end() ? 0 : it->second;
}

void InFlightLimiter::leave(const std::string& account) {
  std::lock_guard lock(mu_);
  auto it = running_.find(account);
  if (it != running_.end() && --it->second <= 0) running_.erase(it);
}

}  // namespace lp::api
