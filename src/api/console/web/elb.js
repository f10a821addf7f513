// Load balancers with their listeners, and target groups with their targets' health.
import { elb, list } from "./api.js";
import { h, table, status, section } from "./ui.js";

export async function loadBalancersPage(view) {
  const lbs = list((await elb("DescribeLoadBalancers")).LoadBalancers);
  const listeners = await Promise.all(lbs.map((l) => elb("DescribeListeners", { LoadBalancerArn: l.LoadBalancerArn }).then((r) => list(r.Listeners))));
  view.fingerprint(JSON.stringify(lbs.map((l) => [l.LoadBalancerArn, l.State?.Code])));
  return [
    h("h1", {}, "Load Balancers"),
    table({ caption: "Load balancers", rows: lbs.map((l, i) => ({ ...l, listeners: listeners[i] })), columns: [
      { title: "Name", cell: (l) => l.LoadBalancerName }, { title: "DNS name", cell: (l) => l.DNSName },
      { title: "State", cell: (l) => status(l.State?.Code), text: (l) => l.State?.Code || "" }, { title: "Type", cell: (l) => l.Type },
      { title: "Scheme", cell: (l) => l.Scheme }, { title: "VPC ID", cell: (l) => l.VpcId },
      { title: "Availability Zones", cell: (l) => list(l.AvailabilityZones).map((z) => z.ZoneName).join(", ") },
      { title: "Listeners", cell: (l) => l.listeners.map((x) => `${x.Protocol}:${x.Port}`).join(", ") || "-" },
    ] }),
  ];
}

export async function targetGroupsPage(view) {
  const groups = list((await elb("DescribeTargetGroups")).TargetGroups);
  const health = await Promise.all(groups.map((g) => elb("DescribeTargetHealth", { TargetGroupArn: g.TargetGroupArn }).then((r) => list(r.TargetHealthDescriptions))));
  view.fingerprint(JSON.stringify(health.map((hs) => hs.map((t) => t.TargetHealth?.State))));
  return [
    h("h1", {}, "Target Groups"),
    ...groups.map((g, i) => section(`${g.TargetGroupName} (${g.Protocol}:${g.Port})`,
      h("p", {}, `VPC ${g.VpcId}, target type ${g.TargetType}, health check ${g.HealthCheckProtocol || ""} ${g.HealthCheckPort || ""}.`),
      table({ caption: `Targets of ${g.TargetGroupName}`, rows: health[i], columns: [
        { title: "Target", cell: (t) => t.Target.Id }, { title: "Port", cell: (t) => t.Target.Port },
        { title: "Health status", cell: (t) => status(t.TargetHealth.State), text: (t) => t.TargetHealth.State },
        { title: "Details", cell: (t) => t.TargetHealth.Description || t.TargetHealth.Reason || "" },
      ] }))),
    groups.length ? null : h("p", {}, "No target groups."),
  ];
}
