#include "model/network.h"

namespace lp::model {

std::vector<NetworkAclEntry> initialAclEntries(bool isDefault) {
  std::vector<NetworkAclEntry> out;
  for (bool egress : {false, true}) {
    if (isDefault) out.push_back({100, egress, "-1", "allow", "0.0.0.0/0"});
    out.push_back({kAclDefaultRule, egress, "-1", "deny", "0.0.0.0/0"});
  }
  return out;
}

}  // namespace lp::model
