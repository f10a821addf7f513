#include "tls/upstream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace lp::tls {

namespace {
// Appended, not `"'" + std::string(url) + ...`: GCC 12 at -O3 inlines that operator+
// into an insert at offset 0 and reports a -Wrestrict overlap that cannot happen (GCC
// PR 105651), which failed Release builds with -DLP_WERROR=ON.
Status bad(std::string_view url, const std::string& why) {
  std::string msg = "'";
  msg.append(url).append("' is not an https:// upstream: ").append(why);
  return Status("InvalidConfig", msg);
}

bool validDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.' || h.find("..") != std::string_view::npos)
    return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}
}  // namespace

Status checkCaFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return Status("InvalidConfig", "'" + path + "' cannot be read");
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  int certs = 0;
  if (infos) {
    for (int i = 0; i < sk_X509_INFO_num(infos); ++i)
      if (sk_X509_INFO_value(infos, i)->x509) ++certs;
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
  }
  ERR_clear_error();  // a parse failure leaves errors that would confuse the thread's next TLS call
  if (certs == 0) return Status("InvalidConfig", "'" + path + "' is not a PEM file of CA certificates");
  return Status::Ok();
}

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<HttpsUpstream> parseHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || !std::equal(kScheme.begin(), kScheme.end(), url.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      }))
    return bad(url, "the scheme must be https");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) return bad(url, "a path, query or fragment is not taken");
  if (rest.find('@') != std::string_view::npos) return bad(url, "user information is not taken");
  HttpsUpstream u;
  u.url = std::string(url);
  std::string_view portText;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(url, "an IPv6 address needs its closing ']'");
    u.host = std::string(rest.substr(1, close - 1));
    unsigned char buf[16];
    if (::inet_pton(AF_INET6, u.host.c_str(), buf) != 1) return bad(url, "'" + u.host + "' is not an IPv6 address");
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad(url, "expected ':PORT' after the IPv6 address");
    if (!rest.empty()) portText = rest.substr(1);
    if (!rest.empty() && portText.empty()) return bad(url, "the port is empty");
  } else {
    auto colon = rest.find(':');
    u.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      portText = rest.substr(colon + 1);
      if (portText.empty()) return bad(url, "the port is empty");
    }
    std::transform(u.host.begin(), u.host.end(), u.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (u.host.empty()) return bad(url, "the host is missing");
    if (!isIpLiteral(u.host) && !validDnsName(u.host)) return bad(url, "'" + u.host + "' is not a host name");
  }
  if (!portText.empty()) {
    if (portText.size() > 5 ||
        !std::all_of(portText.begin(), portText.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad(url, "the port must be a number from 1 to 65535");
    int port = std::stoi(std::string(portText));
    if (port < 1 || port > 65535) return bad(url, "the port must be a number from 1 to 65535");
    u.port = static_cast<uint16_t>(port);
  }
  u.serverName = u.host;
  return u;
}

std::vector<std::string> serviceCertificateNames(const std::string& shortName, const std::string& region) {
  std::string name = shortName + "." + region + ".amazonaws.com";
  if (shortName == "kinesis-streams") name = "kinesis." + region + ".amazonaws.com";
  if (shortName == "sagemaker.runtime") name = "runtime.sagemaker." + region + ".amazonaws.com";
  return {name, "*." + shortName + "." + region + ".vpce.amazonaws.com"};
}

}  // namespace lp::tls
