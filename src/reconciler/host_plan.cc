#include "reconciler/host_plan.h"

#include <nlohmann/json.hpp>

#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/resources.h"
#include "model/security_group_rules.h"

namespace lp::reconciler {

namespace {

using nlohmann::json;

std::string tail(const std::string& id, size_t n) { return id.size() <= n ? id : id.substr(id.size() - n); }

json match(json left, json right, const char* op = "==") {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}
json ipField(const char* field) { return {{"payload", {{"protocol", "ip"}, {"field", field}}}}; }
// The destination a connection was opened to, before the kernel fast path
// translated it (dataplane/fastpath_plan.h): security groups apply before
// translation, so rules that name destinations match this, not `ip daddr`.
json originalDaddr() { return {{"ct", {{"key", "ip daddr"}, {"dir", "original"}}}}; }

// A set of peers, or null when one of them is everything (no match needed).
json peerSet(const std::vector<std::string>& peers) {
  json set = json::array();
  for (const auto& p : peers) {
    auto c = model::Cidr::parse(p);
    if (!c) continue;
    if (c->prefix == 0) return nullptr;
    if (c->prefix == 32) {
      set.push_back(c->base.toString());
    } else {
      set.push_back({{"prefix", {{"addr", c->base.toString()}, {"len", c->prefix}}}});
    }
  }
  return {{"set", set}};
}

// Matches of one rule's protocol and ports ("-1" = all protocols).
std::vector<json> protoMatches(const model::EffectiveRule& r) {
  std::vector<json> out;
  if (r.protocol == "-1" || r.protocol == "all") return out;
  json l4 = {{"meta", {{"key", "l4proto"}}}};
  if (r.protocol == "tcp" || r.protocol == "udp") {
    out.push_back(match(l4, r.protocol));
    if (r.fromPort >= 0 && !(r.fromPort <= 0 && r.toPort >= 65535)) {
      json dport = {{"payload", {{"protocol", r.protocol}, {"field", "dport"}}}};
      json right = r.fromPort == r.toPort ? json(r.fromPort) : json{{"range", {r.fromPort, r.toPort}}};
      out.push_back(match(dport, right));
    }
  } else if (r.protocol == "icmp") {
    out.push_back(match(l4, "icmp"));
    if (r.fromPort >= 0) out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "type"}}}}, r.fromPort));
    if (r.fromPort >= 0 && r.toPort >= 0) {
      out.push_back(match({{"payload", {{"protocol", "icmp"}, {"field", "code"}}}}, r.toPort));
    }
  } else {
    try {
      out.push_back(match(l4, std::stoi(r.protocol)));
    } catch (const std::exception&) {
      out.push_back(match(l4, r.protocol));
    }
  }
  return out;
}

json rule(const std::string& chain, std::vector<json> expr) {
  return {{"add", {{"rule", {{"family", "inet"}, {"table", kSgTable}, {"chain", chain}, {"expr", std::move(expr)}}}}}};
}
json chain(const std::string& name) {
  return {{"add", {{"chain", {{"family", "inet"}, {"table", kSgTable}, {"name", name}}}}}};
}
json baseChain(const std::string& name, const char* hook) {
  return {{"add",
           {{"chain",
             {{"family", "inet"},
              {"table", kSgTable},
              {"name", name},
              {"type", "filter"},
              {"hook", hook},
              {"prio", 0},
              {"policy", "accept"}}}}}};
}

// The VPC's security groups as one atomic batch replacing table inet lp-sg.
// New connections from a workload pass its egress chain (return = allowed, end =
// drop); new connections to an endpoint or LB node pass its ingress chain
// (accept = allowed, end = drop). Replies ride on conntrack. A refused SYN is
// dropped, so the client times out as in AWS.
std::string ruleset(const std::string& resolver, const std::vector<model::InterfaceRules>& rules,
                    const std::map<std::string, std::string>& typeOf) {
  json cmds = json::array();
  json table = {{"table", {{"family", "inet"}, {"name", kSgTable}}}};
  cmds.push_back({{"add", table}});
  cmds.push_back({{"delete", table}});
  cmds.push_back({{"add", table}});
  std::vector<json> hooks = {baseChain("input", "input"), baseChain("forward", "forward")};
  for (auto& h : hooks) cmds.push_back(h);
  for (const char* hook : {"input", "forward"}) {
    cmds.push_back(rule(hook, {match({{"ct", {{"key", "state"}}}}, json::array({"established", "related"}), "in"),
                               {{"accept", nullptr}}}));
  }
  // The VPC resolver answers everyone, as Route 53 Resolver does regardless of groups.
  cmds.push_back(rule("input", {match(ipField("daddr"), resolver),
                                match({{"meta", {{"key", "l4proto"}}}}, json{{"set", {"udp", "tcp"}}}),
                                match({{"payload", {{"protocol", "th"}, {"field", "dport"}}}}, 53),
                                {{"accept", nullptr}}}));
  std::vector<json> ingressJumps;
  for (const auto& ir : rules) {
    auto t = typeOf.find(ir.interfaceId.str());
    std::string type = t == typeOf.end() ? "" : t->second;
    if (type == "interface") {
      std::string c = "eg-" + ir.interfaceId.str();
      cmds.push_back(chain(c));
      for (const auto& r : ir.egress) {
        std::vector<json> expr;
        if (json peers = peerSet(r.peers); !peers.is_null()) expr.push_back(match(originalDaddr(), peers));
        for (auto& m : protoMatches(r)) expr.push_back(m);
        expr.push_back({{"return", nullptr}});
        cmds.push_back(rule(c, expr));
      }
      cmds.push_back(rule(c, {{{"drop", nullptr}}}));
      for (const char* hook : {"input", "forward"}) {
        cmds.push_back(rule(hook, {match(ipField("saddr"), ir.privateIp), {{"jump", {{"target", c}}}}}));
      }
    } else if (type == "vpc_endpoint" || type == "network_load_balancer") {
      std::string c = "in-" + ir.interfaceId.str();
      cmds.push_back(chain(c));
      // The data plane forwards TCP only: anything else to an endpoint gets nothing
      // (not even an ICMP unreachable), whatever the groups allow.
      if (type == "vpc_endpoint") {
        cmds.push_back(rule(c, {match({{"meta", {{"key", "l4proto"}}}}, "tcp", "!="), {{"drop", nullptr}}}));
      }
      for (const auto& r : ir.ingress) {
        std::vector<json> expr;
        if (json peers = peerSet(r.peers); !peers.is_null()) expr.push_back(match(ipField("saddr"), peers));
        for (auto& m : protoMatches(r)) expr.push_back(m);
        expr.push_back({{"accept", nullptr}});
        cmds.push_back(rule(c, expr));
      }
      cmds.push_back(rule(c, {{{"drop", nullptr}}}));
      ingressJumps.push_back(rule("input", {match(ipField("daddr"), ir.privateIp), {{"jump", {{"target", c}}}}}));
      // A connection the fast path translated is forwarded, not delivered: its
      // endpoint's groups are checked on the original destination.
      if (type == "vpc_endpoint") {
        ingressJumps.push_back(rule("forward", {match(originalDaddr(), ir.privateIp), {{"jump", {{"target", c}}}}}));
      }
    }
  }
  // Egress first: a connection must be allowed out of its source and into its target.
  for (auto& j : ingressJumps) cmds.push_back(j);
  return json{{"nftables", cmds}}.dump();
}

}  // namespace

