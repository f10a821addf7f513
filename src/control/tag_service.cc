#include "control/tag_service.h"

#include <algorithm>
#include <array>
#include <map>

#include <nlohmann/json.hpp>

namespace lp::control {

namespace {

struct TaggableKind {
  std::string_view prefix;
  std::string_view storeKind;
  std::string_view resourceType;  // as DescribeTags names it
  std::string_view notFoundCode;
};

// Longest prefixes first: "vpce-svc-" before "vpce-" before "vpc-".
constexpr std::array<TaggableKind, 10> kTaggable{{
    {"vpce-svc-", "vpce-service", "vpc-endpoint-service", err::kServiceIdNotFound},
    {"vpce-", "vpc-endpoint", "vpc-endpoint", err::kEndpointIdNotFound},
    {"vpc-", "vpc", "vpc", err::kVpcNotFound},
    {"subnet-", "subnet", "subnet", err::kSubnetNotFound},
    {"sg-", "security-group", "security-group", err::kGroupNotFound},
    {"eni-", "network-interface", "network-interface", err::kEniNotFound},
    {"rtb-", "route-table", "route-table", err::kRouteTableNotFound},
    {"acl-", "network-acl", "network-acl", err::kNetworkAclNotFound},
    {"i-", "instance", "instance", "InvalidInstanceID.NotFound"},
    {"vol-", "volume", "volume", err::kVolumeNotFound},
}};

const TaggableKind* kindOf(std::string_view id) {
  for (const auto& k : kTaggable)
    if (id.substr(0, k.prefix.size()) == k.prefix) return &k;
  return nullptr;
}

struct Doc {
  const TaggableKind* kind;
  std::string id;
  nlohmann::json json;
};

model::Tags tagsOf(const nlohmann::json& j) {
  model::Tags out;
  if (auto it = j.find("tags"); it != j.end() && it->is_array()) {
    try {
      out = it->get<model::Tags>();
    } catch (const nlohmann::json::exception&) {
    }
  }
  return out;
}

// Security group rules (sgr-) are tagged where they live, inside their group's
// document: each group loaded once, however many of its rules a request names.
constexpr std::string_view kRulePrefix = "sgr-";
constexpr std::string_view kGroupKind = "security-group";

bool isRuleId(std::string_view id) { return id.substr(0, kRulePrefix.size()) == kRulePrefix; }

struct RuleDocs {
  std::map<std::string, nlohmann::json> groups;          // group id -> its document
  std::vector<std::pair<std::string, size_t>> rules;     // (group id, index in "rules"), request order
  nlohmann::json& rule(size_t i) { return groups[rules[i].first]["rules"][rules[i].second]; }
};

// Visits the caller's groups' rules: fn(group id, group document, rule index).
template <typename Fn>
void forEachOwnedRule(const store::ReadView& r, const CallContext& call, Fn fn) {
  r.forEachIndexed(kGroupKind, index::kOwner, call.account, [&](const store::Object& o) {
    auto j = nlohmann::json::parse(o.body, nullptr, false);
    if (j.is_discarded() || !j.contains("rules") || !j["rules"].is_array()) return true;
    for (size_t i = 0; i < j["rules"].size(); ++i) fn(o.id, j, i);
    return true;
  });
}

Result<RuleDocs> loadOwnedRules(const View& v, const CallContext& call, const std::vector<std::string>& ids) {
  RuleDocs out;
  for (const auto& id : ids) {
    if (!isRuleId(id)) continue;
    if (!model::isWellFormedId(kRulePrefix, id)) return err::make(err::kInvalidId, "The ID '{}' is not valid", id);
    bool found = false;
    forEachOwnedRule(v.raw(), call, [&](const std::string& group, const nlohmann::json& j, size_t i) {
      if (found || j["rules"][i].value("id", "") != id) return;
      found = true;
      if (!out.groups.count(group)) out.groups[group] = j;
      if (std::none_of(out.rules.begin(), out.rules.end(),
                       [&](const auto& r) { return r.first == group && r.second == i; }))
        out.rules.emplace_back(group, i);
    });
    if (!found) return err::make(err::kSecurityGroupRuleIdNotFound, "The security group rule ID '{}' does not exist", id);
  }
  return out;
}

// Loads every resource the caller owns, in request order; the first bad id fails all.
// Rule ids are loadOwnedRules'.
Result<std::vector<Doc>> loadOwned(const View& v, const CallContext& call, const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("ResourceId");
  std::vector<Doc> docs;
  for (const auto& id : ids) {
    if (isRuleId(id)) continue;
    const TaggableKind* k = kindOf(id);
    if (!k || !model::isWellFormedId(k->prefix, id))
      return err::make(err::kInvalidId, "The ID '{}' is not valid", id);
    auto o = v.raw().get(k->storeKind, id);
    std::optional<nlohmann::json> j;
    if (o) {
      auto parsed = nlohmann::json::parse(o->body, nullptr, false);
      if (!parsed.is_discarded() && parsed.value("ownerId", "") == call.account) j = std::move(parsed);
    }
    if (!j) return err::make(k->notFoundCode, "The ID '{}' does not exist", id);
    if (std::none_of(docs.begin(), docs.end(), [&](const Doc& d) { return d.id == id; }))
      docs.push_back({k, id, std::move(*j)});
  }
  return docs;
}

const FilterSpec<TagDescription>& tagFilters() {
  static const FilterSpec<TagDescription> spec = [] {
    using S = std::vector<std::string>;
    FilterSpec<TagDescription> s;
    s.add("key", [](const TagDescription& t) { return S{t.key}; })
        .add("value", [](const TagDescription& t) { return S{t.value}; })
        .add("resource-id", [](const TagDescription& t) { return S{t.resourceId}; })
        .add("resource-type", [](const TagDescription& t) { return S{t.resourceType}; });
    return s;
  }();
  return spec;
}

}  // namespace

Status TagService::createTags(const CallContext& call, const std::vector<std::string>& resourceIds,
                              const model::Tags& tags) {
  if (resourceIds.empty()) return err::missing("ResourceId");
  if (tags.empty()) return err::missing("Tag");
  LP_RETURN_IF_ERROR(validateTags(tags));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(auto docs, loadOwned(t, call, resourceIds));
    LP_ASSIGN_OR_RETURN(auto rules, loadOwnedRules(t, call, resourceIds));
    auto merge = [&](nlohmann::json& j, const std::string& id) -> Status {
      model::Tags merged = tagsOf(j);
      for (const auto& tag : tags) {
        auto it = std::find_if(merged.begin(), merged.end(), [&](const model::Tag& m) { return m.key == tag.key; });
        if (it != merged.end())
          it->value = tag.value;
        else
          merged.push_back(tag);
      }
      if (merged.size() > model::kMaxTagsPerResource)
        return err::make(err::kTagLimitExceeded, "The maximum number of tags per resource ({}) was exceeded for '{}'.",
                         model::kMaxTagsPerResource, id);
      j["tags"] = merged;
      return Status::Ok();
    };
    for (auto& d : docs) LP_RETURN_IF_ERROR(merge(d.json, d.id));
    for (size_t i = 0; i < rules.rules.size(); ++i)
      LP_RETURN_IF_ERROR(merge(rules.rule(i), rules.rule(i).value("id", "")));
    if (call.dryRun) return err::dryRun();
    for (auto& d : docs) t.raw().put(d.kind->storeKind, d.id, d.json.dump());
    for (auto& [id, j] : rules.groups) t.raw().put(kGroupKind, id, j.dump());
    return Status::Ok();
  });
}

