#include "api/sns/sns_public.h"

#include "api/params.h"
#include "api/xml_writer.h"
#include "common/strings.h"
#include "control/sns_service.h"
#include "control/typed_store.h"

namespace lp::api {

namespace {

constexpr std::string_view kXmlns = "http://sns.amazonaws.com/doc/2010-03-31/";
constexpr std::string_view kCertPrefix = "/SimpleNotificationService-";

HttpResponse snsError(const Status& st, const std::string& requestId) {
  HttpResponse resp;
  resp.status = httpStatusFor(Protocol::kQuery, st.code());
  XmlWriter x;
  x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  x.openWithXmlns("ErrorResponse", kXmlns);
  {
    auto e = x.scope("Error");
    x.leaf("Type", resp.status >= 500 ? "Receiver" : "Sender");
    x.leaf("Code", st.code());
    x.leaf("Message", st.message());
  }
  x.leaf("RequestId", requestId);
  x.close("ErrorResponse");
  resp.body = std::move(x.str());
  return resp;
}

}  // namespace

std::optional<HttpResponse> handleSnsPublicGet(const HttpRequest& req, control::ControlContext& ctx,
                                               const std::string& requestId) {
  if (req.method != "GET" || req.header("authorization")) return std::nullopt;
  auto q = req.target.find('?');
  std::string path = req.target.substr(0, q);

  if (startsWith(path, kCertPrefix) && endsWith(path, ".pem") && q == std::string::npos) {
    std::string name = path.substr(1);
    std::optional<model::SnsSigningCert> cert;
    ctx.store.read(
        [&](const store::ReadView& r) { cert = control::View(r).get<model::SnsSigningCert>(std::string("current")); });
    if (!cert || cert->name != name) return std::nullopt;
    HttpResponse resp;
    resp.contentType = "application/x-pem-file";
    resp.body = cert->pem;
    return resp;
  }

  if (path != "/" || q == std::string::npos) return std::nullopt;
  auto params = Params::parseForm(std::string_view(req.target).substr(q + 1));
  if (!params.ok() || params->get("Action") != "ConfirmSubscription" || params->get("Token").empty())
    return std::nullopt;
  auto arn = control::SnsService(ctx).confirmSubscription(params->get("TopicArn"), params->get("Token"));
  if (!arn.ok()) return snsError(arn.status(), requestId);
  HttpResponse resp;
  XmlWriter x;
  x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  x.openWithXmlns("ConfirmSubscriptionResponse", kXmlns);
  {
    auto r = x.scope("ConfirmSubscriptionResult");
    x.leaf("SubscriptionArn", *arn);
  }
  {
    auto md = x.scope("ResponseMetadata");
    x.leaf("RequestId", requestId);
  }
  x.close("ConfirmSubscriptionResponse");
  resp.body = std::move(x.str());
  return resp;
}

}  // namespace lp::api
