#include "control/notification_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "control/sns_service.h"
#include "model/sns.h"

namespace lp::control {

using model::ConnectionNotification;

namespace {

constexpr std::array<std::string_view, 4> kEvents = {"Accept", "Connect", "Delete", "Reject"};

// ClientToken -> the notification it created, per account (kind owned here).
struct NotificationToken {
  static constexpr std::string_view kKind = "vpce-connection-notification-token";
  model::SnsKey id;  // <account>:<client token>
  std::string notificationId;
  std::string fingerprint;  // the request, to tell a retry from a different request
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NotificationToken, id, notificationId, fingerprint)

template <typename... Args>
Status invalidNotification(fmt::format_string<Args...> f, Args&&... args) {
  return err::make(err::kInvalidConnectionNotification, f, std::forward<Args>(args)...);
}

Result<std::vector<std::string>> validateEvents(const std::vector<std::string>& events) {
  if (events.empty()) return err::missing("ConnectionEvents");
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (std::find(kEvents.begin(), kEvents.end(), e) == kEvents.end())
      return err::badValue("ConnectionEvents", e, "Valid values are Accept, Connect, Delete and Reject.");
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

const FilterSpec<ConnectionNotification>& notificationFilters() {
  static const FilterSpec<ConnectionNotification> spec = [] {
    using N = ConnectionNotification;
    auto one = [](std::string v) { return std::vector<std::string>{std::move(v)}; };
    FilterSpec<N> s;
    s.add("connection-notification-arn", [one](const N& n) { return one(n.topicArn); })
        .add("connection-notification-id", [one](const N& n) { return one(n.id.str()); })
        .add("connection-notification-state", [one](const N& n) { return one(n.state); })
        .add("connection-notification-type", [one](const N&) { return one("Topic"); })
        .add("service-id",
             [](const N& n) {
               return n.serviceId.empty() ? std::vector<std::string>{} : std::vector<std::string>{n.serviceId.str()};
             })
        .add("vpc-endpoint-id", [](const N& n) {
          return n.vpcEndpointId.empty() ? std::vector<std::string>{} : std::vector<std::string>{n.vpcEndpointId.str()};
        });
    return s;
  }();
  return spec;
}

}  // namespace

Status checkNotificationTopic(const View& v, const ControlContext& ctx, const std::string& topicArn) {
  auto parts = parseTopicArn(topicArn);
  if (!parts)
    return invalidNotification("The connection notification ARN '{}' is not a valid SNS topic ARN.", topicArn);
  if (parts->region != ctx.regionName())
    return invalidNotification("The SNS topic '{}' must be in the same region as the endpoint ({}).", topicArn,
                               ctx.regionName());
  auto topic = v.get<model::SnsTopic>(topicArn);
  if (!topic) return invalidNotification("The SNS topic '{}' does not exist.", topicArn);
  if (!policyAllowsServicePublish(topic->policy, model::kVpceServicePrincipal, topicArn))
    return invalidNotification(
        "The policy of SNS topic '{}' does not allow the service principal {} to perform SNS:Publish. Add a statement "
        "with Effect Allow, Principal {{\"Service\": \"{}\"}}, Action SNS:Publish and Resource {} to the topic policy.",
        topicArn, model::kVpceServicePrincipal, model::kVpceServicePrincipal, topicArn);
  return Status::Ok();
}

Result<ConnectionNotification> NotificationService::create(const CallContext& call,
                                                           const CreateConnectionNotificationInput& in) {
  if (in.serviceId.empty() && in.vpcEndpointId.empty())
    return err::make(err::kMissingParameter, "The request must contain either ServiceId or VpcEndpointId.");
  if (!in.serviceId.empty() && !in.vpcEndpointId.empty())
    return err::make(err::kInvalidParameterCombination, "Specify either ServiceId or VpcEndpointId, not both.");
  if (in.topicArn.empty()) return err::missing("ConnectionNotificationArn");
  LP_ASSIGN_OR_RETURN(auto events, validateEvents(in.events));
  if (in.clientToken.size() > 64)
    return err::badValue("ClientToken", in.clientToken, "It must be at most 64 characters.");
  std::string fingerprint =
      fmt::format("{}|{}|{}|{}", in.serviceId, in.vpcEndpointId, in.topicArn, fmt::join(events, ","));

  ConnectionNotification out;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::string tokenKey = call.account + ":" + in.clientToken;
    if (!in.clientToken.empty()) {
      if (auto tok = t.get<NotificationToken>(tokenKey)) {
        if (tok->fingerprint != fingerprint)
          return err::make(err::kIdempotentParameterMismatch,
                           "The client token '{}' was already used for a different request.", in.clientToken);
        if (auto n = t.get<ConnectionNotification>(tok->notificationId)) {
          if (call.dryRun) return err::dryRun();
          out = *n;
          return Status::Ok();
        }
      }
    }
    if (!in.serviceId.empty()) {
      LP_ASSIGN_OR_RETURN(auto svc,
                          findOwned<model::ServiceConfiguration>(t, call, in.serviceId, err::kServiceIdMalformed,
                                                                 err::kServiceIdNotFound, "service"));
      out.serviceId = svc.id;
    } else {
      LP_ASSIGN_OR_RETURN(auto e, findOwned<model::VpcEndpoint>(t, call, in.vpcEndpointId, err::kEndpointIdMalformed,
                                                                err::kEndpointIdNotFound, "Vpc Endpoint Id"));
      if (e.state == model::endpoint_state::kDeleted)
        return err::make(err::kEndpointIdNotFound, "The Vpc Endpoint Id '{}' does not exist", in.vpcEndpointId);
      if (e.type != "Interface")
        return err::make(err::kInvalidVpcEndpointType,
                         "Connection notifications are supported for interface endpoints only.");
      out.vpcEndpointId = e.id;
    }
    LP_RETURN_IF_ERROR(checkNotificationTopic(t, ctx_, in.topicArn));
    if (call.dryRun) return err::dryRun();
    out.id = model::ConnectionNotificationId::generate(ctx_.random);
    out.ownerId = call.account;
    out.topicArn = in.topicArn;
    out.events = events;
    out.state = "Enabled";
    out.createdAt = nowIso(ctx_);
    t.put(out);
    if (!in.clientToken.empty()) t.put(NotificationToken{model::SnsKey{tokenKey}, out.id.str(), fingerprint});
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<ConnectionNotification>> NotificationService::describe(const CallContext& call,
                                                                   const DescribeConnectionNotificationsInput& in) {
  LP_RETURN_IF_ERROR(notificationFilters().validate(in.filters));
  LP_RETURN_IF_ERROR(validateMaxResults(in.page, 1, 1000, /*capInsteadOfError=*/true));
  if (call.dryRun) return err::dryRun();
  std::vector<ConnectionNotification> items;
  ctx_.store.read([&](const store::ReadView& r) {
    items = View(r).listWhere<ConnectionNotification>(
        [&](const ConnectionNotification& n) { return n.ownerId == call.account; });
  });
  if (!in.id.empty()) {
    std::erase_if(items, [&](const ConnectionNotification& n) { return n.id.str() != in.id; });
    if (items.empty()) return invalidNotification("The connection notification '{}' does not exist.", in.id);
  }
  std::erase_if(items, [&](const ConnectionNotification& n) { return !notificationFilters().matches(n, in.filters); });
  return paginate(std::move(items), in.page,
                  [](const ConnectionNotification& n) -> const std::string& { return n.id.str(); });
}

Status NotificationService::modify(const CallContext& call, const ModifyConnectionNotificationInput& in) {
  if (in.id.empty()) return err::missing("ConnectionNotificationId");
  if (!in.topicArn && !in.events)
    return err::make(err::kMissingParameter,
                     "The request must contain ConnectionNotificationArn or ConnectionEvents to modify.");
  std::optional<std::vector<std::string>> events;
  if (in.events) {
    LP_ASSIGN_OR_RETURN(events, validateEvents(*in.events));
  }
  if (in.topicArn && in.topicArn->empty()) return err::badValue("ConnectionNotificationArn", "");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    auto n = t.get<ConnectionNotification>(in.id);
    if (!n || n->ownerId != call.account)
      return invalidNotification("The connection notification '{}' does not exist.", in.id);
    if (in.topicArn) LP_RETURN_IF_ERROR(checkNotificationTopic(t, ctx_, *in.topicArn));
    if (call.dryRun) return err::dryRun();
    if (in.topicArn) n->topicArn = *in.topicArn;
    if (events) n->events = *events;
    t.put(*n);
    return Status::Ok();
  });
}

Result<std::vector<NotificationDeleteFailure>> NotificationService::remove(const CallContext& call,
                                                                           const std::vector<std::string>& ids) {
  if (ids.empty()) return err::missing("ConnectionNotificationId");
  std::vector<NotificationDeleteFailure> failed;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    std::vector<std::string> found;
    for (const auto& id : ids) {
      auto n = t.get<ConnectionNotification>(id);
      if (!n || n->ownerId != call.account) {
        failed.push_back({id, std::string(err::kInvalidConnectionNotification),
                          fmt::format("The connection notification '{}' does not exist.", id)});
        continue;
      }
      found.push_back(id);
    }
    if (call.dryRun) return err::dryRun();
    for (const auto& id : found) t.erase<ConnectionNotification>(id);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return failed;
}

}  // namespace lp::control
