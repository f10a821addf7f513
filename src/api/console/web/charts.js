// Traffic over time for an endpoint or a service: bytes, new connections and active
// connections, in total and per zone, minute by minute over the last half hour.
//
// The figures are CloudWatch's: GetMetricData over AWS/PrivateLinkEndpoints (an
// endpoint, to its owner) or AWS/PrivateLinkServices (a service, to its owner),
// posted to /console/api/monitoring and so answered by the same handler and the
// same per-account visibility as `aws cloudwatch get-metric-data`. A chart and the
// CLI show the same numbers for the same minute.
import { call, list } from "./api.js";
import { h } from "./ui.js";

const MINUTES = 30;
const REFETCH_MS = 10000;  // the daemon samples the data plane every 10 s by default
const last = new Map();    // chart key -> {at, minutes, series}, drawn again on a re-render

const ENDPOINTS = "AWS/PrivateLinkEndpoints";
const SERVICES = "AWS/PrivateLinkServices";
const dims = (o) => Object.entries(o).map(([Name, Value]) => ({ Name, Value }));

// What to ask for an endpoint: the endpoint's dimension set for the totals and the
// one with Subnet Id per zone. subnets: the VPC's subnets (for the zone names).
export function endpointMetrics(e, subnets) {
  const base = { "Endpoint Type": "Interface", "Service Name": e.serviceName, "VPC Endpoint Id": e.vpcEndpointId, "VPC Id": e.vpcId };
  return {
    ns: ENDPOINTS,
    total: dims(base),
    zones: list(e.subnetIdSet).map((id) => ({
      zone: subnets.find((s) => s.subnetId === id)?.availabilityZone || id,
      dims: dims({ ...base, "Subnet Id": id }),
    })),
  };
}

// What to ask for a service: {Service Id} for the totals and {Service Id, Load
// Balancer Arn, Az} per zone of each of its load balancers.
export function serviceMetrics(s) {
  const lbs = list(s.networkLoadBalancerArnSet);
  return {
    ns: SERVICES,
    total: dims({ "Service Id": s.serviceId }),
    zones: list(s.availabilityZoneSet).flatMap((az) => lbs.map((arn) => ({
      zone: lbs.length > 1 ? `${az} ${arn.split("/").at(-2)}` : az,
      dims: dims({ "Service Id": s.serviceId, "Load Balancer Arn": arn, Az: az }),
    }))),
  };
}

// One GetMetricData call for every chart of the query: returns the minutes (Date
// starts) and, per series name, one value per minute (0 where CloudWatch has no
// datapoint: nothing moved).
export async function trafficSample(q, now = Date.now()) {
  const end = Math.floor(now / 60000) * 60000 + 60000;  // the minute under way included
  const start = end - MINUTES * 60000;
  const wanted = [
    ["Bytes", "BytesProcessed", "Sum", q.total],
    ["New connections", "NewConnections", "Sum", q.total],
    ["Active connections", "ActiveConnections", "Maximum", q.total],
    ...q.zones.flatMap((z) => [
      [`Bytes ${z.zone}`, "BytesProcessed", "Sum", z.dims],
      [`Active connections ${z.zone}`, "ActiveConnections", "Maximum", z.dims],
    ]),
  ];
  const r = await call("monitoring", "GetMetricData", {
    StartTime: new Date(start).toISOString(),
    EndTime: new Date(end).toISOString(),
    ScanBy: "TimestampAscending",
    MetricDataQueries: wanted.map(([label, name, stat, d], i) => ({
      Id: `q${i}`, Label: label,
      MetricStat: { Metric: { Namespace: q.ns, MetricName: name, Dimensions: d }, Period: 60, Stat: stat },
    })),
  });
  const minutes = Array.from({ length: MINUTES }, (_, i) => new Date(start + i * 60000));
  const series = {};
  for (const res of list(r.MetricDataResults)) {
    const values = new Array(MINUTES).fill(0);
    const ts = list(res.Timestamps), vs = list(res.Values);
    ts.forEach((t, i) => {
      const slot = Math.round((Date.parse(t) - start) / 60000);
      if (slot >= 0 && slot < MINUTES) values[slot] = Number(vs[i]);
    });
    series[res.Label] = values;
  }
  return { at: now, minutes, series };
}

function sparkline(values, label) {
  const w = 240, hgt = 48, max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const d = values.map((v, i) => `${i ? "L" : "M"}${(i * step).toFixed(1)},${(hgt - (v / max) * (hgt - 4) - 2).toFixed(1)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${label}: ${values.at(-1) ?? 0} this minute, highest ${Math.max(0, ...values)} a minute over the last ${values.length} minutes`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d || "M0,46 L240,46");
  path.setAttribute("class", "line");
  svg.append(path);
  return svg;
}

// q: endpointMetrics() or serviceMetrics().
export function trafficChart(view, q) {
  const key = JSON.stringify(q);
  const box = h("div", { class: "charts", "aria-live": "off" }, h("p", { class: "hint" }, "Loading traffic…"));
  function draw() {
    const s = last.get(key);
    if (!s) return;
    const names = Object.keys(s.series);
    box.replaceChildren(...names.map((n) => {
      const v = s.series[n];
      const total = v.reduce((a, b) => a + b, 0);
      const gauge = n.startsWith("Active");
      return h("figure", { class: "chart", dataset: { series: n, total: String(gauge ? Math.max(0, ...v) : total) } }, sparkline(v, n),
        h("figcaption", {}, `${n}: `, h("strong", {}, String(v.at(-1) ?? 0)), gauge ? " at most this minute" : " this minute",
          gauge ? ` (highest ${Math.max(0, ...v)})` : ` (${total} in ${MINUTES} min)`));
    }));
  }
  async function tick(force = false) {
    const prev = last.get(key);
    if (!force && prev && Date.now() - prev.at < REFETCH_MS) return;
    try {
      last.set(key, await trafficSample(q));
      draw();
    } catch (err) {
      box.replaceChildren(h("p", { class: "hint" }, `Traffic unavailable: ${err.code || ""} ${err.awsMessage || err.message}`));
    }
  }
  // A re-render draws what was fetched; the shell's ticks fetch again.
  if (last.has(key)) draw(); else tick(true);
  view.onTick(() => tick());
  return [h("p", { class: "hint" }, `Per minute over the last ${MINUTES} minutes, from CloudWatch (namespace ${q.ns}), refreshed while this page is open.`), box];
}
