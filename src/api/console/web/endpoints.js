// Endpoints (consumer): the list, Create endpoint, one endpoint's details with its
// Actions, traffic, lifecycle and diagram, as the seeds' console procedures name them.
import { ec2, list, lifecycle } from "./api.js";
import { h, table, status, link, details, section, dialog, field, checkboxGroup, checkedValues, choice, errorBox, flash, button, nextId } from "./ui.js";
import { describeAll, zones, vpcs, subnetsOf, groupsOf, labelOf, when, pagedList, ec2Pages } from "./common.js";
import { trafficChart, endpointMetrics } from "./charts.js";
import { notificationsPanel } from "./notifications.js";
import { lifecycleTimeline } from "./lifecycle.js";

const endpointsFp = (endpoints) => endpoints.map((e) => e.vpcEndpointId + e.state).join();

export async function endpointsPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "endpoints", fetchPage: ec2Pages("DescribeVpcEndpoints", "vpcEndpointSet"), fingerprint: endpointsFp,
  });
  const tbl = table({
    caption: "Endpoints",
    rows,
    columns: [
      { title: "Endpoint ID", cell: (e) => link(`#/endpoints/${e.vpcEndpointId}`, e.vpcEndpointId), text: (e) => e.vpcEndpointId },
      { title: "VPC ID", cell: (e) => e.vpcId },
      { title: "Service name", cell: (e) => e.serviceName },
      { title: "Endpoint type", cell: (e) => e.vpcEndpointType },
      { title: "Status", cell: (e) => status(e.state), text: (e) => e.state },
      { title: "Creation time", cell: (e) => when(e.creationTimestamp) },
    ],
  });
  bind(tbl);
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Endpoints"), link("#/endpoints/create", "Create endpoint")),
    loading,
    tbl,
  ];
}

// ---- Create endpoint ----

