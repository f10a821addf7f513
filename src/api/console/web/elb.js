// Load balancers with their listeners, and target groups with their targets' health;
// the forms the seeds' provider procedure needs before it can create an endpoint
// service: Create load balancer (network), Add listener, Create target group, Register
// targets, Deregister targets. Each is one ELBv2 action as the session's account.
import { elb, list } from "./api.js";
import { h, table, status, section, dialog, field, choice, checkboxGroup, checkedValues, flash, button } from "./ui.js";
import { labelOf, vpcs, subnetsOf, pagedList, elbPages } from "./common.js";

const LISTENER_PROTOCOLS = [["TCP", "TCP"], ["UDP", "UDP"], ["TCP_UDP", "TCP_UDP"], ["TLS", "TLS"]];

// Each load balancer with its listeners (one DescribeListeners per load balancer:
// at most 50 per account by default).
const withListeners = (lbs) => Promise.all(lbs.map((l) => elb("DescribeListeners", { LoadBalancerArn: l.LoadBalancerArn }).then((r) => ({ ...l, listeners: list(r.Listeners) }))));

export async function loadBalancersPage(view) {
  const { rows, status: loading, bind } = await pagedList(view, {
    noun: "load balancers", fetchPage: elbPages("DescribeLoadBalancers", "LoadBalancers"), expand: withListeners,
    fingerprint: (lbs) => JSON.stringify(lbs.map((l) => [l.LoadBalancerArn, l.State?.Code, l.listeners.map((x) => x.ListenerArn)])),
  });
  let chosen = null;
  const addListenerBtn = button("Add listener", () => addListener(view, chosen), "secondary", { disabled: true });
  const tbl = table({
    caption: "Load balancers", rows, select: "radio", keyOf: (l) => l.LoadBalancerArn,
    onSelect: ([l]) => { chosen = l; addListenerBtn.disabled = !l; },
    columns: [
      { title: "Name", cell: (l) => l.LoadBalancerName }, { title: "DNS name", cell: (l) => l.DNSName },
      { title: "State", cell: (l) => status(l.State?.Code), text: (l) => l.State?.Code || "" }, { title: "Type", cell: (l) => l.Type },
      { title: "Scheme", cell: (l) => l.Scheme }, { title: "VPC ID", cell: (l) => l.VpcId },
      { title: "Availability Zones", cell: (l) => list(l.AvailabilityZones).map((z) => z.ZoneName).join(", ") },
      { title: "Listeners", cell: (l) => l.listeners.map((x) => `${x.Protocol}:${x.Port}`).join(", ") || "-" },
    ],
  });
  bind(tbl);
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Load Balancers"), button("Create load balancer", () => createLoadBalancer(view), "primary")),
    h("div", { class: "actions", role: "group", "aria-label": "Load balancer actions" }, addListenerBtn),
    loading,
    tbl,
  ];
}

// The account's VPCs as a labelled choice; onChange(vpcId) when it changes.
async function vpcChooser(onChange = () => {}) {
  const mine = await vpcs();
  const sel = choice([["", "Select a VPC"], ...mine.map((v) => [v.vpcId, labelOf(v, "vpcId")])], "", { name: "vpc", onchange: () => onChange(sel.value) });
  return field("VPC", sel);
}

async function createLoadBalancer(view) {
  const name = h("input", { name: "name", autocomplete: "off", maxlength: 32 });
  const scheme = choice([["internal", "Internal"], ["internet-facing", "Internet-facing"]], "internal", { name: "scheme" });
  const subnetArea = h("div", {}, h("p", { class: "hint" }, "Choose a VPC to choose its subnets."));
  const vpcField = await vpcChooser(async (vpcId) => {
    if (!vpcId) { subnetArea.replaceChildren(h("p", { class: "hint" }, "Choose a VPC to choose its subnets.")); return; }
    const subnets = await subnetsOf(vpcId);
    subnetArea.replaceChildren(checkboxGroup("Availability Zones and subnets",
      subnets.map((s) => [s.subnetId, `${s.availabilityZone}: ${labelOf(s, "subnetId")} ${s.cidrBlock}`])),
    h("p", { class: "hint" }, "One subnet per zone: the load balancer has a node in each zone chosen."));
  });
  dialog({
    title: "Create Network Load Balancer", submitText: "Create load balancer",
    fields: [field("Load balancer name", name, "Up to 32 letters, digits and hyphens."), field("Scheme", scheme), vpcField, subnetArea],
    submit: async () => {
      const r = await elb("CreateLoadBalancer", { Name: name.value.trim(), Type: "network", Scheme: scheme.value, Subnets: checkedValues(subnetArea) });
      flash(`Created load balancer ${list(r.LoadBalancers)[0]?.LoadBalancerName}.`);
      view.refresh(true);
    },
  });
}

