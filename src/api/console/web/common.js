// Lookups several views share: every page of a Describe call, the account's zones,
// VPCs, subnets and security groups as choices, and names shown for resources.
import { ec2, list } from "./api.js";

// All pages of an EC2 Describe call (NextToken), with setKey the list field.
export async function describeAll(action, setKey, params = {}) {
  const out = [];
  let token = params.NextToken;  // or from the first page
  for (let i = 0; i < 100; i++) {
    // MaxResults: undefined leaves it out (calls by id refuse it).
    const r = await ec2(action, { ...params, MaxResults: "MaxResults" in params ? params.MaxResults : 1000, NextToken: token });
    out.push(...list(r[setKey]));
    token = r.nextToken;
    if (!token) break;
  }
  return out;
}

export const nameTag = (o) => list(o.tagSet).find((t) => t.key === "Name")?.value || "";
export const labelOf = (o, id) => (nameTag(o) ? `${o[id]} (${nameTag(o)})` : o[id]);

export async function zones() {
  const r = await ec2("DescribeAvailabilityZones");
  return list(r.availabilityZoneInfo).map((z) => ({ name: z.zoneName, id: z.zoneId }));
}

export const vpcs = () => describeAll("DescribeVpcs", "vpcSet", { MaxResults: undefined });
export const subnetsOf = (vpcId) => describeAll("DescribeSubnets", "subnetSet", { MaxResults: undefined, Filter: [{ Name: "vpc-id", Value: [vpcId] }] });
export const groupsOf = (vpcId) => describeAll("DescribeSecurityGroups", "securityGroupInfo", { MaxResults: undefined, Filter: [{ Name: "vpc-id", Value: [vpcId] }] });

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "-");
