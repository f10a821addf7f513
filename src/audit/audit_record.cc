#include "audit/audit_record.h"

#include <nlohmann/json.hpp>

namespace lp::audit {

using nlohmann::json;

std::string toJsonLine(const AuditRecord& r) {
  json j;
  j["time"] = iso8601Millis(r.time);
  j["timeNanos"] = std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
  j["eventId"] = r.eventId;
  j["account"] = r.account;
  j["userName"] = r.userName;
  j["accessKeyId"] = r.accessKeyId;
  j["sourceIp"] = r.sourceIp;
  if (!r.sourceVpce.empty()) j["sourceVpce"] = r.sourceVpce;
  j["service"] = r.service;
  j["action"] = r.action;
  j["readOnly"] = r.readOnly;
  j["resources"] = r.resources;
  j["result"] = r.result;
  j["httpStatus"] = r.httpStatus;
  j["requestId"] = r.requestId;
  if (r.suppressedBefore) j["suppressedBefore"] = r.suppressedBefore;
  // Invalid UTF-8 from a client (an action name, an access key id) is replaced, not thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<AuditRecord> parseJsonLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    AuditRecord r;
    r.time = WallTime(
        std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(j.at("timeNanos").get<int64_t>())));
    r.eventId = j.at("eventId").get<std::string>();
    r.account = j.at("account").get<std::string>();
    r.userName = j.value("userName", "");
    r.accessKeyId = j.at("accessKeyId").get<std::string>();
    r.sourceIp = j.value("sourceIp", "");
    r.sourceVpce = j.value("sourceVpce", "");
    r.service = j.at("service").get<std::string>();
    r.action = j.at("action").get<std::string>();
    r.readOnly = j.value("readOnly", false);
    r.resources = j.value("resources", std::vector<std::string>{});
    r.result = j.at("result").get<std::string>();
    r.httpStatus = j.value("httpStatus", 0);
    r.requestId = j.value("requestId", "");
    r.suppressedBefore = j.value("suppressedBefore", int64_t{0});
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string eventSource(std::string_view service) {
  if (service == "monitoring") return "monitoring.amazonaws.com";
  return std::string(service) + ".amazonaws.com";
}

}  // namespace lp::audit
