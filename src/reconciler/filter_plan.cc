#include "reconciler/filter_plan.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "model/cidr.h"

namespace lp::reconciler {

namespace {

using nlohmann::json;

json match(json left, json right, const char* op = "==") {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}
json ipField(const char* field) { return {{"payload", {{"protocol", "ip"}, {"field", field}}}}; }
json l4proto() { return {{"meta", {{"key", "l4proto"}}}}; }
json verdict(const char* v) { return {{v, nullptr}}; }
json jump(const std::string& chain) { return {{"jump", {{"target", chain}}}}; }

// A CIDR as nft writes it: an address for /32, a prefix otherwise; null for /0.
json cidrValue(const model::Cidr& c) {
  if (c.prefix == 0) return nullptr;
  if (c.prefix == 32) return c.base.toString();
  return {{"prefix", {{"addr", c.base.toString()}, {"len", c.prefix}}}};
}

// A set of peers, or null when one of them is everything (no match needed).
json peerSet(const std::vector<std::string>& peers) {
  json set = json::array();
  for (const auto& p : peers) {
    auto c = model::Cidr::parse(p);
    if (!c) continue;
    if (c->prefix == 0) return nullptr;
    set.push_back(cidrValue(*c));
  }
  return {{"set", set}};
}

json portMatch(const char* proto, int from, int to) {
  json dport = {{"payload", {{"protocol", proto}, {"field", "dport"}}}};
  return match(dport, from == to ? json(from) : json{{"range", {from, to}}});
}

// Matches of one security group rule's protocol and ports ("-1" = all protocols).
std::vector<json> protoMatches(const model::EffectiveRule& r) {
  std::vector<json> out;
  if (r.protocol == "-1" || r.protocol == "all") return out;
  if (r.protocol == "tcp" || r.protocol == "udp") {
    out.push_back(match(l4proto(), r.protocol));
    if (r.fromPort >= 0 && !(r.fromPort <= 0 && r.toPort >= 65535)) {
      out.push_back(portMatch(r.protocol.c_str(), r.fromPort, r.toPort));
    }
  } else if (r.protocol == "icmp") {
    out.push_back(match(l4proto(), "icmp"));
    if (r.fromPort >= 0) out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "type"}}}}, r.fromPort));
    if (r.fromPort >= 0 && r.toPort >= 0) {
      out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "code"}}}}, r.toPort));
    }
  } else {
    try {
      out.push_back(match(l4proto(), std::stoi(r.protocol)));
    } catch (const std::exception&) {
      out.push_back(match(l4proto(), r.protocol));
    }
  }
  return out;
}

// Matches of one network ACL entry's protocol and ports. The port range is the
// destination port of the packet in the entry's direction, as on AWS.
std::vector<json> aclProtoMatches(const model::NetworkAclEntry& e) {
  std::vector<json> out;
  int proto = -1;
  try {
    proto = e.protocol == "all" ? -1 : std::stoi(e.protocol);
  } catch (const std::exception&) {
    proto = e.protocol == "tcp" ? 6 : e.protocol == "udp" ? 17 : e.protocol == "icmp" ? 1 : -1;
  }
  if (proto < 0) return out;
  if (proto == 6 || proto == 17) {
    const char* name = proto == 6 ? "tcp" : "udp";
    out.push_back(match(l4proto(), name));
    if (e.hasPortRange() && !(e.fromPort <= 0 && e.toPort >= 65535)) {
      out.push_back(portMatch(name, e.fromPort, e.toPort));
    }
  } else if (proto == 1) {
    out.push_back(match(l4proto(), "icmp"));
    if (e.hasIcmp() && e.icmpType >= 0) {
      out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "type"}}}}, e.icmpType));
      if (e.icmpCode >= 0) out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "code"}}}}, e.icmpCode));
    }
  } else {
    out.push_back(match(l4proto(), proto));
  }
  return out;
}

class Batch {
 public:
  explicit Batch(const char* family) : family_(family) {}
  // Empties (or makes) the table: add, delete, add, so the batch applies whether it existed or not.
  void resetTable(json& cmds) const {
    json table = {{"table", {{"family", family_}, {"name", kSgTable}}}};
    cmds.push_back({{"add", table}});
    cmds.push_back({{"delete", table}});
    cmds.push_back({{"add", table}});
  }
  json chain(const std::string& name) const {
    return {{"add", {{"chain", {{"family", family_}, {"table", kSgTable}, {"name", name}}}}}};
  }
  json baseChain(const std::string& name, const char* hook, int prio) const {
    return {{"add",
             {{"chain",
               {{"family", family_},
                {"table", kSgTable},
                {"name", name},
                {"type", "filter"},
                {"hook", hook},
                {"prio", prio},
                {"policy", "accept"}}}}}};
  }
  json rule(const std::string& chain, std::vector<json> expr) const {
    return {
        {"add", {{"rule", {{"family", family_}, {"table", kSgTable}, {"chain", chain}, {"expr", std::move(expr)}}}}}};
  }

 private:
  const char* family_;
};

