#include "control/network_interface_service.h"

#include <algorithm>

#include "control/ip_allocation.h"
#include "model/instance.h"

namespace lp::control {

using model::NetworkInterface;
using model::SecurityGroup;
using model::Subnet;

namespace {

using Strings = std::vector<std::string>;

struct EniRow {
  NetworkInterfaceInfo info;
  model::Tags tags;
};

const FilterSpec<EniRow>& eniFilters() {
  static const FilterSpec<EniRow> spec = [] {
    FilterSpec<EniRow> s;
    auto ip = [](const EniRow& r) { return Strings{r.info.eni.privateIp}; };
    auto groupIds = [](const EniRow& r) {
      Strings out;
      for (auto& g : r.info.groups) out.push_back(g.first);
      return out;
    };
    auto groupNames = [](const EniRow& r) {
      Strings out;
      for (auto& g : r.info.groups) out.push_back(g.second);
      return out;
    };
    s.add("network-interface-id", [](const EniRow& r) { return Strings{r.info.eni.id.str()}; })
        .add("subnet-id", [](const EniRow& r) { return Strings{r.info.eni.subnetId.str()}; })
        .add("vpc-id", [](const EniRow& r) { return Strings{r.info.eni.vpcId.str()}; })
        .add("private-ip-address", ip)
        .add("addresses.private-ip-address", ip)
        .add("addresses.primary", [](const EniRow&) { return Strings{"true"}; })
        .add("group-id", groupIds)
        .add("group-name", groupNames)
        .add("interface-type", [](const EniRow& r) { return Strings{r.info.eni.interfaceType}; })
        .add("requester-managed",
             [](const EniRow& r) { return Strings{r.info.eni.requesterManaged ? "true" : "false"}; })
        .add("requester-id", [](const EniRow& r) {
          return r.info.eni.requesterId.empty() ? Strings{} : Strings{r.info.eni.requesterId};
        })
        .add("status", [](const EniRow& r) { return Strings{r.info.eni.status}; })
        .add("description", [](const EniRow& r) { return Strings{r.info.eni.description}; })
        .add("availability-zone", [](const EniRow& r) { return Strings{r.info.zoneName}; })
        .add("availability-zone-id", [](const EniRow& r) { return Strings{r.info.eni.zoneId}; })
        .add("owner-id", [](const EniRow& r) { return Strings{r.info.eni.ownerId}; })
        .add("mac-address", [](const EniRow& r) { return Strings{r.info.eni.macAddress}; })
        .add("attachment.instance-id",
             [](const EniRow& r) {
               const auto& m = r.info.eni.managedBy;
               return m.rfind(model::InstanceId::prefix(), 0) == 0 ? Strings{m} : Strings{};
             })
        // Only an instance's interface carries an attachment here; AWS's interfaces of
        // endpoints and load balancers name an amazon-* owner there, which Terraform's
        // aws_lb destroy filters on (attachment.instance-owner-id) and finds none of.
        .add("attachment.instance-owner-id",
             [](const EniRow& r) {
               return r.info.eni.managedBy.rfind(model::InstanceId::prefix(), 0) == 0 ? Strings{r.info.eni.ownerId}
                                                                                      : Strings{};
             })
        .add("attachment.attachment-id",
             [](const EniRow& r) {
               return r.info.eni.managedBy.rfind(model::InstanceId::prefix(), 0) == 0
                          ? Strings{attachmentIdFor(r.info.eni.id.str())}
                          : Strings{};
             })
        .add("source-dest-check",
             [](const EniRow& r) { return Strings{r.info.eni.sourceDestCheck ? "true" : "false"}; });
    return s;
  }();
  return spec;
}

NetworkInterfaceInfo render(const View& v, const ControlContext& ctx, const CallContext& call,
                            NetworkInterface eni) {
  NetworkInterfaceInfo info;
  info.zoneName = ctx.zoneName(call.account, eni.zoneId);
  for (const auto& g : eni.groupIds) {
    auto sg = v.get<SecurityGroup>(g);
    info.groups.emplace_back(g.str(), sg ? sg->name : "");
  }
  info.eni = std::move(eni);
  return info;
}

}  // namespace

Result<std::vector<model::SecurityGroupId>> interfaceGroups(const Txn& t, const CallContext& call,
                                                            const Subnet& subnet, const std::vector<std::string>& ids) {
  std::vector<model::SecurityGroupId> groups;
  for (const auto& g : ids) {
    auto sg = t.get<SecurityGroup>(g);
    if (!sg || sg->ownerId != call.account)
      return err::make(err::kGroupNotFound, "The security group '{}' does not exist", g);
    if (sg->vpcId != subnet.vpcId)
      return err::make(err::kInvalidParameter, "Security group {} and subnet {} belong to different networks.", g,
                       subnet.id.str());
    if (std::find(groups.begin(), groups.end(), sg->id) == groups.end()) groups.push_back(sg->id);
  }
  if (groups.empty()) {
    auto vpc = t.get<model::Vpc>(subnet.vpcId);
    if (!vpc) return err::make(err::kInternalError, "The subnet's VPC is missing.");
    groups.push_back(vpc->defaultSecurityGroupId);
  }
  return groups;
}

Result<NetworkInterface> putWorkloadInterface(Txn& t, const ControlContext& ctx, const CallContext& call,
                                              const Subnet& subnet, const std::vector<model::SecurityGroupId>& groups,
                                              const std::string& privateIp, const std::string& description,
                                              const model::Tags& tags,
                                              const std::function<void(NetworkInterface&)>& adjust) {
  if (t.count<NetworkInterface>(index::kOwner, call.account) >= ctx.limits().networkInterfacesPerAccount)
    return err::make(err::kEniLimitExceeded, "The maximum number of network interfaces has been reached.");
  LP_ASSIGN_OR_RETURN(std::string ip, allocatePrivateIp(t, subnet, privateIp));
  NetworkInterface eni;
  eni.id = model::NetworkInterfaceId::generate(ctx.random);
  eni.ownerId = call.account;
  eni.vpcId = subnet.vpcId;
  eni.subnetId = subnet.id;
  eni.zoneId = subnet.zoneId;
  eni.privateIp = ip;
  eni.macAddress = macForInterface(eni.id.str());
  eni.description = description;
  eni.groupIds = groups;
  eni.interfaceType = "interface";
  eni.status = "available";
  eni.createdAt = nowIso(ctx);
  eni.tags = tags;
  if (adjust) adjust(eni);
  t.put(eni);
  return eni;
}

Status checkGroupsPerInterface(const Limits& limits, size_t count) {
  if (static_cast<int>(count) > limits.securityGroupsPerInterface)
    return err::make(err::kSecurityGroupsPerInterfaceLimitExceeded,
                     "The maximum number of security groups per interface has been reached.");
  return Status::Ok();
}

std::string attachmentIdFor(const std::string& interfaceId) {
  std::string_view hex(interfaceId);
  hex.remove_prefix(std::min(hex.size(), model::NetworkInterfaceId::prefix().size()));
  return std::string(model::AttachmentId::prefix()) + std::string(hex);
}

Result<NetworkInterfaceInfo> NetworkInterfaceService::createNetworkInterface(const CallContext& call,
                                                                            const CreateNetworkInterfaceInput& in) {
  if (in.subnetId.empty()) return err::missing("SubnetId");
  if (in.description.size() > 255) return err::badValue("Description", "...", "Description is too long.");
  if (in.clientToken.size() > 64) return err::badValue("ClientToken", in.clientToken);
  for (const auto& g : in.groupIds)
    if (!model::isWellFormed<model::SecurityGroupId>(g))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", g);
  LP_ASSIGN_OR_RETURN(auto tags, tagsFromSpecs(in.tagSpecs, "network-interface"));

  NetworkInterfaceInfo out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Subnet subnet, findOwned<Subnet>(t, call, in.subnetId, err::kSubnetMalformed,
                                                         err::kSubnetNotFound, "subnet ID"));
    LP_ASSIGN_OR_RETURN(auto groups, interfaceGroups(t, call, subnet, in.groupIds));
    LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));

    if (!in.clientToken.empty()) {
      auto prior = t.listIndexed<NetworkInterface>(index::kOwnerToken, ownerToken(call.account, in.clientToken));
      if (!prior.empty()) {
        const auto& e = prior.front();
        bool same = e.subnetId == subnet.id && e.description == in.description &&
                    (in.privateIpAddress.empty() || in.privateIpAddress == e.privateIp) && e.groupIds == groups;
        if (!same)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used with different parameters.", in.clientToken);
        if (call.dryRun) return err::dryRun();
        out = render(t, ctx_, call, e);
        return Status::Ok();
      }
    }
    if (call.dryRun) {
      // Quota and address first, so a dry run fails as the real call would.
      if (t.count<NetworkInterface>(index::kOwner, call.account) >= ctx_.limits().networkInterfacesPerAccount)
        return err::make(err::kEniLimitExceeded, "The maximum number of network interfaces has been reached.");
      LP_RETURN_IF_ERROR(allocatePrivateIp(t, subnet, in.privateIpAddress).status());
      return err::dryRun();
    }
    LP_ASSIGN_OR_RETURN(
        NetworkInterface eni,
        putWorkloadInterface(t, ctx_, call, subnet, groups, in.privateIpAddress, in.description, tags,
                             [&](NetworkInterface& e) { e.clientToken = in.clientToken; }));
    out = render(t, ctx_, call, std::move(eni));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<NetworkInterfaceInfo>> NetworkInterfaceService::describeNetworkInterfaces(const CallContext& call,
                                                                                     const DescribeInput& in) {
  LP_RETURN_IF_ERROR(eniFilters().validate(in.filters));
  if (in.page.maxResults && !in.ids.empty())
    return err::make(err::kInvalidParameterCombination,
                     "The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults");
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 5, 1000));
  for (const auto& id : in.ids)
    if (!model::isWellFormed<model::NetworkInterfaceId>(id))
      return err::make(err::kEniMalformed, "Invalid id: \"{}\" (expecting \"eni-...\")", id);
  if (call.dryRun) return err::dryRun();
  Result<Page<EniRow>> rows = Page<EniRow>{};
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& id : in.ids) {
      auto e = v.get<NetworkInterface>(id);
      if (!e || e->ownerId != call.account) {
        rows = err::make(err::kEniNotFound, "The networkInterface ID '{}' does not exist", id);
        return;
      }
    }
    rows = paginateInOrder<EniRow>(
        in.page, [](const EniRow& x) -> const std::string& { return x.info.eni.id.str(); },
        [&](std::string_view from, const std::function<bool(EniRow)>& take) {
          v.forEachOwned<NetworkInterface>(call.account, in.ids, from, [&](const NetworkInterface& e) {
            EniRow row;
            row.tags = e.tags;
            row.info = render(v, ctx_, call, e);
            return !eniFilters().matches(row, in.filters) || take(std::move(row));
          });
        });
  });
  LP_ASSIGN_OR_RETURN(auto page, std::move(rows));
  Page<NetworkInterfaceInfo> out;
  out.nextToken = page.nextToken;
  for (auto& r : page.items) out.items.push_back(std::move(r.info));
  return out;
}

