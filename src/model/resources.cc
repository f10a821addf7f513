#include "model/resources.h"

namespace lp::model {

const std::string* findTag(const Tags& tags, std::string_view key) {
  for (auto& t : tags)
    if (t.key == key) return &t.value;
  return nullptr;
}

std::vector<std::string> associatedCidrs(const Vpc& vpc) {
  std::vector<std::string> out{vpc.cidrBlock};
  for (const auto& c : vpc.secondaryCidrs)
    if (c.state == "associated") out.push_back(c.cidrBlock);
  return out;
}

}  // namespace lp::model
