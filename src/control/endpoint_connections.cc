// EndpointService, provider side: the connections of consumers' endpoints to a
// service (Accept, RejectVpcEndpointConnections, DescribeVpcEndpointConnections).
// Each decision records its connection event in the same store transaction.
// Stateless over a ControlContext; any thread.
#include <algorithm>

#include "control/connection_events.h"
#include "control/endpoint_common.h"
#include "control/endpoint_dns_names.h"

namespace lp::control {

using namespace endpoint_internal;

namespace {

const FilterSpec<ConnectionInfo>& connectionFilters() {
  static const FilterSpec<ConnectionInfo> spec = [] {
    FilterSpec<ConnectionInfo> s;
    s.add("service-id", [](const ConnectionInfo& c) { return Strings{c.endpoint.serviceId.str()}; })
        .add("vpc-endpoint-owner", [](const ConnectionInfo& c) { return Strings{c.endpoint.ownerId}; })
        .add("vpc-endpoint-state", [](const ConnectionInfo& c) { return Strings{c.endpoint.state}; })
        .add("vpc-endpoint-id", [](const ConnectionInfo& c) { return Strings{c.endpoint.id.str()}; })
        .add("ip-address-type", [](const ConnectionInfo&) { return Strings{"ipv4"}; })
        .add("vpc-endpoint-region", [](const ConnectionInfo&) { return Strings{}; });
    return s;
  }();
  return spec;
}

}  // namespace

Result<std::vector<UnsuccessfulItem>> EndpointService::decideConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds,
                                                                         bool accept) {
  if (endpointIds.empty()) return err::missing("VpcEndpointId");
  std::vector<UnsuccessfulItem> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    failed.clear();
    LP_ASSIGN_OR_RETURN(ServiceConfiguration s, findOwnedService(t, call, serviceId));
    std::vector<VpcEndpoint> changed;
    for (const auto& id : endpointIds) {
      auto e = model::isWellFormed<model::VpcEndpointId>(id) ? t.get<VpcEndpoint>(id) : std::nullopt;
      if (!e || e->serviceId != s.id || e->state == es::kDeleted) {
        failed.push_back(failure(id, err::kEndpointNotFound,
                                 fmt::format("The VpcEndpoint Id '{}' does not exist for service {}", id, serviceId)));
        continue;
      }
      bool ok = accept ? e->state == es::kPendingAcceptance
                       : (e->state == es::kPendingAcceptance || e->state == es::kPending || e->state == es::kAvailable);
      if (!ok) {
        failed.push_back(failure(id, err::kInvalidState,
                                 fmt::format("The VPC endpoint {} is in state {} and cannot be {}.", id, e->state,
                                             accept ? "accepted" : "rejected")));
        continue;
      }
      changed.push_back(std::move(*e));
    }
    if (call.dryRun) return err::dryRun();
    for (auto& e : changed) {
      setState(ctx_, e, accept ? es::kPending : es::kRejected,
               accept ? "AcceptVpcEndpointConnections" : "RejectVpcEndpointConnections", call);
      t.put(e);
      recordConnectionEvent(t, ctx_, e, accept ? connection_event::kAccept : connection_event::kReject);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

Result<std::vector<UnsuccessfulItem>> EndpointService::acceptConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds) {
  return decideConnections(call, serviceId, endpointIds, true);
}

Result<std::vector<UnsuccessfulItem>> EndpointService::rejectConnections(const CallContext& call,
                                                                         const std::string& serviceId,
                                                                         const std::vector<std::string>& endpointIds) {
  return decideConnections(call, serviceId, endpointIds, false);
}

Result<Page<ConnectionInfo>> EndpointService::describeConnections(const CallContext& call, const Filters& filters,
                                                                  const PageRequest& page) {
  LP_RETURN_IF_ERROR(connectionFilters().validate(filters));
  LP_RETURN_IF_ERROR(validateMaxResults(page, 5, 1000, /*capInsteadOfError=*/true));
  if (call.dryRun) return err::dryRun();
  std::optional<std::string> last;
  if (!page.nextToken.empty()) {
    last = decodePageToken(page.nextToken);
    if (!last) return err::make(err::kInvalidNextToken, "The token '{}' is invalid.", page.nextToken);
  }
  // Each of the caller's services contributes at most one page past the token;
  // paginate() below merges them and cuts the page.
  size_t perService = page.maxResults ? static_cast<size_t>(std::min<int64_t>(*page.maxResults, 1000)) + 1 : SIZE_MAX;
  std::vector<ConnectionInfo> rows;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& s : v.listIndexed<ServiceConfiguration>(index::kOwner, call.account)) {
      size_t taken = 0;
      v.forEachIndexed<VpcEndpoint>(
          index::kService, s.id.str(),
          [&](const VpcEndpoint& e) {
            if (last && e.id.str() <= *last) return true;
            ConnectionInfo c;
            c.networkLoadBalancerArns = s.networkLoadBalancerArns;
            c.connectionId = "vpce-con-" + stableHex17(e.id.str());
            c.endpoint = e;
            if (connectionFilters().matches(c, filters)) {
              rows.push_back(std::move(c));
              ++taken;
            }
            return taken < perService;
          },
          last ? std::string_view(*last) : std::string_view());
    }
  });
  std::sort(rows.begin(), rows.end(),
            [](const ConnectionInfo& a, const ConnectionInfo& b) { return a.endpoint.id.str() < b.endpoint.id.str(); });
  return paginate(std::move(rows), page,
                  [](const ConnectionInfo& c) -> const std::string& { return c.endpoint.id.str(); });
}

}  // namespace lp::control
