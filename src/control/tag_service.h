// TagService: CreateTags, DeleteTags, DescribeTags over every taggable kind.
// Generic: works on the stored JSON document's "tags" array and "ownerId", so
// a kind joins by adding one row to the prefix table in tag_service.cc.
// Stateless over a ControlContext; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"

namespace lp::control {

struct TagDeletion {
  std::string key;
  std::optional<std::string> value;  // nullopt: whatever the value; "" only an empty value
};

struct TagDescription {
  std::string resourceId;
  std::string resourceType;  // "vpc", "subnet", "security-group", ...
  std::string key;
  std::string value;
  std::string sortKey;  // resourceId + NUL + key, for pagination
};

struct DescribeTagsInput {
  Filters filters;
  PageRequest page;
};

class TagService {
 public:
  explicit TagService(ControlContext& ctx) : ctx_(ctx) {}

  // Adds or overwrites tags on every resource, or on none when any fails.
  Status createTags(const CallContext& call, const std::vector<std::string>& resourceIds, const model::Tags& tags);
  // Empty deletions: removes every tag of the resources.
  Status deleteTags(const CallContext& call, const std::vector<std::string>& resourceIds,
                    const std::vector<TagDeletion>& deletions);
  Result<Page<TagDescription>> describeTags(const CallContext& call, const DescribeTagsInput& in);

 private:
  ControlContext& ctx_;
};

}  // namespace lp::control
