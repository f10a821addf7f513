#include "model/resources.h"

namespace lp::model {

const std::string* findTag(const Tags& tags, std::string_view key) {
  for (auto& t : tags)
    if (t.key == key) return &t.value;
  return nullptr;
}

}  // namespace lp::model