// vmap KEY { value : jump chain, ... }, or nothing when empty.
void addVmap(json& cmds, const Batch& b, const std::string& chain, json key,
             const std::vector<std::pair<json, std::string>>& entries) {
  if (entries.empty()) return;
  json set = json::array();
  for (const auto& [value, target] : entries) set.push_back(json::array({value, jump(target)}));
  cmds.push_back(b.rule(chain, {{{"vmap", {{"key", std::move(key)}, {"data", {{"set", set}}}}}}}));
}

// One ACL direction as a chain: entries in rule-number order, allow = return (the
// next check runs), deny = drop; the final "*" rule denies.
void aclChain(json& cmds, const Batch& b, const std::string& name, const model::NetworkAcl& acl, bool egress) {
  cmds.push_back(b.chain(name));
  std::vector<const model::NetworkAclEntry*> entries;
  for (const auto& e : acl.entries) {
    if (e.egress == egress) entries.push_back(&e);
  }
  std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* z) { return a->ruleNumber < z->ruleNumber; });
  for (const auto* e : entries) {
    auto c = model::Cidr::parse(e->cidrBlock);
    if (!c) continue;  // an IPv6 entry: this data plane carries IPv4 only
    std::vector<json> expr;
    if (json v = cidrValue(*c); !v.is_null()) expr.push_back(match(ipField(egress ? "daddr" : "saddr"), v));
    for (auto& m : aclProtoMatches(*e)) expr.push_back(std::move(m));
    expr.push_back(verdict(e->ruleAction == "allow" ? "return" : "drop"));
    cmds.push_back(b.rule(name, std::move(expr)));
  }
  cmds.push_back(b.rule(name, {verdict("drop")}));
}

}  // namespace

