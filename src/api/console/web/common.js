// Lookups several views share: every page of a Describe call, the account's zones,
// VPCs, subnets and security groups as choices, and names shown for resources.
import { ec2, elb, list } from "./api.js";
import { h } from "./ui.js";

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

// A list's first drawing asks for this many rows; the rest comes behind it. A
// 1,000-item answer takes the daemon, the XML parser and the page about a second on
// a busy 2-core host; 50 take a few milliseconds (bench/console measures both).
export const FIRST_PAGE = 50;
const ALL_PAGE = 1000;

// One page of an EC2 Describe call: fetchPage(token, size) -> { rows, next }.
export const ec2Pages = (action, setKey, params = {}) => async (token, size) => {
  const r = await ec2(action, { ...params, MaxResults: size, NextToken: token });
  return { rows: list(r[setKey]), next: r.nextToken };
};
// One page of an ELBv2 Describe call (PageSize, Marker / NextMarker).
export const elbPages = (action, key, params = {}) => async (token, size) => {
  const r = await elb(action, { ...params, PageSize: Math.min(size, 400), Marker: token });
  return { rows: list(r[key]), next: r.NextMarker };
};

async function pagesFrom(fetchPage, token, size) {
  const out = [];
  for (let i = 0; i < 100; i++) {
    const p = await fetchPage(token, size);
    out.push(...p.rows);
    token = p.next;
    if (!token) break;
  }
  return out;
}

// A long list's rows, first page first. On the view's first drawing one call of
// FIRST_PAGE rows is drawn at once; bind(table) then fetches the rest behind it
// (view.later: no refresh meanwhile), hands it to the table (filter, page and
// selection stay) and clears the status line. Refreshes fetch every page. expand(rows)
// adds what a row needs from other calls (a load balancer's listeners).
export async function pagedList(view, { noun, fetchPage, fingerprint, expand = async (rows) => rows }) {
  const status = h("p", { class: "hint", role: "status" });
  if (!view.first) {
    const rows = await expand(await pagesFrom(fetchPage, undefined, ALL_PAGE));
    view.fingerprint(fingerprint(rows));
    return { rows, status, bind() {} };
  }
  const first = await fetchPage(undefined, FIRST_PAGE);
  const rows = await expand(first.rows);
  view.fingerprint(fingerprint(rows));
  if (first.next) status.append(`Showing the first ${rows.length} ${noun}; loading the rest…`);
  return {
    rows, status,
    bind(tbl) {
      if (!first.next) return;
      view.later(async () => {
        const all = [...rows, ...(await expand(await pagesFrom(fetchPage, first.next, ALL_PAGE)))];
        tbl.setRows(all);
        status.replaceChildren();
        return fingerprint(all);
      });
    },
  };
}