std::string bridgeName(const std::string& subnetId) { return "lp-br-" + tail(subnetId, 9); }
std::string vethName(const std::string& interfaceId) { return "lp-v" + tail(interfaceId, 11); }

std::optional<VpcPlan> planVpc(const DesiredState& state, const std::string& vpcId) {
  const auto* v = DesiredState::find(state.vpcs(), vpcId);
  if (!v) return std::nullopt;
  auto vcidr = model::Cidr::parse(v->cidrBlock);
  if (!vcidr) return std::nullopt;
  // The VPC's own groups and interfaces: a group rule may only name groups of its VPC.
  std::vector<model::SecurityGroup> groups;
  for (const auto& id : state.groupsIn(vpcId)) {
    if (const auto* g = DesiredState::find(state.securityGroups(), id)) groups.push_back(*g);
  }
  std::vector<model::NetworkInterface> interfaces;
  std::map<std::string, std::string> typeOf;
  for (const auto& id : state.interfacesIn(vpcId)) {
    if (const auto* i = DesiredState::find(state.interfaces(), id)) {
      interfaces.push_back(*i);
      typeOf[id] = i->interfaceType;
    }
  }
  VpcPlan vp;
  vp.vpcId = vpcId;
  vp.ns = "lp-" + vp.vpcId;
  std::string resolver = vcidr->at(2).toString();
  vp.resolverCidr = resolver + "/32";
  for (const auto& sid : state.subnetsIn(vpcId)) {
    const auto* s = DesiredState::find(state.subnets(), sid);
    auto c = s ? model::Cidr::parse(s->cidrBlock) : std::nullopt;
    if (!c) continue;
    BridgePlan b;
    b.name = bridgeName(sid);
    b.routerCidr = c->at(1).toString() + "/" + std::to_string(c->prefix);
    bool ports = false;
    for (const auto& i : interfaces) {
      if (i.subnetId != s->id || i.privateIp.empty()) continue;
      vp.interfaceIds.push_back(i.id.str());
      if (i.interfaceType == "interface") {
        WorkloadPlan w;
        w.interfaceId = i.id.str();
        w.ns = "lp-" + w.interfaceId;
        w.vethName = vethName(w.interfaceId);
        w.bridge = b.name;
        w.cidr = i.privateIp + "/" + std::to_string(c->prefix);
        w.gateway = c->at(1).toString();
        w.resolver = resolver;
        vp.workloads.push_back(std::move(w));
        ports = true;
      } else {
        vp.hostAddresses.push_back(i.privateIp + "/32");
      }
    }
    if (ports) vp.bridges.push_back(std::move(b));
  }
  vp.nftRuleset = ruleset(resolver, model::effectiveRules(groups, interfaces), typeOf);
  return vp;
}

std::vector<std::string> endpointInterfaces(const DesiredState& state, const std::string& endpointId) {
  std::vector<std::string> out;
  if (const auto* e = DesiredState::find(state.endpoints(), endpointId)) {
    for (const auto& i : e->networkInterfaceIds) out.push_back(i.str());
  }
  return out;
}

HostPlan planHost(const store::ReadView& view) {
  DesiredState state;
  (void)state.load(view);
  HostPlan plan;
  for (const auto& [id, _] : state.vpcs()) {
    if (auto vp = planVpc(state, id)) plan.vpcs.push_back(std::move(*vp));
  }
  for (const auto& [id, _] : state.endpoints()) plan.endpointInterfaces[id] = endpointInterfaces(state, id);
  return plan;
}

}  // namespace lp::reconciler
