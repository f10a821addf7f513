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

}  // namespace lp::api::ec2
