// POST /console/lifecycle: an endpoint's state changes as the store keeps them
// (VpcEndpoint::stateHistory: written with each state change by the endpoint service's
// API calls and by the reconciler's status writes), for the lifecycle timeline.
//
// Who may read it is decided by the API itself, as the session's account: the
// endpoint's owner sees it in DescribeVpcEndpoints, the service's provider in
// DescribeVpcEndpointConnections. Anyone else gets the API's own NotFound, so the
// answer does not tell whether an endpoint exists.
#include <nlohmann/json.hpp>

#include "api/console/console_json.h"
#include "api/console/console_service.h"
#include "api/params.h"
#include "control/typed_store.h"
#include "model/endpoint.h"

namespace lp::api::console {

namespace {

HttpResponse jsonAnswer(int status, const nlohmann::json& body) { return consoleJson(status, body); }

// The API's answer lists the endpoint: ids are checked well-formed first, so the
// element can only match that endpoint.
bool lists(const HttpResponse& r, const std::string& id) {
  return r.status == 200 && r.body.find("<vpcEndpointId>" + id + "</vpcEndpointId>") != std::string::npos;
}

}  // namespace

HttpResponse ConsoleService::lifecycle(const HttpRequest& req) {
  // One settings snapshot for the call, as apiCall(): the account stays valid in it.
  const auto settings = ctx_.settings();
  HttpResponse refusal;
  auto s = authorize(req, *settings, refusal);
  if (!s) return refusal;
  const model::Account* account = settings->region.accountById(s->account);
  if (!account) return jsonAnswer(401, {{"code", "NotSignedIn"}, {"message", "This account is no longer configured."}});
  auto form = Params::parseForm(req.body);
  if (!form.ok()) return jsonAnswer(400, {{"code", form.status().code()}, {"message", form.status().message()}});
  std::string id = form->get("VpcEndpointId");
  if (id.empty())
    return jsonAnswer(400, {{"code", "MissingParameter"},
                            {"message", "The request must contain the parameter VpcEndpointId"}});
  auto notFound = jsonAnswer(
      400, {{"code", "InvalidVpcEndpointId.NotFound"}, {"message", "The VpcEndpoint Id '" + id + "' does not exist"}});
  if (!model::isWellFormed<model::VpcEndpointId>(id)) return notFound;

  bool owner = lists(api_.callAs("ec2", *account, "Action=DescribeVpcEndpoints&Version=2016-11-15&VpcEndpointId.1=" + id,
                                 req.sourceIp),
                     id);
  bool provider =
      !owner && lists(api_.callAs("ec2", *account,
                                  "Action=DescribeVpcEndpointConnections&Version=2016-11-15&Filter.1.Name=vpc-endpoint-"
                                  "id&Filter.1.Value.1=" +
                                      id,
                                  req.sourceIp),
                      id);
  if (!owner && !provider) return notFound;

  std::optional<model::VpcEndpoint> e;
  ctx_.store.read([&](const store::ReadView& v) { e = control::View(v).get<model::VpcEndpoint>(id); });
  if (!e) return notFound;  // purged between the two reads
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : e->stateHistory) {
    nlohmann::json j = {{"State", c.state}, {"Time", c.at}, {"Cause", c.cause}};
    if (!c.actor.empty()) j["Account"] = c.actor;
    if (!c.reason.empty()) j["Reason"] = c.reason;
    changes.push_back(std::move(j));
  }
  return jsonAnswer(200, {{"VpcEndpointId", e->id.str()},
                          {"State", e->state},
                          {"CreationTimestamp", e->createdAt},
                          {"StateChanges", std::move(changes)}});
}

}  // namespace lp::api::console
