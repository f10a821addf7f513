// What the seeds' procedures need around endpoints: VPCs with their DNS attributes
// (Edit DNS settings), subnets, security groups with their rules (create, edit inbound
// and outbound), and network interfaces (requester-managed ones marked, not deletable).
import { ec2, list } from "./api.js";
import { h, table, status, link, details, section, dialog, field, choice, flash, button } from "./ui.js";
import { labelOf, nameTag, zones, vpcs, pagedList, ec2Pages } from "./common.js";

export async function vpcsPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "VPCs", fetchPage: ec2Pages("DescribeVpcs", "vpcSet"), fingerprint: (rows) => JSON.stringify(rows.map((v) => [v.vpcId, v.state, nameTag(v)])),
  });
  const tbl = table({ caption: "VPCs", rows, columns: [
    { title: "VPC ID", cell: (v) => link(`#/vpcs/${v.vpcId}`, v.vpcId), text: (v) => v.vpcId },
    { title: "Name", cell: (v) => nameTag(v) }, { title: "State", cell: (v) => status(v.state), text: (v) => v.state },
    { title: "IPv4 CIDR", cell: (v) => v.cidrBlock }, { title: "Default VPC", cell: (v) => (v.isDefault === "true" ? "Yes" : "No") },
  ] });
  bind(tbl);
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Your VPCs"), button("Create VPC", () => dialog({
      title: "Create VPC", submitText: "Create VPC",
      fields: [field("IPv4 CIDR block", h("input", { name: "cidr", value: "10.0.0.0/16" })), field("Name tag (optional)", h("input", { name: "name" }))],
      submit: async (form) => {
        const name = form.querySelector("[name=name]").value.trim();
        const r = await ec2("CreateVpc", { CidrBlock: form.querySelector("[name=cidr]").value.trim(), TagSpecification: name ? [{ ResourceType: "vpc", Tag: [{ Key: "Name", Value: name }] }] : undefined });
        flash(`Created ${r.vpc.vpcId}.`);
        view.refresh(true);
      },
    }), "primary")),
    loading,
    tbl,
  ];
}

export async function vpcPage(view, id) {
  const v = list((await ec2("DescribeVpcs", { VpcId: [id] })).vpcSet)[0];
  const [support, hostnames] = await Promise.all([
    ec2("DescribeVpcAttribute", { VpcId: id, Attribute: "enableDnsSupport" }),
    ec2("DescribeVpcAttribute", { VpcId: id, Attribute: "enableDnsHostnames" }),
  ]);
  const dnsSupport = support.enableDnsSupport?.value === "true";
  const dnsHostnames = hostnames.enableDnsHostnames?.value === "true";
  view.fingerprint(JSON.stringify([v, dnsSupport, dnsHostnames]));
  function edit() {
    const s = h("input", { type: "checkbox", id: "dns-support", checked: dnsSupport });
    const n = h("input", { type: "checkbox", id: "dns-hostnames", checked: dnsHostnames });
    dialog({
      title: "Edit DNS settings", submitText: "Save changes",
      fields: [h("fieldset", {}, h("legend", {}, "DNS settings"),
        h("div", { class: "check" }, s, h("label", { for: "dns-support" }, "Enable DNS resolution")),
        h("div", { class: "check" }, n, h("label", { for: "dns-hostnames" }, "Enable DNS hostnames")))],
      submit: async () => {
        // One attribute per call, as the API requires.
        if (s.checked !== dnsSupport) await ec2("ModifyVpcAttribute", { VpcId: id, "EnableDnsSupport.Value": s.checked });
        if (n.checked !== dnsHostnames) await ec2("ModifyVpcAttribute", { VpcId: id, "EnableDnsHostnames.Value": n.checked });
        flash("DNS settings saved.");
        view.refresh(true);
      },
    });
  }
  return [
    h("div", { class: "page-head" }, h("h1", {}, v.vpcId), link("#/vpcs", "All VPCs")),
    h("div", { class: "actions", role: "group", "aria-label": "Actions" }, button("Edit DNS settings", edit),
      button("Delete VPC", () => dialog({ title: "Delete VPC", danger: true, submitText: "Delete", fields: [h("p", {}, `Delete ${v.vpcId}?`)],
        submit: async () => { await ec2("DeleteVpc", { VpcId: id }); flash(`Deleted ${id}.`); location.hash = "#/vpcs"; } }), "danger")),
    section("Details", details([["VPC ID", v.vpcId], ["Name", nameTag(v)], ["State", status(v.state)], ["IPv4 CIDR", v.cidrBlock],
      ["DNS resolution", dnsSupport ? "Enabled" : "Disabled"], ["DNS hostnames", dnsHostnames ? "Enabled" : "Disabled"], ["Owner", v.ownerId]])),
  ];
}