Status NetworkInterfaceService::deleteNetworkInterface(const CallContext& call, const std::string& id) {
  if (id.empty()) return err::missing("NetworkInterfaceId");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkInterface e, findOwned<NetworkInterface>(t, call, id, err::kEniMalformed,
                                                                        err::kEniNotFound, "networkInterface ID"));
    // Endpoint and load-balancer interfaces belong to their service's lifecycle.
    if (e.requesterManaged)
      return err::make(err::kOperationNotPermitted, "You are not allowed to manage '{}' attachments.",
                       e.interfaceType);
    // An instance's primary interface goes with the instance (TerminateInstances).
    if (e.managedBy.rfind(model::InstanceId::prefix(), 0) == 0)
      return err::make(err::kEniInUse, "The network interface '{}' is currently in use.", id);
    if (call.dryRun) return err::dryRun();
    t.erase<NetworkInterface>(e.id);
    return Status::Ok();
  });
}

Status NetworkInterfaceService::modifyNetworkInterfaceAttribute(const CallContext& call,
                                                                const ModifyNetworkInterfaceInput& in) {
  if (in.interfaceId.empty()) return err::missing("NetworkInterfaceId");
  int named = in.description.has_value() + in.sourceDestCheck.has_value() + !in.groupIds.empty();
  if (named == 0) return err::make(err::kMissingParameter, "The request must contain exactly one attribute to modify.");
  if (named > 1)
    return err::make(err::kInvalidParameterCombination, "Fields for multiple attribute types specified.");
  if (in.description && in.description->size() > 255)
    return err::badValue("Description", "...", "Description is too long.");
  for (const auto& g : in.groupIds)
    if (!model::isWellFormed<model::SecurityGroupId>(g))
      return err::make(err::kGroupIdMalformed, "Invalid id: \"{}\" (expecting \"sg-...\")", g);
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(NetworkInterface e, findOwned<NetworkInterface>(t, call, in.interfaceId, err::kEniMalformed,
                                                                        err::kEniNotFound, "networkInterface ID"));
    if (e.requesterManaged)
      return err::make(err::kOperationNotPermitted, "You are not allowed to manage '{}' attachments.",
                       e.interfaceType);
    std::vector<model::SecurityGroupId> groups;
    if (!in.groupIds.empty()) {
      auto subnet = t.get<Subnet>(e.subnetId);
      if (!subnet) return err::make(err::kInternalError, "The interface's subnet is missing.");
      LP_ASSIGN_OR_RETURN(groups, interfaceGroups(t, call, *subnet, in.groupIds));
      LP_RETURN_IF_ERROR(checkGroupsPerInterface(ctx_.limits(), groups.size()));
    }
    if (call.dryRun) return err::dryRun();
    if (in.description) e.description = *in.description;
    if (in.sourceDestCheck) e.sourceDestCheck = *in.sourceDestCheck;
    if (!groups.empty()) {
      e.groupIds = groups;
      // An instance's primary interface: DescribeInstances shows the same groups.
      if (e.managedBy.rfind(model::InstanceId::prefix(), 0) == 0) {
        if (auto inst = t.get<model::Instance>(e.managedBy)) {
          inst->groupIds = groups;
          t.put(*inst);
        }
      }
    }
    t.put(e);
    return Status::Ok();
  });
}

}  // namespace lp::control
