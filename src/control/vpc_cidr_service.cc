// Secondary IPv4 CIDR blocks of a VPC: AssociateVpcCidrBlock, DisassociateVpcCidrBlock.
//
// A block is usable as soon as it is associated: subnets may be made in it, every
// route table of the VPC has a local route for it, and the host needs nothing more
// (the VPC namespace routes to each subnet through that subnet's bridge, whatever
// block it is in; the resolver stays at the primary block's base+2).
#include <algorithm>
#include <array>

#include "control/vpc_service.h"
#include "model/cidr.h"
#include "model/network.h"

namespace lp::control {

using model::Cidr;
using model::RouteTable;
using model::Subnet;
using model::Vpc;
using model::VpcCidrAssociation;

namespace {

// The address ranges AWS's secondary-block rules are written in terms of.
enum class Range { kTen, kOneSevenTwo, kOneNineTwo, kOneNineEight, kOther, kNever };

Range rangeOf(const Cidr& c) {
  static const std::array<std::pair<const char*, Range>, 8> kRanges{{
      {"10.0.0.0/8", Range::kTen},
      {"172.16.0.0/12", Range::kOneSevenTwo},
      {"192.168.0.0/16", Range::kOneNineTwo},
      {"198.19.0.0/16", Range::kOneNineEight},
      // Never a VPC's: "this network", loopback, link-local, multicast and reserved.
      {"0.0.0.0/8", Range::kNever},
      {"127.0.0.0/8", Range::kNever},
      {"169.254.0.0/16", Range::kNever},
      {"224.0.0.0/3", Range::kNever},
  }};
  for (const auto& [text, range] : kRanges) {
    auto r = Cidr::parse(text);
    if (r && r->overlaps(c)) return range;
  }
  return Range::kOther;  // publicly routable, or 100.64.0.0/10
}

bool isPrivate(Range r) { return r == Range::kTen || r == Range::kOneSevenTwo || r == Range::kOneNineTwo; }

// Disassociated blocks stay described for a while, then go (pruned on the next write).
void pruneDisassociated(Vpc& vpc, const ControlContext& ctx) {
  auto now = ctx.clock.now();
  std::erase_if(vpc.secondaryCidrs, [&](const VpcCidrAssociation& a) {
    if (a.state != "disassociated") return false;
    auto at = parseIso8601(a.changedAt);
    return !at || now - *at >= std::chrono::minutes(kDisassociatedCidrRetentionMinutes);
  });
}

void setLocalRoute(Txn& t, const Vpc& vpc, const std::string& cidr, bool present) {
  for (auto rt : t.listIndexed<RouteTable>(index::kVpc, vpc.id.str())) {
    auto it = std::find_if(rt.routes.begin(), rt.routes.end(), [&](const model::Route& r) {
      return r.destinationCidrBlock == cidr && r.gatewayId == "local";
    });
    if (present == (it != rt.routes.end())) continue;
    if (present)
      rt.routes.push_back(model::localRoute(cidr));
    else
      rt.routes.erase(it);
    t.put(rt);
  }
}

}  // namespace

std::optional<Status> secondaryCidrRefusal(const Vpc& vpc, const std::string& text, int cidrBlocksPerVpc) {
  auto cidr = Cidr::parse(text);
  if (!cidr) return err::badValue("CidrBlock", text, "This is not a valid CIDR block.");
  if (cidr->prefix < 16 || cidr->prefix > 28)
    return err::make(err::kInvalidVpcRangeRestricted,
                     "The CIDR '{}' is invalid. The block range must be between a /28 netmask and /16 netmask.", text);
  auto blocks = model::associatedCidrs(vpc);
  for (const auto& b : blocks) {
    auto other = Cidr::parse(b);
    if (other && other->overlaps(*cidr))
      return err::make(err::kInvalidVpcRangeRestricted, "The CIDR '{}' overlaps with the CIDR '{}' of the vpc '{}'.",
                       text, b, vpc.id.str());
  }
  auto primary = Cidr::parse(vpc.cidrBlock);
  Range want = rangeOf(*cidr);
  Range have = primary ? rangeOf(*primary) : Range::kOther;
  // AWS's table (VPC user guide, "IPv4 CIDR block association restrictions"): a
  // private block only from the primary block's own private range; 198.19.0.0/16
  // never as a secondary; public and 100.64.0.0/10 blocks always.
  bool restricted = want == Range::kNever || want == Range::kOneNineEight || (isPrivate(want) && want != have);
  if (restricted)
    return err::make(err::kInvalidVpcRangeRestricted,
                     "The CIDR '{}' is restricted. Use a CIDR from the same private address range as the current VPC "
                     "CIDR, or use a publicly-routable CIDR.",
                     text);
  if (static_cast<int>(blocks.size()) >= cidrBlocksPerVpc)
    return err::make(err::kCidrLimitExceeded, "This network '{}' has met its maximum number of allowed CIDRs: {}",
                     vpc.id.str(), cidrBlocksPerVpc);
  return std::nullopt;
}

Result<VpcCidrChange> VpcService::associateVpcCidrBlock(const CallContext& call, const AssociateVpcCidrInput& in) {
  if (in.vpcId.empty()) return err::missing("VpcId");
  if (in.ipv6) return err::make(err::kUnsupportedOperation, "IPv6 CIDR blocks are not supported here.");
  if (!in.ipamPoolId.empty()) return err::make(err::kUnsupportedOperation, "IPAM pools are not supported here.");
  if (in.cidrBlock.empty()) return err::missing("CidrBlock");
  VpcCidrChange out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Vpc vpc, findOwned<Vpc>(t, call, in.vpcId, err::kVpcMalformed, err::kVpcNotFound, "vpc ID"));
    pruneDisassociated(vpc, ctx_);
    if (auto refusal = secondaryCidrRefusal(vpc, in.cidrBlock, ctx_.limits().cidrBlocksPerVpc)) return *refusal;
    if (call.dryRun) return err::dryRun();
    VpcCidrAssociation a;
    a.associationId = model::AssociationId::generate(ctx_.random).str();
    a.cidrBlock = Cidr::parse(in.cidrBlock)->toString();
    a.state = "associated";
    a.changedAt = nowIso(ctx_);
    vpc.secondaryCidrs.push_back(a);
    t.put(vpc);
    setLocalRoute(t, vpc, a.cidrBlock, true);
    out.vpcId = vpc.id;
    out.association = a;
    out.association.state = "associating";
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<VpcCidrChange> VpcService::disassociateVpcCidrBlock(const CallContext& call, const std::string& associationId) {
  if (associationId.empty()) return err::missing("AssociationId");
  if (!model::isWellFormed<model::AssociationId>(associationId))
    return err::make(err::kVpcCidrAssociationMalformed, "Invalid id: \"{}\" (expecting \"vpc-cidr-assoc-...\")",
                     associationId);
  VpcCidrChange out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::optional<Vpc> found;
    t.forEachIndexed<Vpc>(index::kOwner, call.account, [&](const Vpc& v) {
      bool mine = v.cidrAssociationId == associationId ||
                  std::any_of(v.secondaryCidrs.begin(), v.secondaryCidrs.end(), [&](const VpcCidrAssociation& a) {
                    return a.associationId == associationId && a.state == "associated";
                  });
      if (mine) found = v;
      return !mine;
    });
    if (!found)
      return err::make(err::kVpcCidrAssociationNotFound, "The vpc CIDR block association ID '{}' does not exist",
                       associationId);
    Vpc vpc = std::move(*found);
    if (vpc.cidrAssociationId == associationId)
      return err::make(err::kOperationNotPermitted,
                       "The vpc CIDR block with association ID {} may not be disassociated. It is the primary IPv4 "
                       "CIDR block of the VPC",
                       associationId);
    auto it = std::find_if(vpc.secondaryCidrs.begin(), vpc.secondaryCidrs.end(),
                           [&](const VpcCidrAssociation& a) { return a.associationId == associationId; });
    auto block = Cidr::parse(it->cidrBlock);
    for (const auto& s : t.listIndexed<Subnet>(index::kVpc, vpc.id.str())) {
      auto c = Cidr::parse(s.cidrBlock);
      if (block && c && block->contains(*c))
        return err::make(err::kCidrBlockInUse, "The vpc {} currently has a subnet within CIDR block {}", vpc.id.str(),
                         it->cidrBlock);
    }
    if (call.dryRun) return err::dryRun();
    it->state = "disassociated";
    it->changedAt = nowIso(ctx_);
    out.vpcId = vpc.id;
    out.association = *it;
    out.association.state = "disassociating";
    std::string cidr = it->cidrBlock;
    pruneDisassociated(vpc, ctx_);
    t.put(vpc);
    setLocalRoute(t, vpc, cidr, false);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace lp::control
