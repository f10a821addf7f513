#include "net/netlink.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/rule.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/netns.h"

namespace lp::net {

namespace {

// IFLA_ attributes; the two IPv4 ones came with Linux 6.3, after Debian 12's headers.
constexpr int kIflaGsoMaxSize = 41;
constexpr int kIflaGroMaxSize = 58;
constexpr int kIflaGsoIpv4MaxSize = 63;
constexpr int kIflaGroIpv4MaxSize = 64;

Status nlError(const std::string& what, int err) { return Status("InternalError", what + ": " + nl_geterror(err)); }

// libnl objects freed on scope exit.
struct LinkPtr {
  rtnl_link* p = nullptr;
  ~LinkPtr() {
    if (p) rtnl_link_put(p);
  }
};
struct CachePtr {
  nl_cache* p = nullptr;
  ~CachePtr() {
    if (p) nl_cache_free(p);
  }
};
struct AddrPtr {
  nl_addr* p = nullptr;
  AddrPtr() = default;
  AddrPtr(AddrPtr&& o) noexcept : p(o.p) { o.p = nullptr; }
  AddrPtr(const AddrPtr&) = delete;
  AddrPtr& operator=(const AddrPtr&) = delete;
  ~AddrPtr() {
    if (p) nl_addr_put(p);
  }
};

Result<AddrPtr> parseAddr(const std::string& s) {
  AddrPtr a;
  int err = nl_addr_parse(s.c_str(), AF_INET, &a.p);
  if (err < 0) return nlError("bad address " + s, err);
  return Result<AddrPtr>(std::move(a));
}

std::string formatAddr(nl_addr* a, bool withPrefix) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, nl_addr_get_binary_addr(a), buf, sizeof buf);
  std::string s = buf;
  if (withPrefix) s += "/" + std::to_string(nl_addr_get_prefixlen(a));
  return s;
}

}  // namespace

Result<std::unique_ptr<Netlink>> Netlink::open(const std::string& ns) {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return Status("InternalError", "nl_socket_alloc failed");
  auto connect = [&]() -> Status {
    errno = 0;
    int err = nl_connect(sock, NETLINK_ROUTE);
    if (err >= 0) return Status::Ok();
    // libnl folds errors it has no code for (EMFILE, ENFILE) into "Unspecific
    // failure": the kernel's own reason decides whether it is a capacity limit.
    if (errno != 0) return Status("InternalError", std::string("nl_connect: ") + std::strerror(errno));
    return nlError("nl_connect", err);
  };
  Status st = ns.empty() ? connect() : runInNamespace(ns, connect);
  if (!st.ok()) {
    nl_socket_free(sock);
    return st;
  }
  return std::unique_ptr<Netlink>(new Netlink(sock));
}

Netlink::~Netlink() {
  nl_close(sock_);
  nl_socket_free(sock_);
}

Result<std::vector<LinkInfo>> Netlink::links() {
  CachePtr cache;
  int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &cache.p);
  if (err < 0) return nlError("list links", err);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    LinkInfo i;
    i.name = rtnl_link_get_name(l);
    const char* kind = rtnl_link_get_type(l);
    i.kind = kind ? kind : "";
    i.index = rtnl_link_get_ifindex(l);
    i.masterIndex = rtnl_link_get_master(l);
    i.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    out.push_back(std::move(i));
  }
  return out;
}

// One RTM_GETLINK by name, not a dump: a provider VPC's namespace holds a fast-path
// veth per consumer endpoint interface, and a dump parsed into libnl objects per
// lookup (five per link made) made building 1,000 endpoints' links quadratic:
// 0.5 s per endpoint at 250 (tests/integration/test_scale_crash.py's preload).
Result<LinkInfo> Netlink::link(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return Status("NotFound", "no link " + name);
  rtnl_link* found = nullptr;
  int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &found);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return Status("NotFound", "no link " + name);
  if (err < 0 || !found) return nlError("get link " + name, err);
  LinkPtr l{found};
  LinkInfo i;
  i.name = rtnl_link_get_name(l.p);
  const char* kind = rtnl_link_get_type(l.p);
  i.kind = kind ? kind : "";
  i.index = rtnl_link_get_ifindex(l.p);
  i.masterIndex = rtnl_link_get_master(l.p);
  i.up = (rtnl_link_get_flags(l.p) & IFF_UP) != 0;
  return i;
}

