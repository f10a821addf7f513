// Netlink: links, IPv4 addresses and routes of one network namespace, through
// libnl-route-3. The netlink socket is made inside the namespace (and keeps it), so
// the object works from whichever thread holds it.
//
// Owned by one caller at a time (not thread-safe); open() per namespace.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

struct nl_sock;

namespace lp::net {

struct LinkInfo {
  std::string name;
  std::string kind;  // "bridge", "veth", "" (lo, ...)
  int index = 0;
  int masterIndex = 0;
  bool up = false;
};

// An IPv4 `ip rule` that looks up a table: `pref P [iif DEV] lookup T`.
struct RuleInfo {
  uint32_t pref = 0;
  std::string iif;  // "" = any input device
  uint32_t table = 0;
  auto operator<=>(const RuleInfo&) const = default;
};

// An IPv4 route in a table: to dst ("a.b.c.d/len") via a gateway and/or out of a
// device, or a blackhole (neither).
struct RouteInfo {
  uint32_t table = 0;
  std::string dst;
  std::string via;     // "" = on link
  std::string device;  // "" = the kernel picks from via
  bool blackhole = false;
  auto operator<=>(const RouteInfo&) const = default;
};

class Netlink {
 public:
  // ns "" = the caller's own namespace.
  static Result<std::unique_ptr<Netlink>> open(const std::string& ns);
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  Result<std::vector<LinkInfo>> links();
  Result<LinkInfo> link(const std::string& name);  // code "NotFound" when absent
  // Creates an (up) bridge when absent.
  Status ensureBridge(const std::string& name);
  // Creates a veth pair: `name` here, `peerName` inside namespace peerNs.
  // Ok when `name` already exists.
  Status ensureVeth(const std::string& name, const std::string& peerNs, const std::string& peerName);
  Status setUp(const std::string& name);
  Status setMaster(const std::string& name, const std::string& bridge);
  Status deleteLink(const std::string& name);
  // Makes a bridge port isolated: the bridge forwards nothing between two isolated
  // ports, so what one sends can only reach the bridge's own (routing) side.
  Status setBridgePortIsolated(const std::string& name);
  // The largest GSO/GRO packet the link builds or accepts, for IPv4 and in general
  // (BIG TCP; 64 KiB by default). A kernel before 6.3 ignores the IPv4 sizes, and
  // gsoIpv4MaxSize() answers 0 (not reported); one before 5.19 refuses over 64 KiB.
  Status setGsoIpv4MaxSize(const std::string& name, uint32_t bytes);
  Result<uint32_t> gsoIpv4MaxSize(const std::string& name);
  // The same for every link, by index, from one dump.
  Result<std::map<int, uint32_t>> gsoIpv4MaxSizes();

  // IPv4 addresses on a link as "a.b.c.d/len", sorted.
  Result<std::vector<std::string>> addresses(const std::string& link);
  // Ok when already present.
  Status addAddress(const std::string& link, const std::string& cidr);
  // Ok when absent.
  Status removeAddress(const std::string& link, const std::string& cidr);
  // Replaces the IPv4 default route with one via gateway.
  Status setDefaultRoute(const std::string& gateway);
  Result<std::string> defaultRouteGateway();  // "" when there is none

  // Policy routing (`ip rule`, IPv4): pref, an optional input device, a table.
  Result<std::vector<RuleInfo>> rules();
  // Ok when an identical rule is there already.
  Status addRule(const RuleInfo& rule);
  // Ok when absent.
  Status deleteRule(const RuleInfo& rule);

  // Routes of one table (IPv4). replaceRoute makes or replaces the route to dst.
  Result<std::vector<RouteInfo>> routes(uint32_t table);
  Status replaceRoute(const RouteInfo& route);
  // Ok when absent.
  Status deleteRoute(uint32_t table, const std::string& dst);

 private:
  explicit Netlink(nl_sock* sock) : sock_(sock) {}
  nl_sock* sock_;
};

}  // namespace lp::net
