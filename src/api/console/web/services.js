// Endpoint services (provider): the list, Create endpoint service, and one service's
// Details (with Verify domain ownership), Endpoint connections (Accept / Reject),
// Allow principals, Notifications, load balancers and targets, traffic, Delete.
import { ec2, elb, list, lifecycle } from "./api.js";
import { h, table, status, link, details, section, dialog, field, checkboxGroup, checkedValues, flash, button, errorBox } from "./ui.js";
import { describeAll, when, pagedList, ec2Pages } from "./common.js";
import { trafficChart, serviceMetrics } from "./charts.js";
import { notificationsPanel } from "./notifications.js";
import { lifecycleTimeline } from "./lifecycle.js";

export async function servicesPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "endpoint services", fetchPage: ec2Pages("DescribeVpcEndpointServiceConfigurations", "serviceConfigurationSet"),
    fingerprint: (rows) => JSON.stringify(rows.map((s) => [s.serviceId, s.serviceState])),
  });
  const tbl = table({
    caption: "Endpoint services", rows,
    columns: [
      { title: "Service ID", cell: (s) => link(`#/services/${s.serviceId}`, s.serviceId), text: (s) => s.serviceId },
      { title: "Service name", cell: (s) => s.serviceName },
      { title: "State", cell: (s) => status(s.serviceState), text: (s) => s.serviceState },
      { title: "Acceptance required", cell: (s) => (s.acceptanceRequired === "true" ? "Yes" : "No") },
      { title: "Availability Zones", cell: (s) => list(s.availabilityZoneSet).join(", ") },
    ],
  });
  bind(tbl);
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Endpoint services"), link("#/services/create", "Create endpoint service")),
    loading,
    tbl,
  ];
}

