// libFuzzer target: CloudTrail LookupEvents request bodies (untrusted JSON) into an
// AuditQuery, then the query run over a few records and the response written.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/cloudtrail/lookup_events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto q = lp::api::cloudtrail::parseLookupEventsRequest(in);
  if (!q.ok()) {
    auto& c = q.status().code();
    if (c.size() < 9 || c.substr(c.size() - 9) != "Exception") abort();  // CloudTrail's error names
    return 0;
  }
  if (q->maxResults < 1 || q->maxResults > 50) abort();
  if (q->start && q->end && *q->start > *q->end) abort();
  std::vector<lp::audit::AuditRecord> records(3);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].time = lp::WallTime(std::chrono::seconds(1'800'000'000 + static_cast<int64_t>(i)));
    records[i].eventId = "e" + std::to_string(i);
    records[i].action = "CreateVpc";
    records[i].resources = {"vpc-0123456789abcdef0"};
  }
  std::vector<lp::audit::AuditRecord> matching;
  for (auto& r : records)
    if (lp::audit::matches(r, *q)) matching.push_back(r);
  auto page = lp::audit::pageOf(matching, *q);
  if (page.ok()) {
    if (page->records.size() > q->maxResults) abort();
    (void)lp::api::cloudtrail::lookupEventsResponse(*page, "us-east-1");
  }
  return 0;
}
