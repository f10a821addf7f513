// EndpointService, provider side: the principals allowed to discover and connect
// to an endpoint service (Describe, ModifyVpcEndpointServicePermissions).
// Stateless over a ControlContext; any thread.
#include <algorithm>

#include "control/endpoint_common.h"

namespace lp::control {

using namespace endpoint_internal;

namespace {

std::string principalType(const std::string& p) {
  if (p == "*") return "All";
  if (p.find(":role/") != std::string::npos) return "Role";
  if (p.find(":user/") != std::string::npos) return "User";
  return "Account";
}

bool isValidPrincipal(const std::string& p) {
  if (p == "*") return true;
  static constexpr std::string_view kPrefix = "arn:aws:iam::";
  if (!startsWith(p, kPrefix) || p.size() < kPrefix.size() + 13) return false;
  std::string_view acct = std::string_view(p).substr(kPrefix.size(), 12);
  if (!std::all_of(acct.begin(), acct.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::string_view rest = std::string_view(p).substr(kPrefix.size() + 12);
  return rest == ":root" || ((startsWith(rest, ":user/") || startsWith(rest, ":role/")) && rest.size() > 6);
}

const FilterSpec<PermissionInfo>& permissionFilters() {
  static const FilterSpec<PermissionInfo> spec = [] {
    FilterSpec<PermissionInfo> s;
    s.add("principal", [](const PermissionInfo& p) {
       return Strings{p.principal.principal};
     }).add("principal-type", [](const PermissionInfo& p) { return Strings{p.principalType}; });
    return s;
  }();
  return spec;
}

}  // namespace

Result<Page<PermissionInfo>> EndpointService::describeServicePermissions(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const Filters& filters,
                                                                         const PageRequest& page) {
  LP_RETURN_IF_ERROR(permissionFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 5, 1000, /*capInsteadOfError=*/true));
  std::optional<Result<ServiceConfiguration>> found;
  ctx_.store.read([&](const store::ReadView& r) { found = findOwnedService(View(r), call, serviceId); });
  if (!found->ok()) return found->status();
  if (call.dryRun) return err::dryRun();
  std::vector<PermissionInfo> rows;
  for (const auto& p : found->value().allowedPrincipals) {
    PermissionInfo info{p, principalType(p.principal), found->value().id};
    if (permissionFilters().matches(info, filters)) rows.push_back(std::move(info));
  }
  std::sort(rows.begin(), rows.end(), [](const PermissionInfo& a, const PermissionInfo& b) {
    return a.principal.permissionId < b.principal.permissionId;
  });
  return paginate(std::move(rows), page,
                  [](const PermissionInfo& p) -> const std::string& { return p.principal.permissionId; });
}

Result<std::vector<PermissionInfo>> EndpointService::modifyServicePermissions(const CallContext& call,
                                                                              const std::string& serviceId,
                                                                              const std::vector<std::string>& add,
                                                                              const std::vector<std::string>& remove) {
  for (const auto& p : add)
    if (!isValidPrincipal(p))
      return err::make(err::kInvalidPrincipal,
                       "Invalid principal '{}': expecting '*' or an IAM ARN such as "
                       "arn:aws:iam::123456789012:root",
                       p);
  for (const auto& p : remove)
    if (!isValidPrincipal(p)) return err::make(err::kInvalidPrincipal, "Invalid principal '{}'", p);
  std::vector<PermissionInfo> added;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    added.clear();
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, serviceId));
    if (call.dryRun) return err::dryRun();
    for (const auto& p : remove)
      std::erase_if(s.allowedPrincipals, [&](const model::AllowedPrincipal& a) { return a.principal == p; });
    for (const auto& p : add) {
      auto it = std::find_if(s.allowedPrincipals.begin(), s.allowedPrincipals.end(),
                             [&](const model::AllowedPrincipal& a) { return a.principal == p; });
      if (it == s.allowedPrincipals.end()) {
        s.allowedPrincipals.push_back({p, "vpce-svc-perm-" + ctx_.random.hex(17)});
        it = s.allowedPrincipals.end() - 1;
      }
      added.push_back({*it, principalType(p), s.id});
    }
    t.put(s);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return added;
}

}  // namespace lp::control
