#include "model/ids.h"

#include <array>

namespace lp::model {

bool isWellFormedId(std::string_view prefix, std::string_view s) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  auto rest = s.substr(prefix.size());
  if (rest.size() != 8 && rest.size() != 17) return false;
  for (char c : rest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view resourceKindOfId(std::string_view id) {
  // Longest prefixes first: "vpce-svc-" before "vpce-" before "vpc-".
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kKinds{{
      {"vpce-svc-", "vpc-endpoint-service"},
      {"vpce-nfn-", "vpc-endpoint-connection-notification"},
      {"vpce-", "vpc-endpoint"},
      {"vpc-", "vpc"},
      {"subnet-", "subnet"},
      {"sg-", "security-group"},
      {"eni-", "network-interface"},
      {"rtb-", "route-table"},
      {"acl-", "network-acl"},
      {"i-", "instance"},
      {"vol-", "volume"},
  }};
  for (auto& [prefix, kind] : kKinds) {
    if (id.substr(0, prefix.size()) == prefix) return kind;
  }
  return "";
}

}  // namespace lp::model
