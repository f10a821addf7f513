#include "notify/subscriber_gate.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstdlib>

namespace lp::notify {

Result<std::vector<model::IpAddress>> SystemResolver::resolve(const std::string& host) const {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Status("ResolveFailed", "cannot resolve " + host + ": " + gai_strerror(rc));
  std::vector<model::IpAddress> out;
  for (auto* p = res; p; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      auto* a = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
      out.push_back(model::IpAddress::fromBytes(reinterpret_cast<const uint8_t*>(&a->sin_addr), 4));
    } else if (p->ai_family == AF_INET6) {
      auto* a = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      out.push_back(model::IpAddress::fromBytes(a->sin6_addr.s6_addr, 16));
    }
  }
  ::freeaddrinfo(res);
  return out;
}

SubscriberGate::SubscriberGate(model::SubscriberNetworkPolicy policy, VpcRanges vpcRanges,
                               std::unique_ptr<Resolver> resolver)
    : policy_(std::move(policy)), vpcRanges_(std::move(vpcRanges)), resolver_(std::move(resolver)) {}

std::optional<std::string> SubscriberGate::refuseUrl(const std::string& url) const {
  CURLU* u = curl_url();
  if (!u) return "the URL cannot be parsed";
  std::string host;
  long port = 0;
  char* h = nullptr;
  char* p = nullptr;
  bool parsed = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
                curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
                curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (parsed) {
    host = h;
    port = std::strtol(p, nullptr, 10);
  }
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
  if (!parsed || host.empty() || port <= 0 || port > 65535) return "the URL cannot be parsed";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::vector<model::IpAddress> addrs;
  if (auto literal = model::IpAddress::parse(host)) {
    addrs.push_back(*literal);
  } else {
    auto r = resolver_->resolve(host);
    if (!r.ok()) return r.status().message();
    addrs = *r;
    if (addrs.empty()) return "cannot resolve " + host;
  }
  for (const auto& a : addrs)
    if (auto why = refuse(a, static_cast<uint16_t>(port))) return why;
  return std::nullopt;
}

std::optional<std::string> SubscriberGate::refuseAddress(const sockaddr* addr, socklen_t len) const {
  model::IpAddress ip;
  uint16_t port = 0;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    auto* a = reinterpret_cast<const sockaddr_in*>(addr);
    ip = model::IpAddress::fromBytes(reinterpret_cast<const uint8_t*>(&a->sin_addr), 4);
    port = ntohs(a->sin_port);
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(addr);
    ip = model::IpAddress::fromBytes(a->sin6_addr.s6_addr, 16);
    port = ntohs(a->sin6_port);
  } else {
    return "not an IP address";
  }
  return refuse(ip, port);
}

std::optional<std::string> SubscriberGate::refuse(const model::IpAddress& ip, uint16_t port) const {
  auto vpcs = vpcRanges_ ? vpcRanges_() : std::vector<model::IpNetwork>{};
  std::lock_guard lock(mu_);
  return model::subscriberRefusal(ip, port, policy_, vpcs);
}

void SubscriberGate::addOwnListener(const model::ListenAddress& l) {
  std::lock_guard lock(mu_);
  policy_.ownListeners.push_back(l);
}

}  // namespace lp::notify
