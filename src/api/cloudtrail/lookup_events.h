// CloudTrail's LookupEvents (JSON 1.1 protocol, X-Amz-Target
// CloudTrail_20131101.LookupEvents) over the audit log: the request body parsed into
// an AuditQuery, and a page of records written as the response. Pure: the body is
// untrusted bytes (fuzz_lookup_events).
#pragma once

#include <string>
#include <string_view>

#include "audit/audit_query.h"
#include "common/status.h"

namespace lp::api::cloudtrail {

// The body as an AuditQuery (its account is left for the caller to set). Errors are
// CloudTrail's: SerializationException, InvalidLookupAttributesException,
// InvalidTimeRangeException, InvalidMaxResultsException, InvalidEventCategoryException.
Result<audit::AuditQuery> parseLookupEventsRequest(std::string_view body);

// {"Events":[...],"NextToken":...} with each record's CloudTrailEvent document.
std::string lookupEventsResponse(const audit::AuditPage& page, std::string_view region);

}  // namespace lp::api::cloudtrail