Status Netlink::ensureBridge(const std::string& name) {
  if (link(name).ok()) return setUp(name);
  LinkPtr l{rtnl_link_alloc()};
  rtnl_link_set_name(l.p, name.c_str());
  if (int err = rtnl_link_set_type(l.p, "bridge"); err < 0) return nlError("bridge type", err);
  rtnl_link_set_flags(l.p, IFF_UP);
  if (int err = rtnl_link_add(sock_, l.p, NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nlError("add bridge " + name, err);
  return Status::Ok();
}

Status Netlink::ensureVeth(const std::string& name, const std::string& peerNs, const std::string& peerName) {
  if (link(name).ok()) return Status::Ok();
  LP_ASSIGN_OR_RETURN(int nsFd, openNamespace(peerNs));
  LinkPtr l{rtnl_link_veth_alloc()};
  if (!l.p) {
    ::close(nsFd);
    return Status("InternalError", "rtnl_link_veth_alloc failed");
  }
  rtnl_link_set_name(l.p, name.c_str());
  rtnl_link* peer = rtnl_link_veth_get_peer(l.p);
  rtnl_link_set_name(peer, peerName.c_str());
  rtnl_link_set_ns_fd(peer, nsFd);
  rtnl_link_put(peer);
  int err = rtnl_link_add(sock_, l.p, NLM_F_CREATE | NLM_F_EXCL);
  ::close(nsFd);
  if (err < 0) return nlError("add veth " + name, err);
  return Status::Ok();
}

Status Netlink::setUp(const std::string& name) {
  LP_ASSIGN_OR_RETURN(auto info, link(name));
  if (info.up) return Status::Ok();
  LinkPtr orig{rtnl_link_alloc()};
  rtnl_link_set_ifindex(orig.p, info.index);
  LinkPtr change{rtnl_link_alloc()};
  rtnl_link_set_flags(change.p, IFF_UP);
  if (int err = rtnl_link_change(sock_, orig.p, change.p, 0); err < 0) return nlError("set up " + name, err);
  return Status::Ok();
}

Status Netlink::setMaster(const std::string& name, const std::string& bridge) {
  LP_ASSIGN_OR_RETURN(auto info, link(name));
  LP_ASSIGN_OR_RETURN(auto br, link(bridge));
  if (info.masterIndex == br.index) return Status::Ok();
  LinkPtr orig{rtnl_link_alloc()};
  rtnl_link_set_ifindex(orig.p, info.index);
  LinkPtr change{rtnl_link_alloc()};
  rtnl_link_set_master(change.p, br.index);
  if (int err = rtnl_link_change(sock_, orig.p, change.p, 0); err < 0) {
    return nlError("set master of " + name + " to " + bridge, err);
  }
  return Status::Ok();
}

Status Netlink::deleteLink(const std::string& name) {
  auto info = link(name);
  if (!info) return Status::Ok();
  LinkPtr l{rtnl_link_alloc()};
  rtnl_link_set_ifindex(l.p, info->index);
  if (int err = rtnl_link_delete(sock_, l.p); err < 0 && err != -NLE_NODEV) return nlError("delete " + name, err);
  return Status::Ok();
}

Status Netlink::setGsoIpv4MaxSize(const std::string& name, uint32_t bytes) {
  LP_ASSIGN_OR_RETURN(auto info, link(name));
  nl_msg* msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (!msg) return Status("InternalError", "nlmsg_alloc_simple failed");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = info.index;
  int err = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  // The protocol-independent size too: a bridge takes the smallest of its ports'
  // and, when that is 64 KiB or less, writes it over its IPv4 size.
  if (err >= 0) err = nla_put_u32(msg, kIflaGsoMaxSize, bytes);
  if (err >= 0) err = nla_put_u32(msg, kIflaGroMaxSize, bytes);
  if (err >= 0) err = nla_put_u32(msg, kIflaGsoIpv4MaxSize, bytes);
  if (err >= 0) err = nla_put_u32(msg, kIflaGroIpv4MaxSize, bytes);
  if (err >= 0) err = nl_send_auto(sock_, msg);
  nlmsg_free(msg);
  if (err >= 0) err = nl_wait_for_ack(sock_);
  return err < 0 ? nlError("set IPv4 GSO size of " + name, err) : Status::Ok();
}

Status Netlink::setBridgePortIsolated(const std::string& name) {
  LP_ASSIGN_OR_RETURN(auto info, link(name));
  nl_msg* msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (!msg) return Status("InternalError", "nlmsg_alloc_simple failed");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;  // the bridge's port settings, as `bridge link set` sends them
  ifi.ifi_index = info.index;
  int err = nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nlattr* proto = err >= 0 ? nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED) : nullptr;
  if (!proto) err = -NLE_NOMEM;
  if (err >= 0) err = nla_put_u8(msg, IFLA_BRPORT_ISOLATED, 1);
  if (err >= 0) err = nla_nest_end(msg, proto);
  if (err >= 0) err = nl_send_auto(sock_, msg);
  nlmsg_free(msg);
  if (err >= 0) err = nl_wait_for_ack(sock_);
  return err < 0 ? nlError("isolate bridge port " + name, err) : Status::Ok();
}

Result<uint32_t> Netlink::gsoIpv4MaxSize(const std::string& name) {
  LP_ASSIGN_OR_RETURN(auto info, link(name));
  LP_ASSIGN_OR_RETURN(auto sizes, gsoIpv4MaxSizes());
  auto it = sizes.find(info.index);
  return it == sizes.end() ? 0u : it->second;
}

Result<std::map<int, uint32_t>> Netlink::gsoIpv4MaxSizes() {
  // A dump, not a get: the kernel ends it with DONE and sends no separate ACK that
  // could be left on the socket for the next request to trip over.
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (int err = nl_send_simple(sock_, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi); err < 0) {
    return nlError("dump links", err);
  }
  std::map<int, uint32_t> sizes;
  nl_cb* base = nl_socket_get_cb(sock_);  // a reference of our own, to put back
  nl_cb* cb = nl_cb_clone(base);
  nl_cb_put(base);
  if (!cb) return Status("InternalError", "nl_cb_clone failed");
  auto onLink = +[](nl_msg* m, void* arg) -> int {
    nlmsghdr* h = nlmsg_hdr(m);
    nlattr* tb[kIflaGroIpv4MaxSize + 1] = {};
    if (nlmsg_parse(h, sizeof(ifinfomsg), tb, kIflaGroIpv4MaxSize, nullptr) >= 0 && tb[kIflaGsoIpv4MaxSize]) {
      (*static_cast<std::map<int, uint32_t>*>(arg))[static_cast<ifinfomsg*>(nlmsg_data(h))->ifi_index] =
          nla_get_u32(tb[kIflaGsoIpv4MaxSize]);
    }
    return NL_OK;
  };
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, onLink, &sizes);
  int err = nl_recvmsgs(sock_, cb);
  nl_cb_put(cb);
  if (err < 0) return nlError("dump links", err);
  return sizes;
}

