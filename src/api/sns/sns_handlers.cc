// SNS topics, subscriptions and Publish over the Query protocol (Name.member.N
// lists, Name.entry.N.key/value maps in; <member> and <entry> items out).
// Operations without an output shape (DeleteTopic, SetTopicAttributes,
// Unsubscribe) send only ResponseMetadata.
#include "api/handlers.h"
#include "api/sns/sns_public.h"
#include "control/sns_service.h"

namespace lp::api {

namespace {

using control::SnsService;

constexpr std::string_view kSns = "sns";

void writeNextToken(XmlWriter& x, const std::string& token) { x.leafIf("NextToken", token); }

// Query maps with custom entry names (Publish MessageAttributes):
// MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue / .Value.BinaryValue.
Result<std::map<std::string, model::SnsMessageAttribute>> readMessageAttributes(const Params& p) {
  std::map<std::string, model::SnsMessageAttribute> out;
  for (auto& e : p.structList("MessageAttributes.entry")) {
    std::string name = e.get("Name");
    model::SnsMessageAttribute a;
    a.dataType = e.get("Value.DataType");
    a.stringValue = e.has("Value.BinaryValue") ? e.get("Value.BinaryValue") : e.get("Value.StringValue");
    if (out.count(name))
      return Status(std::string(control::err::kInvalidParameterValue),
                    "The message attribute '" + name + "' is given more than once.");
    out[name] = a;
  }
  return out;
}

}  // namespace

void registerSnsHandlers(Router& r, control::ControlContext& ctx) {
  r.add(kSns, "CreateTopic", [&ctx](HandlerContext& h) -> Status {
    model::Tags tags;
    for (auto& t : h.params.memberStructList("Tags")) tags.push_back({t.get("Key"), t.get("Value")});
    LP_ASSIGN_OR_RETURN(
        auto topic, SnsService(ctx).createTopic(h.call, h.params.get("Name"), h.params.entryMap("Attributes"), tags));
    h.out.leaf("TopicArn", topic.id.str());
    return Status::Ok();
  });

  r.add(
      kSns, "DeleteTopic",
      [&ctx](HandlerContext& h) -> Status { return SnsService(ctx).deleteTopic(h.call, h.params.get("TopicArn")); },
      /*hasResult=*/false);

  r.add(kSns, "ListTopics", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto page, SnsService(ctx).listTopics(h.call, h.params.get("NextToken")));
    {
      auto s = h.out.scope("Topics");
      for (const auto& arn : page.items) {
        auto m = h.out.scope("member");
        h.out.leaf("TopicArn", arn);
      }
    }
    writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add(kSns, "GetTopicAttributes", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto attrs, SnsService(ctx).getTopicAttributes(h.call, h.params.get("TopicArn")));
    auto s = h.out.scope("Attributes");
    for (const auto& [k, v] : attrs) {
      auto e = h.out.scope("entry");
      h.out.leaf("key", k);
      h.out.leaf("value", v);
    }
    return Status::Ok();
  });

  r.add(
      kSns, "SetTopicAttributes",
      [&ctx](HandlerContext& h) -> Status {
        return SnsService(ctx).setTopicAttributes(h.call, h.params.get("TopicArn"), h.params.get("AttributeName"),
                                                  h.params.get("AttributeValue"));
      },
      /*hasResult=*/false);

  r.add(kSns, "Subscribe", [&ctx](HandlerContext& h) -> Status {
    control::SubscribeInput in;
    in.topicArn = h.params.get("TopicArn");
    in.protocol = h.params.get("Protocol");
    in.endpoint = h.params.get("Endpoint");
    in.attributes = h.params.entryMap("Attributes");
    auto ret = h.params.getBool("ReturnSubscriptionArn");
    if (!ret.ok()) return Status(std::string(control::err::kInvalidParameter), ret.status().message());
    in.returnSubscriptionArn = ret->value_or(false);
    LP_ASSIGN_OR_RETURN(auto arn, SnsService(ctx).subscribe(h.call, in));
    h.out.leaf("SubscriptionArn", arn);
    return Status::Ok();
  });

  r.add(kSns, "ConfirmSubscription", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto arn, SnsService(ctx).confirmSubscription(h.params.get("TopicArn"), h.params.get("Token")));
    h.out.leaf("SubscriptionArn", arn);
    return Status::Ok();
  });

  r.add(kSns, "ListSubscriptionsByTopic", [&ctx](HandlerContext& h) -> Status {
    LP_ASSIGN_OR_RETURN(auto page, SnsService(ctx).listSubscriptionsByTopic(h.call, h.params.get("TopicArn"),
                                                                            h.params.get("NextToken")));
    {
      auto s = h.out.scope("Subscriptions");
      for (const auto& sub : page.items) {
        auto m = h.out.scope("member");
        h.out.leaf("SubscriptionArn", sub.confirmed ? sub.id.str() : std::string("PendingConfirmation"));
        h.out.leaf("Owner", sub.ownerId);
        h.out.leaf("Protocol", sub.protocol);
        h.out.leaf("Endpoint", sub.endpoint);
        h.out.leaf("TopicArn", sub.topicArn);
      }
    }
    writeNextToken(h.out, page.nextToken);
    return Status::Ok();
  });

  r.add(
      kSns, "Unsubscribe",
      [&ctx](HandlerContext& h) -> Status {
        return SnsService(ctx).unsubscribe(h.call, h.params.get("SubscriptionArn"));
      },
      /*hasResult=*/false);

  r.add(kSns, "Publish", [&ctx](HandlerContext& h) -> Status {
    control::PublishInput in;
    in.topicArn = h.params.get("TopicArn");
    in.targetArn = h.params.get("TargetArn");
    in.phoneNumber = h.params.get("PhoneNumber");
    in.message = h.params.get("Message");
    if (h.params.has("Subject")) in.subject = h.params.get("Subject");
    in.messageStructure = h.params.get("MessageStructure");
    LP_ASSIGN_OR_RETURN(in.messageAttributes, readMessageAttributes(h.params));
    LP_ASSIGN_OR_RETURN(auto id, SnsService(ctx).publish(h.call, in));
    h.out.leaf("MessageId", id);
    return Status::Ok();
  });
}

}  // namespace lp::api
