// The console's session rules at the API edge: sign-in checks the key and secret,
// the cookie's attributes, every call needs the console's own Origin and the
// session's CSRF token, sessions expire and sign out, and a call runs as the
// session's account through the same handlers as SigV4.
#include "api/console/console_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "api/api_service.h"
#include "api/sigv4.h"
#include "control/store_indexes.h"
#include "control/typed_store.h"
#include "model/endpoint.h"
#include "metrics/series_store.h"

namespace lp::api {
namespace {

constexpr char kHost[] = "127.0.0.1:4566";
constexpr char kOrigin[] = "http://127.0.0.1:4566";

class ConsoleServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-console-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = std::move(store::openSqliteStore(dir_, control::storeIndexer()).value());
    region_.zoneIds = {"use1-az1", "use1-az2"};
    region_.accounts = {{"111111111111", "provider", "AKPROVIDER", "provider-secret"},
                        {"222222222222", "consumer", "AKCONSUMER", "consumer-secret"}};
    ctx_ = std::make_unique<control::ControlContext>(*store_, clock_, random_, region_, control::Limits{});
    api_ = std::make_unique<ApiService>(*ctx_, &series_);
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  HttpResponse post(const std::string& path, const std::string& body, HeaderList extra = {}, bool origin = true) {
    HeaderList headers = {{"Host", kHost}, {"Content-Type", "application/x-www-form-urlencoded"}};
    if (origin) headers.emplace_back("Origin", kOrigin);
    for (auto& h : extra) headers.push_back(h);
    return api_->handle(HttpRequest{"POST", path, headers, body, "", "", peer_, tls_});
  }

