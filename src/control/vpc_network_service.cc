#include "control/vpc_network_service.h"

#include <algorithm>

#include "model/cidr.h"
#include "model/elb.h"

namespace lp::control {

using model::NetworkAcl;
using model::NetworkAclEntry;
using model::RouteTable;
using model::Subnet;
using model::Vpc;

namespace {

std::vector<std::string> one(std::string s) { return {std::move(s)}; }
std::string boolStr(bool b) { return b ? "true" : "false"; }

const FilterSpec<RouteTable>& routeTableFilters() {
  static const FilterSpec<RouteTable> spec = [] {
    FilterSpec<RouteTable> s;
    auto assoc = [](auto field) {
      return [field](const RouteTable& r) {
        std::vector<std::string> out;
        for (const auto& a : r.associations) out.push_back(field(r, a));
        return out;
      };
    };
    auto route = [](auto field) {
      return [field](const RouteTable& r) {
        std::vector<std::string> out;
        for (const auto& x : r.routes) out.push_back(field(x));
        return out;
      };
    };
    using A = model::RouteTableAssociation;
    s.add("route-table-id", [](const RouteTable& r) { return one(r.id.str()); })
        .add("vpc-id", [](const RouteTable& r) { return one(r.vpcId.str()); })
        .add("owner-id", [](const RouteTable& r) { return one(r.ownerId); })
        .add("association.main", assoc([](const RouteTable&, const A& a) { return boolStr(a.main); }))
        .add("association.route-table-association-id", assoc([](const RouteTable&, const A& a) { return a.id.str(); }))
        .add("association.route-table-id", assoc([](const RouteTable& r, const A&) { return r.id.str(); }))
        .add("association.subnet-id", assoc([](const RouteTable&, const A& a) { return a.subnetId.str(); }))
        .add("association.gateway-id", [](const RouteTable&) { return std::vector<std::string>{}; })
        .add("route.destination-cidr-block", route([](const model::Route& x) { return x.destinationCidrBlock; }))
        .add("route.gateway-id", route([](const model::Route& x) { return x.gatewayId; }))
        .add("route.instance-id", route([](const model::Route& x) { return x.instanceId.str(); }))
        .add("route.network-interface-id", route([](const model::Route& x) { return x.networkInterfaceId.str(); }))
        .add("route.origin", route([](const model::Route& x) { return x.origin; }))
        .add("route.state", route([](const model::Route& x) { return x.state; }));
    return s;
  }();
  return spec;
}

const FilterSpec<NetworkAcl>& networkAclFilters() {
  static const FilterSpec<NetworkAcl> spec = [] {
    FilterSpec<NetworkAcl> s;
    auto entry = [](auto field) {
      return [field](const NetworkAcl& a) {
        std::vector<std::string> out;
        for (const auto& e : a.entries)
          if (auto v = field(e); !v.empty()) out.push_back(v);
        return out;
      };
    };
    auto num = [](int v) { return std::to_string(v); };
    s.add("network-acl-id", [](const NetworkAcl& a) { return one(a.id.str()); })
        .add("vpc-id", [](const NetworkAcl& a) { return one(a.vpcId.str()); })
        .add("owner-id", [](const NetworkAcl& a) { return one(a.ownerId); })
        .add("default", [](const NetworkAcl& a) { return one(boolStr(a.isDefault)); })
        .add("association.association-id",
             [](const NetworkAcl& a) {
               std::vector<std::string> out;
               for (const auto& x : a.associations) out.push_back(x.id.str());
               return out;
             })
        .add("association.network-acl-id",
             [](const NetworkAcl& a) { return a.associations.empty() ? std::vector<std::string>{} : one(a.id.str()); })
        .add("association.subnet-id",
             [](const NetworkAcl& a) {
               std::vector<std::string> out;
               for (const auto& x : a.associations) out.push_back(x.subnetId.str());
               return out;
             })
        .add("entry.cidr", entry([](const NetworkAclEntry& e) { return e.cidrBlock; }))
        .add("entry.egress", entry([](const NetworkAclEntry& e) { return boolStr(e.egress); }))
        .add("entry.protocol", entry([](const NetworkAclEntry& e) { return e.protocol; }))
        .add("entry.rule-action", entry([](const NetworkAclEntry& e) { return e.ruleAction; }))
        .add("entry.rule-number", entry([&](const NetworkAclEntry& e) { return std::to_string(e.ruleNumber); }))
        .add("entry.port-range.from",
             entry([num](const NetworkAclEntry& e) { return e.hasPortRange() ? num(e.fromPort) : ""; }))
        .add("entry.port-range.to",
             entry([num](const NetworkAclEntry& e) { return e.hasPortRange() ? num(e.toPort) : ""; }))
        .add("entry.icmp.type", entry([num](const NetworkAclEntry& e) { return e.hasIcmp() ? num(e.icmpType) : ""; }))
        .add("entry.icmp.code", entry([num](const NetworkAclEntry& e) { return e.hasIcmp() ? num(e.icmpCode) : ""; }))
        .add("entry.ipv6-cidr", [](const NetworkAcl&) { return std::vector<std::string>{}; });
    return s;
  }();
  return spec;
}

Status vpcDependency(const Vpc& vpc) {
  return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpc.id.str());
}

// The ACL or route table of the caller's that holds an association id, by
// visiting the caller's objects of that kind (few per account).
template <typename R>
std::optional<R> holderOfAssociation(const View& v, const CallContext& call, const std::string& associationId) {
  std::optional<R> found;
  v.forEachIndexed<R>(index::kOwner, call.account, [&](const R& r) {
    for (const auto& a : r.associations)
      if (a.id.str() == associationId) found = r;
    return !found;
  });
  return found;
}

// AWS's protocol spellings for an ACL entry: "-1"/"all", an IANA number, or tcp/udp/icmp.
std::optional<std::string> normalizeAclProtocol(const std::string& p) {
  if (p == "-1" || p == "all") return "-1";
  if (p == "tcp") return "6";
  if (p == "udp") return "17";
  if (p == "icmp") return "1";
  if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int n = std::stoi(p);
  if (n > 255) return std::nullopt;
  return std::to_string(n);
}

void sortEntries(std::vector<NetworkAclEntry>& entries) {
  std::sort(entries.begin(), entries.end(), [](const NetworkAclEntry& a, const NetworkAclEntry& b) {
    return std::pair(a.egress, a.ruleNumber) < std::pair(b.egress, b.ruleNumber);
  });
}

Result<NetworkAclEntry> validateEntry(const AclEntryInput& in) {
  if (!in.ruleNumber) return err::missing("ruleNumber");
  if (!in.egress) return err::missing("egress");
  if (in.protocol.empty()) return err::missing("protocol");
  if (in.ruleAction.empty()) return err::missing("ruleAction");
  if (*in.ruleNumber < model::kAclMinRule || *in.ruleNumber > model::kAclMaxRule)
    return err::badValue("ruleNumber", std::to_string(*in.ruleNumber), "The rule number must be between 1 and 32766.");
  if (in.ruleAction != "allow" && in.ruleAction != "deny") return err::badValue("ruleAction", in.ruleAction);
  if (!in.ipv6CidrBlock.empty())
    return err::make(err::kInvalidParameterValue, "IPv6 CIDR blocks are not supported here (IPv4 only).");
  if (in.cidrBlock.empty()) return err::missing("cidrBlock");
  auto cidr = model::Cidr::parse(in.cidrBlock);
  if (!cidr) return err::badValue("cidrBlock", in.cidrBlock, "This is not a valid CIDR block.");
  auto proto = normalizeAclProtocol(in.protocol);
  if (!proto) return err::make(err::kInvalidParameterValue, "Invalid value '{}' for protocol.", in.protocol);
  NetworkAclEntry e;
  e.ruleNumber = static_cast<int>(*in.ruleNumber);
  e.egress = *in.egress;
  e.protocol = *proto;
  e.ruleAction = in.ruleAction;
  e.cidrBlock = cidr->toString();
  if (e.protocol == "6" || e.protocol == "17") {
    if (!in.fromPort || !in.toPort) return err::missing("portRange");
    if (*in.fromPort < 0 || *in.fromPort > 65535 || *in.toPort < 0 || *in.toPort > 65535 || *in.fromPort > *in.toPort)
      return err::make(err::kInvalidParameterValue, "Invalid port range {}-{}.", *in.fromPort, *in.toPort);
    e.fromPort = static_cast<int>(*in.fromPort);
    e.toPort = static_cast<int>(*in.toPort);
  } else if (e.protocol == "1") {
    if (!in.icmpType || !in.icmpCode) return err::missing("icmpTypeCode");
    if (*in.icmpType < -1 || *in.icmpType > 255 || *in.icmpCode < -1 || *in.icmpCode > 255)
      return err::make(err::kInvalidParameterValue, "Invalid ICMP type {} or code {}.", *in.icmpType, *in.icmpCode);
    e.icmpType = static_cast<int>(*in.icmpType);
    e.icmpCode = static_cast<int>(*in.icmpCode);
  }
  return e;
}

Status checkTagsAndToken(const std::vector<TagSpecification>& specs, std::string_view type, model::Tags& tags) {
  LP_ASSIGN_OR_RETURN(tags, tagsFromSpecs(specs, type));
  return Status::Ok();
}

}  // namespace

