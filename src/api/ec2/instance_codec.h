// Instance metadata options on the wire, shared by RunInstances, DescribeInstances
// and ModifyInstanceMetadataOptions. Pure functions.
#pragma once

#include <string_view>

#include "api/params.h"
#include "api/xml_writer.h"
#include "control/instance_service.h"

namespace lp::api::ec2 {

// HttpTokens, HttpPutResponseHopLimit, HttpEndpoint, HttpProtocolIpv6,
// InstanceMetadataTags from p (RunInstances: the MetadataOptions.* sub-params).
Result<control::MetadataOptionsChange> readMetadataOptions(const Params& p);
// The InstanceMetadataOptionsResponse fields, state first (pending | applied).
void writeMetadataOptions(XmlWriter& x, const model::Instance& i, std::string_view state);

}  // namespace lp::api::ec2
