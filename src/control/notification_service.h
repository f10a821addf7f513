// NotificationService: VPC endpoint connection notifications (Create, Describe,
// Modify, DeleteVpcEndpointConnectionNotification(s)): an SNS topic that hears
// the Connect, Accept, Reject and Delete events of a provider's endpoint service
// or of a consumer's endpoint. The topic must exist in this region and its
// policy must let vpce.amazonaws.com SNS:Publish; otherwise nothing is created.
// The events themselves are written by recordConnectionEvent()
// (connection_events.h) in the endpoint's own transaction.
// Stateless over a ControlContext; any thread. A refused call changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/common.h"
#include "control/query.h"
#include "model/endpoint.h"

namespace lp::control {

struct CreateConnectionNotificationInput {
  std::string serviceId;
  std::string vpcEndpointId;
  std::string topicArn;
  std::vector<std::string> events;
  std::string clientToken;
};

struct DescribeConnectionNotificationsInput {
  std::string id;  // ConnectionNotificationId (one, optional)
  Filters filters;
  PageRequest page;
};

struct ModifyConnectionNotificationInput {
  std::string id;
  std::optional<std::string> topicArn;
  std::optional<std::vector<std::string>> events;
};

// One refused item of a batch delete.
struct NotificationDeleteFailure {
  std::string resourceId;
  std::string code;
  std::string message;
};

class NotificationService {
 public:
  explicit NotificationService(ControlContext& ctx) : ctx_(ctx) {}

  Result<model::ConnectionNotification> create(const CallContext& call, const CreateConnectionNotificationInput& in);
  Result<Page<model::ConnectionNotification>> describe(const CallContext& call,
                                                       const DescribeConnectionNotificationsInput& in);
  Status modify(const CallContext& call, const ModifyConnectionNotificationInput& in);
  // Deletes what it can; the rest are returned as unsuccessful items.
  Result<std::vector<NotificationDeleteFailure>> remove(const CallContext& call, const std::vector<std::string>& ids);

 private:
  ControlContext& ctx_;
};

// Checks that topicArn names a topic in this region whose policy lets
// vpce.amazonaws.com publish (InvalidConnectionNotification otherwise).
Status checkNotificationTopic(const View& v, const ControlContext& ctx, const std::string& topicArn);

}  // namespace lp::control
