// Indexes of security groups, written in the transaction that creates or deletes
// a group, so the per-VPC name check and quota cost the same however many groups
// exist: store kind "security-group-name" (id "<vpc-id>/<lower-case name>", body
// the group id) and "security-group-count" (id the VPC id, body the number of
// groups in it). Pure over a transaction.
#pragma once

#include <string>

#include "control/context.h"
#include "control/typed_store.h"
#include "model/resources.h"

namespace lp::control {

inline constexpr std::string_view kSecurityGroupNameKind = "security-group-name";
inline constexpr std::string_view kSecurityGroupCountKind = "security-group-count";

std::string securityGroupNameKey(const model::VpcId& vpc, std::string_view name);
void indexSecurityGroupName(Txn& t, const model::SecurityGroup& g);
void unindexSecurityGroupName(Txn& t, const model::SecurityGroup& g);
// Groups of a VPC.
int countSecurityGroups(const View& v, const model::VpcId& vpc);
// Makes the indexes match the groups in the store (state written before they existed).
Status rebuildSecurityGroupNameIndex(ControlContext& ctx);

}  // namespace lp::control
