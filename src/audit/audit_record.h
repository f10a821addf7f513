// One audit event: who (account, access key, source address) did what (service,
// action, resources) with what result, as one JSON line. Value type; the JSON
// never holds a secret or a signature (there is no field for either).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace lp::audit {

// What `result` holds for a call that succeeded (otherwise its AWS error code).
inline constexpr std::string_view kSuccess = "Success";

struct AuditRecord {
  WallTime time;
  std::string eventId;
  std::string account;      // "" when the access key is unknown
  std::string userName;     // the account's name in the config
  std::string accessKeyId;  // as presented, also when refused
  std::string sourceIp;
  std::string sourceVpce;  // set when the call came through an interface endpoint
  std::string service;     // signing name: ec2, elasticloadbalancing, sns, sts, monitoring, cloudtrail
  std::string action;
  bool readOnly = false;
  std::vector<std::string> resources;  // ids and ARNs named in the request or created
  std::string result;                  // kSuccess or the error code sent
  int httpStatus = 200;
  std::string requestId;
  // Records of refused requests are rate limited (audit_log.h); this many were
  // left out just before this one.
  int64_t suppressedBefore = 0;
  bool operator==(const AuditRecord&) const = default;
};

std::string toJsonLine(const AuditRecord& r);  // no trailing newline
// nullopt for a line that is not a record (torn last line after a crash).
std::optional<AuditRecord> parseJsonLine(std::string_view line);

// eventSource as CloudTrail names it: ec2.amazonaws.com ...
std::string eventSource(std::string_view service);

}  // namespace lp::audit
