// TlsRelay on loopback with real sockets and real TLS: a client that trusts only the
// relay's CA (as a workload trusts the local CA) reaches an upstream whose
// certificate is from another CA, through the relay that verifies it against
// ca_file; with a ca_file of a third CA the client gets nothing and the failure is
// counted; an idle connection is closed after the idle timeout; apply() keeps a
// service's port and drops a service no longer listed.
#include "tls/relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "dataplane/proxy_protocol.h"
#include "metrics/prometheus.h"
#include "tls/local_ca.h"

namespace lp::tls {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string tempDir() {
  char tmpl[] = "/tmp/lp-relay-test-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  return tmpl;
}

// An HTTPS-ish upstream: one connection at a time, reads a line, answers "echo:" + it.
class EchoUpstream {
 public:
  explicit EchoUpstream(const IssuedCertificate& cert) {
    ctx_.use_certificate_chain(asio::buffer(cert.certificatePem));
    ctx_.use_private_key(asio::buffer(cert.privateKeyPem), ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { run(); });
  }
  ~EchoUpstream() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    thread_.join();
  }
  uint16_t port = 0;

 private:
  void run() {
    while (!stop_) {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) continue;
      ssl::stream<tcp::socket&> tls(s, ctx_);
      tls.handshake(ssl::stream_base::server, ec);
      if (ec) continue;
      asio::streambuf line;
      asio::read_until(tls, line, '\n', ec);
      if (ec) continue;
      std::string got(asio::buffers_begin(line.data()), asio::buffers_end(line.data()));
      asio::write(tls, asio::buffer("echo:" + got), ec);
      tls.shutdown(ec);
    }
  }
  asio::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A workload's client: PROXY v2 header (as the data plane sends it), then TLS that
// trusts caPem only and checks the service's default name. Returns what it read
// until the connection ended ("" when the relay ended it first).
std::string request(uint16_t port, const std::string& caPem, const std::string& send, bool sendNothing = false) {
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(caPem));
  ctx.set_verify_mode(ssl::verify_peer);
  tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{10, 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in src{}, dst{};
  src.sin_family = dst.sin_family = AF_INET;
  inet_pton(AF_INET, "10.9.1.5", &src.sin_addr);
  src.sin_port = htons(40000);
  inet_pton(AF_INET, "10.9.1.9", &dst.sin_addr);
  dst.sin_port = htons(443);
  asio::write(s, asio::buffer(dataplane::encodeProxyV2(src, dst, "vpce-0123456789abcdef0")));
  ssl::stream<tcp::socket&> tls(s, ctx);
  SSL_set1_host(tls.native_handle(), "kms.us-east-1.amazonaws.com");
  SSL_set_tlsext_host_name(tls.native_handle(), "kms.us-east-1.amazonaws.com");
  boost::system::error_code ec;
  tls.handshake(ssl::stream_base::client, ec);
  if (ec) return "handshake: " + ec.message();
  if (!sendNothing) asio::write(tls, asio::buffer(send), ec);
  std::string out;
  char buf[256];
  for (;;) {
    size_t n = tls.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

uint64_t count(const std::string& outcome) {
  return metrics::prom::processRegistry()
      .counter("linkplane_tls_relay_connections_total", "", {"service", "outcome"})
      .value({"kms", outcome});
}

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* d : {&upstreamCaDir_, &relayCaDir_, &otherCaDir_}) *d = tempDir();
    auto upstreamCa = LocalCa::loadOrCreate(upstreamCaDir_);
    auto relayCa = LocalCa::loadOrCreate(relayCaDir_);
    ASSERT_TRUE(upstreamCa.ok() && relayCa.ok() && LocalCa::loadOrCreate(otherCaDir_).ok());
    auto upstreamCert = upstreamCa->issue({"127.0.0.1", "localhost"});
    auto relayCert = relayCa->issue(serviceCertificateNames("kms", "us-east-1"));
    ASSERT_TRUE(upstreamCert.ok() && relayCert.ok());
    relayCaPem_ = relayCa->certificatePem();
    upstream_ = std::make_unique<EchoUpstream>(*upstreamCert);
    auto up = parseHttpsUrl("https://127.0.0.1:" + std::to_string(upstream_->port));
    ASSERT_TRUE(up.ok());
    route_ = {"kms", *up, relayCert->certificatePem, relayCert->privateKeyPem};
    route_.upstream.caFile = upstreamCaDir_ + "/ca.pem";
  }
  void TearDown() override {
    upstream_.reset();
    for (auto* d : {&upstreamCaDir_, &relayCaDir_, &otherCaDir_}) std::filesystem::remove_all(*d);
  }
  std::string upstreamCaDir_, relayCaDir_, otherCaDir_, relayCaPem_;
  std::unique_ptr<EchoUpstream> upstream_;
  RelayRoute route_;
};

