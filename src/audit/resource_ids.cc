#include "audit/resource_ids.h"

#include <algorithm>
#include <array>
#include <utility>

namespace lp::audit {

namespace {

// Longest prefixes first, as model/ids.cc orders them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kIdTypes{{
    {"vpce-svc-", "AWS::EC2::VPCEndpointService"},
    {"vpce-nfn-", "AWS::EC2::VPCEndpointConnectionNotification"},
    {"vpc-cidr-assoc-", "AWS::EC2::VPCCidrBlock"},
    {"vpce-", "AWS::EC2::VPCEndpoint"},
    {"vpc-", "AWS::EC2::VPC"},
    {"subnet-", "AWS::EC2::Subnet"},
    {"sgr-", "AWS::EC2::SecurityGroupRule"},
    {"sg-", "AWS::EC2::SecurityGroup"},
    {"eni-attach-", "AWS::EC2::NetworkInterfaceAttachment"},
    {"eni-", "AWS::EC2::NetworkInterface"},
    {"rtbassoc-", "AWS::EC2::RouteTableAssociation"},
    {"rtb-", "AWS::EC2::RouteTable"},
    {"aclassoc-", "AWS::EC2::NetworkAclAssociation"},
    {"acl-", "AWS::EC2::NetworkAcl"},
}};

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ':' ||
         c == '/' || c == '.' || c == '_' || c == '*';
}

bool isId(std::string_view t) {
  for (auto& [prefix, type] : kIdTypes) {
    if (t.substr(0, prefix.size()) != prefix) continue;
    auto rest = t.substr(prefix.size());
    return rest.size() >= 8 && rest.size() <= 17 && std::all_of(rest.begin(), rest.end(), isHex);
  }
  return false;
}

bool isArn(std::string_view t) { return t.size() > 12 && t.size() <= 512 && t.substr(0, 8) == "arn:aws:"; }

}  // namespace

void collectResourceIds(std::string_view text, std::vector<std::string>& out, size_t limit) {
  size_t i = 0;
  while (i < text.size() && out.size() < limit) {
    if (!isTokenChar(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && isTokenChar(text[j])) ++j;
    std::string_view t = text.substr(i, j - i);
    i = j;
    if ((isId(t) || isArn(t)) && std::find(out.begin(), out.end(), t) == out.end()) out.emplace_back(t);
  }
}

std::string resourceType(std::string_view id) {
  if (id.substr(0, 8) == "arn:aws:") {
    if (id.find(":elasticloadbalancing:") != std::string_view::npos) {
      if (id.find(":loadbalancer/") != std::string_view::npos) return "AWS::ElasticLoadBalancingV2::LoadBalancer";
      if (id.find(":targetgroup/") != std::string_view::npos) return "AWS::ElasticLoadBalancingV2::TargetGroup";
      if (id.find(":listener/") != std::string_view::npos) return "AWS::ElasticLoadBalancingV2::Listener";
      return "";
    }
    if (id.find(":sns:") != std::string_view::npos) {
      // arn:aws:sns:region:account:topic[:subscription-id]
      return std::count(id.begin(), id.end(), ':') > 5 ? "AWS::SNS::Subscription" : "AWS::SNS::Topic";
    }
    return "";
  }
  for (auto& [prefix, type] : kIdTypes)
    if (id.substr(0, prefix.size()) == prefix) return std::string(type);
  return "";
}

}  // namespace lp::audit
