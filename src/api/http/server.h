// HttpServer: the Beast HTTP/1.1 (or HTTPS) front of ApiService (or of any handler: the
// Prometheus listener uses it too). Keep-alive, bounded header
// and body sizes, a deadline per request so slow or stalled clients are dropped.
//
// Owned by the daemon. start() spawns `threads` I/O threads that run handlers;
// stop() closes the acceptor and every connection and joins the threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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
  // Set: the listener speaks HTTPS with this certificate (chain) and key, and
  // takes a PROXY v2 header before the handshake from loopback peers.
  std::string tlsCertificatePem;
  std::string tlsPrivateKeyPem;
};

// Runs on the server's I/O threads, several at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpServerOptions options);
  HttpServer(const ApiService& api, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Binds and starts serving; returns the bound port (useful with port 0).
  Result<uint16_t> start();
  void stop();

 private:
  struct Impl;
  HttpHandler handler_;  // before impl_, which refers to it
  std::unique_ptr<Impl> impl_;
};

}  // namespace lp::api
