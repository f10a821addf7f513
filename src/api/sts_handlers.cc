// STS GetCallerIdentity: who the signing key belongs to.
#include "api/handlers.h"

namespace lp::api {

void registerStsHandlers(Router& r, control::ControlContext& /*ctx*/) {
  r.add("sts", "GetCallerIdentity", [](HandlerContext& h) -> Status {
    h.out.leaf("Arn", "arn:aws:iam::" + h.call.account + ":root");
    h.out.leaf("UserId", h.call.account);
    h.out.leaf("Account", h.call.account);
    return Status::Ok();
  });
}

}  // namespace lp::api
