// notify/: the signing key survives restarts and its signatures verify against
// the published certificate; messages carry SNS's fields and headers; the
// notifier delivers in order per subscriber, retries on the store's schedule
// (manual clock) and deletes a delivery only after a 2xx; libcurl posts to a real
// socket.
#include "notify/notifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <poll.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "../control/sns_test_fixture.h"
#include "../test_descriptors.h"
#include "common/strings.h"
#include "daemon/sns_outbox.h"
#include "notify/message.h"
#include "notify/subscriber_gate.h"

namespace lp::notify {
namespace {

using control::testing::SnsFixture;

bool verifies(const std::string& certPem, const std::string& text, const std::string& sigB64, bool sha256) {
  BIO* b = BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size()));
  X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!cert) return false;
  EVP_PKEY* pub = X509_get_pubkey(cert);
  auto sig = base64Decode(sigB64).value_or("");
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(c, nullptr, sha256 ? EVP_sha256() : EVP_sha1(), nullptr, pub) == 1 &&
            EVP_DigestVerify(c, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  EVP_MD_CTX_free(c);
  EVP_PKEY_free(pub);
  X509_free(cert);
  return ok;
}

class FakePoster : public HttpPoster {
 public:
  struct Post {
    std::string url;
    HeaderPairs headers;
    std::string body;
  };
  HttpPostResult post(const std::string& url, const HeaderPairs& headers, const std::string& body) override {
    posts.push_back({url, headers, body});
    HttpPostResult r;
    r.status = status.count(url) ? status[url] : 200;
    if (!r.ok()) r.error = "HTTP " + std::to_string(r.status);
    return r;
  }
  std::vector<Post> posts;
  std::map<std::string, int> status;  // per URL; 200 when absent
};

class NotifierTest : public SnsFixture {
 protected:
  void SetUp() override {
    SnsFixture::SetUp();
    auto key = SigningKey::loadOrCreate(dir_);
    ASSERT_TRUE(key.ok()) << key.status().toString();
    certPem_ = (*key)->certPem();
    auto poster = std::make_unique<FakePoster>();
    poster_ = poster.get();
    NotifierOptions o;
    o.stateDir = dir_;
    o.publicBaseUrl = "http://127.0.0.1:4566";
    o.retry = model::SnsRetryPolicy{1000, 4000, 5, 60000};
    outbox_ = std::make_unique<daemon::SnsOutbox>(*ctx_);
    notifier_ = std::make_unique<Notifier>(*outbox_, clock_, o, std::move(*key), std::move(poster));
  }
  void TearDown() override {
    notifier_.reset();
    SnsFixture::TearDown();
  }
  std::string header(const FakePoster::Post& p, const std::string& name) {
    for (const auto& [k, v] : p.headers)
      if (k == name) return v;
    return "";
  }
  std::vector<std::string> messagesTo(const std::string& url) {
    std::vector<std::string> out;
    for (const auto& p : poster_->posts)
      if (p.url == url) out.push_back(nlohmann::json::parse(p.body).value("Message", ""));
    return out;
  }

  std::string certPem_;
  FakePoster* poster_ = nullptr;
  std::unique_ptr<daemon::SnsOutbox> outbox_;
  std::unique_ptr<Notifier> notifier_;
};

TEST_F(NotifierTest, SigningKeyIsKeptAcrossRestartsAndPrivate) {
  auto again = SigningKey::loadOrCreate(dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->certPem(), certPem_);
  EXPECT_TRUE(startsWith((*again)->certName(), "SimpleNotificationService-"));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/sns-signing-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto sig = (*again)->sign("hello\n", "1");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(verifies(certPem_, "hello\n", *sig, false));
  EXPECT_FALSE(verifies(certPem_, "hellO\n", *sig, false));
  auto sig2 = (*again)->sign("hello\n", "2");
  EXPECT_TRUE(verifies(certPem_, "hello\n", *sig2, true));
}

