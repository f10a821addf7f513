// SubscriberGate: decides whether the daemon may send an SNS delivery to a URL or
// to an address a connection is about to be opened to (the rule is
// model::subscriberRefusal). Checked at Subscribe, on every address the name
// resolves to, and again by CurlHttpPoster for the very address each connection
// goes to, so a name that resolves elsewhere later (DNS rebinding) is caught.
// URLs are split by libcurl's own parser, the one that later sends the request.
//
// Owned by the daemon; any thread (the policy is guarded by a mutex; vpcRanges and
// the resolver must be thread-safe).
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/subscriber_networks.h"

namespace lp::notify {

// Host names to addresses: the gate's only DNS, an interface so tests answer
// without a resolver.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual Result<std::vector<model::IpAddress>> resolve(const std::string& host) const = 0;
};

// getaddrinfo(3), TCP, both families.
class SystemResolver final : public Resolver {
 public:
  Result<std::vector<model::IpAddress>> resolve(const std::string& host) const override;
};

class SubscriberGate {
 public:
  using VpcRanges = std::function<std::vector<model::IpNetwork>()>;
  SubscriberGate(model::SubscriberNetworkPolicy policy, VpcRanges vpcRanges, std::unique_ptr<Resolver> resolver);

  // Before anything is sent: nullopt when every address the URL's host names is
  // allowed; otherwise why not ("169.254.169.254 is link-local (169.254.0.0/16)").
  std::optional<std::string> refuseUrl(const std::string& url) const;
  // At connect time, for one resolved address.
  std::optional<std::string> refuseAddress(const sockaddr* addr, socklen_t len) const;
  // A listener whose port is known only once it is bound (port 0 in the config).
  void addOwnListener(const model::ListenAddress& l);

 private:
  std::optional<std::string> refuse(const model::IpAddress& ip, uint16_t port) const;

  mutable std::mutex mu_;
  model::SubscriberNetworkPolicy policy_;
  VpcRanges vpcRanges_;
  std::unique_ptr<Resolver> resolver_;
};

}  // namespace lp::notify
