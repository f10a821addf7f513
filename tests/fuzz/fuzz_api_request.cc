// libFuzzer target: arbitrary bytes into ApiService::handle(), the whole path a
// request takes after the HTTP server (SigV4, form decoding, dispatch, handlers,
// the store), with a real ControlContext over a SQLite store in a temp directory.
//
// Input, by its first byte:
//   even: an unsigned request, "HEADERS\n\nBODY": header lines "Name: value"; a
//         first line without ':' is "METHOD TARGET". Exercises the auth checks.
//   odd:  the second byte picks the service (ASCII '0'-'6' or any byte modulo 7:
//         ec2, elasticloadbalancing, sns, sts, monitoring, then CloudWatch in
//         awsJson1_0 (5) and in Smithy RPC v2 CBOR (6), whose third byte picks the
//         operation); the rest is a body that is signed correctly with the first
//         demo account's key, so the parsers and the handlers behind SigV4 see it.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_service.h"
#include "api/cbor.h"
#include "api/sigv4.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time.h"
#include "control/context.h"
#include "control/store_indexes.h"
#include "metrics/series_store.h"
#include "store/store.h"

namespace {

constexpr std::string_view kAmzDate = "20261122T125531Z";
constexpr const char* kKey = "AKIALINKPLANEPROVIDR";
constexpr const char* kSecret = "provider/secret/key/0000000000000000000000";
constexpr std::string_view kServices[] = {"ec2", "elasticloadbalancing", "sns", "sts", "monitoring"};

struct Env {
  Env() : clock(*lp::parseAmzDate(kAmzDate)), random(1) {
    spdlog::set_level(spdlog::level::off);
    // /dev/shm when there is one: every acknowledged write is fsync'd.
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/lp-fuzz-api-XXXXXX";
    if (!mkdtemp(tmpl.data())) abort();
    dir = tmpl;
    auto s = lp::store::openSqliteStore(dir, lp::control::storeIndexer());
    if (!s.ok()) abort();
    store = std::move(s.value());
    region.name = "us-east-1";
    region.zoneIds = {"use1-az1", "use1-az2", "use1-az3"};
    region.accounts = {
        {"111111111111", "provider", kKey, kSecret},
        {"222222222222", "consumer", "AKIALINKPLANECONSUMR", "consumer/secret/key/0000000000000000000000"}};
    lp::control::Limits limits;
    ctx = std::make_unique<lp::control::ControlContext>(*store, clock, random, region, limits);
    // CloudWatch figures for the provider's service and the consumer's endpoint.
    series = std::make_unique<lp::metrics::SeriesStore>(clock, lp::metrics::SeriesStoreOptions{});
    lp::metrics::InterfaceInfo info{"eni-0a", "vpce-0a", "Interface", "vpc-0a", "subnet-0a",
                                    "com.amazonaws.vpce.us-east-1.vpce-svc-0a", "vpce-svc-0a", "", "us-east-1a",
                                    "222222222222", "111111111111"};
    series->record(info, {12345, 3, 1, 2});
    api = std::make_unique<lp::api::ApiService>(*ctx, series.get());
  }
  ~Env() {
    api.reset();
    ctx.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string dir;
  lp::ManualClock clock;
  lp::SeededRandom random;
  lp::model::RegionConfig region;
  std::unique_ptr<lp::store::Store> store;
  std::unique_ptr<lp::metrics::SeriesStore> series;
  std::unique_ptr<lp::control::ControlContext> ctx;
  std::unique_ptr<lp::api::ApiService> api;
};

Env& env() {
  static Env* e = [] {
    auto* p = new Env();
    atexit([] { delete &env(); });
    return p;
  }();
  return *e;
}

lp::api::HttpRequest unsignedRequest(std::string_view in) {
  lp::api::HttpRequest req{"POST", "/", {}, "", "", "", "", false};
  auto split = in.find("\n\n");
  std::string_view head = in.substr(0, split);
  if (split != std::string_view::npos) req.body = std::string(in.substr(split + 2));
  bool first = true;
  while (!head.empty()) {
    auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (first) {
        auto sp = line.find(' ');
        req.method = std::string(line.substr(0, sp));
        if (sp != std::string_view::npos) req.target = std::string(line.substr(sp + 1));
      }
    } else {
      std::string_view v = line.substr(colon + 1);
      if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(v));
    }
    first = false;
  }
  return req;
}

