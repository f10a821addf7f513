// The resource ids and ARNs named in a piece of text (a request's parameter values,
// a response body): what an audit record lists under `resources`. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lp::audit {

// Ids (vpc-0abc..., vpce-svc-..., eni-...) and ARNs (arn:aws:...) in text, in order
// of first appearance, without duplicates, at most `limit`.
void collectResourceIds(std::string_view text, std::vector<std::string>& out, size_t limit = 50);
// CloudTrail's resource type for an id or ARN (AWS::EC2::VPC ...); "" if unknown.
std::string resourceType(std::string_view id);

}  // namespace lp::audit