export async function subnetsPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "subnets", fetchPage: ec2Pages("DescribeSubnets", "subnetSet"), fingerprint: (rows) => JSON.stringify(rows.map((s) => [s.subnetId, s.availableIpAddressCount, nameTag(s)])),
  });
  const tbl = table({ caption: "Subnets", rows, columns: [
    { title: "Subnet ID", cell: (s) => s.subnetId }, { title: "Name", cell: (s) => nameTag(s) }, { title: "VPC", cell: (s) => s.vpcId },
    { title: "IPv4 CIDR", cell: (s) => s.cidrBlock }, { title: "Availability Zone", cell: (s) => `${s.availabilityZone} (${s.availabilityZoneId})` },
    { title: "Available IPv4 addresses", cell: (s) => s.availableIpAddressCount },
  ] });
  bind(tbl);
  async function create() {
    const [myVpcs, myZones] = await Promise.all([vpcs(), zones()]);
    dialog({
      title: "Create subnet", submitText: "Create subnet",
      fields: [field("VPC ID", choice(myVpcs.map((v) => [v.vpcId, labelOf(v, "vpcId")]), myVpcs[0]?.vpcId, { name: "vpc" })),
        field("Availability Zone", choice(myZones.map((z) => [z.name, `${z.name} (${z.id})`]), myZones[0]?.name, { name: "zone" })),
        field("IPv4 CIDR block", h("input", { name: "cidr", placeholder: "10.0.1.0/24" }))],
      submit: async (form) => {
        const r = await ec2("CreateSubnet", { VpcId: form.querySelector("[name=vpc]").value, AvailabilityZone: form.querySelector("[name=zone]").value, CidrBlock: form.querySelector("[name=cidr]").value.trim() });
        flash(`Created ${r.subnet.subnetId}.`);
        view.refresh(true);
      },
    });
  }
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Subnets"), button("Create subnet", create, "primary")),
    loading,
    tbl,
  ];
}

export async function groupsPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "security groups", fetchPage: ec2Pages("DescribeSecurityGroups", "securityGroupInfo"), fingerprint: (rows) => JSON.stringify(rows.map((g) => g.groupId)),
  });
  const tbl = table({ caption: "Security groups", rows, columns: [
    { title: "Security group ID", cell: (g) => link(`#/security-groups/${g.groupId}`, g.groupId), text: (g) => g.groupId },
    { title: "Security group name", cell: (g) => g.groupName }, { title: "VPC ID", cell: (g) => g.vpcId }, { title: "Description", cell: (g) => g.groupDescription },
  ] });
  bind(tbl);
  async function create() {
    const myVpcs = await vpcs();
    dialog({
      title: "Create security group", submitText: "Create security group",
      fields: [field("Security group name", h("input", { name: "name" })), field("Description", h("input", { name: "desc" })),
        field("VPC", choice(myVpcs.map((v) => [v.vpcId, labelOf(v, "vpcId")]), myVpcs[0]?.vpcId, { name: "vpc" }))],
      submit: async (form) => {
        const r = await ec2("CreateSecurityGroup", { GroupName: form.querySelector("[name=name]").value, GroupDescription: form.querySelector("[name=desc]").value, VpcId: form.querySelector("[name=vpc]").value });
        flash(`Created ${r.groupId}.`);
        location.hash = `#/security-groups/${r.groupId}`;
      },
    });
  }
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Security Groups"), button("Create security group", create, "primary")),
    loading,
    tbl,
  ];
}

const ruleText = (p) => `${p.ipProtocol === "-1" ? "All traffic" : p.ipProtocol.toUpperCase()} ${p.ipProtocol === "-1" ? "" : p.fromPort === p.toPort ? p.fromPort : `${p.fromPort}-${p.toPort}`}`;
const sources = (p) => [...list(p.ipRanges).map((r) => r.cidrIp), ...list(p.groups).map((g) => g.groupId)];

