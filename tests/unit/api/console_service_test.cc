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
    ctx_ = std::make_unique<control::ControlContext>(
        control::ControlContext{*store_, clock_, random_, region_, control::Limits{}});
    api_ = std::make_unique<ApiService>(*ctx_);
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
    return api_->handle(HttpRequest{"POST", path, headers, body, "", ""});
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
  std::unique_ptr<ApiService> api_;
};

TEST_F(ConsoleServiceTest, ThePageIsServedWithAStrictContentSecurityPolicy) {
  HttpResponse r = api_->handle(HttpRequest{"GET", "/console/", {{"Host", kHost}}, "", "", ""});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.contentType.find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("app.js"), std::string::npos);
  EXPECT_NE(header(r, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/app.js", {}, "", "", ""}).contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/../etc/passwd", {}, "", "", ""}).status, 404);
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
  EXPECT_EQ(api_->handle(HttpRequest{"GET", "/console/session", {{"Cookie", t.first}}, "", "", ""}).status, 401);
}

}  // namespace
}  // namespace lp::api
