// HttpsBackends: the daemon's side of [aws_service_backends] entries that are
// https:// upstreams. It owns the TLS relay (tls/relay.h), issues each service's
// certificate from the local CA, and tells the daemon which endpoint backend leads
// to each service ("proxy-v2:127.0.0.1:PORT", as for linkplane's own services, so
// the relay learns the endpoint from the PROXY v2 header).
//
// Owned by the daemon; apply() and stop() on the daemon's thread (start, SIGHUP).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "tls/local_ca.h"
#include "tls/relay.h"
#include "tls/upstream.h"

namespace lp::daemon {

class HttpsBackends {
 public:
  HttpsBackends(tls::LocalCa ca, std::string region, int idleTimeoutSeconds);

  // Makes the relay serve exactly these upstreams (short service name -> upstream);
  // returns the endpoint backend of each. On an error nothing changes.
  Result<std::map<std::string, std::string>> apply(const std::map<std::string, tls::HttpsUpstream>& upstreams);
  // The backends of the last apply() that succeeded.
  const std::map<std::string, std::string>& backends() const { return backends_; }
  void stop() { relay_.stop(); }

 private:
  tls::LocalCa ca_;
  std::string region_;
  tls::TlsRelay relay_;
  std::map<std::string, std::string> backends_;
};

}  // namespace lp::daemon
