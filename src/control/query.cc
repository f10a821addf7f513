#include "control/query.h"

#include <algorithm>

namespace lp::control {

Status validateFilters(const Filters& filters, const std::vector<std::string_view>& known, bool hasTags) {
  if (filters.size() > kMaxFilters)
    return err::make(err::kFilterLimitExceeded, "The maximum number of filters ({}) was exceeded.", kMaxFilters);
  for (const auto& f : filters) {
    if (f.name.empty()) return err::make(err::kInvalidParameterValue, "The filter name must not be empty.");
    if (f.values.size() > kMaxFilterValues)
      return err::make(err::kFilterLimitExceeded, "The maximum number of filter values ({}) was exceeded.",
                       kMaxFilterValues);
    if (hasTags && (startsWith(f.name, "tag:") || f.name == "tag-key")) continue;
    if (std::find(known.begin(), known.end(), f.name) == known.end())
      return err::make(err::kInvalidParameterValue, "The filter '{}' is invalid", f.name);
  }
  return Status::Ok();
}

bool matchValues(const std::vector<std::string>& patterns, const std::vector<std::string>& actual) {
  for (const auto& p : patterns)
    for (const auto& a : actual)
      if (wildcardMatch(p, a)) return true;
  return false;
}

std::optional<bool> matchTagFilter(const Filter& f, const model::Tags& tags) {
  if (startsWith(f.name, "tag:")) {
    auto key = std::string_view(f.name).substr(4);
    const std::string* v = model::findTag(tags, key);
    return v && matchValues(f.values, {*v});
  }
  if (f.name == "tag-key") {
    std::vector<std::string> keys;
    for (auto& t : tags) keys.push_back(t.key);
    return matchValues(f.values, keys);
  }
  return std::nullopt;
}

Status validateMaxResults(const PageRequest& req, int64_t min, int64_t max, bool capInsteadOfError) {
  if (!req.maxResults) return Status::Ok();
  int64_t v = *req.maxResults;
  if (v < min || (!capInsteadOfError && v > max))
    return err::make(err::kInvalidParameterValue,
                     "Value ( {} ) for parameter maxResults is invalid. Parameter must be between {} and {}.", v, min,
                     max);
  return Status::Ok();
}

std::string encodePageToken(std::string_view lastKey) {
  std::string t = base64Encode(std::string("lp1:") + std::string(lastKey));
  // URL-safe, unpadded: tokens travel in form bodies.
  for (auto& c : t) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!t.empty() && t.back() == '=') t.pop_back();
  return t;
}

std::optional<std::string> decodePageToken(std::string_view token) {
  auto raw = base64Decode(token);
  if (!raw || !startsWith(*raw, "lp1:")) return std::nullopt;
  return raw->substr(4);
}

}  // namespace lp::control
