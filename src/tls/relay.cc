#include "tls/relay.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "api/http/proxy_header.h"
#include "common/log.h"
#include "metrics/prometheus.h"

namespace lp::tls {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

metrics::prom::CounterFamily& connectionsCounter() {
  static auto& c = metrics::prom::processRegistry().counter(
      "linkplane_tls_relay_connections_total",
      "Connections to https:// service backends through the TLS relay, by how they ended up: relayed, "
      "upstream_verify_failed, upstream_failed, client_failed, timeout, busy",
      {"service", "outcome"});
  return c;
}

metrics::prom::CounterFamily& bytesCounter() {
  static auto& c = metrics::prom::processRegistry().counter(
      "linkplane_tls_relay_bytes_total", "Bytes relayed (decrypted payload), counted when a connection ends",
      {"service", "direction"});
  return c;
}

// What a listener serves now: replaced whole by apply(); a connection keeps the
// one it started with (and its SSL contexts) until it ends.
struct Route {
  std::string service;
  HttpsUpstream upstream;
  ssl::context server{ssl::context::tls_server};
  ssl::context client{ssl::context::tls_client};
};

Result<std::shared_ptr<Route>> makeRoute(const RelayRoute& in) {
  auto r = std::make_shared<Route>();
  r->service = in.service;
  r->upstream = in.upstream;
  const auto opts = ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1;
  boost::system::error_code ec;
  r->server.set_options(opts);
  r->server.use_certificate_chain(asio::buffer(in.certificatePem), ec);
  if (!ec) r->server.use_private_key(asio::buffer(in.privateKeyPem), ssl::context::pem, ec);
  if (ec) return Status("InternalError", "TLS relay for " + in.service + ": certificate or key: " + ec.message());
  r->client.set_options(opts);
  // Only the configured CAs: no default paths, and verification is not optional.
  r->client.load_verify_file(in.upstream.caFile, ec);
  if (ec)
    return Status("InvalidConfig", "aws_service_backends." + in.service + ".ca_file '" + in.upstream.caFile +
                                       "' cannot be loaded: " + ec.message());
  r->client.set_verify_mode(ssl::verify_peer);
  return r;
}

std::string verifyReason(SSL* s, const boost::system::error_code& ec) {
  long v = SSL_get_verify_result(s);
  if (v != X509_V_OK) return std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
  return ec.message();
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Route> route, const RelayOptions& opts, std::atomic<size_t>& active)
      : strand_(socket.get_executor()),
        client_(std::move(socket), route->server),
        upstream_(strand_, route->client),
        resolver_(strand_),
        timer_(strand_),
        route_(std::move(route)),
        opts_(opts),
        active_(active),
        up_(opts.bufferBytes),
        down_(opts.bufferBytes) {
    ++active_;
  }
  ~Connection() { --active_; }

  void start() {
    boost::system::error_code ec;
    auto peer = client_.next_layer().remote_endpoint(ec);
    from_ = ec ? "?" : peer.address().to_string() + ":" + std::to_string(peer.port());
    started_ = lastActivity_ = Clock::now();
    armTimer();
    readPrefix();
  }

 private:
  // ---- setup: the PROXY header, then both handshakes at once
  void readPrefix() {
    if (prefix_.size() >= 4096) return fail("client_failed", "no PROXY v2 header in the first 4096 bytes");
    ++ops_;
    size_t have = prefix_.size();
    prefix_.resize(have + 512);
    client_.next_layer().async_read_some(
        asio::buffer(prefix_.data() + have, 512), [self = shared_from_this(), have](auto ec, size_t n) {
          --self->ops_;
          self->prefix_.resize(have + n);
          if (ec) return self->fail("client_failed", "closed before its TLS handshake (" + ec.message() + ")");
          self->onPrefix();
        });
  }