async function addListener(view, lb) {
  const groups = list((await elb("DescribeTargetGroups")).TargetGroups).filter((g) => g.VpcId === lb.VpcId);
  const protocol = choice(LISTENER_PROTOCOLS, "TCP", { name: "protocol" });
  const port = h("input", { name: "port", type: "number", min: 1, max: 65535, value: "443" });
  const target = choice([["", "Select a target group"], ...groups.map((g) => [g.TargetGroupArn, `${g.TargetGroupName} (${g.Protocol}:${g.Port})`])], "", { name: "targetGroup" });
  dialog({
    title: `Add listener to ${lb.LoadBalancerName}`, submitText: "Add listener",
    fields: [field("Protocol", protocol), field("Port", port), field("Default action: forward to target group", target, "Target groups of the load balancer's VPC.")],
    submit: async () => {
      await elb("CreateListener", {
        LoadBalancerArn: lb.LoadBalancerArn, Protocol: protocol.value, Port: port.value.trim(),
        DefaultActions: target.value ? [{ Type: "forward", TargetGroupArn: target.value }] : [],
      });
      flash(`Added listener ${protocol.value}:${port.value.trim()} to ${lb.LoadBalancerName}.`);
      view.refresh(true);
    },
  });
}

// The target group whose targets are shown, kept across refreshes and visits.
let shownGroup = null;

export async function targetGroupsPage(view) {
  const groupsFp = (groups) => JSON.stringify(groups.map((g) => g.TargetGroupArn));
  let fpOf = (g) => g;  // the page's, once the shown group's health is known (below)
  const { rows: groups, status: loading, bind } = await pagedList(view, {
    noun: "target groups", fetchPage: elbPages("DescribeTargetGroups", "TargetGroups"), fingerprint: (rows) => fpOf(groupsFp(rows)),
  });
  // One group alone is shown without choosing it.
  const g = groups.find((x) => x.TargetGroupArn === shownGroup) || (groups.length === 1 ? groups[0] : null);
  const health = g ? list((await elb("DescribeTargetHealth", { TargetGroupArn: g.TargetGroupArn })).TargetHealthDescriptions) : [];
  fpOf = (gs) => JSON.stringify([gs, g?.TargetGroupArn, health.map((t) => [t.Target.Id, t.Target.Port, t.TargetHealth?.State])]);
  view.fingerprint(fpOf(groupsFp(groups)));
  const tbl = table({
    caption: "Target groups", rows: groups, select: "radio", keyOf: (x) => x.TargetGroupArn, selected: g ? [g.TargetGroupArn] : [],
    onSelect: ([x]) => { shownGroup = x?.TargetGroupArn || null; view.refresh(true); },
    columns: [
      { title: "Name", cell: (x) => x.TargetGroupName }, { title: "Protocol", cell: (x) => x.Protocol }, { title: "Port", cell: (x) => x.Port },
      { title: "Target type", cell: (x) => x.TargetType }, { title: "VPC ID", cell: (x) => x.VpcId },
      { title: "Load balancers", cell: (x) => list(x.LoadBalancerArns).map((a) => a.split("/")[2]).join(", ") || "-" },
    ],
  });
  bind(tbl);
  let targets = null;
  if (g) {
    let chosen = [];
    const deregisterBtn = button("Deregister targets", () => deregister(view, g, chosen), "danger", { disabled: true });
    targets = section(`${g.TargetGroupName} (${g.Protocol}:${g.Port})`,
      h("p", {}, `VPC ${g.VpcId}, target type ${g.TargetType}, health check ${g.HealthCheckProtocol || ""} ${g.HealthCheckPort || ""}.`),
      h("div", { class: "actions", role: "group", "aria-label": `Actions of ${g.TargetGroupName}` },
        button("Register targets", () => register(view, g)), deregisterBtn),
      table({
        caption: `Targets of ${g.TargetGroupName}`, rows: health, select: "checkbox", keyOf: (t) => `${t.Target.Id}:${t.Target.Port}`,
        onSelect: (rows) => { chosen = rows; deregisterBtn.disabled = rows.length === 0; },
        columns: [
          { title: "Target", cell: (t) => t.Target.Id }, { title: "Port", cell: (t) => t.Target.Port },
          { title: "Health status", cell: (t) => status(t.TargetHealth.State), text: (t) => t.TargetHealth.State },
          { title: "Details", cell: (t) => t.TargetHealth.Description || t.TargetHealth.Reason || "" },
        ],
      }));
  }
  return [
    h("div", { class: "page-head" }, h("h1", {}, "Target Groups"), button("Create target group", () => createTargetGroup(view), "primary")),
    loading,
    tbl,
    targets || (groups.length ? h("p", { class: "hint" }, "Select a target group to see and register its targets.") : null),
  ];
}

