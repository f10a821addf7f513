// STS GetCallerIdentity: who the signing key belongs to.
#include "api/handlers.h"

namespace lp::api {

void registerStsHandlers(Router& r, control::ControlContext& ctx) {
  r.add("sts", "GetCallerIdentity", [&ctx](HandlerContext& h) -> Status {
    const model::Account* a = ctx.region.accountById(h.call.account);
    h.out.leaf("Arn", "arn:aws:iam::" + h.call.account + ":root");
    h.out.leaf("UserId", h.call.account);
    h.out.leaf("Account", h.call.account);
    (void)a;
    return Status::Ok();
  });
}

}  // namespace lp::api