export async function createEndpointPage(view) {
  view.fingerprint("static");  // a form: never refreshed under the user's hands
  const [allServices, myVpcs, myZones] = await Promise.all([ec2("DescribeVpcEndpointServices"), vpcs(), zones()]);
  const awsServices = list(allServices.serviceDetailSet).filter((s) => s.owner === "amazon");
  const state = { service: null };
  const errors = h("div", { "aria-live": "assertive" });
  const serviceArea = h("div");
  const verifyResult = h("div", { "aria-live": "polite" });
  const subnetArea = h("div");
  const dnsArea = h("div");
  const groupArea = h("div");

  const categoryName = nextId("cat");
  const categories = h("fieldset", {}, h("legend", {}, "Service category"),
    [["aws", "AWS services"], ["name", "Find service by name"]].map(([v, text], i) => {
      const id = nextId("cat");
      return h("div", { class: "check" }, h("input", { type: "radio", name: categoryName, id, value: v, checked: i === 0, onchange: drawService }), h("label", { for: id }, text));
    }));

  function category() { return categories.querySelector("input:checked").value; }

  function chooseService(s) {
    state.service = s;
    drawSubnets();
    drawDns();
  }

  function drawService() {
    state.service = null;
    verifyResult.replaceChildren();
    if (category() === "aws") {
      serviceArea.replaceChildren(table({
        caption: "Service Name",
        rows: awsServices,
        select: "radio",
        onSelect: ([s]) => chooseService(s),
        columns: [
          { title: "Service Name", cell: (s) => s.serviceName },
          { title: "Owner", cell: (s) => s.owner },
          { title: "Type", cell: (s) => list(s.serviceType)[0]?.serviceType || "Interface" },
        ],
      }));
    } else {
      const input = h("input", { name: "serviceName", autocomplete: "off", placeholder: "com.amazonaws.vpce.us-east-1.vpce-svc-..." });
      serviceArea.replaceChildren(
        field("Service name", input),
        button("Verify", async () => {
          verifyResult.replaceChildren();
          try {
            const r = await ec2("DescribeVpcEndpointServices", { ServiceName: [input.value.trim()] });
            const s = list(r.serviceDetailSet)[0];
            if (!s) throw { code: "InvalidServiceName", awsMessage: "The service name was not found." };
            verifyResult.replaceChildren(h("p", { class: "notice", role: "status" }, "✓ Service name found. ", `Type: Interface. Zones: ${list(s.availabilityZoneSet).join(", ")}.`, s.acceptanceRequired === "true" ? " The service owner must accept the connection." : ""));
            chooseService(s);
          } catch (err) {
            state.service = null;
            verifyResult.replaceChildren(errorBox(err));
            drawSubnets();
          }
        }, "secondary"));
    }
    drawSubnets();
    drawDns();
  }

  const vpcSelect = choice([["", "Select a VPC"], ...myVpcs.map((v) => [v.vpcId, labelOf(v, "vpcId")])], "", { name: "vpc", onchange: () => { drawSubnets(); drawDns(); drawGroups(); } });

  async function drawSubnets() {
    const vpcId = vpcSelect.value;
    if (!vpcId || !state.service) {
      subnetArea.replaceChildren(h("p", { class: "hint" }, "Choose a service and a VPC to choose subnets."));
      return;
    }
    const subnets = await subnetsOf(vpcId);
    const supported = new Set(list(state.service.availabilityZoneSet));
    subnetArea.replaceChildren(h("fieldset", { class: "zones" }, h("legend", {}, "Subnets"),
      h("p", { class: "hint" }, "One subnet per Availability Zone. Zones the service does not support are unavailable."),
      myZones.map((z) => {
        const inZone = subnets.filter((s) => s.availabilityZone === z.name);
        const ok = supported.has(z.name);
        const id = nextId("az");
        const sel = choice(inZone.map((s) => [s.subnetId, `${labelOf(s, "subnetId")} ${s.cidrBlock}`]), inZone[0]?.subnetId, { "aria-label": `Subnet in ${z.name}`, disabled: !ok || inZone.length === 0, dataset: { zone: z.name } });
        return h("div", { class: "zone-row" },
          h("input", { type: "checkbox", id, value: z.name, disabled: !ok || inZone.length === 0, dataset: { zone: z.name } }),
          h("label", { for: id }, `${z.name} (${z.id})`),
          sel,
          !ok ? h("span", { class: "unavailable" }, "✕ Unavailable: the service is not in this zone") : inZone.length === 0 ? h("span", { class: "unavailable" }, "No subnet of this VPC in this zone") : null);
      })));
  }

  async function drawDns() {
    const vpcId = vpcSelect.value;
    const name = state.service?.privateDnsName;
    if (!name || !vpcId) { dnsArea.replaceChildren(); return; }
    const [support, hostnames] = await Promise.all([
      ec2("DescribeVpcAttribute", { VpcId: vpcId, Attribute: "enableDnsSupport" }),
      ec2("DescribeVpcAttribute", { VpcId: vpcId, Attribute: "enableDnsHostnames" }),
    ]);
    const ok = support.enableDnsSupport?.value === "true" && hostnames.enableDnsHostnames?.value === "true";
    const id = nextId("dns");
    dnsArea.replaceChildren(h("fieldset", {}, h("legend", {}, "Enable DNS name"),
      h("div", { class: "check" }, h("input", { type: "checkbox", id, name: "privateDns", checked: ok }), h("label", { for: id }, `Enable Private DNS Name (${name})`)),
      ok ? h("p", { class: "hint" }, "The VPC has DNS resolution and DNS hostnames enabled.")
        : h("p", { class: "warning", role: "note" }, "⚠ To use private DNS names, the VPC attributes enableDnsHostnames and enableDnsSupport must both be true. ",
          link(`#/vpcs/${vpcId}`, "Edit the VPC's DNS settings"), ".")));
  }

  async function drawGroups() {
    const vpcId = vpcSelect.value;
    if (!vpcId) { groupArea.replaceChildren(); return; }
    const groups = await groupsOf(vpcId);
    groupArea.replaceChildren(checkboxGroup("Security group", groups.map((g) => [g.groupId, `${g.groupId} (${g.groupName})`]), groups.filter((g) => g.groupName === "default").map((g) => g.groupId)));
  }

  async function create(e) {
    e.preventDefault();
    errors.replaceChildren();
    const vpcId = vpcSelect.value;
    const subnetIds = Array.from(subnetArea.querySelectorAll("input[type=checkbox]:checked")).map((c) => subnetArea.querySelector(`select[data-zone="${c.dataset.zone}"]`).value);
    const params = {
      VpcEndpointType: "Interface", VpcId: vpcId, ServiceName: state.service?.serviceName || "",
      SubnetId: subnetIds, SecurityGroupId: checkedValues(groupArea),
    };
    const dns = dnsArea.querySelector("input[name=privateDns]");
    params.PrivateDnsEnabled = dns ? dns.checked : false;
    try {
      const r = await ec2("CreateVpcEndpoint", params);
      flash(`Created endpoint ${r.vpcEndpoint.vpcEndpointId}.`);
      location.hash = `#/endpoints/${r.vpcEndpoint.vpcEndpointId}`;
    } catch (err) {
      errors.replaceChildren(errorBox(err));
      errors.querySelector("[role=alert]")?.focus?.();
    }
  }

  drawService();
  drawSubnets();
  return [
    h("h1", {}, "Create Endpoint"),
    h("form", { class: "panel form", onsubmit: create, novalidate: true },
      categories, serviceArea, verifyResult,
      field("VPC", vpcSelect), subnetArea, dnsArea, groupArea, errors,
      h("div", { class: "actions" }, link("#/endpoints", "Cancel"), h("button", { type: "submit", class: "primary" }, "Create endpoint"))),
  ];
}

