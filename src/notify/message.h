// The HTTP(S) form of an SNS message as a subscriber receives it: the JSON body
// (SubscriptionConfirmation or Notification, with SNS's field names and
// signature) and the x-amz-sns-* headers. Pure functions of the delivery row, so
// every retry sends the same bytes with the same MessageId.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "model/sns.h"
#include "notify/signing.h"

namespace lp::notify {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct RenderedMessage {
  std::string body;
  HeaderPairs headers;
};

// URLs the messages name, all served by the daemon's own API at baseUrl.
std::string subscribeUrl(std::string_view baseUrl, const model::SnsDelivery& d);
std::string unsubscribeUrl(std::string_view baseUrl, const model::SnsDelivery& d);
std::string signingCertUrl(std::string_view baseUrl, const SigningKey& key);

// What SNS signs: "Key\nValue\n" for the message's fields in byte order of the
// keys (Message, MessageId, [Subject,] [SubscribeURL,] Timestamp, [Token,] TopicArn, Type).
std::string stringToSign(const model::SnsDelivery& d, std::string_view subscribeUrl);

Result<RenderedMessage> renderMessage(const model::SnsDelivery& d, std::string_view baseUrl, const SigningKey& key);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string urlEncode(std::string_view s);

}  // namespace lp::notify
