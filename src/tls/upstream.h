// HttpsUpstream: an [aws_service_backends] entry that is an HTTPS server rather than a
// TCP address, `kms = { url = "https://kms.internal:8443", ca_file = "/etc/..." }`.
// Endpoints to such a service reach the daemon's TLS relay (tls/relay.h), which
// answers the client with a certificate from the local CA for the service's AWS
// names and opens a second TLS session to the upstream, verified against ca_file.
// Value types and pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lp::tls {

struct HttpsUpstream {
  std::string url;   // as configured
  std::string host;  // to connect to: a DNS name or an IPv4/IPv6 literal (no brackets)
  uint16_t port = 443;
  std::string serverName;  // the name (or IP) the upstream's certificate must carry; SNI when a DNS name
  std::string caFile;      // absolute path of the PEM file of the CAs the certificate must chain to

  bool operator==(const HttpsUpstream&) const = default;
};

// "https://HOST[:PORT][/]" (HOST a DNS name, an IPv4 address or [IPv6]); the port
// defaults to 443. Sets url, host, port and serverName (= host); anything else
// (another scheme, a path, a query, user info, a bad port) is InvalidConfig with
// the reason.
Result<HttpsUpstream> parseHttpsUrl(std::string_view url);

// OK when path is a PEM file from which OpenSSL loads at least one certificate;
// otherwise why not ("cannot be read", "holds no certificate").
Status checkCaFile(const std::string& path);

// True for an IPv4 or IPv6 literal: verified against the certificate's IP
// addresses and sent without SNI (RFC 6066 forbids literals there).
bool isIpLiteral(const std::string& host);

// The names a relay's certificate carries for an AWS service of the catalog:
// its default name (kms.us-east-1.amazonaws.com; kinesis-streams and
// sagemaker.runtime have their own) and its endpoint-specific names, one label
// below <svc>.<region>.vpce.amazonaws.com.
std::vector<std::string> serviceCertificateNames(const std::string& shortName, const std::string& region);

}  // namespace lp::tls
