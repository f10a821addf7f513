#include "api/cloudtrail/lookup_events.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "audit/resource_ids.h"

namespace lp::api::cloudtrail {

using nlohmann::json;

namespace {

// CloudTrail keeps 90 days of events; WallTime holds ±292 years of nanoseconds.
constexpr double kMaxEpochSeconds = 9'000'000'000.0;

// The JSON protocol sends timestamps as epoch seconds (botocore's default); ISO 8601
// strings are accepted too.
Result<WallTime> timeOf(const json& v, const char* name) {
  if (v.is_number()) {
    double s = v.get<double>();
    if (!std::isfinite(s) || s < 0 || s > kMaxEpochSeconds)
      return Status("InvalidTimeRangeException", std::string(name) + " is out of range.");
    return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(s)));
  }
  if (v.is_string()) {
    if (auto t = parseIso8601(v.get<std::string>())) return *t;
  }
  return Status("SerializationException", std::string(name) + " must be a timestamp.");
}

double epochSeconds(WallTime t) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1000.0;
}

std::string cloudTrailEvent(const audit::AuditRecord& r, std::string_view region) {
  json e;
  e["eventVersion"] = "1.08";
  e["userIdentity"] = {{"type", "Root"},
                       {"principalId", r.account},
                       {"arn", "arn:aws:iam::" + r.account + ":root"},
                       {"accountId", r.account},
                       {"accessKeyId", r.accessKeyId}};
  e["eventTime"] = iso8601Millis(r.time).substr(0, 19) + "Z";
  e["eventSource"] = audit::eventSource(r.service);
  e["eventName"] = r.action;
  e["awsRegion"] = region;
  e["sourceIPAddress"] = r.sourceIp;
  if (!r.sourceVpce.empty()) e["vpcEndpointId"] = r.sourceVpce;
  if (r.result != audit::kSuccess) e["errorCode"] = r.result;
  e["requestID"] = r.requestId;
  e["eventID"] = r.eventId;
  e["readOnly"] = r.readOnly;
  json resources = json::array();
  for (auto& id : r.resources) resources.push_back({{"ARN", id}, {"type", audit::resourceType(id)}});
  e["resources"] = resources;
  e["eventType"] = "AwsApiCall";
  e["managementEvent"] = true;
  e["recipientAccountId"] = r.account;
  return e.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<audit::AuditQuery> parseLookupEventsRequest(std::string_view body) {
  audit::AuditQuery q;
  json j = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status("SerializationException", "The request body is not a JSON object.");
  for (auto& [key, v] : j.items()) {
    if (key == "StartTime") {
      LP_ASSIGN_OR_RETURN(q.start, timeOf(v, "StartTime"));
    } else if (key == "EndTime") {
      LP_ASSIGN_OR_RETURN(q.end, timeOf(v, "EndTime"));
    } else if (key == "MaxResults") {
      if (!v.is_number_integer()) return Status("SerializationException", "MaxResults must be an integer.");
      auto n = v.get<int64_t>();
      if (n < 1 || n > 50) return Status("InvalidMaxResultsException", "MaxResults must be 1 to 50.");
      q.maxResults = static_cast<size_t>(n);
    } else if (key == "NextToken") {
      if (!v.is_string()) return Status("SerializationException", "NextToken must be a string.");
      q.nextToken = v.get<std::string>();
    } else if (key == "EventCategory") {
      if (!v.is_string() || v.get<std::string>() != "insight")
        return Status("InvalidEventCategoryException", "EventCategory must be insight.");
      return Status("InvalidEventCategoryException", "Insights events are not recorded here.");
    } else if (key == "LookupAttributes") {
      if (!v.is_array()) return Status("SerializationException", "LookupAttributes must be a list.");
      if (v.size() > 1)
        return Status("InvalidLookupAttributesException", "LookupAttributes can contain only one item.");
      for (auto& a : v) {
        auto* k = a.is_object() && a.contains("AttributeKey") ? &a["AttributeKey"] : nullptr;
        auto* val = a.is_object() && a.contains("AttributeValue") ? &a["AttributeValue"] : nullptr;
        if (!k || !val || !k->is_string() || !val->is_string())
          return Status("InvalidLookupAttributesException",
                        "Each lookup attribute needs AttributeKey and AttributeValue.");
        auto key = audit::attributeKeyByName(k->get<std::string>());
        if (!key)
          return Status("InvalidLookupAttributesException",
                        "AttributeKey must be one of EventId, EventName, ReadOnly, Username, ResourceType, "
                        "ResourceName, EventSource, AccessKeyId.");
        std::string value = val->get<std::string>();
        if (value.empty() || value.size() > 2000)
          return Status("InvalidLookupAttributesException", "AttributeValue must be 1 to 2000 characters.");
        q.attribute = std::make_pair(*key, std::move(value));
      }
    } else {
      return Status("SerializationException", "Unknown member " + key.substr(0, 64) + ".");
    }
  }
  if (q.start && q.end && *q.start > *q.end)
    return Status("InvalidTimeRangeException", "StartTime must be before or at EndTime.");
  return q;
}

std::string lookupEventsResponse(const audit::AuditPage& page, std::string_view region) {
  json events = json::array();
  for (auto& r : page.records) {
    json resources = json::array();
    for (auto& id : r.resources) {
      json res{{"ResourceName", id}};
      if (auto type = audit::resourceType(id); !type.empty()) res["ResourceType"] = type;
      resources.push_back(std::move(res));
    }
    events.push_back({{"EventId", r.eventId},
                      {"EventName", r.action},
                      {"ReadOnly", r.readOnly ? "true" : "false"},
                      {"AccessKeyId", r.accessKeyId},
                      {"EventTime", epochSeconds(r.time)},
                      {"EventSource", audit::eventSource(r.service)},
                      {"Username", r.userName},
                      {"Resources", resources},
                      {"CloudTrailEvent", cloudTrailEvent(r, region)}});
  }
  json out{{"Events", events}};
  if (!page.nextToken.empty()) out["NextToken"] = page.nextToken;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace lp::api::cloudtrail
