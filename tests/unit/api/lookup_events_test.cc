// CloudTrail LookupEvents: the request body as botocore sends it, CloudTrail's
// errors for bad ones, and the response shape the CLI reads.
#include "api/cloudtrail/lookup_events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lp::api::cloudtrail {
namespace {

TEST(LookupEvents, ParsesWhatBotocoreSends) {
  auto q =
      parseLookupEventsRequest(R"({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"CreateVpc"}],)"
                               R"("StartTime":1800000000,"EndTime":1800000100.5,"MaxResults":5,"NextToken":"1_x"})");
  ASSERT_TRUE(q.ok()) << q.status().toString();
  ASSERT_TRUE(q->attribute);
  EXPECT_EQ(q->attribute->first, audit::AttributeKey::kEventName);
  EXPECT_EQ(q->attribute->second, "CreateVpc");
  EXPECT_EQ(q->start, WallTime(std::chrono::seconds(1'800'000'000)));
  EXPECT_EQ(q->end, WallTime(std::chrono::milliseconds(1'800'000'100'500)));
  EXPECT_EQ(q->maxResults, 5u);
  EXPECT_EQ(q->nextToken, "1_x");
  EXPECT_FALSE(q->account);  // the API sets the caller's
  EXPECT_TRUE(parseLookupEventsRequest("").ok());
  EXPECT_TRUE(parseLookupEventsRequest("{}").ok());
}

TEST(LookupEvents, BadRequestsGetCloudTrailsErrors) {
  auto code = [](std::string_view body) { return parseLookupEventsRequest(body).status().code(); };
  EXPECT_EQ(code("{"), "SerializationException");
  EXPECT_EQ(code("[]"), "SerializationException");
  EXPECT_EQ(code(R"({"Bogus":1})"), "SerializationException");
  EXPECT_EQ(code(R"({"StartTime":"yesterday"})"), "SerializationException");
  EXPECT_EQ(code(R"({"StartTime":1e300})"), "InvalidTimeRangeException");
  EXPECT_EQ(code(R"({"StartTime":200,"EndTime":100})"), "InvalidTimeRangeException");
  EXPECT_EQ(code(R"({"MaxResults":0})"), "InvalidMaxResultsException");
  EXPECT_EQ(code(R"({"MaxResults":51})"), "InvalidMaxResultsException");
  EXPECT_EQ(code(R"({"LookupAttributes":[{"AttributeKey":"Colour","AttributeValue":"x"}]})"),
            "InvalidLookupAttributesException");
  EXPECT_EQ(code(R"({"LookupAttributes":[{"AttributeKey":"EventName"}]})"), "InvalidLookupAttributesException");
  EXPECT_EQ(code(R"({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"a"},)"
                 R"({"AttributeKey":"EventName","AttributeValue":"b"}]})"),
            "InvalidLookupAttributesException");
  EXPECT_EQ(code(R"({"EventCategory":"insight"})"), "InvalidEventCategoryException");
}

TEST(LookupEvents, ResponseHasTheEventFieldsAndAParsableCloudTrailEvent) {
  audit::AuditPage page;
  audit::AuditRecord r;
  r.time = WallTime(std::chrono::milliseconds(1'800'000'000'250));
  r.eventId = "e1";
  r.account = "111111111111";
  r.userName = "provider";
  r.accessKeyId = "AKIAP";
  r.sourceIp = "127.0.0.1";
  r.service = "ec2";
  r.action = "CreateVpc";
  r.resources = {"vpc-0123456789abcdef0"};
  r.result = "VpcLimitExceeded";
  r.requestId = "req";
  page.records.push_back(r);
  page.nextToken = "t";
  auto j = nlohmann::json::parse(lookupEventsResponse(page, "us-east-1"));
  ASSERT_EQ(j["Events"].size(), 1u);
  auto& e = j["Events"][0];
  EXPECT_EQ(e["EventName"], "CreateVpc");
  EXPECT_EQ(e["ReadOnly"], "false");
  EXPECT_EQ(e["EventSource"], "ec2.amazonaws.com");
  EXPECT_DOUBLE_EQ(e["EventTime"].get<double>(), 1'800'000'000.25);
  EXPECT_EQ(e["Resources"][0]["ResourceName"], "vpc-0123456789abcdef0");
  EXPECT_EQ(e["Resources"][0]["ResourceType"], "AWS::EC2::VPC");
  auto ct = nlohmann::json::parse(e["CloudTrailEvent"].get<std::string>());
  EXPECT_EQ(ct["errorCode"], "VpcLimitExceeded");
  EXPECT_EQ(ct["userIdentity"]["accountId"], "111111111111");
  EXPECT_EQ(ct["sourceIPAddress"], "127.0.0.1");
  EXPECT_EQ(j["NextToken"], "t");
}

}  // namespace
}  // namespace lp::api::cloudtrail
