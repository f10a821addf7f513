// Describe-call plumbing shared by every resource: EC2 filters (ANDed names, ORed
// values, '*'/'?' wildcards, tag:KEY and tag-key), id lists and pagination with
// opaque tokens. Pure functions over value types.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/strings.h"
#include "control/errors.h"
#include "model/resources.h"

namespace lp::control {

struct Filter {
  std::string name;
  std::vector<std::string> values;
};
using Filters = std::vector<Filter>;

inline constexpr size_t kMaxFilters = 50;
inline constexpr size_t kMaxFilterValues = 200;

// Checks count limits and that every name is known (tag:KEY and tag-key always are
// when hasTags).
Status validateFilters(const Filters& filters, const std::vector<std::string_view>& known, bool hasTags);
// Tag filters against a tag list; nullopt when the filter is not a tag filter.
std::optional<bool> matchTagFilter(const Filter& f, const model::Tags& tags);
bool matchValues(const std::vector<std::string>& patterns, const std::vector<std::string>& actual);

// The filters a resource type supports: name -> the resource's values for it.
template <typename R>
class FilterSpec {
 public:
  using Getter = std::function<std::vector<std::string>(const R&)>;
  FilterSpec& add(std::string_view name, Getter g) {
    getters_.emplace(std::string(name), std::move(g));
    names_.push_back(name);
    return *this;
  }
  Status validate(const Filters& filters) const {
    return validateFilters(filters, names_, kHasTags);
  }
  bool matches(const R& r, const Filters& filters) const {
    for (const auto& f : filters) {
      if constexpr (kHasTags) {
        if (auto t = matchTagFilter(f, r.tags)) {
          if (!*t) return false;
          continue;
        }
      }
      auto g = getters_.find(f.name);
      if (g == getters_.end() || !matchValues(f.values, g->second(r))) return false;
    }
    return true;
  }

 private:
  static constexpr bool kHasTags = requires(const R& r) { r.tags; };
  std::map<std::string, Getter, std::less<>> getters_;
  std::vector<std::string_view> names_;
};

struct PageRequest {
  std::optional<int64_t> maxResults;
  std::string nextToken;
};

template <typename R>
struct Page {
  std::vector<R> items;
  std::string nextToken;  // empty on the last page
};

// Validates MaxResults (min..max, or capped at max when capInsteadOfError).
Status validateMaxResults(const PageRequest& req, int64_t min, int64_t max, bool capInsteadOfError = false);
std::string encodePageToken(std::string_view lastKey);
std::optional<std::string> decodePageToken(std::string_view token);

// Pages through items already sorted by key. Tokens name the last key returned,
// so a token stays valid while items are created or deleted between pages.
template <typename R, typename KeyFn>
Result<Page<R>> paginate(std::vector<R> items, const PageRequest& req, KeyFn key, int64_t max = 1000) {
  size_t start = 0;
  if (!req.nextToken.empty()) {
    auto last = decodePageToken(req.nextToken);
    if (!last) return err::make(err::kInvalidNextToken, "The token '{}' is invalid.", req.nextToken);
    while (start < items.size() && std::string_view(key(items[start])) <= *last) ++start;
  }
  size_t limit = req.maxResults ? static_cast<size_t>(std::min<int64_t>(*req.maxResults, max)) : items.size();
  Page<R> page;
  for (size_t i = start; i < items.size() && page.items.size() < limit; ++i) page.items.push_back(std::move(items[i]));
  if (start + page.items.size() < items.size() && !page.items.empty()) {
    page.nextToken = encodePageToken(key(page.items.back()));
  }
  return page;
}

// Pages through resources that visit(fromKey, take) hands to take() in key order,
// starting at fromKey; take() returns false once the page is full, and visit stops
// there. A page so costs its own size, not the size of the whole listing. Same
// tokens and page boundaries as paginate().
template <typename R, typename KeyFn, typename Visit>
Result<Page<R>> paginateInOrder(const PageRequest& req, KeyFn key, Visit visit, int64_t max = 1000) {
  std::optional<std::string> last;
  if (!req.nextToken.empty()) {
    last = decodePageToken(req.nextToken);
    if (!last) return err::make(err::kInvalidNextToken, "The token '{}' is invalid.", req.nextToken);
  }
  size_t limit = req.maxResults ? static_cast<size_t>(std::min<int64_t>(*req.maxResults, max)) : SIZE_MAX;
  Page<R> page;
  bool more = false;
  std::function<bool(R)> take = [&](R r) {
    if (last && std::string_view(key(r)) <= *last) return true;
    if (page.items.size() >= limit) {
      more = true;
      return false;
    }
    page.items.push_back(std::move(r));
    return true;
  };
  visit(last ? std::string_view(*last) : std::string_view(), take);
  if (more && !page.items.empty()) page.nextToken = encodePageToken(key(page.items.back()));
  return page;
}

}  // namespace lp::control
