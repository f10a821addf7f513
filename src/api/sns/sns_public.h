// The two SNS URLs that work without SigV4, as on AWS: the SubscribeURL of a
// SubscriptionConfirmation message (GET /?Action=ConfirmSubscription&TopicArn=..&Token=..;
// the token is the authentication) and the SigningCertURL (GET
// /SimpleNotificationService-<name>.pem). Anything else is not handled here.
// Any thread.
#pragma once

#include <optional>
#include <string>

#include "api/api_service.h"

namespace lp::api {

// The response for an unauthenticated GET this module serves, or nullopt when
// the request is not one of them (the caller answers as for any unsigned request).
std::optional<HttpResponse> handleSnsPublicGet(const HttpRequest& req, control::ControlContext& ctx,
                                               const std::string& requestId);

}  // namespace lp::api