// ---- lifecycle hooks ----

void createVpcNetworkDefaults(Txn& t, ControlContext& ctx, const Vpc& vpc) {
  RouteTable rt;
  rt.id = model::RouteTableId::generate(ctx.random);
  rt.ownerId = vpc.ownerId;
  rt.vpcId = vpc.id;
  rt.routes.push_back(model::localRoute(vpc.cidrBlock));
  rt.associations.push_back({model::RouteTableAssociationId::generate(ctx.random), true, {}});
  rt.createdAt = vpc.createdAt;
  t.put(rt);
  NetworkAcl acl;
  acl.id = model::NetworkAclId::generate(ctx.random);
  acl.ownerId = vpc.ownerId;
  acl.vpcId = vpc.id;
  acl.isDefault = true;
  acl.entries = model::initialAclEntries(true);
  acl.createdAt = vpc.createdAt;
  t.put(acl);
}

Status checkVpcNetworkDependencies(const View& v, const Vpc& vpc) {
  if (v.anyIndexed<RouteTable>(index::kVpc, vpc.id.str(), [](const RouteTable& r) { return !r.isMain(); }))
    return vpcDependency(vpc);
  if (v.anyIndexed<NetworkAcl>(index::kVpc, vpc.id.str(), [](const NetworkAcl& a) { return !a.isDefault; }))
    return vpcDependency(vpc);
  // Load balancers are checked apart from their node interfaces: one being deleted
  // has no nodes left but is still inside the VPC.
  if (v.anyIndexed<model::LoadBalancer>(index::kOwner, vpc.ownerId,
                                        [&](const model::LoadBalancer& l) { return l.vpcId == vpc.id; }))
    return vpcDependency(vpc);
  return Status::Ok();
}

