// TlsRelay: linkplane's HTTPS front for AWS services whose backend is an https://
// upstream ([aws_service_backends] kms = { url = "https://...", ca_file = "..." }).
//
// An endpoint to such a service forwards (as for linkplane's own services) to a
// loopback listener of this relay, PROXY v2 header first. The relay reads the
// header (the client's address in its VPC and the endpoint id, for the log), ends
// the client's TLS with a certificate from the local CA for the service's AWS names
// (which workloads trust), and opens a second TLS session to the upstream that
// verifies its certificate chain against ca_file only (never the system store,
// never unverified) and its host name (or IP) against the URL's. Both handshakes
// run at once; when either fails the client's connection ends, and an upstream
// that fails verification is logged with OpenSSL's reason and counted in
// linkplane_tls_relay_connections_total{service,outcome}. Then bytes are copied
// both ways through one fixed buffer per direction (a slow side stops reads from
// the other, so memory per connection is bounded); a connection with no bytes in
// either direction for idleTimeoutSeconds is closed, as the data plane's are.
// A close from either side ends both (no TLS half-close: HTTP clients do not use it).
//
// One listener per service, so the endpoint plan's backend names the service by
// its port. Owned by the daemon; apply() and stop() from one thread (start and
// reload); connections run on the relay's own I/O threads, one strand each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tls/upstream.h"

namespace lp::tls {

struct RelayRoute {
  std::string service;  // short name: "kms"
  HttpsUpstream upstream;
  std::string certificatePem;  // what clients are shown: from the local CA, for the service's names
  std::string privateKeyPem;
};

struct RelayOptions {
  std::string address = "127.0.0.1";  // the data plane connects from the host namespace
  int threads = 1;
  int idleTimeoutSeconds = 350;
  int handshakeTimeoutSeconds = 10;  // PROXY header, both handshakes and the upstream's connect
  size_t bufferBytes = 16 * 1024;    // per direction per connection
  size_t maxConnections = 4096;      // past it new connections are closed at once (outcome "busy")
};

class TlsRelay {
 public:
  explicit TlsRelay(RelayOptions options);
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  // Makes the listeners match routes and returns each service's port. A service
  // that already has a listener keeps its port and serves new connections with the
  // new upstream, certificate and CA file (read again every time: a reload picks up
  // a renewed CA); a new service gets a listener; a service not in routes loses its
  // listener (connections already open finish). Any route that cannot be used (a
  // CA file that does not load, a bad certificate) fails the whole call and changes
  // nothing.
  Result<std::map<std::string, uint16_t>> apply(const std::vector<RelayRoute>& routes);

  // Closes the listeners and every connection; joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lp::tls