TEST_F(RelayTest, RelaysToAVerifiedUpstreamAndRefusesAnUnverifiedOne) {
  TlsRelay relay(RelayOptions{});
  auto ports = relay.apply({route_});
  ASSERT_TRUE(ports.ok()) << ports.status().message();
  const uint16_t port = ports->at("kms");
  const uint64_t relayed = count("relayed"), refused = count("upstream_verify_failed");
  EXPECT_EQ(request(port, relayCaPem_, "hello\n"), "echo:hello\n");
  EXPECT_EQ(count("relayed"), relayed + 1);

  // Another CA: same port, the upstream no longer verifies, the client reads nothing.
  route_.upstream.caFile = otherCaDir_ + "/ca.pem";
  ports = relay.apply({route_});
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(ports->at("kms"), port);
  EXPECT_EQ(request(port, relayCaPem_, "hello\n").find("echo"), std::string::npos);
  EXPECT_EQ(count("upstream_verify_failed"), refused + 1);

  // The right CA but a name the upstream's certificate does not carry.
  route_.upstream.caFile = upstreamCaDir_ + "/ca.pem";
  route_.upstream.serverName = "127.0.0.2";
  ASSERT_TRUE(relay.apply({route_}).ok());
  EXPECT_EQ(request(port, relayCaPem_, "hello\n").find("echo"), std::string::npos);
  EXPECT_EQ(count("upstream_verify_failed"), refused + 2);

  // By name: resolved, sent as SNI and checked against the certificate's DNS names.
  auto byName = parseHttpsUrl("https://localhost:" + std::to_string(upstream_->port));
  ASSERT_TRUE(byName.ok());
  route_.upstream = *byName;
  route_.upstream.caFile = upstreamCaDir_ + "/ca.pem";
  ASSERT_TRUE(relay.apply({route_}).ok());
  EXPECT_EQ(request(port, relayCaPem_, "by name\n"), "echo:by name\n");
  EXPECT_EQ(count("relayed"), relayed + 2);  // the refused ones are not counted as relayed
}

TEST_F(RelayTest, ACaFileThatDoesNotLoadChangesNothing) {
  TlsRelay relay(RelayOptions{});
  auto ports = relay.apply({route_});
  ASSERT_TRUE(ports.ok());
  RelayRoute bad = route_;
  bad.upstream.caFile = otherCaDir_ + "/missing.pem";
  auto st = relay.apply({bad});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("ca_file '" + otherCaDir_ + "/missing.pem' cannot be loaded"), std::string::npos)
      << st.status().message();
  EXPECT_EQ(request(ports->at("kms"), relayCaPem_, "still\n"), "echo:still\n");
}

TEST_F(RelayTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  RelayOptions o;
  o.idleTimeoutSeconds = 1;
  TlsRelay relay(o);
  auto ports = relay.apply({route_});
  ASSERT_TRUE(ports.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(request(ports->at("kms"), relayCaPem_, "", /*sendNothing=*/true), "");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(8));  // not the client's 10 s read timeout
}

TEST_F(RelayTest, AServiceNoLongerListedLosesItsListener) {
  TlsRelay relay(RelayOptions{});
  auto ports = relay.apply({route_});
  ASSERT_TRUE(ports.ok());
  const uint16_t port = ports->at("kms");
  auto none = relay.apply({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  bool refused = false;
  for (int i = 0; i < 500 && !refused; ++i) {  // the listener closes on the relay's thread (5 s at most)
    asio::io_context ioc;
    tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    refused = ec == asio::error::connection_refused;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace lp::tls