// contentType and target: the form protocols' by default; extra: headers sent unsigned.
lp::api::HttpRequest signedRequest(std::string_view service, std::string_view body,
                                   std::string contentType = "application/x-www-form-urlencoded; charset=utf-8",
                                   std::string target = "/", lp::api::HeaderList extra = {}) {
  lp::api::HttpRequest req{"POST", target, {}, std::string(body), "", "", "", false};
  req.headers = {{"Host", "127.0.0.1:4566"}, {"Content-Type", contentType}, {"X-Amz-Date", std::string(kAmzDate)}};
  lp::api::SigV4Header auth;
  auth.credential = {kKey, std::string(kAmzDate.substr(0, 8)), "us-east-1", std::string(service)};
  auth.signedHeaders = {"content-type", "host", "x-amz-date"};
  std::string creq =
      lp::api::canonicalRequest("POST", target, "", req.headers, auth.signedHeaders, lp::api::sha256Hex(req.body));
  std::string sig = lp::api::computeSignature(kSecret, auth, kAmzDate, creq);
  req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(kKey) + "/" +
                                                auth.credential.date + "/us-east-1/" + std::string(service) +
                                                "/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                                                "Signature=" +
                                                sig);
  for (auto& h : extra) req.headers.push_back(std::move(h));
  return req;
}

constexpr std::string_view kCloudWatchActions[] = {"ListMetrics", "GetMetricStatistics", "GetMetricData", "Bogus"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Env& e = env();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  lp::api::HttpResponse resp;
  if ((data[0] & 1) == 0) {
    resp = e.api->handle(unsignedRequest(in.substr(1)));
  } else {
    if (size < 2) return 0;
    unsigned char pick = (data[1] >= '0' && data[1] <= '9' ? data[1] - '0' : data[1]) % (std::size(kServices) + 2);
    if (pick < std::size(kServices)) {
      resp = e.api->handle(signedRequest(kServices[pick], in.substr(2)));
    } else {
      if (size < 3) return 0;
      std::string action(kCloudWatchActions[data[2] % std::size(kCloudWatchActions)]);
      if (pick == std::size(kServices))
        resp = e.api->handle(signedRequest("monitoring", in.substr(3), "application/x-amz-json-1.0", "/",
                                           {{"X-Amz-Target", "GraniteServiceVersion20100801." + action}}));
      else
        resp = e.api->handle(signedRequest("monitoring", in.substr(3), "application/cbor",
                                           "/service/GraniteServiceVersion20100801/operation/" + action,
                                           {{"smithy-protocol", "rpc-v2-cbor"}}));
    }
  }
  // Every answer is a well-formed status with a document of its declared type: XML
  // from the Query and EC2 protocols, JSON from the JSON protocol and the console's
  // calls (which must stay valid JSON whatever bytes a request quoted), and the
  // console's own page and plain-text refusals.
  if (resp.status < 200 || resp.status > 599) abort();
  const std::string& type = resp.contentType;
  if (type.rfind("text/xml", 0) == 0) {
    if (resp.body.rfind("<?xml", 0) != 0) abort();
  } else if (type.rfind("application/json", 0) == 0 || type.rfind("application/x-amz-json", 0) == 0) {
    if (!nlohmann::json::accept(resp.body)) abort();
  } else if (type == "application/cbor") {  // CloudWatch's Smithy RPC v2 CBOR answers
    if (!lp::api::cbor::decode(resp.body).ok()) abort();
  } else if (type.rfind("text/", 0) != 0 && type.rfind("application/javascript", 0) != 0 &&
             type.rfind("image/", 0) != 0) {
    abort();
  }
  return 0;
}