std::string filterRuleset(const FilterInputs& in) {
  json cmds = json::array();
  const Batch inet("inet");
  const Batch bridge("bridge");

  // Workload ports: IPv4 and ARP only from the port's own address.
  bridge.resetTable(cmds);
  cmds.push_back(bridge.baseChain("prerouting", "prerouting", kSgBridgePriority));
  std::vector<std::pair<json, std::string>> portJumps;
  for (const auto& p : in.ports) {
    std::string c = "port-" + p.vethName;
    cmds.push_back(bridge.chain(c));
    if (p.sourceDestCheck)
      cmds.push_back(bridge.rule(c, {match(ipField("saddr"), p.privateIp, "!="), verdict("drop")}));
    cmds.push_back(bridge.rule(
        c, {match({{"payload", {{"protocol", "arp"}, {"field", "saddr ip"}}}}, p.privateIp, "!="), verdict("drop")}));
    portJumps.push_back({p.vethName, c});
  }
  addVmap(cmds, bridge, "prerouting", {{"meta", {{"key", "iifname"}}}}, portJumps);

  inet.resetTable(cmds);
  // prerouting: what workloads send into the VPC's router; output: what the
  // namespace itself sends (load balancer nodes to targets, endpoints' replies).
  cmds.push_back(inet.baseChain("prerouting", "prerouting", kSgInetPriority));
  cmds.push_back(inet.baseChain("output", "output", kSgInetPriority));
  cmds.push_back(inet.baseChain("postrouting", "postrouting", kSgTranslatedPriority));
  json dns = json{{"set", {"udp", "tcp"}}};
  json thPort = {{"payload", {{"protocol", "th"}, {"field", "dport"}}}};
  json thSport = {{"payload", {{"protocol", "th"}, {"field", "sport"}}}};
  cmds.push_back(inet.rule("prerouting", {match(ipField("daddr"), in.resolver), match(l4proto(), dns),
                                          match(thPort, 53), verdict("accept")}));
  cmds.push_back(inet.rule(
      "output", {match(ipField("saddr"), in.resolver), match(l4proto(), dns), match(thSport, 53), verdict("accept")}));

  // Network ACLs at subnet boundaries: outbound of the source's subnet first.
  std::map<std::string, bool> aclMade;
  std::vector<std::vector<json>> outJumps, inJumps;
  for (const auto& s : in.subnets) {
    auto acl = in.acls.find(s.aclId);
    auto c = model::Cidr::parse(s.cidr);
    if (acl == in.acls.end() || !c) continue;
    std::string out = "acl-out-" + s.aclId, inb = "acl-in-" + s.aclId;
    if (!aclMade[s.aclId]) {
      aclMade[s.aclId] = true;
      aclChain(cmds, inet, out, acl->second, true);
      aclChain(cmds, inet, inb, acl->second, false);
    }
    json net = cidrValue(*c);
    if (net.is_null()) continue;
    outJumps.push_back({match(ipField("saddr"), net), match(ipField("daddr"), net, "!="), jump(out)});
    inJumps.push_back({match(ipField("daddr"), net), match(ipField("saddr"), net, "!="), jump(inb)});
  }
  for (const char* base : {"prerouting", "output"}) {
    for (const auto& j : outJumps) cmds.push_back(inet.rule(base, j));
    for (const auto& j : inJumps) cmds.push_back(inet.rule(base, j));
    cmds.push_back(inet.rule(
        base, {match({{"ct", {{"key", "state"}}}}, json::array({"established", "related"}), "in"), verdict("accept")}));
  }

  // Security groups, for new connections: the source workload's egress rules
  // (allowed = return), then the destination's ingress rules (allowed = accept).
  std::vector<std::pair<json, std::string>> egressJumps, ingressJumps, workloadIngressJumps;
  for (const auto& ir : in.rules) {
    auto t = in.typeOf.find(ir.interfaceId.str());
    std::string type = t == in.typeOf.end() ? "" : t->second;
    bool workload = type == "interface";
    if (!workload && type != "vpc_endpoint" && type != "network_load_balancer") continue;
    if (workload) {
      std::string c = "eg-" + ir.interfaceId.str();
      cmds.push_back(inet.chain(c));
      for (const auto& r : ir.egress) {
        std::vector<json> expr;
        if (json peers = peerSet(r.peers); !peers.is_null()) expr.push_back(match(ipField("daddr"), peers));
        for (auto& m : protoMatches(r)) expr.push_back(m);
        expr.push_back(verdict("return"));
        cmds.push_back(inet.rule(c, expr));
      }
      cmds.push_back(inet.rule(c, {verdict("drop")}));
      egressJumps.push_back({ir.privateIp, c});
    }
    std::string c = "in-" + ir.interfaceId.str();
    cmds.push_back(inet.chain(c));
    // An endpoint's refused packets are counted (its PacketsDropped metric).
    std::vector<json> dropped = {verdict("drop")};
    if (type == "vpc_endpoint") {
      std::string counter = sgDropCounter(ir.interfaceId.str());
      cmds.push_back({{"add", {{"counter", {{"family", "inet"}, {"table", kSgTable}, {"name", counter}}}}}});
      dropped = {{{"counter", counter}}, verdict("drop")};
      // The data plane forwards TCP only: anything else to an endpoint gets nothing
      // (not even an ICMP unreachable), whatever the groups allow.
      std::vector<json> notTcp = {match(l4proto(), "tcp", "!=")};
      notTcp.insert(notTcp.end(), dropped.begin(), dropped.end());
      cmds.push_back(inet.rule(c, notTcp));
    }
    for (const auto& r : ir.ingress) {
      std::vector<json> expr;
      if (json peers = peerSet(r.peers); !peers.is_null()) expr.push_back(match(ipField("saddr"), peers));
      for (auto& m : protoMatches(r)) expr.push_back(m);
      expr.push_back(verdict("accept"));
      cmds.push_back(inet.rule(c, expr));
    }
    cmds.push_back(inet.rule(c, dropped));
    ingressJumps.push_back({ir.privateIp, c});
    if (workload) workloadIngressJumps.push_back({ir.privateIp, c});
  }
  addVmap(cmds, inet, "prerouting", ipField("saddr"), egressJumps);
  addVmap(cmds, inet, "prerouting", ipField("daddr"), ingressJumps);
  // Endpoints and nodes are local: only a workload is reached from the namespace.
  addVmap(cmds, inet, "output", ipField("daddr"), workloadIngressJumps);
  // A new connection the fast path translated (destination and source NAT done):
  // the target's ingress rules, against the node address it now comes from.
  if (!workloadIngressJumps.empty()) {
    json set = json::array();
    for (const auto& [value, target] : workloadIngressJumps) set.push_back(json::array({value, jump(target)}));
    cmds.push_back(inet.rule("postrouting", {match({{"ct", {{"key", "status"}}}}, "dnat", "in"),
                                             match({{"ct", {{"key", "state"}}}}, "new", "in"),
                                             {{"vmap", {{"key", ipField("daddr")}, {"data", {{"set", set}}}}}}}));
  }
  // Packets a route sends to a workload (route_plan.h): with its source/destination
  // check on, only those addressed to it (AWS drops the others at the interface);
  // new connections meet its ingress rules, as AWS's security groups judge what
  // reaches an interface whatever its destination. After routing, so by next hop.
  json nexthop = {{"rt", {{"key", "nexthop"}, {"family", "ip"}}}};
  json targetJumps = json::array();
  for (const auto& ir : in.rules) {
    auto t = in.routeTargets.find(ir.interfaceId.str());
    auto type = in.typeOf.find(ir.interfaceId.str());
    if (t == in.routeTargets.end() || type == in.typeOf.end() || type->second != "interface") continue;
    if (t->second) {
      cmds.push_back(inet.rule(
          "postrouting", {match(nexthop, ir.privateIp), match(ipField("daddr"), ir.privateIp, "!="), verdict("drop")}));
    }
    targetJumps.push_back(json::array({ir.privateIp, jump("in-" + ir.interfaceId.str())}));
  }
  if (!targetJumps.empty()) {
    cmds.push_back(inet.rule("postrouting", {match({{"ct", {{"key", "state"}}}}, "new", "in"),
                                             {{"vmap", {{"key", nexthop}, {"data", {{"set", targetJumps}}}}}}}));
  }
  return json{{"nftables", cmds}}.dump();
}

}  // namespace lp::reconciler
