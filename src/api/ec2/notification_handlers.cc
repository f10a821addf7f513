// EC2 VPC endpoint connection notifications: Create, Describe, Modify and
// DeleteVpcEndpointConnectionNotification(s).
#include "api/ec2/codec.h"
#include "api/handlers.h"
#include "control/notification_service.h"

namespace lp::api {

namespace {

using control::NotificationService;

void writeNotification(XmlWriter& x, const model::ConnectionNotification& n) {
  x.leaf("connectionNotificationId", n.id.str());
  if (!n.serviceId.empty()) x.leaf("serviceId", n.serviceId.str());
  if (!n.vpcEndpointId.empty()) x.leaf("vpcEndpointId", n.vpcEndpointId.str());
  x.leaf("connectionNotificationType", "Topic");
  x.leaf("connectionNotificationArn", n.topicArn);
  x.stringItems("connectionEvents", n.events);
  x.leaf("connectionNotificationState", n.state);
}

}  // namespace

void registerEc2NotificationHandlers(Router& r, control::ControlContext& ctx) {
  r.add("ec2", "CreateVpcEndpointConnectionNotification", [&ctx](HandlerContext& h) -> Status {
    control::CreateConnectionNotificationInput in;
    in.serviceId = h.params.get("ServiceId");
    in.vpcEndpointId = h.params.get("VpcEndpointId");
    in.topicArn = h.params.get("ConnectionNotificationArn");
    in.events = h.params.list("ConnectionEvents");
    in.clientToken = h.params.get("ClientToken");
    LP_ASSIGN_OR_RETURN(auto n, NotificationService(ctx).create(h.call, in));
    {
      auto s = h.out.scope("connectionNotification");
      writeNotification(h.out, n);
    }
    h.out.leafIf("clientToken", in.clientToken);
    return Status::Ok();
  });

  r.add("ec2", "DescribeVpcEndpointConnectionNotifications", [&ctx](HandlerContext& h) -> Status {
    control::DescribeConnectionNotificationsInput in;
    in.id = h.params.get("ConnectionNotificationId");
    in.filters = ec2::readFilters(h.params);
    LP_ASSIGN_OR_RETURN(in.page, ec2::readPage(h.params));
    LP_ASSIGN_OR_RETURN(auto page, NotificationService(ctx).describe(h.call, in));
    ec2::writeItems(h.out, "connectionNotificationSet", page.items, writeNotification);
    ec2::writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add("ec2", "ModifyVpcEndpointConnectionNotification", [&ctx](HandlerContext& h) -> Status {
    control::ModifyConnectionNotificationInput in;
    in.id = h.params.get("ConnectionNotificationId");
    if (h.params.has("ConnectionNotificationArn")) in.topicArn = h.params.get("ConnectionNotificationArn");
    auto events = h.params.list("ConnectionEvents");
    if (!events.empty()) in.events = events;
    LP_RETURN_IF_ERROR(NotificationService(ctx).modify(h.call, in));
    ec2::writeReturnTrue(h.out);
    return Status::Ok();
  });

  r.add("ec2", "DeleteVpcEndpointConnectionNotifications", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto failed,
                        NotificationService(ctx).remove(h.call, h.params.list("ConnectionNotificationId")));
    ec2::writeUnsuccessful(h.out, failed);
    return Status::Ok();
  });
}

}  // namespace lp::api