TEST_F(NotifierTest, ConfirmationThenSignedNotificationInSnsFormat) {
  std::string arn = topic("t");
  ASSERT_TRUE(sns().subscribe(as(kOwner), {arn, "http", "http://127.0.0.1:9/hook", {}, false}).ok());
  notifier_->runOnce();
  ASSERT_EQ(poster_->posts.size(), 1u);
  const auto& c = poster_->posts[0];
  auto cj = nlohmann::json::parse(c.body);
  EXPECT_EQ(cj["Type"], "SubscriptionConfirmation");
  EXPECT_EQ(header(c, "x-amz-sns-message-type"), "SubscriptionConfirmation");
  EXPECT_EQ(header(c, "x-amz-sns-topic-arn"), arn);
  EXPECT_EQ(header(c, "x-amz-sns-message-id"), cj["MessageId"]);
  EXPECT_EQ(header(c, "Content-Type"), "text/plain; charset=UTF-8");
  std::string subUrl = cj["SubscribeURL"];
  EXPECT_EQ(subUrl, "http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn=" + urlEncode(arn) +
                        "&Token=" + cj["Token"].get<std::string>());
  std::string signedText = "Message\n" + cj["Message"].get<std::string>() + "\nMessageId\n" +
                           cj["MessageId"].get<std::string>() + "\nSubscribeURL\n" + subUrl + "\nTimestamp\n" +
                           cj["Timestamp"].get<std::string>() + "\nToken\n" + cj["Token"].get<std::string>() +
                           "\nTopicArn\n" + arn + "\nType\nSubscriptionConfirmation\n";
  EXPECT_TRUE(verifies(certPem_, signedText, cj["Signature"], false));
  EXPECT_TRUE(all<model::SnsDelivery>().empty());  // 2xx: done

  ASSERT_TRUE(sns().confirmSubscription(arn, cj["Token"]).ok());
  auto id = sns().publish(as(kOwner), {arn, "", "", "body", std::string("Subj"), "", {}});
  ASSERT_TRUE(id.ok());
  notifier_->runOnce();
  ASSERT_EQ(poster_->posts.size(), 2u);
  const auto& n = poster_->posts[1];
  auto nj = nlohmann::json::parse(n.body);
  EXPECT_EQ(nj["Type"], "Notification");
  EXPECT_EQ(nj["MessageId"], *id);
  EXPECT_EQ(nj["Subject"], "Subj");
  EXPECT_EQ(nj["Message"], "body");
  EXPECT_FALSE(header(n, "x-amz-sns-subscription-arn").empty());
  std::string text = "Message\nbody\nMessageId\n" + *id + "\nSubject\nSubj\nTimestamp\n" +
                     nj["Timestamp"].get<std::string>() + "\nTopicArn\n" + arn + "\nType\nNotification\n";
  EXPECT_TRUE(verifies(certPem_, text, nj["Signature"], false));
  EXPECT_EQ(nj["SigningCertURL"], "http://127.0.0.1:4566/" + SigningKey::loadOrCreate(dir_).value()->certName());
}

