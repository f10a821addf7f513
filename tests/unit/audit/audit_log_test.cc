// The audit record's JSON line, the writer's rotation and rate limit, and the reader's
// filters and pages. Real files in a temporary directory; a manual clock.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "audit/audit_query.h"
#include "audit/resource_ids.h"

namespace lp::audit {
namespace {

using namespace std::chrono_literals;

WallTime start() { return WallTime(std::chrono::seconds(1'800'000'000)); }

AuditRecord sample(int i, const std::string& account = "111111111111") {
  AuditRecord r;
  r.time = start() + std::chrono::seconds(i);
  r.eventId = "ev-" + std::to_string(1000 + i);
  r.account = account;
  r.userName = account == "111111111111" ? "provider" : "consumer";
  r.accessKeyId = "AKIA" + account;
  r.sourceIp = "127.0.0.1";
  r.service = "ec2";
  r.action = i % 2 ? "DeleteVpc" : "CreateVpc";
  r.resources = {"vpc-0123456789abcdef" + std::to_string(i % 10)};
  r.result = std::string(kSuccess);
  r.requestId = "req-" + std::to_string(i);
  return r;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("lp-audit-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  ManualClock clock_{start()};
};

TEST(AuditRecord, JsonLineRoundTripsAndHoldsNoSecretField) {
  AuditRecord r = sample(3);
  r.sourceVpce = "vpce-0123456789abcdef0";
  r.suppressedBefore = 7;
  std::string line = toJsonLine(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find("ecret"), std::string::npos);
  EXPECT_EQ(line.find("ignature"), std::string::npos);
  auto back = parseJsonLine(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(parseJsonLine(line.substr(0, line.size() / 2)));  // a torn line
  EXPECT_FALSE(parseJsonLine("[1,2]"));
}

TEST(AuditRecord, InvalidUtf8FromAClientIsReplacedNotThrown) {
  AuditRecord r = sample(1);
  r.action = std::string("Create\xff\xfe", 8);
  auto back = parseJsonLine(toJsonLine(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->action.substr(0, 6), "Create");
}

TEST(ResourceIds, IdsAndArnsInTextOnceEach) {
  std::vector<std::string> ids;
  collectResourceIds(
      "<vpcId>vpc-0a1b2c3d4e5f60718</vpcId> vpc-0a1b2c3d4e5f60718 sg-12345678 vpc-xyz "
      "subnet-0123 arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/a/0123 "
      "vpce-svc-0a1b2c3d4e5f60718",
      ids);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"vpc-0a1b2c3d4e5f60718", "sg-12345678",
                                      "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/a/0123",
                                      "vpce-svc-0a1b2c3d4e5f60718"}));
  EXPECT_EQ(resourceType(ids[0]), "AWS::EC2::VPC");
  EXPECT_EQ(resourceType(ids[2]), "AWS::ElasticLoadBalancingV2::LoadBalancer");
  EXPECT_EQ(resourceType(ids[3]), "AWS::EC2::VPCEndpointService");
  EXPECT_EQ(resourceType("arn:aws:sns:us-east-1:111111111111:topic"), "AWS::SNS::Topic");
}

TEST_F(AuditLogTest, AppendedRecordsReadBackInOrderAcrossRotation) {
  auto log = AuditLog::open({dir_, 4096, 3, 50}, clock_);
  ASSERT_TRUE(log.ok()) << log.status().toString();
  int n = 60;  // ~300 bytes each: several rotations, the oldest files dropped
  for (int i = 0; i < n; ++i) ASSERT_TRUE((*log)->append(sample(i), i % 3 == 0).ok());
  auto files = auditFiles(dir_);
  ASSERT_EQ(files.size(), 3u);
  for (auto& f : files) EXPECT_LE(std::filesystem::file_size(f), 4096u);
  std::vector<AuditRecord> back;
  ASSERT_TRUE(scanAuditDir(dir_, [&](AuditRecord&& r) { back.push_back(std::move(r)); }).ok());
  ASSERT_FALSE(back.empty());
  EXPECT_LT(back.size(), static_cast<size_t>(n));  // rotated out
  // What is left is the newest records, contiguous, oldest first.
  EXPECT_EQ(back.back(), sample(n - 1));
  for (size_t i = 1; i < back.size(); ++i)
    EXPECT_EQ(back[i].requestId, sample(n - static_cast<int>(back.size()) + static_cast<int>(i)).requestId);
}

TEST_F(AuditLogTest, ReopenAppendsToTheSameFileAndSkipsATornLine) {
  {
    auto log = AuditLog::open({dir_, 1 << 20, 2, 50}, clock_);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->append(sample(0), true).ok());
  }
  {
    std::ofstream torn(dir_ + "/audit.jsonl", std::ios::app);
    torn << "{\"time\":\"2027-";  // a crash in the middle of a write
  }
  auto log = AuditLog::open({dir_, 1 << 20, 2, 50}, clock_);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->append(sample(1), true).ok());
  std::vector<std::string> ids;
  ASSERT_TRUE(scanAuditDir(dir_, [&](AuditRecord&& r) { ids.push_back(r.requestId); }).ok());
  // The torn line is skipped; the record after it is whole.
  EXPECT_EQ(ids, (std::vector<std::string>{"req-0", "req-1"}));
  EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
}

TEST_F(AuditLogTest, RefusedRecordsAreRateLimitedAndCountTheOnesLeftOut) {
  auto log = AuditLog::open({dir_, 1 << 20, 2, 5}, clock_);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE((*log)->appendRefused(sample(i)).ok());
  clock_.advance(1s);
  ASSERT_TRUE((*log)->appendRefused(sample(100)).ok());
  std::vector<AuditRecord> back;
  ASSERT_TRUE(scanAuditDir(dir_, [&](AuditRecord&& r) { back.push_back(std::move(r)); }).ok());
  ASSERT_EQ(back.size(), 6u);
  EXPECT_EQ(back.back().suppressedBefore, 20);
  EXPECT_EQ((*log)->suppressed(), 20);
}

// Beyond the limit a refusal costs a counter: its record is never made.
TEST_F(AuditLogTest, ARefusedRecordLeftOutIsNeverMade) {
  auto log = AuditLog::open({dir_, 1 << 20, 2, 3}, clock_);
  ASSERT_TRUE(log.ok());
  int made = 0;
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE((*log)->appendRefused([&] { return sample(made++); }).ok());
  EXPECT_EQ(made, 3);
  EXPECT_EQ((*log)->suppressed(), 37);
  clock_.advance(1s);
  ASSERT_TRUE((*log)->appendRefused([&] { return sample(made++); }).ok());
  std::vector<AuditRecord> back;
  ASSERT_TRUE(scanAuditDir(dir_, [&](AuditRecord&& r) { back.push_back(std::move(r)); }).ok());
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back.back().suppressedBefore, 37);
}

TEST(AuditQuery, FiltersByAccountTimeAndEachAttribute) {
  std::vector<AuditRecord> all;
  for (int i = 0; i < 10; ++i) all.push_back(sample(i, i < 6 ? "111111111111" : "222222222222"));
  auto run = [&](AuditQuery q) {
    std::vector<std::string> ids;
    for (auto& r : all)
      if (matches(r, q)) ids.push_back(r.requestId);
    return ids;
  };
  AuditQuery q;
  q.account = "222222222222";
  EXPECT_EQ(run(q), (std::vector<std::string>{"req-6", "req-7", "req-8", "req-9"}));
  q.start = start() + 7s;
  q.end = start() + 8s;
  EXPECT_EQ(run(q), (std::vector<std::string>{"req-7", "req-8"}));
  AuditQuery a;
  a.attribute = {AttributeKey::kEventName, "DeleteVpc"};
  EXPECT_EQ(run(a).size(), 5u);
  a.attribute = {AttributeKey::kResourceName, "vpc-0123456789abcdef3"};
  EXPECT_EQ(run(a), (std::vector<std::string>{"req-3"}));
  a.attribute = {AttributeKey::kResourceType, "AWS::EC2::VPC"};
  EXPECT_EQ(run(a).size(), 10u);
  a.attribute = {AttributeKey::kUsername, "consumer"};
  EXPECT_EQ(run(a).size(), 4u);
  a.attribute = {AttributeKey::kAccessKeyId, "AKIA111111111111"};
  EXPECT_EQ(run(a).size(), 6u);
  a.attribute = {AttributeKey::kReadOnly, "true"};
  EXPECT_EQ(run(a).size(), 0u);
  a.attribute = {AttributeKey::kEventSource, "ec2.amazonaws.com"};
  EXPECT_EQ(run(a).size(), 10u);
  a.attribute = {AttributeKey::kEventId, "ev-1004"};
  EXPECT_EQ(run(a), (std::vector<std::string>{"req-4"}));
}

TEST(AuditQuery, PagesNewestFirstWithTokensThatResume) {
  std::vector<AuditRecord> all;
  for (int i = 0; i < 7; ++i) all.push_back(sample(i));
  AuditQuery q;
  q.maxResults = 3;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto p = pageOf(all, q);
    ASSERT_TRUE(p.ok());
    for (auto& r : p->records) seen.push_back(r.requestId);
    if (p->nextToken.empty()) break;
    q.nextToken = p->nextToken;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"req-6", "req-5", "req-4", "req-3", "req-2", "req-1", "req-0"}));
  q.nextToken = "not-a-token";
  EXPECT_EQ(pageOf(all, q).status().code(), "InvalidNextTokenException");
}

}  // namespace
}  // namespace lp::audit
