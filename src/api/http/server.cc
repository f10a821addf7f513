#include "api/http/server.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "api/http/proxy_header.h"
#include "common/log.h"

namespace lp::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// What every connection of one server shares; owned by HttpServer::Impl.
struct Serving {
  const HttpHandler& handler;
  const HttpAtOnceHandler& atOnce;
  const HttpServerOptions& opts;
  asio::thread_pool& pool;  // runs handler
  // The loops a connection is served on while its requests are worth a handler's
  // time, and the one it moves to while its requests are answered at once (the slow
  // loop: only refusals queue there). No slow loop: no at-once handler.
  std::vector<asio::io_context*> fastLoops;
  asio::io_context* slowLoop = nullptr;
  std::atomic<size_t> nextFast{0};  // round robin of connections coming back from the slow loop
};

// A descriptor between two loops: closed if the loop it was posted to never runs the move.
class HandedOverFd {
 public:
  explicit HandedOverFd(int fd) : fd_(fd) {}
  HandedOverFd(HandedOverFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  HandedOverFd& operator=(HandedOverFd&&) = delete;
  ~HandedOverFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int take() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// An exception in a handler would end its thread and the daemon with it: one bad
// request must cost only its own answer.
template <class Call>
auto guarded(const HttpRequest& r, Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& e) {
    LP_LOG_ERROR("api: {} {} failed: {}", r.method, r.target.substr(0, 200), e.what());
    HttpResponse out;
    out.status = 500;
    out.contentType = "text/plain";
    out.body = "internal error\n";
    return out;
  }
}

// One client connection; Stream is a plain TCP stream or TLS over one. Lives on one
// I/O thread's event loop (its socket's executor); only the handler runs elsewhere.
// A TCP connection changes loops only in next(), as a new Session on the other loop.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, beast::flat_buffer buffer, ProxyHeader via, Serving& serving, bool onSlowLoop = false,
          unsigned refusedInARow = 0)
      : stream_(std::move(stream)),
        buffer_(std::move(buffer)),
        via_(std::move(via)),
        s_(serving),
        onSlowLoop_(onSlowLoop),
        refusedInARow_(refusedInARow) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      // The peer once per connection, not per request (getpeername was 2 % of a flood's CPU).
      beast::error_code ec;
      auto peer = beast::get_lowest_layer(self->stream_).socket().remote_endpoint(ec);
      if (!ec) self->peerIp_ = peer.address().to_string();
      self->read();
    });
  }

 private:
  // Moves this connection, with the bytes already read, to another loop: its socket
  // leaves this loop's epoll set and joins that loop's; the Session ends here and a
  // new one goes on there. Plain TCP only: a TLS stream cannot change loops.
  void moveTo(asio::io_context& loop, bool slow, std::chrono::microseconds hold) {
    auto& sock = beast::get_lowest_layer(stream_).socket();
    beast::error_code ec;
    auto protocol = sock.local_endpoint(ec).protocol();
    if (ec) return close();
    HandedOverFd fd(sock.release(ec));
    if (ec) return close();
    asio::post(loop, [&loop, slow, protocol, fd = std::move(fd), buffer = std::move(buffer_), via = std::move(via_),
                      peerIp = std::move(peerIp_), &s = s_, refused = refusedInARow_, hold]() mutable {
      tcp::socket socket(loop);
      beast::error_code aec;
      int raw = fd.take();
      socket.assign(protocol, raw, aec);
      if (aec) {  // the socket did not take it
        ::close(raw);
        return;
      }
      auto next = std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), std::move(buffer),
                                                               std::move(via), s, slow, refused);
      next->peerIp_ = std::move(peerIp);
      next->readAfter(hold);
    });
  }

  // After an answer is written: the connection goes on reading where its requests
  // belong. Answered at once (a refusal: the account over its limit, or no valid
  // credential) -> the slow loop, where they queue only behind other refusals and
  // never in front of another connection's request; answered by the handler -> back
  // to a fast loop.
  // hold: how long this connection's next request waits before it is read (a
  // throttling refusal's pacing, holdAfter()).
  void next(bool answeredAtOnce, std::chrono::microseconds hold) {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      if (s_.slowLoop && answeredAtOnce != onSlowLoop_) {
        if (answeredAtOnce) return moveTo(*s_.slowLoop, true, hold);
        auto& fast = *s_.fastLoops[s_.nextFast.fetch_add(1, std::memory_order_relaxed) % s_.fastLoops.size()];
        return moveTo(fast, false, hold);
      }
    }
    readAfter(hold);
  }

  // The hold after an answer: a throttling refusal's refusalHold (until the account's
  // bucket could grant a token), doubled for each refusal in a row on this connection,
  // capped at refusalHoldMax; 0 after any other answer. Only this connection's own
  // answers count, so nothing another connection sends (the same account's, or a
  // forger's naming it) lengthens this connection's hold.
  std::chrono::microseconds holdAfter(std::chrono::microseconds refusalHold) {
    const auto max = std::chrono::duration_cast<std::chrono::microseconds>(s_.opts.refusalHoldMax);
    if (refusalHold.count() <= 0 || max.count() <= 0) {
      refusedInARow_ = 0;
      return std::chrono::microseconds(0);
    }
    auto hold = refusalHold * (int64_t{1} << std::min(refusedInARow_, 20u));
    ++refusedInARow_;
    return std::min(hold, max);
  }

  // The hold is a timer on this connection's loop: nothing is read (and nothing of the
  // daemon's CPU spent) on this connection until it fires. stop() ends it with the loop.
  void readAfter(std::chrono::microseconds hold) {
    if (hold.count() <= 0) return read();
    holdTimer_.emplace(stream_.get_executor());
    holdTimer_->expires_after(hold);
    holdTimer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(s_.opts.maxBodyBytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(s_.opts.requestTimeoutSeconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::body_limit) return reply(413, "Request body too large", false);
    if (ec) return close();  // garbage, timeout or reset: just drop the connection
    auto req = parser_->release();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(req.body());
    r.peerIp = peerIp_;
    // Through an endpoint: the client in its VPC; otherwise the TCP peer (the audit log's source address).
    r.sourceIp = via_.sourceIp.empty() ? r.peerIp : via_.sourceIp;
    r.sourceVpce = via_.vpceId;
    r.overTls = !std::is_same_v<Stream, beast::tcp_stream>;
    version_ = req.version();
    keepAlive_ = req.keep_alive();
    if (s_.atOnce) {
      std::optional<HttpResponse> now = guarded(r, [&]() -> std::optional<HttpResponse> { return s_.atOnce(r); });
      if (now) return respond(std::move(*now), true);
    }
    // To the pool, and the answer back to this connection's loop.
    asio::post(s_.pool, [self = this->shared_from_this(), r = std::move(r)]() mutable {
      HttpResponse out = guarded(r, [&] { return self->s_.handler(r); });
      auto loop = self->stream_.get_executor();
      asio::post(loop,
                 [self = std::move(self), out = std::move(out)]() mutable { self->respond(std::move(out), false); });
    });
  }

  void respond(HttpResponse out, bool atOnce) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(out.status), version_);
    res->set(http::field::server, "linkplane");
    res->set(http::field::content_type, out.contentType);
    for (auto& [name, value] : out.headers) res->insert(name, value);
    res->keep_alive(keepAlive_);
    res->body() = std::move(out.body);
    res->prepare_payload();
    write(res, atOnce, holdAfter(out.refusalHold));
  }

  void reply(int status, std::string_view text, bool keepAlive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::content_type, "text/plain");
    res->keep_alive(keepAlive);
    res->body() = std::string(text);
    res->prepare_payload();
    write(res, false, std::chrono::microseconds(0));
  }

  void write(std::shared_ptr<http::response<http::string_body>> res, bool atOnce, std::chrono::microseconds hold) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(s_.opts.requestTimeoutSeconds));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, atOnce, hold](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->next(atOnce, hold);
                      });
  }

  void close() {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    sock.shutdown(tcp::socket::shutdown_send, ec);
    sock.close(ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  ProxyHeader via_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Serving& s_;
  bool onSlowLoop_;
  unsigned refusedInARow_;  // throttling refusals in a row on this connection (holdAfter)
  std::optional<asio::steady_timer> holdTimer_;
  std::string peerIp_;
  unsigned version_ = 11;
  bool keepAlive_ = true;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The start of a connection to the HTTPS listener: an optional PROXY v2 header
// (taken only from loopback peers: the data plane forwarding an endpoint's
// connection), then the TLS handshake, then a Session.
class TlsHandshake : public std::enable_shared_from_this<TlsHandshake> {
 public:
  TlsHandshake(tcp::socket socket, asio::ssl::context& tls, Serving& serving)
      : tcp_(std::move(socket)), tls_(tls), s_(serving) {}

  void run() {
    asio::dispatch(tcp_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      auto peer = self->tcp_.socket().remote_endpoint(ec);
      self->loopbackPeer_ = !ec && peer.address().is_loopback();
      self->tcp_.expires_after(std::chrono::seconds(self->s_.opts.requestTimeoutSeconds));
      self->readPrefix();
    });
  }

 private:
  void readPrefix() {
    tcp_.async_read_some(buffer_.prepare(512), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return;
      self->buffer_.commit(n);
      self->onPrefix();
    });
  }

  void onPrefix() {
    auto data = buffer_.data();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    size_t used = 0;
    switch (parseProxyV2(bytes, via_, used)) {
      case ProxyParse::kIncomplete:
        if (buffer_.size() > 4096) return;
        return readPrefix();
      case ProxyParse::kInvalid:
        return;  // drop the connection
      case ProxyParse::kOk:
        if (!loopbackPeer_) return;  // only the data plane may say who the client is
        buffer_.consume(used);
        break;
      case ProxyParse::kNotProxy:
        break;
    }
    stream_.emplace(std::move(tcp_), tls_);
    stream_->async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                             [self = shared_from_this()](beast::error_code ec, size_t used) {
                               if (ec) return;
                               self->buffer_.consume(used);
                               std::make_shared<Session<TlsStream>>(std::move(*self->stream_), std::move(self->buffer_),
                                                                    std::move(self->via_), self->s_)
                                   ->run();
                             });
  }

  beast::tcp_stream tcp_;
  asio::ssl::context& tls_;
  Serving& s_;
  beast::flat_buffer buffer_;
  ProxyHeader via_;
  bool loopbackPeer_ = false;
  std::optional<TlsStream> stream_;
};

}  // namespace