  void onPrefix() {
    if (finishing_) return;
    size_t used = 0;
    switch (api::parseProxyV2(std::string_view(prefix_.data(), prefix_.size()), via_, used)) {
      case api::ProxyParse::kIncomplete:
        return readPrefix();
      case api::ProxyParse::kInvalid:
        return fail("client_failed", "malformed PROXY v2 header");
      case api::ProxyParse::kOk:
        prefix_.erase(prefix_.begin(), prefix_.begin() + static_cast<long>(used));
        break;
      case api::ProxyParse::kNotProxy:
        break;  // a client on the host, not through an endpoint
    }
    if (!via_.sourceIp.empty()) from_ = via_.sourceIp + ":" + std::to_string(via_.sourcePort);
    pending_ = 2;
    ++ops_;
    client_.async_handshake(ssl::stream_base::server, asio::buffer(prefix_),
                            [self = shared_from_this()](auto ec, size_t) {
                              --self->ops_;
                              if (ec) return self->fail("client_failed", "client TLS handshake: " + ec.message());
                              self->ready();
                            });
    connectUpstream();
  }

  void connectUpstream() {
    const auto& u = route_->upstream;
    ++ops_;
    resolver_.async_resolve(u.host, std::to_string(u.port), [self = shared_from_this()](auto ec, auto results) {
      --self->ops_;
      if (self->finishing_) return;  // getaddrinfo cannot be cancelled: the client may be gone
      if (ec)
        return self->fail("upstream_failed", "cannot resolve " + self->route_->upstream.host + ": " + ec.message());
      ++self->ops_;
      asio::async_connect(self->upstream_.next_layer(), results, [self](auto cec, const tcp::endpoint&) {
        --self->ops_;
        if (cec) return self->fail("upstream_failed", "cannot connect: " + cec.message());
        self->handshakeUpstream();
      });
    });
  }