Result<std::vector<std::string>> Netlink::addresses(const std::string& linkName) {
  LP_ASSIGN_OR_RETURN(auto info, link(linkName));
  // A dump of the link's IPv4 addresses read in place (not into libnl objects).
  // With strict checking the kernel (4.20 and later) dumps only the link's: a
  // provider VPC's namespace holds an address per consumer endpoint interface
  // (10,000 at issue 14's size), and each link's check read all of them. Older
  // kernels ignore the filter; the callback below keeps the link's either way.
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_index = static_cast<uint32_t>(info.index);
  int fd = nl_socket_get_fd(sock_), on = 1, off = 0;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on);
  int sent = nl_send_simple(sock_, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &off, sizeof off);
  if (sent < 0) return nlError("list addresses", sent);
  struct Want {
    int index;
    std::vector<std::string> out;
  } want{info.index, {}};
  nl_cb* base = nl_socket_get_cb(sock_);  // a reference of our own, to put back
  nl_cb* cb = nl_cb_clone(base);
  nl_cb_put(base);
  if (!cb) return Status("InternalError", "nl_cb_clone failed");
  auto onAddr = +[](nl_msg* m, void* arg) -> int {
    auto* w = static_cast<Want*>(arg);
    nlmsghdr* h = nlmsg_hdr(m);
    auto* a = static_cast<ifaddrmsg*>(nlmsg_data(h));
    if (a->ifa_family != AF_INET || static_cast<int>(a->ifa_index) != w->index) return NL_OK;
    nlattr* tb[IFA_MAX + 1] = {};
    if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return NL_OK;
    nlattr* local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    if (!local || nla_len(local) != 4) return NL_OK;
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, nla_data(local), buf, sizeof buf);
    w->out.push_back(std::string(buf) + "/" + std::to_string(a->ifa_prefixlen));
    return NL_OK;
  };
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, onAddr, &want);
  int err = nl_recvmsgs(sock_, cb);
  nl_cb_put(cb);
  if (err < 0) return nlError("list addresses", err);
  std::sort(want.out.begin(), want.out.end());
  return std::move(want.out);
}