// ---- one endpoint ----

export async function endpointPage(view, id) {
  const r = await ec2("DescribeVpcEndpoints", { VpcEndpointId: [id] });
  const e = list(r.vpcEndpointSet)[0];
  const enis = list(e.networkInterfaceIdSet);
  const [subnets, interfaces, notes, history] = await Promise.all([
    list(e.subnetIdSet).length ? describeAll("DescribeSubnets", "subnetSet", { SubnetId: list(e.subnetIdSet), MaxResults: undefined }) : [],
    enis.length ? describeAll("DescribeNetworkInterfaces", "networkInterfaceSet", { NetworkInterfaceId: enis, MaxResults: undefined }) : [],
    describeAll("DescribeVpcEndpointConnectionNotifications", "connectionNotificationSet", { MaxResults: undefined }),
    lifecycle(id),
  ]);
  const mine = notes.filter((n) => n.vpcEndpointId === id);
  view.fingerprint(JSON.stringify([e, interfaces.map((i) => i.status), mine, history]));
  const eniOf = (subnetId) => interfaces.find((i) => i.subnetId === subnetId);

  const actions = h("div", { class: "actions", role: "group", "aria-label": "Actions" },
    button("Manage Subnets", () => manageSubnets(view, e)),
    button("Manage security groups", () => manageGroups(view, e)),
    button("Delete endpoint", () => deleteEndpoint(view, e), "danger"));

  return [
    h("div", { class: "page-head" }, h("h1", {}, e.vpcEndpointId), link("#/endpoints", "All endpoints")),
    actions,
    section("Details", details([
      ["Endpoint ID", e.vpcEndpointId], ["Status", status(e.state)], ["Status message", e.lastError?.message || ""],
      ["VPC ID", e.vpcId], ["Service name", e.serviceName], ["Endpoint type", e.vpcEndpointType],
      ["Private DNS names enabled", e.privateDnsEnabled === "true" ? "Yes" : "No"], ["Creation time", when(e.creationTimestamp)],
    ]),
    h("h3", {}, "DNS Names"),
    list(e.dnsEntrySet).length ? h("ul", { class: "dns-names" }, list(e.dnsEntrySet).map((d) => h("li", {}, h("code", {}, d.dnsName), ` (${d.hostedZoneId})`))) : h("p", {}, "No DNS names yet."),
    ),
    section("Subnets", table({
      caption: "Subnets", rows: list(e.subnetIdSet).map((s) => subnets.find((x) => x.subnetId === s) || { subnetId: s }),
      columns: [
        { title: "Subnet ID", cell: (s) => s.subnetId },
        { title: "Availability Zone", cell: (s) => `${s.availabilityZone || "-"} (${s.availabilityZoneId || "-"})` },
        { title: "Network interface ID", cell: (s) => eniOf(s.subnetId)?.networkInterfaceId || "-" },
        { title: "IPv4 address", cell: (s) => eniOf(s.subnetId)?.privateIpAddress || "-" },
      ],
    })),
    section("Security Groups", table({
      caption: "Security Groups", rows: list(e.groupSet),
      columns: [{ title: "Group ID", cell: (g) => link(`#/security-groups/${g.groupId}`, g.groupId), text: (g) => g.groupId }, { title: "Group name", cell: (g) => g.groupName }],
    })),
    notificationsPanel(view, { VpcEndpointId: id }, mine),
    section("Monitoring", trafficChart(view, endpointMetrics(e, subnets))),
    section("Lifecycle", lifecycleTimeline(history)),
    section("Diagram", endpointDiagram(e, subnets, interfaces)),
  ];
}

