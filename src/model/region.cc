#include "model/region.h"

#include <algorithm>
#include <cstdint>

namespace lp::model {

const Account* RegionConfig::accountByKey(std::string_view key) const {
  for (auto& a : accounts)
    if (a.accessKeyId == key) return &a;
  return nullptr;
}

const Account* RegionConfig::accountById(std::string_view id) const {
  for (auto& a : accounts)
    if (a.id == id) return &a;
  return nullptr;
}

static uint64_t fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::vector<std::string> RegionConfig::zoneIdsInNameOrder(std::string_view account) const {
  // A Fisher-Yates shuffle driven by a hash of the account id: stable across
  // restarts and versions, different between accounts.
  std::vector<std::string> ids = zoneIds;
  uint64_t state = fnv1a(account) ^ fnv1a(name);
  for (size_t i = ids.size(); i > 1; --i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    size_t j = static_cast<size_t>((state >> 33) % i);
    std::swap(ids[i - 1], ids[j]);
  }
  return ids;
}

std::string RegionConfig::zoneName(std::string_view account, std::string_view zoneId) const {
  auto order = zoneIdsInNameOrder(account);
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] == zoneId) return name + static_cast<char>('a' + i);
  return "";
}

std::optional<std::string> RegionConfig::zoneIdForName(std::string_view account, std::string_view zoneName) const {
  if (zoneName.size() != name.size() + 1 || zoneName.substr(0, name.size()) != name) return std::nullopt;
  size_t idx = static_cast<size_t>(zoneName.back() - 'a');
  auto order = zoneIdsInNameOrder(account);
  if (idx >= order.size()) return std::nullopt;
  return order[idx];
}

bool RegionConfig::hasZoneId(std::string_view zoneId) const {
  return std::find(zoneIds.begin(), zoneIds.end(), zoneId) != zoneIds.end();
}

}  // namespace lp::model
