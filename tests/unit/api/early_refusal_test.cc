// A throttled account's requests are refused before their signature is verified,
// and a request that is not verified never spends another account's tokens or
// slots: a forger who knows a victim's access key id cannot throttle the victim.
#include "api/early_refusal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "api/api_service.h"
#include "api/sigv4.h"
#include "control/store_indexes.h"
#include "control/typed_store.h"

namespace lp::api {
namespace {

using namespace std::chrono_literals;

constexpr char kDate[] = "20261122T125531Z";

TEST(FormActionInPlace, ReadsTheActionParameterWithoutDecoding) {
  EXPECT_EQ(formActionInPlace("Action=CreateVpc&Version=2016-11-15"), "CreateVpc");
  EXPECT_EQ(formActionInPlace("Version=2016-11-15&Action=DescribeVpcs"), "DescribeVpcs");
  EXPECT_EQ(formActionInPlace("XAction=CreateVpc&Version=1"), "");
  EXPECT_EQ(formActionInPlace("Version=1"), "");
  EXPECT_EQ(formActionInPlace(""), "");
  EXPECT_EQ(formActionInPlace("Action="), "");
  // Encoded: left to the real parser after verification.
  EXPECT_EQ(formActionInPlace("Action=Create%56pc"), "");
  EXPECT_EQ(formActionInPlace("Action=A+B"), "");
}

model::RegionConfig accounts() {
  model::RegionConfig r;
  r.name = "us-east-1";
  r.zoneIds = {"use1-az1", "use1-az2"};
  r.accounts = {{"111111111111", "victim", "AKVICTIM", "victim-secret"},
                {"222222222222", "forger", "AKFORGER", "forger-secret"}};
  return r;
}

TEST(OverLimitBeforeVerifying, RefusesOnlyAnAccountAlreadyOverItsLimitAndChargesNothing) {
  ManualClock clock(WallTime(std::chrono::seconds(1'800'000'000)));
  ThrottleConfig config;
  config.mutatingRate = 1;
  config.mutatingBurst = 3;
  config.readRate = 1;
  config.readBurst = 2;
  AccountThrottle throttle(config, accounts(), clock);
  InFlightLimiter inFlight(2);
  // Asked a thousand times, it never takes a token or a slot.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "CreateVpc"));
    ASSERT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "DescribeVpcs"));
  }
  EXPECT_EQ(inFlight.running("111111111111"), 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.admit("111111111111", false)) << i;
  // The mutating bucket is empty: mutating calls are refused, reads are not.
  EXPECT_TRUE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "CreateVpc"));
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "DescribeVpcs"));
  // An unknown action is refused only when both buckets are empty.
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", ""));
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "222222222222", "CreateVpc"));
  clock.advance(1s);  // one token back
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "CreateVpc"));
  EXPECT_TRUE(throttle.admit("111111111111", false));
  // Calls in flight at the cap: refused whatever the buckets hold; a slot freed, not.
  auto a = inFlight.enter("222222222222");
  auto b = inFlight.enter("222222222222");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(overLimitBeforeVerifying(&throttle, &inFlight, "222222222222", "DescribeVpcs"));
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "111111111111", "DescribeVpcs"));
  b.reset();
  EXPECT_FALSE(overLimitBeforeVerifying(&throttle, &inFlight, "222222222222", "DescribeVpcs"));
  EXPECT_EQ(inFlight.running("222222222222"), 1);
  // No limits configured: never refused.
  EXPECT_FALSE(overLimitBeforeVerifying(nullptr, nullptr, "111111111111", "CreateVpc"));
}

// The whole request path: signed requests through ApiService::handle().
class EarlyRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-early-refusal-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = std::move(store::openSqliteStore(dir_, control::storeIndexer()).value());
    region_ = accounts();
    ctx_ = std::make_unique<control::ControlContext>(*store_, clock_, random_, region_, control::Limits{});
    ApiOptions options;
    options.throttle = ThrottleConfig{};
    options.throttle->mutatingRate = 1;
    options.throttle->mutatingBurst = 3;
    api_ = std::make_unique<ApiService>(*ctx_, nullptr, options);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A request as the AWS CLI signs it, naming key; signed with secret (the key's or not).
  HttpResponse call(const std::string& key, const std::string& secret, const std::string& body) {
    HeaderList headers = {{"Host", "127.0.0.1:4566"},
                          {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                          {"X-Amz-Date", kDate}};
    SigV4Header auth{{key, "20261122", "us-east-1", "ec2"}, {"content-type", "host", "x-amz-date"}, ""};
    std::string creq = canonicalRequest("POST", "/", "", headers, auth.signedHeaders, sha256Hex(body));
    headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + key +
                                              "/20261122/us-east-1/ec2/aws4_request, "
                                              "SignedHeaders=content-type;host;x-amz-date, Signature=" +
                                              computeSignature(secret, auth, kDate, creq));
    HttpRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = headers;
    req.body = body;
    return api_->handle(req);
  }
  static std::string code(const HttpResponse& r) { return r.errorCode.empty() ? "OK" : r.errorCode; }

  static constexpr char kCreate[] = "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.1.0.0%2F16";
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{*parseAmzDate(kDate)};
  SeededRandom random_{7};
  model::RegionConfig region_;
  std::unique_ptr<control::ControlContext> ctx_;
  std::unique_ptr<ApiService> api_;
};

TEST_F(EarlyRefusalTest, ForgedRequestsNamingAnotherAccountNeverSpendItsTokens) {
  // A hundred forged writes naming the victim's key: each fails its signature check.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(code(call("AKVICTIM", "not-the-secret", kCreate)), "AuthFailure") << i;
  // The victim's whole burst is still there.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(code(call("AKVICTIM", "victim-secret", kCreate)), "OK") << i;
  EXPECT_EQ(code(call("AKVICTIM", "victim-secret", kCreate)), "RequestLimitExceeded");
}

TEST_F(EarlyRefusalTest, AnAccountOverItsLimitIsRefusedBeforeItsSignatureIsChecked) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(code(call("AKFORGER", "forger-secret", kCreate)), "OK") << i;
  HttpResponse r = call("AKFORGER", "forger-secret", kCreate);
  EXPECT_EQ(code(r), "RequestLimitExceeded");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("<Code>RequestLimitExceeded</Code>"), std::string::npos) << r.body;
  // A bad signature gets the same answer: the signature was never looked at.
  EXPECT_EQ(code(call("AKFORGER", "not-the-secret", kCreate)), "RequestLimitExceeded");
  // Reads have their own bucket; another account is untouched.
  EXPECT_EQ(code(call("AKFORGER", "forger-secret", "Action=DescribeVpcs&Version=2016-11-15")), "OK");
  EXPECT_EQ(code(call("AKVICTIM", "victim-secret", kCreate)), "OK");
  // Refusals, early ones included, charged nothing: one second refills one token, which
  // a forged request cannot spend, and the owner then can.
  clock_.advance(1s);
  EXPECT_EQ(code(call("AKFORGER", "not-the-secret", kCreate)), "AuthFailure");
  EXPECT_EQ(code(call("AKFORGER", "forger-secret", kCreate)), "OK");
  EXPECT_EQ(code(call("AKFORGER", "forger-secret", kCreate)), "RequestLimitExceeded");
}

}  // namespace
}  // namespace lp::api