void eraseVpcNetworkDefaults(Txn& t, const Vpc& vpc) {
  for (const auto& r : t.listIndexed<RouteTable>(index::kVpc, vpc.id.str())) t.erase<RouteTable>(r.id);
  for (const auto& a : t.listIndexed<NetworkAcl>(index::kVpc, vpc.id.str())) t.erase<NetworkAcl>(a.id);
}

void associateSubnetWithDefaultAcl(Txn& t, ControlContext& ctx, const Subnet& subnet) {
  auto acls =
      t.listIndexed<NetworkAcl>(index::kVpc, subnet.vpcId.str(), [](const NetworkAcl& a) { return a.isDefault; });
  if (acls.empty()) return;  // a VPC made before route tables and ACLs existed
  NetworkAcl& acl = acls.front();
  acl.associations.push_back({model::NetworkAclAssociationId::generate(ctx.random), subnet.id});
  t.put(acl);
}

void dropSubnetAssociations(Txn& t, const model::SubnetId& subnet) {
  for (auto r : t.listIndexed<RouteTable>(index::kSubnet, subnet.str())) {
    std::erase_if(r.associations, [&](const auto& a) { return a.subnetId == subnet; });
    t.put(r);
  }
  for (auto a : t.listIndexed<NetworkAcl>(index::kSubnet, subnet.str())) {
    std::erase_if(a.associations, [&](const auto& x) { return x.subnetId == subnet; });
    t.put(a);
  }
}