TEST_F(NotifierTest, RetriesOnTheBackoffScheduleAndKeepsOrderPerSubscriber) {
  std::string arn = topic("t");
  const std::string down = "http://127.0.0.1:9/down", up = "http://127.0.0.1:9/up";
  confirmedSubscription(arn, down);
  confirmedSubscription(arn, up);
  poster_->status[down] = 503;
  for (const char* m : {"m1", "m2", "m3"}) ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", m, {}, "", {}}).ok());

  auto next = notifier_->runOnce();
  EXPECT_EQ(messagesTo(up), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(messagesTo(down), (std::vector<std::string>{"m1"}));  // m2, m3 wait behind m1
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(all<model::SnsDelivery>().size(), 3u);

  notifier_->runOnce();  // not due yet
  EXPECT_EQ(messagesTo(down).size(), 1u);
  clock_.advance(std::chrono::milliseconds(1000));
  notifier_->runOnce();
  EXPECT_EQ(messagesTo(down).size(), 2u);  // m1 again, after 1 s
  clock_.advance(std::chrono::milliseconds(1999));
  notifier_->runOnce();
  EXPECT_EQ(messagesTo(down).size(), 2u);  // next after 2 s
  clock_.advance(std::chrono::milliseconds(1));
  poster_->status.erase(down);  // back up
  notifier_->runOnce();
  EXPECT_EQ(messagesTo(down), (std::vector<std::string>{"m1", "m1", "m1", "m2", "m3"}));
  EXPECT_TRUE(all<model::SnsDelivery>().empty());
}

TEST_F(NotifierTest, GivesUpAfterThePolicyLimit) {
  std::string arn = topic("t");
  const std::string down = "http://127.0.0.1:9/down";
  confirmedSubscription(arn, down);
  poster_->status[down] = 500;
  ASSERT_TRUE(sns().publish(as(kOwner), {arn, "", "", "lost cause", {}, "", {}}).ok());
  for (int i = 0; i < 10; ++i) {
    notifier_->runOnce();
    clock_.advance(std::chrono::seconds(5));
  }
  EXPECT_EQ(messagesTo(down).size(), 5u);  // maxAttempts
  EXPECT_TRUE(all<model::SnsDelivery>().empty());
}

// Subscribers that accept and never answer (tarpits) and one that answers at
// once, shared by every worker's poster. Waits are on conditions, never on time.
struct TarpitSubscribers {
  std::mutex mu;
  std::condition_variable cv;
  int hanging = 0;
  bool release = false;
  std::vector<std::string> answered;

  class Poster : public HttpPoster {
   public:
    Poster(TarpitSubscribers& s, const std::atomic<bool>& cancel) : s_(s), cancel_(cancel) {}
    HttpPostResult post(const std::string& url, const HeaderPairs&, const std::string&) override {
      std::unique_lock lock(s_.mu);
      HttpPostResult r;
      if (url.find("tarpit") != std::string::npos) {
        ++s_.hanging;
        s_.cv.notify_all();
        while (!s_.release && !cancel_) s_.cv.wait_for(lock, std::chrono::milliseconds(10));
        --s_.hanging;
        r.error = "Timeout was reached";
        return r;
      }
      s_.answered.push_back(url);
      s_.cv.notify_all();
      r.status = 200;
      return r;
    }

   private:
    TarpitSubscribers& s_;
    const std::atomic<bool>& cancel_;
  };
  template <typename Pred>
  bool waitFor(Pred pred) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), pred);
  }
};

// Issue 19: one account's subscribers that never answer held every other
// account's deliveries for their 15 s timeouts, one after another.
TEST_F(NotifierTest, SubscribersThatNeverAnswerHoldUpNoOtherAccount) {
  TarpitSubscribers subs;
  std::string adversary = topic("flood");
  for (int i = 0; i < 20; ++i) confirmedSubscription(adversary, "http://127.0.0.1:9/tarpit" + std::to_string(i));
  ASSERT_TRUE(sns().publish(as(kOwner), {adversary, "", "", "flood", {}, "", {}}).ok());
  NotifierOptions o;
  o.stateDir = dir_;
  o.publicBaseUrl = "http://127.0.0.1:4566";
  o.limits = DeliveryLimits{8, 4};
  auto key = SigningKey::loadOrCreate(dir_);
  ASSERT_TRUE(key.ok());
  Notifier pool(*outbox_, clock_, o, std::move(*key), [&](const std::atomic<bool>& cancel) {
    return std::unique_ptr<HttpPoster>(std::make_unique<TarpitSubscribers::Poster>(subs, cancel));
  });
  pool.start();
  ASSERT_TRUE(subs.waitFor([&] { return subs.hanging == 4; }));  // the account's share, no more

  std::string victim = topic("victim", kOther);
  ASSERT_TRUE(sns().subscribe(as(kOther), {victim, "http", "http://127.0.0.1:9/victim", {}, false}).ok());
  EXPECT_TRUE(subs.waitFor([&] { return !subs.answered.empty(); }));
  {
    std::lock_guard lock(subs.mu);
    EXPECT_EQ(subs.answered, std::vector<std::string>{"http://127.0.0.1:9/victim"});
    EXPECT_EQ(subs.hanging, 4);
  }
  pool.stop();  // cancels the hanging posts: returns at once, the deliveries stay owed
  size_t owed = 0;
  for (const auto& d : all<model::SnsDelivery>())
    owed += d.topicArn == adversary && d.type == "Notification" && d.attempts == 0;
  EXPECT_EQ(owed, 20u);
}