// The endpoint as boxes: consumer VPC > per zone its subnet and endpoint interface > the service.
function endpointDiagram(e, subnets, interfaces) {
  return h("figure", { class: "diagram" },
    h("div", { class: "box vpc" }, h("strong", {}, `Consumer VPC ${e.vpcId}`),
      h("div", { class: "zones-row" }, list(e.subnetIdSet).map((sid) => {
        const s = subnets.find((x) => x.subnetId === sid) || {};
        const eni = interfaces.find((i) => i.subnetId === sid) || {};
        return h("div", { class: "box zone" }, h("strong", {}, s.availabilityZone || "zone"),
          h("div", { class: "box subnet" }, `Subnet ${sid}`, h("br"), s.cidrBlock || ""),
          h("div", { class: "box eni" }, `ENI ${eni.networkInterfaceId || "-"}`, h("br"), eni.privateIpAddress || "", h("br"), status(eni.status || "")));
      }))),
    h("div", { class: "arrow", "aria-hidden": "true" }, "↓"),
    h("div", { class: "box service" }, h("strong", {}, "Endpoint service"), h("br"), e.serviceName, h("br"), status(e.state)),
    h("figcaption", {}, "The endpoint's network interfaces per zone, leading to the service. The provider sees its load balancer and targets on the service's page."));
}

function manageSubnets(view, e) {
  (async () => {
    const [subnets, svc, myZones] = await Promise.all([subnetsOf(e.vpcId), ec2("DescribeVpcEndpointServices", { ServiceName: [e.serviceName] }), zones()]);
    const supported = new Set(list(list(svc.serviceDetailSet)[0]?.availabilityZoneSet));
    const chosen = list(e.subnetIdSet);
    const group = checkboxGroup("Subnets", subnets.map((s) => [s.subnetId, `${s.availabilityZone}: ${labelOf(s, "subnetId")} ${s.cidrBlock}${supported.has(s.availabilityZone) ? "" : " (unavailable: the service is not in this zone)"}`, { disabled: !supported.has(s.availabilityZone) }]), chosen);
    dialog({
      title: "Manage Subnets", fields: [group, h("p", { class: "hint" }, `${myZones.length} zones in this region; one subnet per zone.`)], submitText: "Modify subnets",
      submit: async () => {
        const want = checkedValues(group);
        await ec2("ModifyVpcEndpoint", { VpcEndpointId: e.vpcEndpointId, AddSubnetId: want.filter((s) => !chosen.includes(s)), RemoveSubnetId: chosen.filter((s) => !want.includes(s)) });
        flash("Subnets modified.");
        view.refresh(true);
      },
    });
  })().catch((err) => flash(`${err.code}: ${err.awsMessage}`));
}

function manageGroups(view, e) {
  (async () => {
    const groups = await groupsOf(e.vpcId);
    const chosen = list(e.groupSet).map((g) => g.groupId);
    const group = checkboxGroup("Security groups", groups.map((g) => [g.groupId, `${g.groupId} (${g.groupName})`]), chosen);
    dialog({
      title: "Manage security groups", fields: [group], submitText: "Modify security groups",
      submit: async () => {
        const want = checkedValues(group);
        await ec2("ModifyVpcEndpoint", { VpcEndpointId: e.vpcEndpointId, AddSecurityGroupId: want.filter((g) => !chosen.includes(g)), RemoveSecurityGroupId: chosen.filter((g) => !want.includes(g)) });
        flash("Security groups modified.");
        view.refresh(true);
      },
    });
  })().catch((err) => flash(`${err.code}: ${err.awsMessage}`));
}

function deleteEndpoint(view, e) {
  dialog({
    title: "Delete endpoint", danger: true, submitText: "Delete",
    fields: [h("p", {}, `Delete endpoint ${e.vpcEndpointId}? Its network interfaces are removed.`)],
    submit: async () => {
      const r = await ec2("DeleteVpcEndpoints", { VpcEndpointId: [e.vpcEndpointId] });
      const failed = list(r.unsuccessful)[0];
      if (failed) throw { code: failed.error?.code, awsMessage: failed.error?.message };
      flash(`Deleted endpoint ${e.vpcEndpointId}.`);
      location.hash = "#/endpoints";
    },
  });
}