Status Netlink::addAddress(const std::string& linkName, const std::string& cidr) {
  LP_ASSIGN_OR_RETURN(auto info, link(linkName));
  LP_ASSIGN_OR_RETURN(auto local, parseAddr(cidr));
  rtnl_addr* a = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(a, info.index);
  rtnl_addr_set_family(a, AF_INET);
  rtnl_addr_set_local(a, local.p);
  int err = rtnl_addr_add(sock_, a, 0);
  rtnl_addr_put(a);
  if (err < 0 && err != -NLE_EXIST) return nlError("add " + cidr + " to " + linkName, err);
  return Status::Ok();
}

Status Netlink::removeAddress(const std::string& linkName, const std::string& cidr) {
  auto info = link(linkName);
  if (!info) return Status::Ok();
  LP_ASSIGN_OR_RETURN(auto local, parseAddr(cidr));
  rtnl_addr* a = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(a, info->index);
  rtnl_addr_set_family(a, AF_INET);
  rtnl_addr_set_local(a, local.p);
  int err = rtnl_addr_delete(sock_, a, 0);
  rtnl_addr_put(a);
  if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND) return nlError("remove " + cidr, err);
  return Status::Ok();
}

Status Netlink::setDefaultRoute(const std::string& gateway) {
  return replaceRoute({RT_TABLE_MAIN, "0.0.0.0/0", gateway, "", false});
}

Result<std::string> Netlink::defaultRouteGateway() {
  CachePtr cache;
  int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &cache.p);
  if (err < 0) return nlError("list routes", err);
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN) continue;
    nl_addr* dst = rtnl_route_get_dst(r);
    if (dst && nl_addr_get_prefixlen(dst) != 0) continue;
    if (rtnl_route_get_nnexthops(r) < 1) continue;
    nl_addr* gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
    if (gw) return formatAddr(gw, false);
  }
  return std::string();
}

namespace {

struct RulePtr {
  rtnl_rule* p = rtnl_rule_alloc();
  ~RulePtr() {
    if (p) rtnl_rule_put(p);
  }
};
struct RoutePtr {
  rtnl_route* p = rtnl_route_alloc();
  ~RoutePtr() {
    if (p) rtnl_route_put(p);
  }
};

std::string describe(const RuleInfo& r) {
  return "rule pref " + std::to_string(r.pref) + (r.iif.empty() ? "" : " iif " + r.iif) + " lookup " +
         std::to_string(r.table);
}

void fill(rtnl_rule* out, const RuleInfo& r) {
  rtnl_rule_set_family(out, AF_INET);
  rtnl_rule_set_prio(out, r.pref);
  rtnl_rule_set_table(out, r.table);
  rtnl_rule_set_action(out, FR_ACT_TO_TBL);
  if (!r.iif.empty()) rtnl_rule_set_iif(out, r.iif.c_str());
}

}  // namespace