export async function createServicePage(view) {
  view.fingerprint("static");
  const lbs = list((await elb("DescribeLoadBalancers")).LoadBalancers).filter((l) => l.Type === "network");
  const errors = h("div", { "aria-live": "assertive" });
  const nlbs = checkboxGroup("Available load balancers", lbs.map((l) => [l.LoadBalancerArn, `${l.LoadBalancerName} (${list(l.AvailabilityZones).map((z) => z.ZoneName).join(", ")})`]));
  const accept = h("input", { type: "checkbox", id: "acceptance", checked: true });
  const dns = h("input", { name: "privateDnsName", autocomplete: "off", placeholder: "service.example.com" });
  async function create(e) {
    e.preventDefault();
    errors.replaceChildren();
    try {
      const r = await ec2("CreateVpcEndpointServiceConfiguration", {
        NetworkLoadBalancerArn: checkedValues(nlbs), AcceptanceRequired: accept.checked,
        PrivateDnsName: dns.value.trim() || undefined,
      });
      flash(`Created endpoint service ${r.serviceConfiguration.serviceId}.`);
      location.hash = `#/services/${r.serviceConfiguration.serviceId}`;
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  }
  return [
    h("h1", {}, "Create endpoint service"),
    h("form", { class: "panel form", onsubmit: create, novalidate: true },
      lbs.length ? nlbs : h("p", {}, "No network load balancers yet. ", link("#/load-balancers", "Create one"), " first."),
      h("fieldset", {}, h("legend", {}, "Require acceptance for endpoint"), h("div", { class: "check" }, accept, h("label", { for: "acceptance" }, "Acceptance required"))),
      field("Private DNS name (optional)", dns, "Consumers' VPCs resolve this name to their endpoint once you verify you own the domain."),
      errors,
      h("div", { class: "actions" }, link("#/services", "Cancel"), h("button", { type: "submit", class: "primary" }, "Create"))),
  ];
}

// A connection's state changes, as the endpoint's owner sees them on its page.
function showLifecycle(endpointId) {
  lifecycle(endpointId).then((history) => dialog({
    title: `Lifecycle of ${endpointId}`, submitText: "Close", fields: [lifecycleTimeline(history)], submit: async () => {},
  })).catch((err) => flash(`${err.code}: ${err.awsMessage}`));
}

export async function servicePage(view, id) {
  const connFp = (rows) => JSON.stringify(rows.map((c) => [c.vpcEndpointId, c.vpcEndpointState]));
  let fpOf = (c) => c;  // the whole page's, once its other parts are known (below)
  const [cfgs, connList, perms] = await Promise.all([
    ec2("DescribeVpcEndpointServiceConfigurations", { ServiceId: [id] }),
    pagedList(view, {
      noun: "connections", fetchPage: ec2Pages("DescribeVpcEndpointConnections", "vpcEndpointConnectionSet", { Filter: [{ Name: "service-id", Value: [id] }] }),
      fingerprint: (rows) => fpOf(connFp(rows)),
    }),
    describeAll("DescribeVpcEndpointServicePermissions", "allowedPrincipals", { MaxResults: undefined, ServiceId: id }),
  ]);
  const s = list(cfgs.serviceConfigurationSet)[0];
  const notes = (await describeAll("DescribeVpcEndpointConnectionNotifications", "connectionNotificationSet", { MaxResults: undefined })).filter((n) => n.serviceId === id);
  const lbArns = list(s.networkLoadBalancerArnSet);
  const lbs = lbArns.length ? list((await elb("DescribeLoadBalancers", { LoadBalancerArns: lbArns })).LoadBalancers) : [];
  const targets = await targetsOf(lbArns);
  const conns = connList.rows;
  // The rest of the connections, fetched behind the first page, changes only their part.
  fpOf = (c) => JSON.stringify([s, c, perms, notes, targets.map((t) => t.health)]);
  view.fingerprint(fpOf(connFp(conns)));

  let chosenConns = [];
  const acceptBtn = button("Accept endpoint connection request", () => decide("Accept"), "primary", { disabled: true });
  const rejectBtn = button("Reject endpoint connection request", () => decide("Reject"), "danger", { disabled: true });
  function decide(verb) {
    const ids = chosenConns.map((c) => c.vpcEndpointId);
    dialog({
      title: `${verb} endpoint connection request`, danger: verb === "Reject", submitText: verb,
      fields: [h("p", {}, `${verb} the connection from ${ids.join(", ")}?`)],
      submit: async () => {
        const r = await ec2(`${verb}VpcEndpointConnections`, { ServiceId: id, VpcEndpointId: ids });
        const failed = list(r.unsuccessful)[0];
        if (failed) throw { code: failed.error?.code, awsMessage: failed.error?.message };
        flash(`${verb === "Accept" ? "Accepted" : "Rejected"} ${ids.join(", ")}.`);
        view.refresh(true);
      },
    });
  }

  let chosenPrincipals = [];
  const removeBtn = button("Remove principals", () => {
    dialog({
      title: "Remove principals", danger: true, submitText: "Remove", fields: [h("p", {}, `Remove ${chosenPrincipals.map((p) => p.principal).join(", ")}?`)],
      submit: async () => {
        await ec2("ModifyVpcEndpointServicePermissions", { ServiceId: id, RemoveAllowedPrincipals: chosenPrincipals.map((p) => p.principal) });
        flash("Principals removed.");
        view.refresh(true);
      },
    });
  }, "danger", { disabled: true });
  function addPrincipals() {
    const input = h("input", { name: "principal", autocomplete: "off", placeholder: "arn:aws:iam::222222222222:root" });
    dialog({
      title: "Allow principals", submitText: "Allow principals",
      fields: [field("Principals to add (ARNs, one per line or comma separated)", input, "For example arn:aws:iam::123456789012:root, or * for everyone.")],
      submit: async () => {
        const add = input.value.split(/[\s,]+/).filter(Boolean);
        await ec2("ModifyVpcEndpointServicePermissions", { ServiceId: id, AddAllowedPrincipals: add });
        flash("Principals allowed.");
        view.refresh(true);
      },
    });
  }

  const connTable = table({
        caption: "Endpoint connections", rows: conns, select: "checkbox", keyOf: (c) => c.vpcEndpointId,
        onSelect: (rows) => { chosenConns = rows; acceptBtn.disabled = rejectBtn.disabled = rows.length === 0; },
        columns: [
          { title: "Endpoint ID", cell: (c) => c.vpcEndpointId },
          { title: "Owner", cell: (c) => c.vpcEndpointOwner },
          { title: "State", cell: (c) => status(c.vpcEndpointState), text: (c) => c.vpcEndpointState },
          { title: "Creation time", cell: (c) => when(c.creationTimestamp) },
          { title: "Lifecycle", cell: (c) => button("View lifecycle", () => showLifecycle(c.vpcEndpointId), "secondary", { "aria-label": `View lifecycle of ${c.vpcEndpointId}` }), text: () => "" },
        ],
  });
  connList.bind(connTable);
  const dnsConf = s.privateDnsNameConfiguration;
  return [
    h("div", { class: "page-head" }, h("h1", {}, s.serviceId), link("#/services", "All endpoint services")),
    h("div", { class: "actions", role: "group", "aria-label": "Actions" },
      button("Delete endpoint service", () => deleteService(s), "danger")),
    section("Details", details([
      ["Service name", h("code", { class: "service-name" }, s.serviceName)], ["Service ID", s.serviceId], ["State", status(s.serviceState)],
      ["Type", "Interface"], ["Availability Zones", list(s.availabilityZoneSet).join(", ")],
      ["Acceptance required", s.acceptanceRequired === "true" ? "Yes" : "No"],
      ["Private DNS name", s.privateDnsName || ""],
      ["Domain verification status", dnsConf ? status(dnsConf.state) : ""],
      ["Domain verification name", dnsConf ? h("code", {}, dnsConf.name) : ""],
      ["Domain verification value", dnsConf ? h("code", {}, dnsConf.value) : ""],
    ]), h("p", { class: "hint" }, "Give the service name to consumers: they enter it under Find service by name."),
    dnsConf && dnsConf.state !== "verified" ? h("p", { class: "hint" }, `To prove you own ${s.privateDnsName}, publish a TXT record named ${dnsConf.name}.${s.privateDnsName} with the value above, then choose Verify domain ownership.`) : null,
    dnsConf ? button("Verify domain ownership", async () => {
      try {
        await ec2("StartVpcEndpointServicePrivateDnsVerification", { ServiceId: id });
        flash("Domain ownership verification started.");
        view.refresh(true);
      } catch (err) { flash(`${err.code}: ${err.awsMessage}`); }
    }) : null),
    section("Endpoint connections",
      h("div", { class: "actions", role: "group", "aria-label": "Connection actions" }, acceptBtn, rejectBtn),
      connList.status,
      connTable),
    section("Allow principals",
      h("div", { class: "actions", role: "group", "aria-label": "Principal actions" }, button("Allow principals", addPrincipals), removeBtn),
      table({
        caption: "Allowed principals", rows: perms, select: "checkbox", keyOf: (p) => p.principal,
        onSelect: (rows) => { chosenPrincipals = rows; removeBtn.disabled = rows.length === 0; },
        columns: [{ title: "Principal", cell: (p) => p.principal }, { title: "Type", cell: (p) => p.principalType }],
      })),
    notificationsPanel(view, { ServiceId: id }, notes),
    section("Monitoring", trafficChart(view, serviceMetrics(s))),
    section("Diagram", serviceDiagram(s, lbs, targets)),
  ];

  function deleteService(svc) {
    dialog({
      title: "Delete endpoint service", danger: true, submitText: "Delete", fields: [h("p", {}, `Delete ${svc.serviceId}? Endpoints must be rejected or deleted first.`)],
      submit: async () => {
        const r = await ec2("DeleteVpcEndpointServiceConfigurations", { ServiceId: [svc.serviceId] });
        const failed = list(r.unsuccessful)[0];
        if (failed) throw { code: failed.error?.code, awsMessage: failed.error?.message };
        flash(`Deleted ${svc.serviceId}.`);
        location.hash = "#/services";
      },
    });
  }
}

// Every target behind the load balancers, with its target group and health.
async function targetsOf(lbArns) {
  const out = [];
  for (const arn of lbArns) {
    const groups = list((await elb("DescribeTargetGroups", { LoadBalancerArn: arn })).TargetGroups);
    for (const g of groups) {
      const health = list((await elb("DescribeTargetHealth", { TargetGroupArn: g.TargetGroupArn })).TargetHealthDescriptions);
      for (const t of health) out.push({ lb: arn, group: g.TargetGroupName, id: t.Target.Id, port: t.Target.Port, health: t.TargetHealth.State, reason: t.TargetHealth.Reason || "" });
    }
  }
  return out;
}

function serviceDiagram(s, lbs, targets) {
  return h("figure", { class: "diagram" },
    h("div", { class: "box service" }, h("strong", {}, "Endpoint service"), h("br"), s.serviceName),
    h("div", { class: "arrow", "aria-hidden": "true" }, "↓"),
    h("div", { class: "zones-row" }, lbs.map((l) => h("div", { class: "box vpc" }, h("strong", {}, `Load balancer ${l.LoadBalancerName}`),
      h("div", { class: "zones-row" }, list(l.AvailabilityZones).map((z) => h("div", { class: "box zone" }, `Node in ${z.ZoneName}`, h("br"), list(z.LoadBalancerAddresses).map((a) => a.IpAddress).join(", ")))),
      h("div", { class: "zones-row" }, targets.filter((t) => t.lb === l.LoadBalancerArn).map((t) => h("div", { class: "box eni" }, `Target ${t.id}:${t.port}`, h("br"), `(${t.group}) `, status(t.health))))))),
    h("figcaption", {}, "The service, its network load balancers' nodes per zone, and their targets with health."));
}