// A one-shot HTTP server on 127.0.0.1 answering the given status line.
class OneShotServer {
 public:
  explicit OneShotServer(std::string statusLine) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this, statusLine] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[8192];
      std::string req;
      auto complete = [&] {
        auto end = req.find("\r\n\r\n");
        return end != std::string::npos && req.size() >= end + 4 + contentLength(req);
      };
      while (!complete()) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_ = req;
      std::string resp = "HTTP/1.1 " + statusLine + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(c, resp.data(), resp.size());
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  static size_t contentLength(const std::string& req) {
    auto p = toLower(req).find("content-length:");
    if (p == std::string::npos) return 0;
    return static_cast<size_t>(std::stoul(req.substr(p + 15)));
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
};

TEST(CurlHttpPosterTest, PostsHeadersAndBodyAndReportsStatus) {
  CurlHttpPoster poster(std::chrono::seconds(2), std::chrono::seconds(5));
  {
    OneShotServer ok("200 OK");
    auto r = poster.post(ok.url(), {{"x-amz-sns-message-type", "Notification"}}, "{\"a\":1}");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.ok());
    std::string req = ok.request();
    EXPECT_TRUE(startsWith(req, "POST /hook HTTP/1.1\r\n")) << req;
    EXPECT_NE(req.find("x-amz-sns-message-type: Notification\r\n"), std::string::npos);
    EXPECT_NE(req.find("{\"a\":1}"), std::string::npos);
  }
  {
    OneShotServer bad("500 Internal Server Error");
    auto r = poster.post(bad.url(), {}, "x");
    EXPECT_EQ(r.status, 500);
    EXPECT_FALSE(r.ok());
  }
  auto refused = poster.post("http://127.0.0.1:1/", {}, "x");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.error.empty());
  auto wrongScheme = poster.post("file:///etc/passwd", {}, "x");
  EXPECT_EQ(wrongScheme.status, 0);
}

// libcurl imports __fdelt_chk (FD_SET), which aborts on a descriptor >= 1024 (issue
// 14). It comes from curl_multi_fdset, which we never call (and which skips such
// sockets); curl_easy_perform waits with poll(). Pinned here with every socket
// curl opens numbered past 5,000.
TEST(CurlHttpPosterTest, PostsWithFiveThousandDescriptorsOpen) {
  testenv::ManyOpenDescriptors held(5000);
  ASSERT_EQ(held.held(), 5000);
  CurlHttpPoster poster(std::chrono::seconds(2), std::chrono::seconds(5));
  {
    OneShotServer ok("200 OK");
    EXPECT_EQ(poster.post(ok.url(), {}, "x").status, 200);
  }
  {
    // A host name, as subscribers' URLs carry.
    OneShotServer ok("204 No Content");
    std::string url = ok.url();
    url.replace(url.find("127.0.0.1"), 9, "localhost");
    EXPECT_EQ(poster.post(url, {}, "x").status, 204);
  }
}

