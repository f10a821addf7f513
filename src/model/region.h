// The region this daemon serves and the accounts that may call it. Value types.
//
// Zone names are per account (AWS maps names to zones independently per account,
// seed 2019): each account sees the region's zone ids in a stable permutation,
// named <region>a, <region>b, ... in that order.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ids.h"

namespace lp::model {

struct Account {
  AccountId id;  // 12 digits
  std::string name;
  std::string accessKeyId;
  std::string secretAccessKey;
};

// The built-in owner of the AWS services catalog (services com.amazonaws.<region>.*).
inline constexpr std::string_view kAmazonAccount = "amazon";

struct RegionConfig {
  std::string name = "us-east-1";
  std::vector<std::string> zoneIds;  // "use1-az1", ...
  std::vector<Account> accounts;
  // AWS services of the catalog that have a backend: short name ("ec2", "sts")
  // -> "host:port" the data plane forwards endpoint traffic to.
  std::map<std::string, std::string> serviceBackends;

  const Account* accountByKey(std::string_view accessKeyId) const;
  const Account* accountById(std::string_view id) const;
  // The zone name an account sees for a zone id ("us-east-1c"); "" when unknown.
  std::string zoneName(std::string_view account, std::string_view zoneId) const;
  // The zone id behind a zone name as an account sees it; nullopt when unknown.
  std::optional<std::string> zoneIdForName(std::string_view account, std::string_view zoneName) const;
  bool hasZoneId(std::string_view zoneId) const;
  // Zone ids in the order of the account's names (a, b, c...).
  std::vector<std::string> zoneIdsInNameOrder(std::string_view account) const;
};

}  // namespace lp::model
