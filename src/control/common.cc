#include "control/common.h"

namespace lp::control {

Status validateTags(const model::Tags& tags) {
  if (tags.size() > model::kMaxTagsPerResource)
    return err::make(err::kTagLimitExceeded, "The maximum number of tags per resource ({}) was exceeded.",
                     model::kMaxTagsPerResource);
  for (size_t i = 0; i < tags.size(); ++i) {
    const auto& t = tags[i];
    if (t.key.empty() || t.key.size() > 127)
      return err::make(err::kInvalidParameterValue, "Tag keys must be between 1 and 127 characters.");
    if (t.value.size() > 255)
      return err::make(err::kInvalidParameterValue, "Tag values must be at most 255 characters.");
    if (t.key.rfind("aws:", 0) == 0)
      return err::make(err::kTagKeyMalformed, "Tag keys starting with 'aws:' are reserved for internal use");
    for (size_t j = 0; j < i; ++j)
      if (tags[j].key == t.key)
        return err::make(err::kInvalidParameterValue, "Duplicate tag key '{}' specified.", t.key);
  }
  return Status::Ok();
}

Result<model::Tags> tagsFromSpecs(const std::vector<TagSpecification>& specs, std::string_view resourceType) {
  model::Tags out;
  for (const auto& s : specs) {
    if (s.resourceType.empty()) return err::missing("TagSpecification.N.ResourceType");
    if (s.resourceType != resourceType)
      return err::make(err::kInvalidParameterValue, "'{}' is not a valid taggable resource type for this operation.",
                       s.resourceType);
    out.insert(out.end(), s.tags.begin(), s.tags.end());
  }
  LP_RETURN_IF_ERROR(validateTags(out));
  return out;
}

}  // namespace lp::control
