#include "reconciler/host_plan.h"

#include <nlohmann/json.hpp>

#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/resources.h"
#include "model/security_group_rules.h"

namespace lp::reconciler {

namespace {

using nlohmann::json;

template <typename R>
std::vector<R> all(const store::ReadView& view) {
  std::vector<R> out;
  view.forEach(R::kKind, [&](const store::Object& o) {
    auto j = json::parse(o.body, nullptr, false);
    if (!j.is_discarded()) {
      try {
        out.push_back(j.get<R>());
      } catch (const json::exception&) {
        // A malformed record is skipped, never fatal to the whole host.
      }
    }
    return true;
  });
  return out;
}

std::string tail(const std::string& id, size_t n) { return id.size() <= n ? id : id.substr(id.size() - n); }

json match(json left, json right, const char* op = "==") {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}
json ipField(const char* field) { return {{"payload", {{"protocol", "ip"}, {"field", field}}}}; }

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
std::vector<json> protoMatches(const control::EffectiveRule& r) {
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
std::string ruleset(const std::string& resolver, const std::vector<control::InterfaceRules>& rules,
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
        if (json peers = peerSet(r.peers); !peers.is_null()) expr.push_back(match(ipField("daddr"), peers));
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
    }
  }
  // Egress first: a connection must be allowed out of its source and into its target.
  for (auto& j : ingressJumps) cmds.push_back(j);
  return json{{"nftables", cmds}}.dump();
}

}  // namespace

std::string bridgeName(const std::string& subnetId) { return "lp-br-" + tail(subnetId, 9); }
std::string vethName(const std::string& interfaceId) { return "lp-v" + tail(interfaceId, 11); }

HostPlan planHost(const store::ReadView& view) {
  HostPlan plan;
  auto vpcs = all<model::Vpc>(view);
  auto subnets = all<model::Subnet>(view);
  auto interfaces = all<model::NetworkInterface>(view);
  auto groups = all<model::SecurityGroup>(view);
  std::map<std::string, const model::Subnet*> subnetById;
  for (const auto& s : subnets) subnetById[s.id.str()] = &s;
  std::map<std::string, std::string> typeOf;
  for (const auto& i : interfaces) typeOf[i.id.str()] = i.interfaceType;
  auto rules = control::effectiveRules(groups, interfaces);

  for (const auto& v : vpcs) {
    auto vcidr = model::Cidr::parse(v.cidrBlock);
    if (!vcidr) continue;
    VpcPlan vp;
    vp.vpcId = v.id.str();
    vp.ns = "lp-" + vp.vpcId;
    std::string resolver = vcidr->at(2).toString();
    vp.resolverCidr = resolver + "/32";
    for (const auto& s : subnets) {
      if (s.vpcId != v.id) continue;
      auto c = model::Cidr::parse(s.cidrBlock);
      if (!c) continue;
      BridgePlan b;
      b.name = bridgeName(s.id.str());
      b.routerCidr = c->at(1).toString() + "/" + std::to_string(c->prefix);
      for (const auto& i : interfaces) {
        if (i.subnetId != s.id || i.privateIp.empty()) continue;
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
        } else {
          b.hostAddresses.push_back(i.privateIp + "/32");
        }
      }
      vp.bridges.push_back(std::move(b));
    }
    std::vector<control::InterfaceRules> mine;
    for (const auto& r : rules) {
      if (r.vpcId == v.id) mine.push_back(r);
    }
    vp.nftRuleset = ruleset(resolver, mine, typeOf);
    plan.vpcs.push_back(std::move(vp));
  }
  for (const auto& e : all<model::VpcEndpoint>(view)) {
    auto& need = plan.endpointInterfaces[e.id.str()];
    for (const auto& i : e.networkInterfaceIds) need.push_back(i.str());
  }
  return plan;
}

}  // namespace lp::reconciler