  void handshakeUpstream() {
    if (finishing_) return;
    const auto& u = route_->upstream;
    SSL* s = upstream_.native_handle();
    boost::system::error_code ec;
    upstream_.next_layer().set_option(tcp::no_delay(true), ec);
    // The name (or address) must be in the certificate; SNI only for names.
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    bool ok;
    if (isIpLiteral(u.serverName)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, u.serverName.c_str()) == 1;
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host(s, u.serverName.c_str()) == 1 && SSL_set_tlsext_host_name(s, u.serverName.c_str()) == 1;
    }
    if (!ok) return fail("upstream_failed", "cannot set the name to verify");
    ++ops_;
    upstream_.async_handshake(ssl::stream_base::client, [self = shared_from_this()](auto hec) {
      --self->ops_;
      if (hec) {
        bool verify = SSL_get_verify_result(self->upstream_.native_handle()) != X509_V_OK;
        return self->fail(verify ? "upstream_verify_failed" : "upstream_failed",
                          "upstream TLS handshake: " + verifyReason(self->upstream_.native_handle(), hec));
      }
      self->ready();
    });
  }

  void ready() {
    if (finishing_ || --pending_ > 0) return;
    relaying_ = true;
    lastActivity_ = Clock::now();
    armTimer();  // from the handshake deadline to the idle one
    connectionsCounter().add({route_->service, "relayed"});
    pump(client_, upstream_, up_, bytesUp_);
    pump(upstream_, client_, down_, bytesDown_);
  }

  // ---- relaying: one read then one write at a time per direction
  using Stream = ssl::stream<tcp::socket>;
  void pump(Stream& from, Stream& to, std::vector<char>& buf, uint64_t& count) {
    ++ops_;
    from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf, &count](auto ec, size_t n) {
      --self->ops_;
      if (ec || self->finishing_) return self->finish(ec);
      self->lastActivity_ = Clock::now();
      count += n;
      ++self->ops_;
      asio::async_write(to, asio::buffer(buf.data(), n), [self, &from, &to, &buf, &count](auto wec, size_t) {
        --self->ops_;
        if (wec || self->finishing_) return self->finish(wec);
        self->pump(from, to, buf, count);
      });
    });
  }

  void armTimer() {
    auto limit = std::chrono::seconds(relaying_ ? opts_.idleTimeoutSeconds : opts_.handshakeTimeoutSeconds);
    timer_.expires_at((relaying_ ? lastActivity_ : started_) + limit);
    timer_.async_wait([self = shared_from_this()](auto ec) {
      if (ec || self->closed_) return;
      auto limit =
          std::chrono::seconds(self->relaying_ ? self->opts_.idleTimeoutSeconds : self->opts_.handshakeTimeoutSeconds);
      auto since = self->relaying_ ? self->lastActivity_ : self->started_;
      if (Clock::now() - since < limit) return self->armTimer();
      if (self->finishing_) return self->close();  // a graceful shutdown that hangs
      if (!self->relaying_) return self->fail("timeout", "no TLS session within the handshake timeout");
      self->endReason_ = "idle timeout";
      self->finish({});
    });
  }

  void fail(const char* outcome, const std::string& why) {
    if (finishing_) return;
    const auto& u = route_->upstream;
    std::string via = via_.vpceId.empty() ? "the host" : via_.vpceId;
    if (std::string_view(outcome).starts_with("upstream"))
      LP_LOG_WARN("tls relay {}: connection from {} via {} closed: upstream {} refused: {} (checked as {} against {})",
                  route_->service, from_, via, u.url, why, u.serverName, u.caFile);
    else
      LP_LOG_INFO("tls relay {}: connection from {} via {} closed: {}", route_->service, from_, via, why);
    connectionsCounter().add({route_->service, outcome});
    finishing_ = true;
    close();
  }

  // One side ended (or the idle timeout): stop both directions, then say close_notify
  // to both sides within a bounded time, then close.
  void finish(const boost::system::error_code& ec) {
    if (finishing_) return maybeShutdown();
    finishing_ = true;
    if (endReason_.empty())
      endReason_ = (ec == asio::error::eof || ec == ssl::error::stream_truncated) ? "closed" : ec.message();
    const auto secs = std::chrono::duration<double>(Clock::now() - started_).count();
    LP_LOG_INFO("tls relay {}: {} via {} to {}: {} bytes up, {} down, {:.1f} s, {}", route_->service, from_,
                via_.vpceId.empty() ? "the host" : via_.vpceId, route_->upstream.url, bytesUp_, bytesDown_, secs,
                endReason_);
    bytesCounter().add({route_->service, "to_upstream"}, bytesUp_);
    bytesCounter().add({route_->service, "to_client"}, bytesDown_);
    boost::system::error_code ignore;
    client_.next_layer().cancel(ignore);
    upstream_.next_layer().cancel(ignore);
    started_ = Clock::now();
    relaying_ = false;  // the timer now bounds the shutdown by the handshake timeout
    armTimer();
    maybeShutdown();
  }

  void maybeShutdown() {
    if (ops_ > 0 || shutdownStarted_ || closed_) return;
    shutdownStarted_ = true;
    shutdownsLeft_ = 2;
    auto done = [self = shared_from_this()](auto) {
      if (--self->shutdownsLeft_ == 0) self->close();
    };
    client_.async_shutdown(done);
    upstream_.async_shutdown(done);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignore;
    resolver_.cancel();
    timer_.cancel();
    client_.next_layer().close(ignore);
    upstream_.next_layer().close(ignore);
  }

  asio::any_io_executor strand_;
  Stream client_;
  Stream upstream_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::shared_ptr<Route> route_;  // SSL_CTXs are safe to share; only SSL_new reads them
  const RelayOptions& opts_;
  std::atomic<size_t>& active_;
  std::vector<char> prefix_;
  api::ProxyHeader via_;
  std::string from_;
  std::vector<char> up_, down_;
  uint64_t bytesUp_ = 0, bytesDown_ = 0;
  Clock::time_point started_, lastActivity_;
  std::string endReason_;
  int pending_ = 0;
  int ops_ = 0;  // async operations on the sockets still to complete
  int shutdownsLeft_ = 0;
  bool relaying_ = false, finishing_ = false, shutdownStarted_ = false, closed_ = false;
};

struct Listener {
  explicit Listener(asio::io_context& ioc) : acceptor(asio::make_strand(ioc)) {}
  tcp::acceptor acceptor;
  uint16_t port = 0;
  std::mutex mu;
  Clock::time_point lastBusyWarning{};  // the acceptor's strand
  std::shared_ptr<Route> route;         // under mu
  std::shared_ptr<Route> current() {
    std::lock_guard lock(mu);
    return route;
  }
};

}  // namespace

