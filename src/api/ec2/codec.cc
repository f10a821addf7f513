#include "api/ec2/codec.h"

namespace lp::api::ec2 {

control::Filters readFilters(const Params& p) {
  control::Filters out;
  for (auto& f : p.structList("Filter")) out.push_back({f.get("Name"), f.list("Value")});
  return out;
}

Result<control::PageRequest> readPage(const Params& p) {
  control::PageRequest page;
  LP_ASSIGN_OR_RETURN(page.maxResults, p.getInt("MaxResults"));
  page.nextToken = p.get("NextToken");
  return page;
}

Result<control::DescribeInput> readDescribe(const Params& p, std::string_view idPrefix) {
  control::DescribeInput in;
  if (!idPrefix.empty()) in.ids = p.list(idPrefix);
  in.filters = readFilters(p);
  LP_ASSIGN_OR_RETURN(in.page, readPage(p));
  return in;
}

model::Tags readTags(const Params& p, std::string_view prefix) {
  model::Tags tags;
  for (auto& t : p.structList(prefix)) tags.push_back({t.get("Key"), t.get("Value")});
  return tags;
}

std::vector<control::TagSpecification> readTagSpecs(const Params& p) {
  std::vector<control::TagSpecification> out;
  for (auto& s : p.structList("TagSpecification")) out.push_back({s.get("ResourceType"), readTags(s, "Tag")});
  return out;
}

void writeTags(XmlWriter& x, const model::Tags& tags, std::string_view element) {
  if (tags.empty()) return x.empty(element);
  auto s = x.scope(element);
  for (auto& t : tags) {
    auto i = x.scope("item");
    x.leaf("key", t.key);
    x.leaf("value", t.value);
  }
}

void writeNextToken(XmlWriter& x, const std::string& token) {
  if (!token.empty()) x.leaf("nextToken", token);
}

void writeReturnTrue(XmlWriter& x) { x.leaf("return", true); }

}  // namespace lp::api::ec2
