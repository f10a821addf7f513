// ElbService: the tags of load balancers, target groups and listeners by ARN
// (Add, Remove, DescribeTags), all or nothing. Stateless over a ControlContext;
// any thread.
#include <algorithm>
#include <functional>

#include "control/elb_common.h"

namespace lp::control {

using namespace elb_internal;

namespace {

constexpr size_t kMaxTagResources = 20;

Status checkTagArns(const std::vector<std::string>& arns) {
  if (arns.empty()) return required("resourceArns");
  if (arns.size() > kMaxTagResources)
    return validation(
        "1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must "
        "have length less than or equal to {}",
        kMaxTagResources);
  for (const auto& a : arns)
    if (!isArnOf(a, "loadbalancer") && !isArnOf(a, "targetgroup") && !isArnOf(a, "listener"))
      return validation("'{}' is not a valid resource ARN", a);
  return Status::Ok();
}

// Reads (and with a write transaction, rewrites) the tags of the caller's
// load balancer, target group or listener named by arn.
template <typename R>
Status editTags(Txn& t, Result<R> found, const std::function<Status(model::Tags&)>& fn) {
  if (!found.ok()) return found.status();
  R r = std::move(found).value();
  LP_RETURN_IF_ERROR(fn(r.tags));
  t.put(r);
  return Status::Ok();
}

Status editTagsByArn(Txn& t, const CallContext& call, const std::string& arn,
                     const std::function<Status(model::Tags&)>& fn) {
  if (isArnOf(arn, "loadbalancer")) return editTags(t, findLoadBalancer(t, call, arn), fn);
  if (isArnOf(arn, "targetgroup")) return editTags(t, findTargetGroup(t, call, arn), fn);
  return editTags(t, findListener(t, call, arn), fn);
}

Result<model::Tags> tagsByArn(const View& v, const CallContext& call, const std::string& arn) {
  if (isArnOf(arn, "loadbalancer")) {
    LP_ASSIGN_OR_RETURN(auto r, findLoadBalancer(v, call, arn));
    return r.tags;
  }
  if (isArnOf(arn, "targetgroup")) {
    LP_ASSIGN_OR_RETURN(auto r, findTargetGroup(v, call, arn));
    return r.tags;
  }
  LP_ASSIGN_OR_RETURN(auto r, findListener(v, call, arn));
  return r.tags;
}

}  // namespace

Status ElbService::addTags(const CallContext& call, const std::vector<std::string>& arns, const model::Tags& tags) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  if (tags.empty()) return required("tags");
  LP_RETURN_IF_ERROR(validateElbTags(tags));
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& arn : arns) {
      LP_RETURN_IF_ERROR(editTagsByArn(t, call, arn, [&](model::Tags& have) -> Status {
        for (const auto& tag : tags) {
          auto it = std::find_if(have.begin(), have.end(), [&](const model::Tag& h) { return h.key == tag.key; });
          if (it != have.end()) {
            it->value = tag.value;
          } else {
            have.push_back(tag);
          }
        }
        return validateElbTags(have);
      }));
    }
    return Status::Ok();
  });
}

Status ElbService::removeTags(const CallContext& call, const std::vector<std::string>& arns,
                              const std::vector<std::string>& keys) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  if (keys.empty()) return required("tagKeys");
  return ctx_.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& arn : arns) {
      LP_RETURN_IF_ERROR(editTagsByArn(t, call, arn, [&](model::Tags& have) -> Status {
        std::erase_if(have,
                      [&](const model::Tag& h) { return std::find(keys.begin(), keys.end(), h.key) != keys.end(); });
        return Status::Ok();
      }));
    }
    return Status::Ok();
  });
}

Result<std::vector<std::pair<std::string, model::Tags>>> ElbService::describeTags(
    const CallContext& call, const std::vector<std::string>& arns) {
  LP_RETURN_IF_ERROR(checkTagArns(arns));
  std::vector<std::pair<std::string, model::Tags>> out;
  Status st;
  ctx_.store.read([&](const store::ReadView& r) {
    View v(r);
    for (const auto& arn : arns) {
      auto tags = tagsByArn(v, call, arn);
      if (!tags.ok()) {
        st = tags.status();
        return;
      }
      out.emplace_back(arn, std::move(tags).value());
    }
  });
  LP_RETURN_IF_ERROR(st);
  return out;
}

}  // namespace lp::control
