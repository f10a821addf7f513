// AccountService: what an account and the region look like from the API:
// DescribeRegions (the one configured region), DescribeAccountAttributes (VPC-only
// platform, no default VPC, the configured limits), DescribePrefixLists and
// DescribeManagedPrefixLists (AWS-managed prefix lists exist only for gateway
// endpoint services, which this cloud has none of, so none exist). Stateless over
// a ControlContext; any thread.
#pragma once

#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"  // DescribeInput

namespace lp::control {

struct RegionInfo {
  std::string regionName;
  std::string endpoint;
  std::string optInStatus = "opt-in-not-required";
};

struct DescribeRegionsInput {
  std::vector<std::string> regionNames;
  Filters filters;
  bool allRegions = false;
};

struct AccountAttribute {
  std::string name;
  std::vector<std::string> values;
};

struct PrefixList {
  std::string id;
  std::string name;
  std::vector<std::string> cidrs;
  std::string ownerId = "AWS";
};

class AccountService {
 public:
  explicit AccountService(ControlContext& ctx) : ctx_(ctx) {}

  Result<std::vector<RegionInfo>> describeRegions(const CallContext& call, const DescribeRegionsInput& in);
  Result<std::vector<AccountAttribute>> describeAccountAttributes(const CallContext& call,
                                                                  const std::vector<std::string>& names);
  // managed: DescribeManagedPrefixLists's filters (owner-id too) instead of DescribePrefixLists's.
  Result<Page<PrefixList>> describePrefixLists(const CallContext& call, const DescribeInput& in, bool managed);

 private:
  ControlContext& ctx_;
};

}  // namespace lp::control
