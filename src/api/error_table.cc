// The one table that maps error codes to HTTP statuses, per protocol. Codes not
// listed are client errors: 400.
#include <map>
#include <string>

#include "api/api_service.h"

namespace lp::api {

int httpStatusFor(Protocol protocol, std::string_view code) {
  static const std::map<std::string, int, std::less<>> kEc2 = {
      {"AuthFailure", 401},
      {"UnauthorizedOperation", 403},
      {"DryRunOperation", 412},
      {"RequestLimitExceeded", 503},
      {"InternalError", 500},
      {"ServerInternal", 500},
      {"Unavailable", 503},
  };
  static const std::map<std::string, int, std::less<>> kQuery = {
      {"InvalidClientTokenId", 403},
      {"SignatureDoesNotMatch", 403},
      {"MissingAuthenticationToken", 403},
      {"AccessDenied", 403},
      {"AuthorizationError", 403},
      {"MalformedQueryString", 404},
      {"NotFound", 404},
      {"TopicLimitExceeded", 403},
      {"SubscriptionLimitExceeded", 403},
      {"InternalFailure", 500},
      {"InternalError", 500},
      {"ServiceUnavailable", 503},
      {"Throttling", 400},
  };
  const auto& table = protocol == Protocol::kEc2 ? kEc2 : kQuery;
  auto it = table.find(code);
  return it == table.end() ? 400 : it->second;
}

}  // namespace lp::api