export async function groupPage(view, id) {
  const g = list((await ec2("DescribeSecurityGroups", { GroupId: [id] })).securityGroupInfo)[0];
  view.fingerprint(JSON.stringify(g));
  const flat = (perms) => perms.flatMap((p) => sources(p).map((src) => ({ p, src })));
  function addRule(direction) {
    const proto = choice([["tcp", "TCP"], ["udp", "UDP"], ["-1", "All traffic"]], "tcp", { name: "proto" });
    dialog({
      title: `Add ${direction} rule`, submitText: "Save rules",
      fields: [field("Protocol", proto), field("Port range", h("input", { name: "ports", value: "443", inputmode: "numeric" }), "A port (443) or a range (1024-2048)."),
        field(direction === "inbound" ? "Source (CIDR or security group ID)" : "Destination (CIDR or security group ID)", h("input", { name: "src", value: "10.0.0.0/16" }))],
      submit: async (form) => {
        const [from, to = from] = form.querySelector("[name=ports]").value.split("-").map((x) => x.trim());
        const src = form.querySelector("[name=src]").value.trim();
        const perm = { IpProtocol: proto.value, ...(proto.value === "-1" ? {} : { FromPort: from, ToPort: to }), ...(src.startsWith("sg-") ? { Groups: [{ GroupId: src }] } : { IpRanges: [{ CidrIp: src }] }) };
        await ec2(direction === "inbound" ? "AuthorizeSecurityGroupIngress" : "AuthorizeSecurityGroupEgress", { GroupId: id, IpPermissions: [perm] });
        flash("Rule added.");
        view.refresh(true);
      },
    });
  }
  async function removeRule(direction, { p, src }) {
    const perm = { IpProtocol: p.ipProtocol, ...(p.ipProtocol === "-1" ? {} : { FromPort: p.fromPort, ToPort: p.toPort }), ...(src.startsWith("sg-") ? { Groups: [{ GroupId: src }] } : { IpRanges: [{ CidrIp: src }] }) };
    try {
      await ec2(direction === "inbound" ? "RevokeSecurityGroupIngress" : "RevokeSecurityGroupEgress", { GroupId: id, IpPermissions: [perm] });
      flash("Rule removed.");
      view.refresh(true);
    } catch (err) { flash(`${err.code}: ${err.awsMessage}`); }
  }
  const rules = (direction, perms) => section(direction === "inbound" ? "Inbound rules" : "Outbound rules",
    h("div", { class: "actions" }, button(`Edit ${direction} rules: add rule`, () => addRule(direction))),
    table({ caption: `${direction} rules`, rows: flat(perms), columns: [
      { title: "Type", cell: (r) => ruleText(r.p) }, { title: direction === "inbound" ? "Source" : "Destination", cell: (r) => r.src },
      { title: "Remove", cell: (r) => button("Delete rule", () => removeRule(direction, r), "danger", { "aria-label": `Delete ${direction} rule ${ruleText(r.p)} ${r.src}` }), text: () => "" },
    ] }));
  return [
    h("div", { class: "page-head" }, h("h1", {}, `${g.groupId} - ${g.groupName}`), link("#/security-groups", "All security groups")),
    h("div", { class: "actions" }, button("Delete security group", () => dialog({ title: "Delete security group", danger: true, submitText: "Delete", fields: [h("p", {}, `Delete ${g.groupId}?`)],
      submit: async () => { await ec2("DeleteSecurityGroup", { GroupId: id }); flash(`Deleted ${id}.`); location.hash = "#/security-groups"; } }), "danger")),
    section("Details", details([["Security group ID", g.groupId], ["Security group name", g.groupName], ["Description", g.groupDescription], ["VPC ID", g.vpcId], ["Owner", g.ownerId]])),
    rules("inbound", list(g.ipPermissions)), rules("outbound", list(g.ipPermissionsEgress)),
  ];
}

export async function interfacesPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "network interfaces", fetchPage: ec2Pages("DescribeNetworkInterfaces", "networkInterfaceSet"), fingerprint: (rows) => JSON.stringify(rows.map((n) => [n.networkInterfaceId, n.status])),
  });
  const tbl = table({ caption: "Network interfaces", rows, columns: [
      { title: "Network interface ID", cell: (n) => n.networkInterfaceId }, { title: "Subnet ID", cell: (n) => n.subnetId }, { title: "VPC ID", cell: (n) => n.vpcId },
      { title: "Availability Zone", cell: (n) => n.availabilityZone }, { title: "Primary private IPv4", cell: (n) => n.privateIpAddress },
      { title: "Status", cell: (n) => status(n.status), text: (n) => n.status }, { title: "Description", cell: (n) => n.description },
      { title: "Requester-managed", cell: (n) => (n.requesterManaged === "true" ? h("span", { class: "badge" }, "Requester-managed (", n.interfaceType || "vpc_endpoint", ")") : "No"), text: (n) => (n.requesterManaged === "true" ? "requester-managed" : "") },
      { title: "Actions", cell: (n) => (n.requesterManaged === "true"
        ? h("span", { class: "hint" }, "Managed by its endpoint: not deletable")
        : button("Delete", () => dialog({ title: "Delete network interface", danger: true, submitText: "Delete", fields: [h("p", {}, `Delete ${n.networkInterfaceId}?`)],
          submit: async () => { await ec2("DeleteNetworkInterface", { NetworkInterfaceId: n.networkInterfaceId }); flash(`Deleted ${n.networkInterfaceId}.`); view.refresh(true); } }), "danger", { "aria-label": `Delete ${n.networkInterfaceId}` })), text: () => "" },
  ] });
  bind(tbl);
  return [h("h1", {}, "Network Interfaces"), loading, tbl];
}
