#include "control/vpc_service.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "control/security_group_index.h"
#include "control/vpc_network_service.h"
#include "model/cidr.h"
#include "model/endpoint.h"
#include "model/instance.h"

namespace lp::control {

using model::SecurityGroup;
using model::Subnet;
using model::Vpc;

namespace {

// One field of every block in CidrBlockAssociationSet, the primary first.
std::vector<std::string> cidrAssociationValues(const Vpc& v, std::string model::VpcCidrAssociation::*field) {
  std::vector<std::string> out;
  out.push_back(model::VpcCidrAssociation{v.cidrAssociationId, v.cidrBlock, "associated", ""}.*field);
  for (const auto& a : v.secondaryCidrs) out.push_back(a.*field);
  return out;
}

// Disassociated blocks are described for a while only (pruned on the next write).
Vpc withoutExpiredCidrs(Vpc v, const ControlContext& ctx) {
  auto now = ctx.clock.now();
  std::erase_if(v.secondaryCidrs, [&](const model::VpcCidrAssociation& a) {
    if (a.state != "disassociated") return false;
    auto at = parseIso8601(a.changedAt);
    return !at || now - *at >= std::chrono::minutes(kDisassociatedCidrRetentionMinutes);
  });
  return v;
}

const FilterSpec<Vpc>& vpcFilters() {
  static const FilterSpec<Vpc> spec = [] {
    FilterSpec<Vpc> s;
    s.add("vpc-id", [](const Vpc& v) { return std::vector<std::string>{v.id.str()}; })
        .add("cidr", [](const Vpc& v) { return std::vector<std::string>{v.cidrBlock}; })
        .add("cidr-block-association.cidr-block",
             [](const Vpc& v) { return cidrAssociationValues(v, &model::VpcCidrAssociation::cidrBlock); })
        .add("cidr-block-association.association-id",
             [](const Vpc& v) { return cidrAssociationValues(v, &model::VpcCidrAssociation::associationId); })
        .add("cidr-block-association.state",
             [](const Vpc& v) { return cidrAssociationValues(v, &model::VpcCidrAssociation::state); })
        .add("dhcp-options-id", [](const Vpc& v) { return std::vector<std::string>{v.dhcpOptionsId}; })
        .add("is-default", [](const Vpc&) { return std::vector<std::string>{"false"}; })
        .add("owner-id", [](const Vpc& v) { return std::vector<std::string>{v.ownerId}; })
        .add("state", [](const Vpc& v) { return std::vector<std::string>{v.state}; });
    return s;
  }();
  return spec;
}

}  // namespace

SecurityGroup makeDefaultSecurityGroup(ControlContext& ctx, const Vpc& vpc) {
  SecurityGroup sg;
  sg.id = model::SecurityGroupId::generate(ctx.random);
  sg.ownerId = vpc.ownerId;
  sg.vpcId = vpc.id;
  sg.name = "default";
  sg.description = "default VPC security group";
  sg.isDefault = true;
  sg.createdAt = nowIso(ctx);
  // As in AWS: members of the group may reach each other; everything may leave.
  model::SecurityGroupRule in;
  in.id = model::SecurityGroupRuleId::generate(ctx.random);
  in.protocol = "-1";
  in.groupId = sg.id;
  in.groupOwnerId = sg.ownerId;
  model::SecurityGroupRule out;
  out.id = model::SecurityGroupRuleId::generate(ctx.random);
  out.egress = true;
  out.protocol = "-1";
  out.cidr = "0.0.0.0/0";
  sg.rules = {in, out};
  return sg;
}

Result<Vpc> VpcService::createVpc(const CallContext& call, const CreateVpcInput& in) {
  if (in.cidrBlock.empty()) return err::missing("CidrBlock");
  auto cidr = model::Cidr::parse(in.cidrBlock);
  if (!cidr) return err::badValue("cidrBlock", in.cidrBlock, "This is not a valid CIDR block.");
  if (cidr->prefix < 16 || cidr->prefix > 28) return err::make(err::kInvalidVpcRange, "The CIDR '{}' is invalid.", in.cidrBlock);
  if (!in.instanceTenancy.empty() && in.instanceTenancy != "default" && in.instanceTenancy != "dedicated" &&
      in.instanceTenancy != "host")
    return err::badValue("InstanceTenancy", in.instanceTenancy);
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "vpc"));

  Vpc vpc;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    if (t.count<Vpc>(index::kOwner, call.account) >= ctx_.limits().vpcsPerAccount)
      return err::make(err::kVpcLimitExceeded, "The maximum number of VPCs has been reached.");
    if (call.dryRun) return err::dryRun();
    vpc.id = model::VpcId::generate(ctx_.random);
    vpc.ownerId = call.account;
    vpc.cidrBlock = cidr->toString();
    vpc.cidrAssociationId = model::AssociationId::generate(ctx_.random).str();
    vpc.dhcpOptionsId = "dopt-" + ctx_.random.hex(17);
    vpc.instanceTenancy = in.instanceTenancy.empty() ? "default" : in.instanceTenancy;
    vpc.createdAt = nowIso(ctx_);
    vpc.tags = tags;
    SecurityGroup sg = makeDefaultSecurityGroup(ctx_, vpc);
    vpc.defaultSecurityGroupId = sg.id;
    t.put(vpc);
    t.put(sg);
    indexSecurityGroupName(t, sg);
    createVpcNetworkDefaults(t, ctx_, vpc);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return vpc;
}

