#include "notify/message.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace lp::notify {

namespace {

bool isConfirmation(const model::SnsDelivery& d) {
  return d.type == model::sns_message_type::kSubscriptionConfirmation;
}

}  // namespace

std::string urlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string subscribeUrl(std::string_view baseUrl, const model::SnsDelivery& d) {
  return fmt::format("{}/?Action=ConfirmSubscription&TopicArn={}&Token={}", baseUrl, urlEncode(d.topicArn),
                     urlEncode(d.token));
}

std::string unsubscribeUrl(std::string_view baseUrl, const model::SnsDelivery& d) {
  return fmt::format("{}/?Action=Unsubscribe&SubscriptionArn={}", baseUrl, urlEncode(d.subscriptionArn));
}

std::string signingCertUrl(std::string_view baseUrl, const SigningKey& key) {
  return fmt::format("{}/{}", baseUrl, key.certName());
}

std::string stringToSign(const model::SnsDelivery& d, std::string_view subscribeUrl) {
  std::string s;
  auto add = [&](std::string_view k, std::string_view v) {
    s += k;
    s += '\n';
    s += v;
    s += '\n';
  };
  add("Message", d.message);
  add("MessageId", d.messageId);
  if (isConfirmation(d)) {
    add("SubscribeURL", subscribeUrl);
    add("Timestamp", d.timestamp);
    add("Token", d.token);
  } else {
    if (!d.subject.empty()) add("Subject", d.subject);
    add("Timestamp", d.timestamp);
  }
  add("TopicArn", d.topicArn);
  add("Type", d.type);
  return s;
}

Result<RenderedMessage> renderMessage(const model::SnsDelivery& d, std::string_view baseUrl, const SigningKey& key) {
  RenderedMessage out;
  out.headers = {{"x-amz-sns-message-type", d.type},
                 {"x-amz-sns-message-id", d.messageId},
                 {"x-amz-sns-topic-arn", d.topicArn},
                 {"Content-Type", "text/plain; charset=UTF-8"},
                 {"User-Agent", "Amazon Simple Notification Service Agent"}};
  if (!isConfirmation(d)) out.headers.emplace_back("x-amz-sns-subscription-arn", d.subscriptionArn);
  if (!isConfirmation(d) && d.raw) {
    out.headers.emplace_back("x-amz-sns-rawdelivery", "true");
    out.body = d.message;
    return out;
  }
  std::string subUrl = isConfirmation(d) ? subscribeUrl(baseUrl, d) : std::string();
  LP_ASSIGN_OR_RETURN(std::string signature, key.sign(stringToSign(d, subUrl), d.signatureVersion));
  nlohmann::ordered_json j;
  j["Type"] = d.type;
  j["MessageId"] = d.messageId;
  if (isConfirmation(d)) j["Token"] = d.token;
  j["TopicArn"] = d.topicArn;
  if (!isConfirmation(d) && !d.subject.empty()) j["Subject"] = d.subject;
  j["Message"] = d.message;
  if (isConfirmation(d)) j["SubscribeURL"] = subUrl;
  j["Timestamp"] = d.timestamp;
  j["SignatureVersion"] = d.signatureVersion;
  j["Signature"] = signature;
  j["SigningCertURL"] = signingCertUrl(baseUrl, key);
  if (!isConfirmation(d)) {
    j["UnsubscribeURL"] = unsubscribeUrl(baseUrl, d);
    if (!d.messageAttributes.empty()) {
      nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
      for (const auto& [name, a] : d.messageAttributes) attrs[name] = {{"Type", a.dataType}, {"Value", a.stringValue}};
      j["MessageAttributes"] = attrs;
    }
  }
  out.body = j.dump(2);
  return out;
}

}  // namespace lp::notify