Result<std::vector<RuleInfo>> Netlink::rules() {
  CachePtr cache;
  int err = rtnl_rule_alloc_cache(sock_, AF_INET, &cache.p);
  if (err < 0) return nlError("list rules", err);
  std::vector<RuleInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_rule*>(o);
    // The cache holds IPv6 rules too, whatever family it was asked for: IPv6's
    // `0: lookup local` made addRule({0, "", 255}) find "its" rule and add nothing.
    if (rtnl_rule_get_family(r) != AF_INET) continue;
    if (rtnl_rule_get_action(r) != FR_ACT_TO_TBL) continue;
    const char* iif = rtnl_rule_get_iif(r);
    out.push_back({rtnl_rule_get_prio(r), iif ? iif : "", rtnl_rule_get_table(r)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Netlink::addRule(const RuleInfo& rule) {
  LP_ASSIGN_OR_RETURN(auto have, rules());
  if (std::find(have.begin(), have.end(), rule) != have.end()) return Status::Ok();
  RulePtr r;
  fill(r.p, rule);
  int err = rtnl_rule_add(sock_, r.p, NLM_F_CREATE);
  if (err < 0) return nlError(describe(rule), err);
  return Status::Ok();
}

Status Netlink::deleteRule(const RuleInfo& rule) {
  LP_ASSIGN_OR_RETURN(auto have, rules());
  if (std::find(have.begin(), have.end(), rule) == have.end()) return Status::Ok();
  RulePtr r;
  fill(r.p, rule);
  int err = rtnl_rule_delete(sock_, r.p, 0);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND) return nlError("delete " + describe(rule), err);
  return Status::Ok();
}

Result<std::vector<RouteInfo>> Netlink::routes(uint32_t table) {
  CachePtr cache;
  int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &cache.p);
  if (err < 0) return nlError("list routes", err);
  LP_ASSIGN_OR_RETURN(auto all, links());
  std::vector<RouteInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_family(r) != AF_INET) continue;  // as for rules: not only what was asked for
    if (rtnl_route_get_table(r) != table) continue;
    RouteInfo info;
    info.table = table;
    nl_addr* dst = rtnl_route_get_dst(r);
    info.dst = dst && nl_addr_get_len(dst) == 4 ? formatAddr(dst, true) : "0.0.0.0/0";
    info.blackhole = rtnl_route_get_type(r) == RTN_BLACKHOLE;
    if (rtnl_route_get_nnexthops(r) >= 1) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      if (nl_addr* gw = rtnl_route_nh_get_gateway(nh)) info.via = formatAddr(gw, false);
      int ifindex = rtnl_route_nh_get_ifindex(nh);
      for (const auto& l : all) {
        if (l.index == ifindex) info.device = l.name;
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Netlink::replaceRoute(const RouteInfo& route) {
  LP_ASSIGN_OR_RETURN(auto dst, parseAddr(route.dst));
  RoutePtr r;
  rtnl_route_set_family(r.p, AF_INET);
  rtnl_route_set_table(r.p, route.table);
  rtnl_route_set_dst(r.p, dst.p);
  if (route.blackhole) {
    rtnl_route_set_type(r.p, RTN_BLACKHOLE);
  } else {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!route.via.empty()) {
      LP_ASSIGN_OR_RETURN(auto gw, parseAddr(route.via));
      rtnl_route_nh_set_gateway(nh, gw.p);
    }
    if (!route.device.empty()) {
      auto info = link(route.device);
      if (!info.ok()) {
        rtnl_route_nh_free(nh);
        return info.status();
      }
      rtnl_route_nh_set_ifindex(nh, info->index);
    }
    rtnl_route_add_nexthop(r.p, nh);
  }
  int err = rtnl_route_add(sock_, r.p, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0) return nlError("route " + route.dst + " in table " + std::to_string(route.table), err);
  return Status::Ok();
}

Status Netlink::deleteRoute(uint32_t table, const std::string& dst) {
  LP_ASSIGN_OR_RETURN(auto d, parseAddr(dst));
  LP_ASSIGN_OR_RETURN(auto have, routes(table));
  auto it = std::find_if(have.begin(), have.end(), [&](const RouteInfo& r) { return r.dst == dst; });
  if (it == have.end()) return Status::Ok();
  RoutePtr r;
  // The kernel matches the type when one is given, and libnl gives unicast.
  if (it->blackhole) rtnl_route_set_type(r.p, RTN_BLACKHOLE);
  rtnl_route_set_family(r.p, AF_INET);
  rtnl_route_set_table(r.p, table);
  rtnl_route_set_dst(r.p, d.p);
  rtnl_route_set_scope(r.p, RT_SCOPE_NOWHERE);  // any scope: match on table and destination
  int err = rtnl_route_delete(sock_, r.p, 0);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR) {
    return nlError("delete route " + dst + " in table " + std::to_string(table), err);
  }
  return Status::Ok();
}

}  // namespace lp::net
