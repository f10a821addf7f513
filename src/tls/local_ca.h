// LocalCa: the daemon's own certificate authority, kept in the state directory
// (ca.pem, and ca.key readable by root only), made at the first start and reused
// after. It issues the certificate of the HTTPS API listener for the AWS default
// names of the services linkplane serves (ec2.<region>.amazonaws.com, ...) and
// their endpoint-specific names (*.ec2.<region>.vpce.amazonaws.com), so clients
// inside a VPC that trust this CA reach linkplane by those names unmodified.
//
// Keys are EC P-256 (OpenSSL 3). Value type; no shared state.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace lp::tls {

struct IssuedCertificate {
  std::string certificatePem;
  std::string privateKeyPem;
};

class LocalCa {
 public:
  // Loads <dir>/ca.pem and <dir>/ca.key, making both (the key mode 0600) when
  // neither exists. Either one alone is an error (never silently replaced).
  static Result<LocalCa> loadOrCreate(const std::string& dir);

  const std::string& certificatePem() const { return certPem_; }
  // A server certificate for names (DNS names, "*." wildcards, IPv4 literals),
  // valid from an hour ago for 397 days (what browsers and OpenSSL clients take).
  Result<IssuedCertificate> issue(const std::vector<std::string>& names) const;

 private:
  LocalCa(std::string certPem, std::string keyPem) : certPem_(std::move(certPem)), keyPem_(std::move(keyPem)) {}
  std::string certPem_;
  std::string keyPem_;
};

// The names the API listener's certificate carries for a region: for each of
// linkplane's services, its default name and its endpoint-specific names; the
// global STS name; localhost and 127.0.0.1 for the host.
std::vector<std::string> apiCertificateNames(const std::string& region);

// The services linkplane itself answers, by their short names.
const std::vector<std::string>& ownServices();

}  // namespace lp::tls
