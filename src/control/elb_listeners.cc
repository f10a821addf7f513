// ElbService: TCP forward listeners (Create, Describe, DeleteListener). Their
// attributes are in elb_listener_attributes.cc. Stateless over a ControlContext;
// any thread.
#include <algorithm>
#include <set>

#include "control/elb_common.h"

namespace lp::control {

using namespace elb_internal;

Result<Listener> ElbService::createListener(const CallContext& call, const CreateListenerInput& in) {
  if (in.loadBalancerArn.empty()) return required("loadBalancerArn");
  static const std::set<std::string, std::less<>> kProtocols = {"HTTP",    "HTTPS",  "TCP",  "TLS",     "UDP",
                                                                "TCP_UDP", "GENEVE", "QUIC", "TCP_QUIC"};
  if (in.protocol.empty()) return validation("A listener protocol must be specified");
  if (!kProtocols.count(in.protocol))
    return validation(
        "1 validation error detected: Value '{}' at 'protocol' failed to satisfy constraint: Member must "
        "satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC]",
        in.protocol);
  if (in.protocol != "TCP")
    return err::make(err::kUnsupportedProtocol, "Protocol '{}' is not supported; listeners here are TCP", in.protocol);
  if (!in.port) return validation("A listener port must be specified");
  LP_ASSIGN_OR_RETURN(int port, intInRange(in.port, 1, 65535, "port", 0));
  if (in.defaultActions.empty()) return required("defaultActions");
  if (in.defaultActions.size() > 1)
    return invalidConfig("A network load balancer listener takes exactly one default action");
  const ListenerAction& action = in.defaultActions.front();
  static const std::set<std::string, std::less<>> kActions = {"forward",  "authenticate-oidc", "authenticate-cognito",
                                                              "redirect", "fixed-response",    "jwt-validation"};
  if (action.type.empty()) return required("defaultActions.member.type");
  if (!kActions.count(action.type))
    return validation(
        "1 validation error detected: Value '{}' at 'defaultActions.1.member.type' failed to satisfy "
        "constraint: Member must satisfy enum value set: [forward, authenticate-oidc, "
        "authenticate-cognito, redirect, fixed-response]",
        action.type);
  if (action.type != "forward")
    return err::make(err::kInvalidLoadBalancerAction,
                     "The action type '{}' is not valid for a load balancer of type 'network'", action.type);
  if (action.forwardTargetGroupArns.size() > 1)
    return invalidConfig("A network load balancer listener forwards to exactly one target group");
  std::string tgArn = action.targetGroupArn;
  if (!action.forwardTargetGroupArns.empty()) {
    if (!tgArn.empty() && tgArn != action.forwardTargetGroupArns.front())
      return validation("The target group ARN in the action and in its forward config must be the same");
    tgArn = action.forwardTargetGroupArns.front();
  }
  if (tgArn.empty()) return validation("A target group ARN must be specified for a forward action");
  LP_RETURN_IF_ERROR(validateElbTags(in.tags));

  Listener listener;
  Status st = ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(LoadBalancer lb, findLoadBalancer(t, call, in.loadBalancerArn));
    LP_ASSIGN_OR_RETURN(TargetGroup tg, findTargetGroup(t, call, tgArn));
    if (tg.vpcId != lb.vpcId)
      return invalidConfig("The target group '{}' is in VPC '{}', not in the load balancer's VPC '{}'", tgArn,
                           tg.vpcId.str(), lb.vpcId.str());
    if (t.anyIndexed<Listener>(index::kTargetGroup, tgArn,
                               [&](const Listener& l) { return l.loadBalancerArn != lb.id.str(); }))
      return err::make(err::kTargetGroupAssociationLimit,
                       "The following target groups cannot be associated with more than one load balancer: '{}'",
                       tgArn);
    auto mine = t.listIndexed<Listener>(index::kLoadBalancer, lb.id.str());
    for (const auto& l : mine) {
      if (l.port != port) continue;
      if (l.protocol == in.protocol && l.targetGroupArn == tgArn) {
        listener = l;  // same settings: AWS answers with the existing listener
        return Status::Ok();
      }
      return err::make(err::kDuplicateListener, "A listener already exists on port {} of this load balancer", port);
    }
    if (static_cast<int>(mine.size()) >= ctx_.limits().listenersPerLoadBalancer)
      return err::make(err::kTooManyListeners, "You've reached the limit on the number of listeners per load balancer");
    auto lbPath = split(std::string_view(lb.id.str()).substr(lb.id.str().find(":loadbalancer/") + 14), '/');
    listener.id.v = arnPrefix(ctx_, call) + "listener/net/" + lb.name + "/" + lbPath.back() + "/" + ctx_.random.hex(16);
    listener.ownerId = call.account;
    listener.loadBalancerArn = lb.id.str();
    listener.protocol = in.protocol;
    listener.port = port;
    listener.targetGroupArn = tgArn;
    listener.createdAt = nowIso(ctx_);
    listener.tags = in.tags;
    t.put(listener);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return listener;
}

Result<Page<Listener>> ElbService::describeListeners(const CallContext& call, const DescribeListenersInput& in) {
  if (in.loadBalancerArn.empty() && in.arns.empty())
    return validation("You must specify either listener ARNs or a load balancer ARN");
  if (!in.loadBalancerArn.empty() && !in.arns.empty())
    return validation("Listener ARNs and a load balancer ARN cannot be specified at the same time");
  for (const auto& a : in.arns)
    if (!isArnOf(a, "listener")) return validation("'{}' is not a valid listener ARN", a);
  std::vector<Listener> listeners;
  Status st;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    if (!in.loadBalancerArn.empty()) {
      st = findLoadBalancer(v, call, in.loadBalancerArn).status();
      listeners = v.listIndexed<Listener>(index::kLoadBalancer, in.loadBalancerArn);
      return;
    }
    for (const auto& a : in.arns) {
      auto l = findListener(v, call, a);
      if (!l.ok()) {
        st = l.status();
        return;
      }
      if (std::none_of(listeners.begin(), listeners.end(), [&](const Listener& x) { return x.id.str() == a; }))
        listeners.push_back(std::move(*l));
    }
  });
  LP_RETURN_IF_ERROR(st);
  std::sort(listeners.begin(), listeners.end(),
            [](const Listener& a, const Listener& b) { return a.id.str() < b.id.str(); });
  return markerPage(std::move(listeners), in.page, [](const Listener& l) -> const std::string& { return l.id.str(); });
}

Status ElbService::deleteListener(const CallContext& call, const std::string& arn) {
  if (arn.empty()) return required("listenerArn");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    LP_ASSIGN_OR_RETURN(Listener l, findListener(t, call, arn));
    t.erase<Listener>(l.id.str());
    return Status::Ok();
  });
}

}  // namespace lp::control
