// Which audit records a reader wants (CloudTrail's LookupEvents, `linkplane audit`),
// and one page of the answer, newest first. Pure apart from lookup(), which scans
// the audit directory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit_record.h"
#include "common/status.h"

namespace lp::audit {

// CloudTrail's LookupAttributeKey values.
enum class AttributeKey {
  kEventId,
  kEventName,
  kReadOnly,
  kUsername,
  kResourceType,
  kResourceName,
  kEventSource,
  kAccessKeyId
};
std::optional<AttributeKey> attributeKeyByName(std::string_view name);

struct AuditQuery {
  std::optional<std::string> account;  // only this account's records (LookupEvents: the caller's)
  std::optional<WallTime> start, end;  // inclusive
  std::optional<std::pair<AttributeKey, std::string>> attribute;
  size_t maxResults = 50;
  std::string nextToken;  // "" = from the newest
};

struct AuditPage {
  std::vector<AuditRecord> records;  // newest first
  std::string nextToken;             // "" = no more
};

bool matches(const AuditRecord& r, const AuditQuery& q);
// The page of records (given in any order) that q asks for. InvalidNextToken when the
// token is not one this function made.
Result<AuditPage> pageOf(std::vector<AuditRecord> records, const AuditQuery& q);
// pageOf() over the records in an audit directory that match q.
Result<AuditPage> lookup(const std::string& dir, const AuditQuery& q);

}  // namespace lp::audit