Status addMissingVpcNetworkDefaults(ControlContext& ctx) {
  std::vector<Vpc> missing;
  ctx.store.read([&](const store::ReadView& r) {
    View v(r);
    v.forEachOf<Vpc>([&](const Vpc& vpc) {
      if (v.count<RouteTable>(index::kVpc, vpc.id.str()) == 0) missing.push_back(vpc);
      return true;
    });
  });
  for (const auto& vpc : missing) {
    LP_RETURN_IF_ERROR(ctx.store.update([&](store::WriteTxn& w) -> Status {
      Txn t(w);
      if (!t.get<Vpc>(vpc.id) || t.count<RouteTable>(index::kVpc, vpc.id.str()) > 0) return Status::Ok();
      createVpcNetworkDefaults(t, ctx, vpc);
      for (const auto& s : t.listIndexed<Subnet>(index::kVpc, vpc.id.str())) associateSubnetWithDefaultAcl(t, ctx, s);
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

// ---- route tables ----

Result<RouteTable> VpcNetworkService::createRouteTable(const CallContext& call, const CreateInVpcInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  model::Tags tags;
  LP_RETURN_IF_ERROR(checkTagsAndToken(in.tagSpecs, "route-table", tags));
  RouteTable out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<RouteTable>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        if (prior.front().vpcId != vpc.id)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token you have provided is associated with a resource that is already deleted "
                           "or has different parameters.");
        out = prior.front();
        return Status::Ok();
      }
    }
    if (t.count<RouteTable>(index::kVpc, vpc.id.str()) >= ctx_.limits().routeTablesPerVpc)
      return err::make(err::kRouteTableLimitExceeded, "The maximum number of route tables has been reached.");
    if (call.dryRun) return err::dryRun();
    out.id = model::RouteTableId::generate(ctx_.random);
    out.ownerId = call.account;
    out.vpcId = vpc.id;
    for (const auto& c : model::associatedCidrs(vpc)) out.routes.push_back(model::localRoute(c));
    out.clientToken = in.clientToken;
    out.createdAt = nowIso(ctx_);
    out.tags = tags;
    t.put(out);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<RouteTable>> VpcNetworkService::describeRouteTables(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(routeTableFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 100));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::RouteTableId>(id))
      return err::make(err::kRouteTableMalformed, "Invalid id: \"{}\"", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<RouteTable>> out = Page<RouteTable>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto rt = v.get<RouteTable>(id);
      if (!rt || rt->ownerId != call.account) {
        out = err::make(err::kRouteTableNotFound, "The routeTable ID '{}' does not exist", id);
        return;
      }
    }
    out = paginateInOrder<RouteTable>(
        in.page, [](const RouteTable& x) -> const std::string& { return x.id.str(); },
        [&](std::string_view from, const std::function<bool(RouteTable)>& take) {
          v.forEachOwned<RouteTable>(call.account, in.ids, from, [&](const RouteTable& stored) {
            RouteTable x = stored;
            for (auto& route : x.routes) route.state = routeState(v, route);
            return !routeTableFilters().matches(x, in.filters) || take(std::move(x));
          });
        },
        100);
  });
  return out;
}