struct TlsRelay::Impl {
  explicit Impl(RelayOptions o) : opts(std::move(o)) {}

  void accept(const std::shared_ptr<Listener>& l) {
    l->acceptor.async_accept(asio::make_strand(ioc), [this, l](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
      if (!ec) {
        auto route = l->current();
        if (active.load() >= opts.maxConnections) {
          connectionsCounter().add({route->service, "busy"});
          auto now = Clock::now();
          if (now - l->lastBusyWarning > std::chrono::seconds(10)) {
            l->lastBusyWarning = now;
            LP_LOG_WARN("tls relay {}: {} connections open, closing new ones", route->service, active.load());
          }
          s.close(ec);
        } else {
          s.set_option(tcp::no_delay(true), ec);
          std::make_shared<Connection>(std::move(s), std::move(route), opts, active)->start();
        }
      } else {
        // Out of descriptors and the like: the connection waits in the backlog.
        auto t = std::make_shared<asio::steady_timer>(l->acceptor.get_executor(), std::chrono::milliseconds(50));
        t->async_wait([this, l, t](auto) { accept(l); });
        return;
      }
      accept(l);
    });
  }

  void startThreads() {
    if (!threads.empty()) return;
    for (int i = 0; i < std::max(1, opts.threads); ++i) threads.emplace_back([this] { ioc.run(); });
  }

  // Connections refer to opts and active: both outlive ioc, whose destructor ends them.
  RelayOptions opts;
  std::atomic<size_t> active{0};
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::map<std::string, std::shared_ptr<Listener>> listeners;  // the owner's thread only
  std::vector<std::thread> threads;
  bool stopped = false;
};

TlsRelay::TlsRelay(RelayOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TlsRelay::~TlsRelay() { stop(); }

Result<std::map<std::string, uint16_t>> TlsRelay::apply(const std::vector<RelayRoute>& routes) {
  if (impl_->stopped) return Status("InternalError", "the TLS relay is stopped");
  std::map<std::string, std::shared_ptr<Route>> next;
  for (const auto& r : routes) {
    LP_ASSIGN_OR_RETURN(next[r.service], makeRoute(r));
  }
  // New listeners first, so a failure to bind leaves everything as it was.
  std::map<std::string, std::shared_ptr<Listener>> added;
  for (const auto& [svc, route] : next) {
    if (impl_->listeners.count(svc)) continue;
    auto l = std::make_shared<Listener>(impl_->ioc);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(impl_->opts.address, ec);
    tcp::endpoint ep(addr, 0);
    if (!ec) l->acceptor.open(ep.protocol(), ec);
    if (!ec) l->acceptor.bind(ep, ec);
    if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Status("InternalError",
                    "TLS relay for " + svc + ": listen on " + impl_->opts.address + ": " + ec.message());
    l->port = l->acceptor.local_endpoint().port();
    l->route = route;
    added[svc] = l;
  }
  std::map<std::string, uint16_t> ports;
  for (auto it = impl_->listeners.begin(); it != impl_->listeners.end();) {
    auto l = it->second;
    if (auto n = next.find(it->first); n != next.end()) {
      std::lock_guard lock(l->mu);
      l->route = n->second;
      ports[it->first] = l->port;
      ++it;
      continue;
    }
    asio::post(l->acceptor.get_executor(), [l] {
      boost::system::error_code ec;
      l->acceptor.close(ec);
    });
    it = impl_->listeners.erase(it);
  }
  for (auto& [svc, listener] : added) {
    std::shared_ptr<Listener> l = listener;  // clang 14: no structured binding in a capture
    ports[svc] = l->port;
    impl_->listeners[svc] = l;
    asio::post(l->acceptor.get_executor(), [this, l] { impl_->accept(l); });
  }
  if (!impl_->listeners.empty()) impl_->startThreads();  // no threads while no service is https
  return ports;
}

void TlsRelay::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->listeners.clear();
}

}  // namespace lp::tls
