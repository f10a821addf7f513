// Decoders and encoders shared by every EC2 handler: filters, pagination, tag
// specifications, tag sets. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "api/params.h"
#include "api/xml_writer.h"
#include "control/common.h"
#include "control/query.h"
#include "control/vpc_service.h"

namespace lp::api::ec2 {

control::Filters readFilters(const Params& p);
Result<control::PageRequest> readPage(const Params& p);
// Ids (VpcId.N, ...), filters and page, as every Describe call takes them.
Result<control::DescribeInput> readDescribe(const Params& p, std::string_view idPrefix);
std::vector<control::TagSpecification> readTagSpecs(const Params& p);
model::Tags readTags(const Params& p, std::string_view prefix);
void writeTags(XmlWriter& x, const model::Tags& tags, std::string_view element = "tagSet");
void writeNextToken(XmlWriter& x, const std::string& token);
// <return>true</return>, what AWS sends for operations without output.
void writeReturnTrue(XmlWriter& x);

// An EC2 list of structures, <name><item>...</item>...</name>, each item written by
// write(x, item); <name/> when empty.
template <typename T, typename Fn>
void writeItems(XmlWriter& x, std::string_view name, const std::vector<T>& items, Fn write) {
  if (items.empty()) return x.empty(name);
  auto s = x.scope(name);
  for (const auto& it : items) {
    auto i = x.scope("item");
    write(x, it);
  }
}

// <unsuccessful>: the per-item failures of a batch call (answered with HTTP 200),
// from items with resourceId, code and message.
template <typename T>
void writeUnsuccessful(XmlWriter& x, const std::vector<T>& items) {
  writeItems(x, "unsuccessful", items, [](XmlWriter& w, const T& u) {
    {
      auto e = w.scope("error");
      w.leaf("code", u.code);
      w.leaf("message", u.message);
    }
    w.leaf("resourceId", u.resourceId);
  });
}

}  // namespace lp::api::ec2