Result<RouteTableAssociationResult> VpcNetworkService::associateRouteTable(const CallContext& call,
                                                                           const std::string& routeTableId,
                                                                           const std::string& subnetId) {
  if (routeTableId.empty()) return err::missing("RouteTableId");
  if (subnetId.empty()) return err::missing("SubnetId");
  RouteTableAssociationResult out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(RouteTable rt, findOwned<RouteTable>(t, call, routeTableId, err::kRouteTableMalformed,
                                                             err::kRouteTableNotFound, "routeTable ID"));
    LP_ASSIGN_OR_RETURN(Subnet s,
                        findOwned<Subnet>(t, call, subnetId, err::kSubnetMalformed, err::kSubnetNotFound, "subnet ID"));
    if (s.vpcId != rt.vpcId)
      return err::make(err::kInvalidParameterValue, "Route table {} and subnet {} belong to different networks",
                       routeTableId, subnetId);
    if (t.count<RouteTable>(index::kSubnet, s.id.str()) > 0)
      return err::make(err::kResourceAlreadyAssociated,
                       "the specified association for route table {} conflicts with "
                       "an existing association",
                       routeTableId);
    if (call.dryRun) return err::dryRun();
    model::RouteTableAssociation a{model::RouteTableAssociationId::generate(ctx_.random), false, s.id};
    rt.associations.push_back(a);
    t.put(rt);
    out.associationId = a.id.str();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status VpcNetworkService::disassociateRouteTable(const CallContext& call, const std::string& associationId) {
  if (associationId.empty()) return err::missing("AssociationId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto rt = holderOfAssociation<RouteTable>(t, call, associationId);
    if (!rt) return err::make(err::kAssociationNotFound, "The association ID '{}' does not exist", associationId);
    auto it = std::find_if(rt->associations.begin(), rt->associations.end(),
                           [&](const auto& a) { return a.id.str() == associationId; });
    if (it->main)
      return err::make(err::kInvalidParameterValue, "cannot disassociate the main route table association {}",
                       associationId);
    if (call.dryRun) return err::dryRun();
    rt->associations.erase(it);
    t.put(*rt);
    return Status::Ok();
  });
}

Result<RouteTableAssociationResult> VpcNetworkService::replaceRouteTableAssociation(const CallContext& call,
                                                                                    const std::string& associationId,
                                                                                    const std::string& routeTableId) {
  if (associationId.empty()) return err::missing("AssociationId");
  if (routeTableId.empty()) return err::missing("RouteTableId");
  RouteTableAssociationResult out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(RouteTable to, findOwned<RouteTable>(t, call, routeTableId, err::kRouteTableMalformed,
                                                             err::kRouteTableNotFound, "routeTable ID"));
    auto from = holderOfAssociation<RouteTable>(t, call, associationId);
    if (!from) return err::make(err::kAssociationNotFound, "The association ID '{}' does not exist", associationId);
    if (from->vpcId != to.vpcId)
      return err::make(err::kInvalidParameterValue, "Route table {} and association {} belong to different networks",
                       routeTableId, associationId);
    if (call.dryRun) return err::dryRun();
    auto it = std::find_if(from->associations.begin(), from->associations.end(),
                           [&](const auto& a) { return a.id.str() == associationId; });
    model::RouteTableAssociation moved = *it;
    moved.id = model::RouteTableAssociationId::generate(ctx_.random);
    from->associations.erase(it);
    if (from->id == to.id) {
      to.associations = from->associations;
    } else {
      t.put(*from);
    }
    to.associations.push_back(moved);
    t.put(to);
    out.associationId = moved.id.str();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status VpcNetworkService::deleteRouteTable(const CallContext& call, const std::string& routeTableId) {
  if (routeTableId.empty()) return err::missing("RouteTableId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(RouteTable rt, findOwned<RouteTable>(t, call, routeTableId, err::kRouteTableMalformed,
                                                             err::kRouteTableNotFound, "routeTable ID"));
    if (!rt.associations.empty())
      return err::make(err::kDependencyViolation, "The routeTable '{}' has dependencies and cannot be deleted.",
                       routeTableId);
    if (call.dryRun) return err::dryRun();
    t.erase<RouteTable>(rt.id);
    return Status::Ok();
  });
}

