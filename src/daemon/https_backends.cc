#include "daemon/https_backends.h"

#include <vector>

#include "common/log.h"

namespace lp::daemon {

namespace {
tls::RelayOptions relayOptions(int idleTimeoutSeconds) {
  tls::RelayOptions o;
  o.idleTimeoutSeconds = idleTimeoutSeconds;  // as the data plane's connections
  o.threads = 2;
  return o;
}
}  // namespace

HttpsBackends::HttpsBackends(tls::LocalCa ca, std::string region, int idleTimeoutSeconds)
    : ca_(std::move(ca)), region_(std::move(region)), relay_(relayOptions(idleTimeoutSeconds)) {}

Result<std::map<std::string, std::string>> HttpsBackends::apply(
    const std::map<std::string, tls::HttpsUpstream>& upstreams) {
  std::vector<tls::RelayRoute> routes;
  for (const auto& [svc, up] : upstreams) {
    LP_ASSIGN_OR_RETURN(auto cert, ca_.issue(tls::serviceCertificateNames(svc, region_)));
    routes.push_back({svc, up, std::move(cert.certificatePem), std::move(cert.privateKeyPem)});
  }
  LP_ASSIGN_OR_RETURN(auto ports, relay_.apply(routes));
  std::map<std::string, std::string> next;
  for (const auto& [svc, port] : ports) {
    next[svc] = "proxy-v2:127.0.0.1:" + std::to_string(port);
    const auto& up = upstreams.at(svc);
    LP_LOG_INFO("tls relay {}: 127.0.0.1:{} -> {} (verified against {}{})", svc, port, up.url, up.caFile,
                up.serverName != up.host ? ", as " + up.serverName : "");
  }
  backends_ = next;
  return next;
}

}  // namespace lp::daemon