async function createTargetGroup(view) {
  const type = choice([["ip", "IP addresses"], ["instance", "Instances"]], "ip", { name: "targetType" });
  const name = h("input", { name: "name", autocomplete: "off", maxlength: 32 });
  const protocol = choice(LISTENER_PROTOCOLS, "TCP", { name: "protocol" });
  const port = h("input", { name: "port", type: "number", min: 1, max: 65535, value: "80" });
  const vpcField = await vpcChooser();
  dialog({
    title: "Create target group", submitText: "Create target group",
    fields: [field("Target type", type), field("Target group name", name, "Up to 32 letters, digits and hyphens."),
      field("Protocol", protocol), field("Port", port, "The port targets receive traffic on, unless a target names its own."), vpcField],
    submit: async (form) => {
      const r = await elb("CreateTargetGroup", {
        Name: name.value.trim(), TargetType: type.value, Protocol: protocol.value, Port: port.value.trim(), VpcId: form.querySelector("[name=vpc]").value,
      });
      flash(`Created target group ${list(r.TargetGroups)[0]?.TargetGroupName}.`);
      view.refresh(true);
    },
  });
}

// "10.0.1.5", "10.0.1.5:8080" or "i-0abc 8080", one per line or comma separated.
export function parseTargets(text) {
  return text.split(/[\n,]+/).map((l) => l.trim()).filter(Boolean).map((l) => {
    const m = l.match(/^(\S+?)(?:[:\s]+(\d+))?$/);
    return m ? { Id: m[1], Port: m[2] } : { Id: l };
  });
}

function register(view, g) {
  const targets = h("textarea", { name: "targets", rows: 4, autocomplete: "off", spellcheck: "false" });
  dialog({
    title: `Register targets in ${g.TargetGroupName}`, submitText: "Register targets",
    fields: [field(g.TargetType === "instance" ? "Instance IDs (one per line, optional :port)" : "IP addresses (one per line, optional :port)", targets,
      `Without a port, targets receive traffic on ${g.Port}.`)],
    submit: async () => {
      const chosen = parseTargets(targets.value);
      await elb("RegisterTargets", { TargetGroupArn: g.TargetGroupArn, Targets: chosen });
      flash(`Registered ${chosen.map((t) => (t.Port ? `${t.Id}:${t.Port}` : t.Id)).join(", ")} in ${g.TargetGroupName}.`);
      view.refresh(true);
    },
  });
}

function deregister(view, g, chosen) {
  dialog({
    title: `Deregister targets from ${g.TargetGroupName}`, danger: true, submitText: "Deregister",
    fields: [h("p", {}, `Deregister ${chosen.map((t) => `${t.Target.Id}:${t.Target.Port}`).join(", ")}?`)],
    submit: async () => {
      await elb("DeregisterTargets", { TargetGroupArn: g.TargetGroupArn, Targets: chosen.map((t) => ({ Id: t.Target.Id, Port: t.Target.Port })) });
      flash(`Deregistered ${chosen.length} ${chosen.length === 1 ? "target" : "targets"} from ${g.TargetGroupName}.`);
      view.refresh(true);
    },
  });
}