Result<Page<Vpc>> VpcService::describeVpcs(const CallContext& call, const DescribeInput& in) {
  LP_RETURN_IF_ERROR(vpcFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::VpcId>(id)) return err::make(err::kVpcMalformed, "Invalid id: \"{}\"", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<Vpc>> out = Page<Vpc>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto vpc = v.get<Vpc>(id);
      if (!vpc || vpc->ownerId != call.account) {
        out = err::make(err::kVpcNotFound, "The vpc ID '{}' does not exist", id);
        return;
      }
    }
    out = paginateInOrder<Vpc>(
        in.page, [](const Vpc& x) -> const std::string& { return x.id.str(); },
        [&](std::string_view from, const std::function<bool(Vpc)>& take) {
          v.forEachOwned<Vpc>(call.account, in.ids, from, [&](const Vpc& stored) {
            Vpc x = withoutExpiredCidrs(stored, ctx_);
            return !vpcFilters().matches(x, in.filters) || take(std::move(x));
          });
        });
  });
  return out;
}

Status VpcService::deleteVpc(const CallContext& call, const std::string& vpcId) {
  if (vpcId.empty()) return err::missing("VpcId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    if (t.count<Subnet>(index::kVpc, vpc.id.str()) > 0)
      return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpcId);
    if (t.anyIndexed<SecurityGroup>(index::kVpc, vpc.id.str(), [](const SecurityGroup& g) { return !g.isDefault; }))
      return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpcId);
    if (t.count<model::NetworkInterface>(index::kVpc, vpc.id.str()) > 0)
      return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpcId);
    if (t.count<model::VpcEndpoint>(index::kVpcQuota, vpc.id.str()) > 0)
      return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpcId);
    // Instances until terminated (their primary interface is checked above too, but
    // one shutting down keeps the VPC until it is gone, as on AWS).
    if (t.anyIndexed<model::Instance>(index::kVpc, vpc.id.str(),
                                      [](const model::Instance& i) { return i.state != "terminated"; }))
      return err::make(err::kDependencyViolation, "The vpc '{}' has dependencies and cannot be deleted.", vpcId);
    LP_RETURN_IF_ERROR(checkVpcNetworkDependencies(t, vpc));
    if (call.dryRun) return err::dryRun();
    eraseVpcNetworkDefaults(t, vpc);
    if (auto sg = t.get<SecurityGroup>(vpc.defaultSecurityGroupId)) unindexSecurityGroupName(t, *sg);
    t.erase<SecurityGroup>(vpc.defaultSecurityGroupId);
    t.erase<Vpc>(vpc.id);
    return Status::Ok();
  });
}

Status VpcService::modifyVpcAttribute(const CallContext& call, const std::string& vpcId,
                                      std::optional<bool> dnsSupport, std::optional<bool> dnsHostnames,
                                      std::optional<bool> addressUsageMetrics) {
  if (vpcId.empty()) return err::missing("VpcId");
  std::vector<std::string> named;
  if (dnsSupport) named.push_back("enableDnsSupport");
  if (dnsHostnames) named.push_back("enableDnsHostnames");
  if (addressUsageMetrics) named.push_back("enableNetworkAddressUsageMetrics");
  if (named.size() > 1)
    return err::make(err::kInvalidParameterCombination, "Fields for multiple attribute types specified: {}",
                     fmt::join(named, ", "));
  if (named.empty())
    return err::make(err::kMissingParameter, "The request must contain exactly one attribute to modify.");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    if (dnsHostnames && *dnsHostnames && !vpc.enableDnsSupport)
      return err::make(err::kInvalidParameterValue,
                       "Cannot enable DNS hostnames when DNS resolution (enableDnsSupport) is disabled for the VPC.");
    if (call.dryRun) return err::dryRun();
    if (dnsSupport) {
      vpc.enableDnsSupport = *dnsSupport;
      if (!*dnsSupport) vpc.enableDnsHostnames = false;
    }
    if (dnsHostnames) vpc.enableDnsHostnames = *dnsHostnames;
    if (addressUsageMetrics) vpc.enableNetworkAddressUsageMetrics = *addressUsageMetrics;
    t.put(vpc);
    return Status::Ok();
  });
}

Result<VpcAttribute> VpcService::describeVpcAttribute(const CallContext& call, const std::string& vpcId,
                                                      const std::string& attribute) {
  if (vpcId.empty()) return err::missing("VpcId");
  if (attribute.empty()) return err::missing("Attribute");
  if (attribute != "enableDnsSupport" && attribute != "enableDnsHostnames" &&
      attribute != "enableNetworkAddressUsageMetrics")
    return err::badValue("Attribute", attribute);
  std::optional<Result<Vpc>> found;
  ctx_.store.read([&](const store::ReadView& r) {
    found = findOwned<Vpc>(View(r), call, vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID");
  });
  if (!found->ok()) return found->status();
  if (call.dryRun) return err::dryRun();
  const Vpc& vpc = found->value();
  bool value = attribute == "enableDnsSupport" ? vpc.enableDnsSupport
               : attribute == "enableDnsHostnames" ? vpc.enableDnsHostnames
                                                   : vpc.enableNetworkAddressUsageMetrics;
  return VpcAttribute{vpc.id, attribute, value};
}

}  // namespace lp::control