// ---- network ACLs ----

Result<NetworkAcl> VpcNetworkService::createNetworkAcl(const CallContext& call, const CreateInVpcInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  model::Tags tags;
  LP_RETURN_IF_ERROR(checkTagsAndToken(in.tagSpecs, "network-acl", tags));
  NetworkAcl out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<NetworkAcl>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        if (prior.front().vpcId != vpc.id)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token you have provided is associated with a resource that is already deleted "
                           "or has different parameters.");
        out = prior.front();
        return Status::Ok();
      }
    }
    if (t.count<NetworkAcl>(index::kVpc, vpc.id.str()) >= ctx_.limits().networkAclsPerVpc)
      return err::make(err::kNetworkAclLimitExceeded, "The maximum number of network ACLs has been reached.");
    if (call.dryRun) return err::dryRun();
    out.id = model::NetworkAclId::generate(ctx_.random);
    out.ownerId = call.account;
    out.vpcId = vpc.id;
    out.entries = model::initialAclEntries(false);
    out.clientToken = in.clientToken;
    out.createdAt = nowIso(ctx_);
    out.tags = tags;
    t.put(out);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<NetworkAcl>> VpcNetworkService::describeNetworkAcls(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(networkAclFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 100));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::NetworkAclId>(id))
      return err::make(err::kNetworkAclMalformed, "Invalid id: \"{}\"", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<NetworkAcl>> out = Page<NetworkAcl>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto a = v.get<NetworkAcl>(id);
      if (!a || a->ownerId != call.account) {
        out = err::make(err::kNetworkAclNotFound, "The networkAcl ID '{}' does not exist", id);
        return;
      }
    }
    out = paginateInOrder<NetworkAcl>(
        in.page, [](const NetworkAcl& x) -> const std::string& { return x.id.str(); },
        [&](std::string_view from, const std::function<bool(NetworkAcl)>& take) {
          v.forEachOwned<NetworkAcl>(call.account, in.ids, from, [&](const NetworkAcl& x) {
            return !networkAclFilters().matches(x, in.filters) || take(x);
          });
        },
        100);
  });
  return out;
}

Status VpcNetworkService::createNetworkAclEntry(const CallContext& call, const AclEntryInput& in) {
  return changeEntry(call, in, false);
}

Status VpcNetworkService::replaceNetworkAclEntry(const CallContext& call, const AclEntryInput& in) {
  return changeEntry(call, in, true);
}

Status VpcNetworkService::changeEntry(const CallContext& call, const AclEntryInput& in, bool replace) {
  if (in.networkAclId.empty()) return err::missing("networkAclId");
  LP_ASSIGN_OR_RETURN(NetworkAclEntry entry, validateEntry(in));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkAcl acl, findOwned<NetworkAcl>(t, call, in.networkAclId, err::kNetworkAclMalformed,
                                                              err::kNetworkAclNotFound, "networkAcl ID"));
    auto it = std::find_if(acl.entries.begin(), acl.entries.end(), [&](const NetworkAclEntry& e) {
      return e.egress == entry.egress && e.ruleNumber == entry.ruleNumber;
    });
    if (replace && it == acl.entries.end())
      return err::make(err::kNetworkAclEntryNotFound, "The network acl entry identified by {} could not be found.",
                       entry.ruleNumber);
    if (!replace && it != acl.entries.end())
      return err::make(err::kNetworkAclEntryAlreadyExists, "The network acl entry identified by {} already exists.",
                       entry.ruleNumber);
    if (!replace) {
      auto inDirection = std::count_if(acl.entries.begin(), acl.entries.end(), [&](const NetworkAclEntry& e) {
        return e.egress == entry.egress && e.ruleNumber != model::kAclDefaultRule;
      });
      if (inDirection >= ctx_.limits().networkAclEntriesPerDirection)
        return err::make(err::kNetworkAclEntryLimitExceeded,
                         "The maximum number of network ACL entries has been "
                         "reached.");
    }
    if (call.dryRun) return err::dryRun();
    if (replace) {
      *it = entry;
    } else {
      acl.entries.push_back(entry);
      sortEntries(acl.entries);
    }
    t.put(acl);
    return Status::Ok();
  });
}

