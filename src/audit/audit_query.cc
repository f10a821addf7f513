#include "audit/audit_query.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "audit/audit_log.h"
#include "audit/resource_ids.h"

namespace lp::audit {

namespace {

constexpr std::array<std::pair<std::string_view, AttributeKey>, 8> kKeys{{
    {"EventId", AttributeKey::kEventId},
    {"EventName", AttributeKey::kEventName},
    {"ReadOnly", AttributeKey::kReadOnly},
    {"Username", AttributeKey::kUsername},
    {"ResourceType", AttributeKey::kResourceType},
    {"ResourceName", AttributeKey::kResourceName},
    {"EventSource", AttributeKey::kEventSource},
    {"AccessKeyId", AttributeKey::kAccessKeyId},
}};

int64_t nanosOf(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Newest first; the event id breaks ties so the order (and a token) is exact.
bool newer(const AuditRecord& a, const AuditRecord& b) {
  if (a.time != b.time) return a.time > b.time;
  return a.eventId > b.eventId;
}

std::string tokenOf(const AuditRecord& r) { return std::to_string(nanosOf(r.time)) + "_" + r.eventId; }

}  // namespace

std::optional<AttributeKey> attributeKeyByName(std::string_view name) {
  for (auto& [n, k] : kKeys)
    if (n == name) return k;
  return std::nullopt;
}

bool matches(const AuditRecord& r, const AuditQuery& q) {
  if (q.account && r.account != *q.account) return false;
  if (q.start && r.time < *q.start) return false;
  if (q.end && r.time > *q.end) return false;
  if (!q.attribute) return true;
  const std::string& v = q.attribute->second;
  switch (q.attribute->first) {
    case AttributeKey::kEventId:
      return r.eventId == v;
    case AttributeKey::kEventName:
      return r.action == v;
    case AttributeKey::kReadOnly:
      return (r.readOnly ? "true" : "false") == v;
    case AttributeKey::kUsername:
      return r.userName == v;
    case AttributeKey::kAccessKeyId:
      return r.accessKeyId == v;
    case AttributeKey::kEventSource:
      return eventSource(r.service) == v;
    case AttributeKey::kResourceName:
      return std::find(r.resources.begin(), r.resources.end(), v) != r.resources.end();
    case AttributeKey::kResourceType:
      return std::any_of(r.resources.begin(), r.resources.end(), [&](auto& id) { return resourceType(id) == v; });
  }
  return false;
}

Result<AuditPage> pageOf(std::vector<AuditRecord> records, const AuditQuery& q) {
  std::sort(records.begin(), records.end(), newer);
  auto from = records.begin();
  if (!q.nextToken.empty()) {
    auto sep = q.nextToken.find('_');
    int64_t nanos = 0;
    auto digits = std::string_view(q.nextToken).substr(0, sep);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), nanos);
    if (sep == std::string::npos || ec != std::errc() || p != digits.data() + digits.size())
      return Status("InvalidNextTokenException", "Invalid NextToken.");
    AuditRecord after;
    after.time = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(nanos)));
    after.eventId = q.nextToken.substr(sep + 1);
    from = std::upper_bound(records.begin(), records.end(), after, newer);
  }
  AuditPage page;
  size_t max = std::clamp<size_t>(q.maxResults, 1, 50);
  for (auto it = from; it != records.end() && page.records.size() < max; ++it) page.records.push_back(*it);
  if (page.records.size() == max && from + static_cast<ptrdiff_t>(max) != records.end())
    page.nextToken = tokenOf(page.records.back());
  return page;
}

Result<AuditPage> lookup(const std::string& dir, const AuditQuery& q) {
  std::vector<AuditRecord> found;
  LP_RETURN_IF_ERROR(scanAuditDir(dir, [&](AuditRecord&& r) {
    if (matches(r, q)) found.push_back(std::move(r));
  }));
  return pageOf(std::move(found), q);
}

}  // namespace lp::audit
