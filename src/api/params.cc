#include "api/params.h"

#include <algorithm>

#include "common/strings.h"
#include "common/utf8.h"

namespace lp::api {

Result<Params> Params::parseForm(std::string_view body) {
  Params p;
  if (body.empty()) return p;
  for (auto& pair : split(body, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto k = formUrlDecode(std::string_view(pair).substr(0, eq));
    auto v = eq == std::string::npos ? std::optional<std::string>("") : formUrlDecode(std::string_view(pair).substr(eq + 1));
    if (!k || !v) return Status("MalformedQueryString", "The request body is not a valid form encoding.");
    // Everything read from here may reach XML, JSON or the store, which all want UTF-8.
    if (!isValidUtf8(*k) || !isValidUtf8(*v))
      return Status("MalformedQueryString", "The request body is not valid UTF-8 once decoded.");
    p.kv_[std::move(*k)] = std::move(*v);
  }
  return p;
}

const std::string* Params::find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

std::string Params::get(std::string_view key) const {
  auto* v = find(key);
  return v ? *v : std::string();
}

Result<std::optional<bool>> Params::getBool(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<bool>();
  auto l = toLower(*v);
  if (l == "true") return std::optional<bool>(true);
  if (l == "false") return std::optional<bool>(false);
  return Status("InvalidParameterValue", "Value (" + *v + ") for parameter " + std::string(key) + " is invalid. Expected: 'true' or 'false'.");
}

Result<std::optional<int64_t>> Params::getInt(std::string_view key) const {
  auto* v = find(key);
  if (!v) return std::optional<int64_t>();
  auto n = parseInt(*v);
  if (!n) return Status("InvalidParameterValue", "Value (" + *v + ") for parameter " + std::string(key) + " is invalid. Expected an integer.");
  return std::optional<int64_t>(*n);
}

// Indices directly below prefix ("prefix.<n>" or "prefix.<n>.rest"), sorted.
static std::vector<std::pair<int64_t, std::string>> indexedKeys(const std::map<std::string, std::string, std::less<>>& kv,
                                                               std::string_view prefix, bool wantLeaf) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::string pre = std::string(prefix) + ".";
  for (auto it = kv.lower_bound(pre); it != kv.end() && startsWith(it->first, pre); ++it) {
    std::string_view rest = std::string_view(it->first).substr(pre.size());
    auto dot = rest.find('.');
    auto idx = parseInt(rest.substr(0, dot));
    if (!idx || *idx < 0) continue;
    if (wantLeaf != (dot == std::string_view::npos)) continue;
    out.emplace_back(*idx, it->first);
  }
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return out;
}

std::vector<std::string> Params::list(std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto& [idx, key] : indexedKeys(kv_, prefix, true)) out.push_back(kv_.at(key));
  return out;
}

std::vector<Params> Params::structList(std::string_view prefix) const {
  std::map<int64_t, Params> byIndex;
  std::string pre = std::string(prefix) + ".";
  for (auto& [idx, key] : indexedKeys(kv_, prefix, false)) {
    std::string_view rest = std::string_view(key).substr(pre.size());
    byIndex[idx].kv_[std::string(rest.substr(rest.find('.') + 1))] = kv_.at(key);
  }
  std::vector<Params> out;
  for (auto& [idx, p] : byIndex) out.push_back(std::move(p));
  return out;
}

Params Params::sub(std::string_view prefix) const {
  Params out;
  std::string pre = std::string(prefix) + ".";
  for (auto it = kv_.lower_bound(pre); it != kv_.end() && startsWith(it->first, pre); ++it)
    out.kv_[it->first.substr(pre.size())] = it->second;
  return out;
}

std::vector<std::pair<std::string, std::string>> Params::entryMap(std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& e : structList(std::string(prefix) + ".entry")) out.emplace_back(e.get("key"), e.get("value"));
  return out;
}

}  // namespace lp::api