struct HttpServer::Impl {
  // One event loop and its thread; a connection stays on it until next() moves it.
  struct Loop {
    asio::io_context ioc{1};  // run by one thread only
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(ioc);
    std::thread thread;
  };

  Impl(const HttpHandler& handler, const HttpAtOnceHandler& atOnce, HttpServerOptions o)
      : opts(std::move(o)),
        threads(std::max(1, opts.threads)),
        // One loop per core is enough to read and write; more only adds switches.
        loopCount(std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, threads)),
        pool(std::make_unique<asio::thread_pool>(static_cast<size_t>(threads))),
        serving{handler, atOnce, opts, *pool, {}, nullptr, {}} {
    for (int i = 0; i < loopCount; ++i) {
      loops.push_back(std::make_unique<Loop>());
      serving.fastLoops.push_back(&loops.back()->ioc);
    }
    if (atOnce) {
      loops.push_back(std::make_unique<Loop>());
      serving.slowLoop = &loops.back()->ioc;
    }
  }

  void accept() {
    // Round robin over the fast loops: a connection stays on its loop until its
    // requests start being refused at once (Session::next).
    Loop& target = *loops[nextLoop++ % static_cast<size_t>(loopCount)];
    acceptor->async_accept(target.ioc, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        if (tls)
          std::make_shared<TlsHandshake>(std::move(socket), *tls, serving)->run();
        else
          std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), beast::flat_buffer(),
                                                       ProxyHeader{}, serving)
              ->run();
      } else if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
                 ec == asio::error::no_memory) {
        // The connection stays in the backlog; accepting again at once would spin on
        // the still-readable listener. Wait for a descriptor to come free.
        auto now = std::chrono::steady_clock::now();
        if (now - lastAcceptWarning > std::chrono::seconds(10)) {
          lastAcceptWarning = now;
          LP_LOG_WARN("api: cannot accept a connection: {} (retrying every 50 ms)", ec.message());
        }
        acceptRetry->expires_after(std::chrono::milliseconds(50));
        acceptRetry->async_wait([this](beast::error_code wec) {
          if (!wec) accept();
        });
        return;
      }
      accept();
    });
  }

  HttpServerOptions opts;
  int threads;
  int loopCount;
  // Declared before the pool: the pool's queued work holds connections of these
  // loops, so it goes first.
  std::vector<std::unique_ptr<Loop>> loops;
  std::unique_ptr<asio::thread_pool> pool;
  Serving serving;
  size_t nextLoop = 0;  // the acceptor's loop only
  std::optional<asio::steady_timer> acceptRetry;
  std::chrono::steady_clock::time_point lastAcceptWarning{};
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<asio::ssl::context> tls;  // set: HTTPS
  bool running = false;
};

