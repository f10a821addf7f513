#include "control/security_group_index.h"

#include <map>
#include <set>

#include "common/strings.h"

namespace lp::control {

namespace {

void setCount(Txn& t, const model::VpcId& vpc, int n) {
  if (n <= 0) {
    t.raw().erase(kSecurityGroupCountKind, vpc.str());
  } else {
    t.raw().put(kSecurityGroupCountKind, vpc.str(), std::to_string(n));
  }
}

}  // namespace

std::string securityGroupNameKey(const model::VpcId& vpc, std::string_view name) {
  return vpc.str() + "/" + toLower(name);
}

int countSecurityGroups(const View& v, const model::VpcId& vpc) {
  auto o = v.raw().get(kSecurityGroupCountKind, vpc.str());
  if (!o) return 0;
  return static_cast<int>(parseInt(o->body).value_or(0));
}

void indexSecurityGroupName(Txn& t, const model::SecurityGroup& g) {
  t.raw().put(kSecurityGroupNameKind, securityGroupNameKey(g.vpcId, g.name), nlohmann::json(g.id.str()).dump());
  setCount(t, g.vpcId, countSecurityGroups(t, g.vpcId) + 1);
}

void unindexSecurityGroupName(Txn& t, const model::SecurityGroup& g) {
  t.raw().erase(kSecurityGroupNameKind, securityGroupNameKey(g.vpcId, g.name));
  setCount(t, g.vpcId, countSecurityGroups(t, g.vpcId) - 1);
}

Status rebuildSecurityGroupNameIndex(ControlContext& ctx) {
  return ctx.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::map<std::string, std::string> names;  // key -> group id
    std::map<std::string, int> counts;         // vpc -> groups
    t.forEachOf<model::SecurityGroup>([&](const model::SecurityGroup& g) {
      names[securityGroupNameKey(g.vpcId, g.name)] = nlohmann::json(g.id.str()).dump();
      ++counts[g.vpcId.str()];
      return true;
    });
    // Only differences are written, so a store already in order sees no revision.
    auto sync = [&](std::string_view kind, const std::map<std::string, std::string>& want) {
      std::vector<std::string> stale;
      t.raw().forEach(kind, [&](const store::Object& o) {
        auto it = want.find(o.id);
        if (it == want.end()) stale.push_back(o.id);
        return true;
      });
      for (const auto& k : stale) t.raw().erase(kind, k);
      for (const auto& [k, body] : want)
        if (auto o = t.raw().get(kind, k); !o || o->body != body) t.raw().put(kind, k, body);
    };
    sync(kSecurityGroupNameKind, names);
    std::map<std::string, std::string> countBodies;
    for (const auto& [vpc, n] : counts) countBodies[vpc] = std::to_string(n);
    sync(kSecurityGroupCountKind, countBodies);
    return Status::Ok();
  });
}

}  // namespace lp::control
