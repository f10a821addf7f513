#include "control/account_service.h"

#include <algorithm>

namespace lp::control {

namespace {

const FilterSpec<RegionInfo>& regionFilters() {
  static const FilterSpec<RegionInfo> spec = [] {
    FilterSpec<RegionInfo> s;
    s.add("region-name", [](const RegionInfo& r) { return std::vector<std::string>{r.regionName}; })
        .add("endpoint", [](const RegionInfo& r) { return std::vector<std::string>{r.endpoint}; })
        .add("opt-in-status", [](const RegionInfo& r) { return std::vector<std::string>{r.optInStatus}; });
    return s;
  }();
  return spec;
}

const FilterSpec<PrefixList>& prefixListFilters(bool managed) {
  static const auto make = [](bool withOwner) {
    FilterSpec<PrefixList> s;
    s.add("prefix-list-id", [](const PrefixList& p) {
       return std::vector<std::string>{p.id};
     }).add("prefix-list-name", [](const PrefixList& p) { return std::vector<std::string>{p.name}; });
    if (withOwner) s.add("owner-id", [](const PrefixList& p) { return std::vector<std::string>{p.ownerId}; });
    return s;
  };
  static const FilterSpec<PrefixList> plain = make(false);
  static const FilterSpec<PrefixList> withOwner = make(true);
  return managed ? withOwner : plain;
}

bool wellFormedPrefixListId(const std::string& id) {
  if (id.rfind("pl-", 0) != 0 || id.size() < 11) return false;
  return std::all_of(id.begin() + 3, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<std::vector<RegionInfo>> AccountService::describeRegions(const CallContext& call,
                                                                const DescribeRegionsInput& in) {
  LP_RETURN_IF_ERROR(regionFilters().validate(in.filters));
  for (const auto& n : in.regionNames)
    if (n != ctx_.regionName()) return err::make(err::kInvalidParameterValue, "Invalid region: {}", n);
  if (call.dryRun) return err::dryRun();
  std::vector<RegionInfo> out;
  RegionInfo r{ctx_.regionName(), "ec2." + ctx_.regionName() + ".amazonaws.com"};
  if (regionFilters().matches(r, in.filters)) out.push_back(r);
  return out;
}

Result<std::vector<AccountAttribute>> AccountService::describeAccountAttributes(const CallContext& call,
                                                                                const std::vector<std::string>& names) {
  const Limits l = ctx_.limits();
  std::vector<AccountAttribute> all = {
      {"supported-platforms", {"VPC"}},
      {"default-vpc", {"none"}},
      {"vpc-max-security-groups-per-interface", {std::to_string(l.securityGroupsPerInterface)}},
      {"max-instances", {std::to_string(l.instancesPerAccount)}},
      {"max-elastic-ips", {"0"}},
      {"vpc-max-elastic-ips", {"0"}},
  };
  std::vector<AccountAttribute> out;
  for (const auto& n : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const AccountAttribute& a) { return a.name == n; });
    if (it == all.end()) return err::badValue("AttributeName", n);
    out.push_back(*it);
  }
  if (call.dryRun) return err::dryRun();
  return names.empty() ? all : out;
}

Result<Page<PrefixList>> AccountService::describePrefixLists(const CallContext& call, const DescribeInput& in,
                                                             bool managed) {
  LP_RETURN_IF_ERROR(prefixListFilters(managed).validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, managed ? 1 : 5, managed ? 100 : 1000));
  for (const auto& id : in.ids) {
    if (!wellFormedPrefixListId(id)) return err::make(err::kPrefixListMalformed, "Invalid id: \"{}\"", id);
    // No prefix list exists here, so any id named is unknown.
    return err::make(err::kPrefixListNotFound, "The prefix list ID '{}' does not exist", id);
  }
  if (call.dryRun) return err::dryRun();
  return paginate<PrefixList>({}, in.page, [](const PrefixList& p) -> const std::string& { return p.id; });
}

}  // namespace lp::control
