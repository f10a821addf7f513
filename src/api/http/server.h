// HttpServer: the Beast HTTP/1.1 (or HTTPS) front of ApiService (or of any handler: the
// Prometheus listener uses it too). Keep-alive, bounded header
// and body sizes, a deadline per request so slow or stalled clients are dropped.
//
// Threads: a few I/O threads (one per core, at most `threads`), each with its own
// event loop and its share of the connections, read, parse and write; the handler
// runs on a pool of `threads` threads, so one that blocks (a write waiting for its
// fsync) holds up only its own connection. An answer the at-once handler gives
// (the API's refusal of an account over its limit) is written by the I/O thread
// itself: no hand-off to another thread. Before, one io_context run by every thread
// bounced each request between them (docs/throttling-and-audit.md, "Measured").
// A plain-TCP connection whose answer was given at once moves to one more loop (the
// slow loop) until the handler answers one of its requests: the others' requests
// never queue behind its refusals (same doc, "Refused connections move"). After a
// throttling refusal, that connection's next request is read only after a hold (timer
// on its loop; HttpServerOptions::refusalHoldMax), so a flood of refused calls costs
// the daemon at most about one refusal per connection per hold (same doc, "Refusals
// are paced per connection").
//
// Owned by the daemon. stop() closes the acceptor and every connection, lets the
// handlers running finish and joins the threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/api_service.h"
#include "common/status.h"

namespace lp::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 4566;
  int threads = 2;
  size_t maxBodyBytes = 1 << 20;
  int requestTimeoutSeconds = 30;
  // The longest a connection's next read is held after an answer carrying a
  // refusalHold (a throttling refusal): the hold is that answer's refusalHold, doubled
  // for each further refusal in a row on the same connection, up to this. It paces one
  // connection only; a served answer ends the series. 0: never held.
  std::chrono::milliseconds refusalHoldMax{0};
  // Set: the listener speaks HTTPS with this certificate (chain) and key, and
  // takes a PROXY v2 header before the handshake from loopback peers.
  std::string tlsCertificatePem;
  std::string tlsPrivateKeyPem;
};

// Runs on the server's handler pool, several at once; may block.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Runs first, on an I/O thread: an answer it can give without blocking (no store,
// no fsync, no lock held for long), or nullopt to pass the request to HttpHandler.
using HttpAtOnceHandler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpServerOptions options, HttpAtOnceHandler atOnce = {});
  // ApiService::handle, with ApiService::answerAtOnce on the I/O threads.
  HttpServer(const ApiService& api, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Binds and starts serving; returns the bound port (useful with port 0).
  Result<uint16_t> start();
  void stop();

 private:
  struct Impl;
  HttpHandler handler_;  // before impl_, which refers to them
  HttpAtOnceHandler atOnce_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lp::api