  static std::string header(const HttpResponse& r, std::string_view name) {
    for (auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  // Signs in; returns {cookie header value, csrf token}.
  std::pair<std::string, std::string> signIn(const std::string& key, const std::string& secret) {
    HttpResponse r = post("/console/session", "accessKeyId=" + key + "&secretAccessKey=" + secret);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie = header(r, "Set-Cookie");
    std::string pair = cookie.substr(0, cookie.find(';'));
    auto at = r.body.find("\"csrf\":\"");
    std::string csrf = r.body.substr(at + 8, 64);
    return {pair, csrf};
  }

  HttpResponse call(const std::pair<std::string, std::string>& s, const std::string& body, bool origin = true) {
    return post("/console/api/ec2", body, {{"Cookie", s.first}, {"X-Lp-Csrf", s.second}}, origin);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{*parseAmzDate("20261122T125531Z")};
  SeededRandom random_{7};
  model::RegionConfig region_;
  std::unique_ptr<control::ControlContext> ctx_;
  metrics::SeriesStore series_{clock_, {}};
  std::unique_ptr<ApiService> api_;
  std::string peer_ = "127.0.0.1";  // the TCP peer of post()
  bool tls_ = false;                // post() over the HTTPS listener
};

TEST_F(ConsoleServiceTest, ThePageIsServedWithAStrictContentSecurityPolicy) {
  HttpResponse r = api_->handle(HttpRequest{"GET", "/console/", {{"Host", kHost}}, "", "", "", "", false});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.contentType.find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("app.js"), std::string::npos);
  EXPECT_NE(header(r, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/app.js", {}, "", "", "", "", false}).contentType,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/../etc/passwd", {}, "", "", "", "", false}).status, 404);
}

TEST_F(ConsoleServiceTest, WrongKeysGetOneClearErrorAndNoCookie) {
  for (auto body : {"accessKeyId=AKPROVIDER&secretAccessKey=wrong",
                    "accessKeyId=AKNOBODY&secretAccessKey=provider-secret", "accessKeyId=&secretAccessKey="}) {
    HttpResponse r = post("/console/session", body);
    EXPECT_EQ(r.status, 401) << body;
    EXPECT_NE(r.body.find("InvalidClientTokenId"), std::string::npos);
    EXPECT_EQ(header(r, "Set-Cookie"), "");
  }
  // Sign-in from another origin's page is refused before the keys are looked at.
  EXPECT_EQ(post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret", {}, false).status, 403);
}

TEST_F(ConsoleServiceTest, TheSessionCookieIsHttpOnlyStrictAndExpires) {
  HttpResponse r = post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret");
  std::string cookie = header(r, "Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/console"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age=28800"), std::string::npos);
  EXPECT_EQ(r.body.find("provider-secret"), std::string::npos);
}

TEST_F(ConsoleServiceTest, CallsRunAsTheSessionsAccountThroughTheApiHandlers) {
  auto provider = signIn("AKPROVIDER", "provider-secret");
  auto consumer = signIn("AKCONSUMER", "consumer-secret");
  HttpResponse made = call(provider, "Action=CreateVpc&CidrBlock=10.0.0.0%2F16");
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_NE(made.body.find("<ownerId>111111111111</ownerId>"), std::string::npos);
  auto at = made.body.find("<vpcId>");
  std::string vpc = made.body.substr(at + 7, made.body.find("</vpcId>") - at - 7);
  // The consumer's session sees nothing of it and cannot delete it: the API's rules.
  HttpResponse seen = call(consumer, "Action=DescribeVpcs&VpcId.1=" + vpc);
  EXPECT_EQ(seen.status, 400);
  EXPECT_NE(seen.body.find("InvalidVpcID.NotFound"), std::string::npos);
  EXPECT_EQ(call(consumer, "Action=DeleteVpc&VpcId=" + vpc).status, 400);
  EXPECT_EQ(call(provider, "Action=DescribeVpcs&VpcId.1=" + vpc).status, 200);
  // Bad input gets the API's own error.
  HttpResponse bad = call(provider, "Action=CreateVpc&CidrBlock=nonsense");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("<Code>"), std::string::npos);
  EXPECT_EQ(
      post("/console/api/sts", "Action=GetCallerIdentity", {{"Cookie", provider.first}, {"X-Lp-Csrf", provider.second}})
          .status,
      404);
}

TEST_F(ConsoleServiceTest, EveryCallNeedsTheOriginTheTokenAndALiveSession) {
  auto s = signIn("AKPROVIDER", "provider-secret");
  EXPECT_EQ(call(s, "Action=DescribeVpcs", false).status, 403);                                   // no Origin
  EXPECT_EQ(post("/console/api/ec2", "Action=DescribeVpcs", {{"Cookie", s.first}}).status, 403);  // no token
  EXPECT_EQ(post("/console/api/ec2", "Action=DescribeVpcs", {{"Cookie", s.first}, {"X-Lp-Csrf", std::string(64, 'a')}})
                .status,
            403);
  HttpResponse evil = post("/console/api/ec2", "Action=DescribeVpcs",
                           {{"Cookie", s.first}, {"X-Lp-Csrf", s.second}, {"Origin", "http://evil.example"}}, false);
  EXPECT_EQ(evil.status, 403);
  EXPECT_NE(evil.body.find("InvalidOrigin"), std::string::npos);
  EXPECT_EQ(call({"lp_console=" + std::string(64, 'b'), s.second}, "Action=DescribeVpcs").status, 401);
  EXPECT_EQ(call(s, "Action=DescribeVpcs").status, 200);
}

TEST_F(ConsoleServiceTest, SessionsExpireAndSignOut) {
  auto s = signIn("AKPROVIDER", "provider-secret");
  clock_.advance(std::chrono::hours(8) - std::chrono::seconds(1));
  EXPECT_EQ(call(s, "Action=DescribeVpcs").status, 200);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(call(s, "Action=DescribeVpcs").status, 401);

  auto t = signIn("AKPROVIDER", "provider-secret");
  HttpResponse out = post("/console/signout", "", {{"Cookie", t.first}, {"X-Lp-Csrf", t.second}});
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(header(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(call(t, "Action=DescribeVpcs").status, 401);
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/session", {{"Cookie", t.first}}, "", "", "", "", false}).status,
            401);
}

// A reload that removes a key ends the sessions signed in with it at once; so does
// a new secret for the same key. The other sessions go on.
TEST_F(ConsoleServiceTest, SessionsOfAKeyARemovedOrRotatedByAReloadEnd) {
  auto provider = signIn("AKPROVIDER", "provider-secret");
  auto consumer = signIn("AKCONSUMER", "consumer-secret");
  model::RegionConfig next = region_;
  next.accounts.erase(next.accounts.begin() + 1);
  ctx_->replaceSettings({next, control::Limits{}});
  // Even before the daemon tells the console, the session's next call is refused.
  EXPECT_EQ(call(consumer, "Action=DescribeVpcs").status, 401);
  EXPECT_EQ(api_->settingsChanged(), 0u) << "that session has ended already";
  EXPECT_EQ(call(provider, "Action=DescribeVpcs").status, 200);
  EXPECT_EQ(post("/console/session", "accessKeyId=AKCONSUMER&secretAccessKey=consumer-secret").status, 401);

  next.accounts[0].secretAccessKey = "provider-rotated";
  ctx_->replaceSettings({next, control::Limits{}});
  EXPECT_EQ(api_->settingsChanged(), 1u);  // ended by the reload, before any call
  EXPECT_EQ(call(provider, "Action=DescribeVpcs").status, 401);
  EXPECT_EQ(post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret").status, 401);
  auto again = signIn("AKPROVIDER", "provider-rotated");
  EXPECT_EQ(call(again, "Action=DescribeVpcs").status, 200);
}

TEST_F(ConsoleServiceTest, TrafficChartsReadCloudWatchAsTheSessionsAccount) {
  metrics::InterfaceInfo eni{
      .interfaceId = "eni-0a",
      .endpointId = "vpce-0a",
      .vpcId = "vpc-0c",
      .subnetId = "subnet-0c",
      .serviceName = "com.amazonaws.vpce.us-east-1.vpce-svc-0a",
      .serviceId = "vpce-svc-0a",
      .loadBalancerArn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/svc/1",
      .az = "us-east-1a",
      .consumerAccount = "222222222222",
      .providerAccount = "111111111111"};
  series_.record(eni, {});
  series_.record(eni, {.bytes = 1234, .connections = 3, .resets = 0, .active = 2});
  auto provider = signIn("AKPROVIDER", "provider-secret");
  auto consumer = signIn("AKCONSUMER", "consumer-secret");
  auto query = [&](const std::pair<std::string, std::string>& s, const std::string& ns, const std::string& dims) {
    return post("/console/api/monitoring",
                "Action=GetMetricData&Version=2010-08-01&StartTime=2026-11-22T12:30:00Z&EndTime=2026-11-22T13:00:00Z"
                "&MetricDataQueries.member.1.Id=q0&MetricDataQueries.member.1.MetricStat.Period=60"
                "&MetricDataQueries.member.1.MetricStat.Stat=Sum"
                "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=BytesProcessed"
                "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=" +
                    ns + dims,
                {{"Cookie", s.first}, {"X-Lp-Csrf", s.second}});
  };
  const std::string endpointDims =
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=Endpoint%20Type"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=Interface"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Name=Service%20Name"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Value=com.amazonaws.vpce.us-east-1.vpce-svc-0a"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.3.Name=VPC%20Endpoint%20Id"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.3.Value=vpce-0a"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.4.Name=VPC%20Id"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.4.Value=vpc-0c";
  const std::string serviceDims =
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=Service%20Id"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=vpce-svc-0a";
  HttpResponse mine = query(consumer, "AWS%2FPrivateLinkEndpoints", endpointDims);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_NE(mine.body.find("<member>1234.0</member>"), std::string::npos) << mine.body;
  EXPECT_NE(mine.body.find("<member>2026-11-22T12:55:00Z</member>"), std::string::npos) << mine.body;
  // The provider sees the service's side, not the consumer's endpoint; the
  // consumer not the provider's service: CloudWatch's own rules, not the console's.
  HttpResponse theirs = query(provider, "AWS%2FPrivateLinkEndpoints", endpointDims);
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  EXPECT_NE(theirs.body.find("<Values/>"), std::string::npos) << theirs.body;
  EXPECT_NE(query(provider, "AWS%2FPrivateLinkServices", serviceDims).body.find("<member>1234.0</member>"),
            std::string::npos);
  EXPECT_NE(query(consumer, "AWS%2FPrivateLinkServices", serviceDims).body.find("<Values/>"), std::string::npos);
  // The old counters route is gone.
  EXPECT_EQ(
      post("/console/traffic", "VpcEndpointId=vpce-0a", {{"Cookie", consumer.first}, {"X-Lp-Csrf", consumer.second}})
          .status,
      405);
}

TEST_F(ConsoleServiceTest, FailedSignInsBackOffPerAddressAndPerKey) {
  const std::string wrong = "accessKeyId=AKPROVIDER&secretAccessKey=wrong";
  const std::string right = "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(post("/console/session", wrong).status, 401) << i;
  // The sixth try, even with the right secret, is refused without looking at it.
  HttpResponse slow = post("/console/session", right);
  EXPECT_EQ(slow.status, 429);
  EXPECT_NE(slow.body.find("TooManySignInAttempts"), std::string::npos);
  EXPECT_NE(slow.body.find("Try again in 10 seconds."), std::string::npos) << slow.body;
  EXPECT_EQ(header(slow, "Retry-After"), "10");
  EXPECT_EQ(header(slow, "Set-Cookie"), "");
  // Another address with another key is not affected; this key from another address is.
  peer_ = "127.0.0.2";
  EXPECT_EQ(post("/console/session", "accessKeyId=AKCONSUMER&secretAccessKey=consumer-secret").status, 200);
  EXPECT_EQ(post("/console/session", right).status, 429);
  // An unknown key from the first address: the address is blocked, same answer.
  peer_ = "127.0.0.1";
  HttpResponse unknown = post("/console/session", "accessKeyId=AKNOBODY&secretAccessKey=x");
  EXPECT_EQ(unknown.status, 429);
  EXPECT_EQ(unknown.body, slow.body);
  // Each further failure doubles the wait.
  clock_.advance(std::chrono::seconds(10));
  EXPECT_EQ(post("/console/session", wrong).status, 401);
  EXPECT_NE(post("/console/session", right).body.find("Try again in 20 seconds."), std::string::npos);
  clock_.advance(std::chrono::seconds(20));
  EXPECT_EQ(post("/console/session", right).status, 200);
  // A success forgets the failures.
  EXPECT_EQ(post("/console/session", wrong).status, 401);
  EXPECT_EQ(post("/console/session", right).status, 200);
}

// POST /console/lifecycle: the endpoint's recorded state changes, to its owner and
// to its service's owner (as DescribeVpcEndpoints / DescribeVpcEndpointConnections
// decide), and the API's own NotFound to anyone else.
TEST_F(ConsoleServiceTest, TheLifecycleGoesToTheEndpointsOwnerAndTheServicesOwnerOnly) {
  region_.accounts.push_back({"333333333333", "other", "AKOTHER", "other-secret"});
  ctx_->replaceSettings({region_, control::Limits{}});
  model::ServiceConfiguration svc;
  svc.id = model::ServiceId("vpce-svc-0123456789abcdef0");
  svc.ownerId = "111111111111";
  svc.serviceName = "com.amazonaws.vpce.us-east-1." + svc.id.str();
  model::VpcEndpoint e;
  e.id = model::VpcEndpointId("vpce-0123456789abcdef0");
  e.ownerId = "222222222222";
  e.serviceId = svc.id;
  e.serviceName = svc.serviceName;
  e.createdAt = "2026-11-22T12:55:31.000Z";
  e.changeState("pendingAcceptance", "2026-11-22T12:55:31.000Z", "CreateVpcEndpoint", "222222222222");
  e.changeState("pending", "2026-11-22T12:56:00.500Z", "AcceptVpcEndpointConnections", "111111111111");
  e.changeState("available", "2026-11-22T12:56:00.750Z", model::kReconcilerCause, "");
  ASSERT_TRUE(store_
                  ->update([&](store::WriteTxn& w) {
                    control::Txn t(w);
                    t.put(svc);
                    t.put(e);
                    return Status::Ok();
                  })
                  .ok());
  auto lifecycle = [&](const std::pair<std::string, std::string>& s, const std::string& id) {
    return post("/console/lifecycle", "VpcEndpointId=" + id, {{"Cookie", s.first}, {"X-Lp-Csrf", s.second}});
  };
  for (auto [key, secret] : {std::pair{"AKCONSUMER", "consumer-secret"}, std::pair{"AKPROVIDER", "provider-secret"}}) {
    HttpResponse r = lifecycle(signIn(key, secret), e.id.str());
    ASSERT_EQ(r.status, 200) << key << " " << r.body;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["State"], "available");
    ASSERT_EQ(j["StateChanges"].size(), 3u);
    EXPECT_EQ(j["StateChanges"][0],
              nlohmann::json({{"State", "pendingAcceptance"}, {"Time", "2026-11-22T12:55:31.000Z"},
                              {"Cause", "CreateVpcEndpoint"}, {"Account", "222222222222"}}));
    EXPECT_EQ(j["StateChanges"][1]["Account"], "111111111111");
    EXPECT_EQ(j["StateChanges"][2], nlohmann::json({{"State", "available"},
                                                    {"Time", "2026-11-22T12:56:00.750Z"},
                                                    {"Cause", "reconciler"}}));
  }
  // Another account, an unknown id and a malformed one: the same NotFound.
  auto other = signIn("AKOTHER", "other-secret");
  for (auto id : {e.id.str(), std::string("vpce-0fffffffffffffff0"), std::string("vpce-<x>")}) {
    HttpResponse r = lifecycle(other, id);
    EXPECT_EQ(r.status, 400) << id;
    EXPECT_NE(r.body.find("InvalidVpcEndpointId.NotFound"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("pendingAcceptance"), std::string::npos);
  }
  // The console's own guards: no CSRF token, another origin.
  auto consumer = signIn("AKCONSUMER", "consumer-secret");
  EXPECT_EQ(post("/console/lifecycle", "VpcEndpointId=" + e.id.str(), {{"Cookie", consumer.first}}).status, 403);
  EXPECT_EQ(post("/console/lifecycle", "VpcEndpointId=" + e.id.str(),
                 {{"Cookie", consumer.first}, {"X-Lp-Csrf", consumer.second}}, false)
                .status,
            403);
  EXPECT_EQ(post("/console/lifecycle", "VpcEndpointId=" + e.id.str()).status, 401);  // no session
}

// The [console] limits reach the sign-in limiter through ApiOptions.
TEST_F(ConsoleServiceTest, SignInLimitsComeFromTheApiOptions) {
  ApiOptions options;
  options.consoleSignIn.free = 2;
  options.consoleSignIn.firstDelay = std::chrono::seconds(3);
  api_ = std::make_unique<ApiService>(*ctx_, &series_, options);
  const std::string wrong = "accessKeyId=AKPROVIDER&secretAccessKey=wrong";
  EXPECT_EQ(post("/console/session", wrong).status, 401);
  EXPECT_EQ(post("/console/session", wrong).status, 401);
  HttpResponse slow = post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret");
  EXPECT_EQ(slow.status, 429);
  EXPECT_EQ(header(slow, "Retry-After"), "3");
}

TEST_F(ConsoleServiceTest, TheCookieIsSecureOverHttps) {
  EXPECT_EQ(header(post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret"), "Set-Cookie")
                .find("Secure"),
            std::string::npos);
  tls_ = true;
  auto s = signIn("AKPROVIDER", "provider-secret");
  HttpResponse r = post("/console/session", "accessKeyId=AKPROVIDER&secretAccessKey=provider-secret");
  EXPECT_NE(header(r, "Set-Cookie").find("; Secure"), std::string::npos);
  HttpResponse out = post("/console/signout", "", {{"Cookie", s.first}, {"X-Lp-Csrf", s.second}});
  EXPECT_NE(header(out, "Set-Cookie").find("; Secure"), std::string::npos);
}

TEST(SignInLimiterTest, MemoryIsBoundedAndIdleEntriesAreForgotten) {
  ManualClock clock{*parseAmzDate("20261122T125531Z")};
  console::SignInLimiter limiter(clock, {.free = 5,
                                         .firstDelay = std::chrono::seconds(10),
                                         .maxDelay = std::chrono::seconds(900),
                                         .forget = std::chrono::seconds(3600),
                                         .maxEntries = 100});
  for (int i = 0; i < 30; ++i) limiter.failed({"address 10.0.0.1"});
  // A flood of made-up key ids from elsewhere: memory stays bounded, and the
  // blocked address is not what makes room.
  for (int i = 0; i < 1000; ++i) limiter.failed({"address 10.0.0.9", "key AK" + std::to_string(i)});
  EXPECT_LE(limiter.size(), 100u);
  EXPECT_TRUE(limiter.blocked({"address 10.0.0.9"}));
  auto wait = limiter.blocked({"address 10.0.0.1"});
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, std::chrono::seconds(900));  // capped
  clock.advance(std::chrono::hours(2));
  limiter.failed({"address 10.0.0.2"});
  EXPECT_EQ(limiter.size(), 1u);
}

}  // namespace
}  // namespace lp::api