Status VpcNetworkService::deleteNetworkAclEntry(const CallContext& call, const std::string& networkAclId,
                                                std::optional<int64_t> ruleNumber, std::optional<bool> egress) {
  if (networkAclId.empty()) return err::missing("networkAclId");
  if (!ruleNumber) return err::missing("ruleNumber");
  if (!egress) return err::missing("egress");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkAcl acl, findOwned<NetworkAcl>(t, call, networkAclId, err::kNetworkAclMalformed,
                                                              err::kNetworkAclNotFound, "networkAcl ID"));
    auto it = std::find_if(acl.entries.begin(), acl.entries.end(), [&](const NetworkAclEntry& e) {
      return e.egress == *egress && e.ruleNumber == *ruleNumber && e.ruleNumber != model::kAclDefaultRule;
    });
    if (it == acl.entries.end())
      return err::make(err::kNetworkAclEntryNotFound, "The network acl entry identified by {} could not be found.",
                       *ruleNumber);
    if (call.dryRun) return err::dryRun();
    acl.entries.erase(it);
    t.put(acl);
    return Status::Ok();
  });
}

Result<std::string> VpcNetworkService::replaceNetworkAclAssociation(const CallContext& call,
                                                                    const std::string& associationId,
                                                                    const std::string& networkAclId) {
  if (associationId.empty()) return err::missing("associationId");
  if (networkAclId.empty()) return err::missing("networkAclId");
  std::string out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkAcl to, findOwned<NetworkAcl>(t, call, networkAclId, err::kNetworkAclMalformed,
                                                             err::kNetworkAclNotFound, "networkAcl ID"));
    auto from = holderOfAssociation<NetworkAcl>(t, call, associationId);
    if (!from) return err::make(err::kAssociationNotFound, "The association ID '{}' does not exist", associationId);
    if (from->vpcId != to.vpcId)
      return err::make(err::kInvalidParameterValue, "Network ACL {} and association {} belong to different networks",
                       networkAclId, associationId);
    if (call.dryRun) return err::dryRun();
    auto it = std::find_if(from->associations.begin(), from->associations.end(),
                           [&](const auto& a) { return a.id.str() == associationId; });
    model::NetworkAclAssociation moved{model::NetworkAclAssociationId::generate(ctx_.random), it->subnetId};
    from->associations.erase(it);
    if (from->id == to.id) {
      to.associations = from->associations;
    } else {
      t.put(*from);
    }
    to.associations.push_back(moved);
    t.put(to);
    out = moved.id.str();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status VpcNetworkService::deleteNetworkAcl(const CallContext& call, const std::string& networkAclId) {
  if (networkAclId.empty()) return err::missing("networkAclId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkAcl acl, findOwned<NetworkAcl>(t, call, networkAclId, err::kNetworkAclMalformed,
                                                              err::kNetworkAclNotFound, "networkAcl ID"));
    if (acl.isDefault)
      return err::make(err::kInvalidParameterValue, "cannot delete default network ACL {}", networkAclId);
    if (!acl.associations.empty())
      return err::make(err::kDependencyViolation, "The networkAcl '{}' has dependencies and cannot be deleted.",
                       networkAclId);
    if (call.dryRun) return err::dryRun();
    t.erase<NetworkAcl>(acl.id);
    return Status::Ok();
  });
}

}  // namespace lp::control