HttpServer::HttpServer(HttpHandler handler, HttpServerOptions options, HttpAtOnceHandler atOnce)
    : handler_(std::move(handler)),
      atOnce_(std::move(atOnce)),
      impl_(std::make_unique<Impl>(handler_, atOnce_, std::move(options))) {}

HttpServer::HttpServer(const ApiService& api, HttpServerOptions options)
    : HttpServer([&api](const HttpRequest& r) { return api.handle(r); }, std::move(options),
                 [&api](const HttpRequest& r) { return api.answerAtOnce(r); }) {}

HttpServer::~HttpServer() { stop(); }

Result<uint16_t> HttpServer::start() {
  if (impl_->loops.empty() || impl_->running) return Status("InternalError", "the HTTP server starts once");
  beast::error_code ec;
  if (!impl_->opts.tlsCertificatePem.empty()) {
    auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    const auto& o = impl_->opts;
    tls->use_certificate_chain(asio::buffer(o.tlsCertificatePem), ec);
    if (!ec) tls->use_private_key(asio::buffer(o.tlsPrivateKeyPem), asio::ssl::context::pem, ec);
    if (ec) return Status("InternalError", "TLS certificate or key for the API listener: " + ec.message());
    impl_->tls = std::move(tls);
  }
  auto addr = asio::ip::make_address(impl_->opts.address, ec);
  if (ec) return Status("InvalidParameterValue", "bad listen address " + impl_->opts.address);
  tcp::endpoint ep(addr, impl_->opts.port);
  // The acceptor lives on the first loop; the sockets it accepts go round the loops.
  auto& first = impl_->loops.front()->ioc;
  auto& a = impl_->acceptor.emplace(first);
  impl_->acceptRetry.emplace(first);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status("InternalError",
                  "listen on " + impl_->opts.address + ":" + std::to_string(impl_->opts.port) + ": " + ec.message());
  uint16_t port = a.local_endpoint().port();
  impl_->accept();
  for (auto& loop : impl_->loops) loop->thread = std::thread([l = loop.get()] { l->ioc.run(); });
  impl_->running = true;
  return port;
}

void HttpServer::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  asio::post(impl_->loops.front()->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  });
  // The loops first: no new request reaches the pool. A handler running finishes; its
  // answer, posted to a stopped loop, is dropped with the connection.
  for (auto& loop : impl_->loops) loop->ioc.stop();
  for (auto& loop : impl_->loops) loop->thread.join();
  impl_->pool->stop();
  impl_->pool->join();
  // Every connection is closed now, in this order: the requests queued for the pool
  // hold connections of the loops, the acceptor and every connection belong to a loop.
  impl_->pool.reset();
  impl_->acceptor.reset();
  impl_->acceptRetry.reset();
  impl_->loops.clear();
}

}  // namespace lp::api