Status TagService::deleteTags(const CallContext& call, const std::vector<std::string>& resourceIds,
                              const std::vector<TagDeletion>& deletions) {
  if (resourceIds.empty()) return err::missing("ResourceId");
  for (const auto& d : deletions) {
    if (d.key.empty()) return err::missing("Tag.N.Key");
    if (d.key.rfind("aws:", 0) == 0)
      return err::make(err::kTagKeyMalformed, "Tag keys starting with 'aws:' are reserved for internal use");
  }
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(auto docs, loadOwned(t, call, resourceIds));
    LP_ASSIGN_OR_RETURN(auto rules, loadOwnedRules(t, call, resourceIds));
    if (call.dryRun) return err::dryRun();
    auto drop = [&](nlohmann::json& j) {
      model::Tags tags = tagsOf(j);
      if (deletions.empty()) {
        tags.clear();
      } else {
        std::erase_if(tags, [&](const model::Tag& tag) {
          return std::any_of(deletions.begin(), deletions.end(), [&](const TagDeletion& del) {
            return del.key == tag.key && (!del.value || *del.value == tag.value);
          });
        });
      }
      j["tags"] = tags;
    };
    for (auto& d : docs) {
      drop(d.json);
      t.raw().put(d.kind->storeKind, d.id, d.json.dump());
    }
    for (size_t i = 0; i < rules.rules.size(); ++i) drop(rules.rule(i));
    for (auto& [id, j] : rules.groups) t.raw().put(kGroupKind, id, j.dump());
    return Status::Ok();
  });
}

Result<Page<TagDescription>> TagService::describeTags(const CallContext& call, const DescribeTagsInput& in) {
  LP_RETURN_IF_ERROR(tagFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  if (call.dryRun) return err::dryRun();
  std::vector<TagDescription> all;
  ctx_.store.read([&](const store::ReadView& r) {
    for (const auto& k : kTaggable) {
      r.forEach(k.storeKind, [&](const store::Object& o) {
        auto j = nlohmann::json::parse(o.body, nullptr, false);
        if (j.is_discarded() || j.value("ownerId", "") != call.account) return true;
        for (auto& tag : tagsOf(j)) {
          TagDescription d{o.id, std::string(k.resourceType), tag.key, tag.value, ""};
          d.sortKey = d.resourceId + '\x01' + d.key;
          if (tagFilters().matches(d, in.filters)) all.push_back(std::move(d));
        }
        return true;
      });
    }
    forEachOwnedRule(r, call, [&](const std::string&, const nlohmann::json& j, size_t i) {
      const auto& rule = j["rules"][i];
      for (auto& tag : tagsOf(rule)) {
        TagDescription d{rule.value("id", ""), "security-group-rule", tag.key, tag.value, ""};
        d.sortKey = d.resourceId + '\x01' + d.key;
        if (tagFilters().matches(d, in.filters)) all.push_back(std::move(d));
      }
    });
  });
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.sortKey < b.sortKey; });
  return paginate(std::move(all), in.page, [](const TagDescription& d) -> const std::string& { return d.sortKey; });
}

}  // namespace lp::control
