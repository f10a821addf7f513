// The ELBv2 Query envelopes botocore depends on: <XResult> present (empty for the
// operations with an empty output shape), PascalCase <member> lists, empty list
// parameters sent as "Name=", and <ErrorResponse> with Type and HTTP 400.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "api/api_service.h"
#include "api/sigv4.h"
#include "control/store_indexes.h"
#include "control/typed_store.h"
#include "model/resources.h"

namespace lp::api {
namespace {

constexpr char kDate[] = "20261122T125531Z";

class ElbQueryEnvelopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-elb-api-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = std::move(store::openSqliteStore(dir_, control::storeIndexer()).value());
    region_.zoneIds = {"use1-az1", "use1-az2"};
    region_.accounts = {{"111111111111", "provider", "AKPROVIDER", "provider-secret"}};
    ctx_ = std::make_unique<control::ControlContext>(*store_, clock_, random_, region_, control::Limits{});
    api_ = std::make_unique<ApiService>(*ctx_);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A request signed as the AWS CLI signs it.
  HttpResponse call(const std::string& body) {
    HeaderList headers = {{"Host", "127.0.0.1:4566"},
                          {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                          {"X-Amz-Date", kDate}};
    SigV4Header auth{
        {"AKPROVIDER", "20261122", "us-east-1", "elasticloadbalancing"}, {"content-type", "host", "x-amz-date"}, ""};
    std::string creq = canonicalRequest("POST", "/", "", headers, auth.signedHeaders, sha256Hex(body));
    std::string sig = computeSignature("provider-secret", auth, kDate, creq);
    headers.emplace_back("Authorization",
                         "AWS4-HMAC-SHA256 Credential=AKPROVIDER/20261122/us-east-1/elasticloadbalancing/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date, Signature=" +
                             sig);
    HttpRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = headers;
    req.body = body;
    return api_->handle(req);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{*parseAmzDate(kDate)};
  SeededRandom random_{7};
  model::RegionConfig region_;
  std::unique_ptr<control::ControlContext> ctx_;
  std::unique_ptr<ApiService> api_;
};

TEST_F(ElbQueryEnvelopeTest, EmptyOutputShapesStillSendTheirResultElement) {
  model::Vpc vpc;
  vpc.id = model::VpcId("vpc-0123456789abcdef0");
  vpc.ownerId = "111111111111";
  vpc.cidrBlock = "10.0.0.0/16";
  ASSERT_TRUE(store_
                  ->update([&](store::WriteTxn& w) {
                    control::Txn(w).put(vpc);
                    return Status::Ok();
                  })
                  .ok());
  auto created = call("Action=CreateTargetGroup&Version=2015-12-01&Name=tg&Protocol=TCP&Port=80&TargetType=ip&VpcId=" +
                      vpc.id.str());
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_NE(created.body.find("<CreateTargetGroupResult><TargetGroups><member><TargetGroupArn>arn:aws:"
                              "elasticloadbalancing:us-east-1:111111111111:targetgroup/tg/"),
            std::string::npos)
      << created.body;
  auto start = created.body.find("<TargetGroupArn>") + 16;
  std::string arn = created.body.substr(start, created.body.find("</TargetGroupArn>") - start);

  auto reg = call("Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=" + arn +
                  "&Targets.member.1.Id=10.0.1.5&Targets.member.1.Port=81");
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_NE(reg.body.find("<RegisterTargetsResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/"
                          "2015-12-01/\"><RegisterTargetsResult/><ResponseMetadata><RequestId>"),
            std::string::npos)
      << reg.body;

  auto del = call("Action=DeleteTargetGroup&Version=2015-12-01&TargetGroupArn=" + arn);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_NE(del.body.find("<DeleteTargetGroupResult/>"), std::string::npos) << del.body;
}

TEST_F(ElbQueryEnvelopeTest, EmptyListParameterIsAnEmptyListAndErrorsAreErrorResponses) {
  auto none = call("Action=DescribeLoadBalancers&Version=2015-12-01&Names=");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_NE(
      none.body.find("<DescribeLoadBalancersResult><LoadBalancers></LoadBalancers></DescribeLoadBalancersResult>"),
      std::string::npos)
      << none.body;

  auto missing = call("Action=DescribeLoadBalancers&Version=2015-12-01&Names.member.1=nope");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">"
                              "<Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code>"),
            std::string::npos)
      << missing.body;

  auto badInt = call("Action=DescribeLoadBalancers&Version=2015-12-01&PageSize=many");
  EXPECT_EQ(badInt.status, 400);
  EXPECT_NE(badInt.body.find("<Code>ValidationError</Code>"), std::string::npos) << badInt.body;
}

}  // namespace
}  // namespace lp::api
