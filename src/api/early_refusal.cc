#include "api/early_refusal.h"

namespace lp::api {

std::string_view formActionInPlace(std::string_view body) {
  constexpr std::string_view kKey = "Action=";
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find('&', at);
    if (end == std::string_view::npos) end = body.size();
    std::string_view pair = body.substr(at, end - at);
    if (pair.substr(0, kKey.size()) == kKey) {
      std::string_view value = pair.substr(kKey.size());
      return value.find_first_of("%+") == std::string_view::npos ? value : std::string_view();
    }
    at = end + 1;
  }
  return {};
}

bool overLimitBeforeVerifying(const AccountThrottle* throttle, const InFlightLimiter* inFlight,
                              std::string_view accountId, std::string_view action) {
  if (inFlight && inFlight->full(accountId)) return true;
  if (!throttle) return false;
  if (action.empty()) return throttle->overLimit(accountId, true) && throttle->overLimit(accountId, false);
  return throttle->overLimit(accountId, isReadOnlyAction(action));
}

}  // namespace lp::api
