// The AWS service catalog: the services owned by "amazon" that interface
// endpoints reach (com.amazonaws.<region>.<name>), written into the store from
// the seed's list and the settings' backends. Runs at daemon start and after a
// reload; any thread (one store transaction).
#include <nlohmann/json.hpp>

#include "control/endpoint_dns_names.h"
#include "control/endpoint_service.h"

namespace lp::control {

using model::ServiceConfiguration;
using namespace endpoint_internal;

namespace {

using Strings = std::vector<std::string>;

// The seed's list of AWS services reachable through interface endpoints (short
// names as they appear in com.amazonaws.<region>.<name>).
const Strings kAwsServices = {
    "cloudformation",
    "codebuild",
    "config",
    "ec2",
    "elasticloadbalancing",
    "events",
    "execute-api",
    "kinesis-streams",
    "kms",
    "logs",
    "monitoring",
    "sagemaker.runtime",
    "secretsmanager",
    "servicecatalog",
    "sns",
    "ssm",
    "sts",
};

// A service's default DNS name where it is not simply <name>.<region>.amazonaws.com.
std::string awsPrivateDnsName(const std::string& shortName, const std::string& region) {
  if (shortName == "kinesis-streams") return "kinesis." + region + ".amazonaws.com";
  if (shortName == "sagemaker.runtime") return "runtime.sagemaker." + region + ".amazonaws.com";
  return shortName + "." + region + ".amazonaws.com";
}

std::string awsServiceName(const std::string& region, const std::string& shortName) {
  return "com.amazonaws." + region + "." + shortName;
}

}  // namespace

const std::vector<std::string>& awsServiceCatalog() { return kAwsServices; }

Status syncAwsServiceCatalog(ControlContext& ctx) {
  const auto settings = ctx.settings();
  const auto& backends = settings->region.serviceBackends;
  return ctx.store.update([&](store::WriteTxn& w) -> Status {
    Txn t(w);
    for (const auto& shortName : kAwsServices) {
      ServiceConfiguration s;
      s.serviceName = awsServiceName(ctx.regionName(), shortName);
      s.id = model::ServiceId("vpce-svc-" + stableHex17(s.serviceName));
      s.ownerId = std::string(model::kAmazonAccount);
      s.acceptanceRequired = false;
      s.zoneIds = ctx.zoneIds();
      s.privateDnsName = awsPrivateDnsName(shortName, ctx.regionName());
      s.privateDnsNameState = "verified";
      if (auto b = backends.find(shortName); b != backends.end())
        s.backend = b->second;
      auto prior = t.get<ServiceConfiguration>(s.id);
      s.createdAt = prior ? prior->createdAt : nowIso(ctx);
      if (!prior || nlohmann::json(*prior) != nlohmann::json(s)) t.put(s);
    }
    return Status::Ok();
  });
}

}  // namespace lp::control