// The check runs on the address each connection is about to go to, after
// resolution: a refused one gets no socket, so the listener never sees a SYN.
TEST(CurlHttpPosterTest, AddressCheckRefusesBeforeAnyConnection) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(fd, 4);
  std::string seen;
  CurlHttpPoster poster(std::chrono::seconds(2), std::chrono::seconds(5));
  poster.setAddressCheck([&](const sockaddr* addr, socklen_t) -> std::optional<std::string> {
    seen = addr->sa_family == AF_INET ? "v4" : "v6";
    return "127.0.0.1 is loopback (127.0.0.0/8) and not in [sns] subscriber_networks";
  });
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto r = poster.post("http://" + std::string(host) + ":" + std::to_string(ntohs(a.sin_port)) + "/", {}, "x");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("not sent: 127.0.0.1 is loopback"), std::string::npos) << r.error;
  }
  EXPECT_FALSE(seen.empty());
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // no connection waiting to be accepted
  ::close(fd);
}

// Issue 19: redirects are not followed. A subscriber answering 302 with a Location
// elsewhere (the metadata service, the daemon's own API) gets no request sent there;
// the delivery is not a success (3xx), so it stays owed and is retried.
TEST(CurlHttpPosterTest, ARedirectIsNotFollowed) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(fd, 4);
  std::string elsewhere = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/latest/meta-data/";
  CurlHttpPoster poster(std::chrono::seconds(2), std::chrono::seconds(5));
  for (const char* code : {"301 Moved Permanently", "302 Found", "307 Temporary Redirect", "308 Permanent Redirect"}) {
    OneShotServer redirecting(std::string(code) + "\r\nLocation: " + elsewhere);
    auto r = poster.post(redirecting.url(), {}, "x");
    EXPECT_EQ(r.status, std::stoi(code)) << code;
    EXPECT_FALSE(r.ok()) << code;
    EXPECT_TRUE(startsWith(redirecting.request(), "POST /hook HTTP/1.1\r\n"));
  }
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 200), 0);  // nothing ever connected to the Location
  ::close(fd);
}

class FixedResolver : public Resolver {
 public:
  Result<std::vector<model::IpAddress>> resolve(const std::string& host) const override {
    if (host == "metadata.example") return std::vector<model::IpAddress>{*model::IpAddress::parse("169.254.169.254")};
    if (host == "mixed.example")
      return std::vector<model::IpAddress>{*model::IpAddress::parse("203.0.113.9"),
                                           *model::IpAddress::parse("10.0.0.9")};
    if (host == "public.example") return std::vector<model::IpAddress>{*model::IpAddress::parse("203.0.113.9")};
    return Status("ResolveFailed", "cannot resolve " + host);
  }
};

TEST(SubscriberGateTest, EveryResolvedAddressIsCheckedWithTheUrlsPort) {
  model::SubscriberNetworkPolicy p;
  p.allowed = {*model::IpNetwork::parse("127.0.0.0/8")};
  p.ownListeners = {{*model::IpAddress::parse("127.0.0.1"), 4566}};
  SubscriberGate gate(p, [] { return std::vector<model::IpNetwork>{*model::IpNetwork::parse("10.0.0.0/16")}; },
                      std::make_unique<FixedResolver>());
  EXPECT_FALSE(gate.refuseUrl("https://public.example/hook"));
  EXPECT_FALSE(gate.refuseUrl("http://127.0.0.1:8080/hook"));
  EXPECT_EQ(*gate.refuseUrl("http://127.0.0.1:4566/?Action=Publish"), "127.0.0.1:4566 is one of linkplane's own listeners");
  EXPECT_EQ(*gate.refuseUrl("http://metadata.example/latest/meta-data/"),
            "169.254.169.254 is link-local (169.254.0.0/16)");
  EXPECT_EQ(*gate.refuseUrl("http://mixed.example/"), "10.0.0.9 is inside a VPC's CIDR block (10.0.0.0/16)");
  EXPECT_TRUE(gate.refuseUrl("http://[::ffff:169.254.169.254]/"));
  EXPECT_TRUE(gate.refuseUrl("http://[fe80::1]:80/"));
  EXPECT_TRUE(gate.refuseUrl("http://nowhere.example/"));
  gate.addOwnListener({*model::IpAddress::parse("0.0.0.0"), 9000});
  EXPECT_TRUE(gate.refuseUrl("http://127.0.0.9:9000/"));
}

}  // namespace
}  // namespace lp::notify
