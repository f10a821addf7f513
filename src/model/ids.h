// Strong, typed resource ids ("vpc-0a1b2c3d4e5f60718"): an EndpointId cannot be
// passed where a SubnetId is expected. Value types; generation takes a Random.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/random.h"

namespace lp::model {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string v) : v_(std::move(v)) {}
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  auto operator<=>(const StrongId&) const = default;

  static constexpr std::string_view prefix() { return Tag::kPrefix; }
  static StrongId generate(Random& r) { return StrongId(std::string(Tag::kPrefix) + r.hex(17)); }

 private:
  std::string v_;
};

template <typename Tag>
void to_json(nlohmann::json& j, const StrongId<Tag>& id) { j = id.str(); }
template <typename Tag>
void from_json(const nlohmann::json& j, StrongId<Tag>& id) { id = StrongId<Tag>(j.get<std::string>()); }

#define LP_DEFINE_ID(Name, Prefix)                              \
  struct Name##Tag { static constexpr std::string_view kPrefix = Prefix; }; \
  using Name = StrongId<Name##Tag>;

LP_DEFINE_ID(VpcId, "vpc-")
LP_DEFINE_ID(SubnetId, "subnet-")
LP_DEFINE_ID(SecurityGroupId, "sg-")
LP_DEFINE_ID(SecurityGroupRuleId, "sgr-")
LP_DEFINE_ID(NetworkInterfaceId, "eni-")
LP_DEFINE_ID(VpcEndpointId, "vpce-")
LP_DEFINE_ID(ServiceId, "vpce-svc-")
LP_DEFINE_ID(ConnectionNotificationId, "vpce-nfn-")
LP_DEFINE_ID(AssociationId, "vpc-cidr-assoc-")
LP_DEFINE_ID(AttachmentId, "eni-attach-")
LP_DEFINE_ID(RouteTableId, "rtb-")
LP_DEFINE_ID(RouteTableAssociationId, "rtbassoc-")
LP_DEFINE_ID(NetworkAclId, "acl-")
LP_DEFINE_ID(NetworkAclAssociationId, "aclassoc-")
LP_DEFINE_ID(InstanceId, "i-")
LP_DEFINE_ID(ReservationId, "r-")
LP_DEFINE_ID(VolumeId, "vol-")

using AccountId = std::string;  // 12 decimal digits

// True when s is prefix + 8 or 17 lower-case hex digits (the two lengths AWS has used).
bool isWellFormedId(std::string_view prefix, std::string_view s);

template <typename Id>
bool isWellFormed(std::string_view s) { return isWellFormedId(Id::prefix(), s); }

// The kind a resource id names, from its prefix ("vpc", "subnet", ...); "" when unknown.
std::string_view resourceKindOfId(std::string_view id);

}  // namespace lp::model

template <typename Tag>
struct std::hash<lp::model::StrongId<Tag>> {
  size_t operator()(const lp::model::StrongId<Tag>& id) const noexcept { return std::hash<std::string>{}(id.str()); }
};
