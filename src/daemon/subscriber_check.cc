#include "daemon/subscriber_check.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include "control/typed_store.h"
#include "model/resources.h"

namespace lp::daemon {

namespace {

// The host's own addresses (a wildcard listener is reached on each).
std::vector<model::IpAddress> hostAddresses() {
  std::vector<model::IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back(model::IpAddress::fromBytes(reinterpret_cast<const uint8_t*>(&a->sin_addr), 4));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      out.push_back(model::IpAddress::fromBytes(a->sin6_addr.s6_addr, 16));
    }
  }
  ::freeifaddrs(list);
  return out;
}

Result<model::ListenAddress> listenAddress(const std::string& spec) {
  LP_ASSIGN_OR_RETURN(auto l, parseListen(spec));
  std::string host = l.first;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto ip = model::IpAddress::parse(host);
  if (!ip) return Status("InvalidConfig", "listen address must be an IP address, got '" + spec + "'");
  return model::ListenAddress{*ip, l.second};
}

}  // namespace

Result<std::unique_ptr<DaemonSubscriberCheck>> DaemonSubscriberCheck::create(control::ControlContext& ctx,
                                                                             const Config& config) {
  model::SubscriberNetworkPolicy policy;
  for (const auto& n : config.snsSubscriberNetworks) {
    auto net = model::IpNetwork::parse(n);
    if (!net) return Status("InvalidConfig", "sns.subscriber_networks: not a CIDR block: '" + n + "'");
    policy.allowed.push_back(*net);
  }
  // Listeners with a fixed port now; those on port 0 are added once bound.
  for (const auto* spec : {&config.listen, &config.tlsListen, &config.dnsListen, &config.prometheusListen}) {
    if (spec->empty()) continue;
    auto l = listenAddress(*spec);  // a host name: parsed by its server, added once bound
    if (l.ok() && l->port != 0) policy.ownListeners.push_back(*l);
  }
  policy.hostAddresses = hostAddresses();
  auto vpcRanges = [&ctx] {
    std::vector<model::IpNetwork> out;
    ctx.store.read([&](const store::ReadView& v) {
      control::View(v).forEachOf<model::Vpc>([&](const model::Vpc& vpc) {
        for (const auto& block : model::associatedCidrs(vpc))  // secondary blocks are VPC ranges too
          if (auto c = model::Cidr::parse(block)) out.push_back(model::IpNetwork::fromCidr(*c));
        return true;
      });
    });
    return out;
  };
  auto gate = std::make_unique<notify::SubscriberGate>(std::move(policy), vpcRanges,
                                                       std::make_unique<notify::SystemResolver>());
  return std::make_unique<DaemonSubscriberCheck>(std::move(gate));
}

void DaemonSubscriberCheck::addListener(const std::string& addr, uint16_t port) {
  std::string host = addr;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (auto ip = model::IpAddress::parse(host)) gate_->addOwnListener({*ip, port});
}

}  // namespace lp::daemon
