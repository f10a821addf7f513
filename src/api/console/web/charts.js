// Traffic over time for an endpoint or a service: bytes, new and active connections,
// TCP resets (and dropped packets once CloudWatch lists them), in total and per
// zone, over a time range the user chooses (30 minutes by the minute, 3 hours by 5
// minutes, 24 hours by the hour).
//
// The figures are CloudWatch's: GetMetricData over AWS/PrivateLinkEndpoints (an
// endpoint, to its owner) or AWS/PrivateLinkServices (a service, to its owner),
// posted to /console/api/monitoring and so answered by the same handler and the
// same per-account visibility as `aws cloudwatch get-metric-data`. A chart and the
// CLI show the same numbers for the same period.
import { call, list } from "./api.js";
import { h, nextId } from "./ui.js";

export const RANGES = [
  { id: "30m", label: "Last 30 minutes", minutes: 30, period: 60, unit: "minute" },
  { id: "3h", label: "Last 3 hours", minutes: 180, period: 300, unit: "5 minutes" },
  { id: "24h", label: "Last 24 hours", minutes: 1440, period: 3600, unit: "hour" },
];
const REFETCH_MS = 10000;      // the daemon samples the data plane every 10 s by default
const LIST_EVERY_MS = 60000;   // how often to ask again whether PacketsDropped is listed
const last = new Map();        // chart key -> {at, range, buckets, series}, drawn again on a re-render
const rangeOf = new Map();     // chart key -> range id the user chose (kept across re-renders)
const droppedListed = new Map();  // chart key -> {at, listed}

const ENDPOINTS = "AWS/PrivateLinkEndpoints";
const SERVICES = "AWS/PrivateLinkServices";
const dims = (o) => Object.entries(o).map(([Name, Value]) => ({ Name, Value }));

// What to ask for an endpoint: the endpoint's dimension set for the totals and the
// one with Subnet Id per zone. subnets: the VPC's subnets (for the zone names).
export function endpointMetrics(e, subnets) {
  const base = { "Endpoint Type": "Interface", "Service Name": e.serviceName, "VPC Endpoint Id": e.vpcEndpointId, "VPC Id": e.vpcId };
  return {
    ns: ENDPOINTS,
    resets: "RstPacketsReceived",
    owner: { Name: "VPC Endpoint Id", Value: e.vpcEndpointId },
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
    resets: "RstPacketsSent",
    owner: { Name: "Service Id", Value: s.serviceId },
    total: dims({ "Service Id": s.serviceId }),
    zones: list(s.availabilityZoneSet).flatMap((az) => lbs.map((arn) => ({
      zone: lbs.length > 1 ? `${az} ${arn.split("/").at(-2)}` : az,
      dims: dims({ "Service Id": s.serviceId, "Load Balancer Arn": arn, Az: az }),
    }))),
  };
}

// Whether CloudWatch lists PacketsDropped for this endpoint or service (another
// part of the daemon may publish it): charted only then, never as a made-up zero.
async function packetsDroppedListed(key, q) {
  const known = droppedListed.get(key);
  if (known && Date.now() - known.at < LIST_EVERY_MS) return known.listed;
  let listed = false;
  try {
    const r = await call("monitoring", "ListMetrics", { Namespace: q.ns, MetricName: "PacketsDropped", Dimensions: [q.owner] });
    listed = list(r.Metrics).length > 0;
  } catch { /* not listed: the other charts still draw */ }
  droppedListed.set(key, { at: Date.now(), listed });
  return listed;
}

// The series to draw, in this order: totals, then per zone.
function wanted(q, dropped) {
  const kinds = [
    ["Bytes", "BytesProcessed", "Sum"],
    ["New connections", "NewConnections", "Sum"],
    ["Active connections", "ActiveConnections", "Maximum"],
    ["TCP resets", q.resets, "Sum"],
    ...(dropped ? [["Dropped packets", "PacketsDropped", "Sum"]] : []),
  ];
  return [
    ...kinds.map(([label, name, stat]) => ({ label, group: "All zones", name, stat, dims: q.total })),
    ...q.zones.flatMap((z) => kinds.map(([label, name, stat]) => ({ label: `${label} ${z.zone}`, group: z.zone, name, stat, dims: z.dims }))),
  ];
}

// One GetMetricData call for every chart of the query over range: returns the
// buckets' starts and, per series label, one value per bucket (0 where CloudWatch
// has no datapoint: nothing moved).
export async function trafficSample(q, range = RANGES[0], dropped = false, now = Date.now()) {
  const step = range.period * 1000;
  const end = Math.floor(now / step) * step + step;  // the bucket under way included
  const n = Math.round((range.minutes * 60000) / step);
  const start = end - n * step;
  const series = wanted(q, dropped);
  const r = await call("monitoring", "GetMetricData", {
    StartTime: new Date(start).toISOString(),
    EndTime: new Date(end).toISOString(),
    ScanBy: "TimestampAscending",
    MetricDataQueries: series.map((w, i) => ({
      Id: `q${i}`, Label: w.label,
      MetricStat: { Metric: { Namespace: q.ns, MetricName: w.name, Dimensions: w.dims }, Period: range.period, Stat: w.stat },
    })),
  });
  const values = {};
  for (const res of list(r.MetricDataResults)) {
    const v = new Array(n).fill(0);
    const ts = list(res.Timestamps), vs = list(res.Values);
    ts.forEach((t, i) => {
      const slot = Math.round((Date.parse(t) - start) / step);
      if (slot >= 0 && slot < n) v[slot] = Number(vs[i]);
    });
    values[res.Label] = v;
  }
  return { at: now, range, start, series: series.map((w) => ({ ...w, values: values[w.label] || new Array(n).fill(0) })) };
}

function sparkline(values, label, range) {
  const w = 240, hgt = 48, max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const d = values.map((v, i) => `${i ? "L" : "M"}${(i * step).toFixed(1)},${(hgt - (v / max) * (hgt - 4) - 2).toFixed(1)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${label}: ${values.at(-1) ?? 0} this ${range.unit}, highest ${Math.max(0, ...values)} a ${range.unit} over the ${range.label.toLowerCase()}`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d || "M0,46 L240,46");
  path.setAttribute("class", "line");
  svg.append(path);
  return svg;
}

// q: endpointMetrics() or serviceMetrics().
export function trafficChart(view, q) {
  const key = JSON.stringify(q);
  const rangeNow = () => RANGES.find((r) => r.id === rangeOf.get(key)) || RANGES[0];
  const box = h("div", { class: "charts-by-zone", "aria-live": "off" }, h("p", { class: "hint" }, "Loading traffic…"));
  const about = h("p", { class: "hint" });
  const selectId = nextId("range");
  const select = h("select", { id: selectId, name: "range", onchange: () => { rangeOf.set(key, select.value); tick(true); } },
    RANGES.map((r) => h("option", { value: r.id, selected: r.id === rangeNow().id }, r.label)));
  function draw() {
    const s = last.get(key);
    if (!s) return;
    const r = s.range;
    about.replaceChildren(`Per ${r.unit} over the ${r.label.toLowerCase()}, from CloudWatch (namespace ${q.ns}), refreshed while this page is open.`);
    const groups = [...new Set(s.series.map((x) => x.group))];
    box.replaceChildren(...groups.map((g) => h("div", { class: "chart-group", role: "group", "aria-label": g, dataset: { zone: g } },
      h("h3", {}, g),
      h("div", { class: "charts" }, s.series.filter((x) => x.group === g).map((x) => {
        const v = x.values;
        const total = v.reduce((a, b) => a + b, 0);
        const gauge = x.stat === "Maximum";
        return h("figure", { class: "chart", dataset: { series: x.label, metric: x.name, range: r.id, points: String(v.length), total: String(gauge ? Math.max(0, ...v) : total) } }, sparkline(v, x.label, r),
          h("figcaption", {}, `${x.label}: `, h("strong", {}, String(v.at(-1) ?? 0)), gauge ? ` at most this ${r.unit}` : ` this ${r.unit}`,
            gauge ? ` (highest ${Math.max(0, ...v)})` : ` (${total} in total)`));
      })))));
  }
  async function tick(force = false) {
    const prev = last.get(key);
    const range = rangeNow();
    if (!force && prev && prev.range === range && Date.now() - prev.at < REFETCH_MS) return;
    try {
      const dropped = await packetsDroppedListed(key, q);
      const sample = await trafficSample(q, range, dropped);
      if (rangeNow() !== range) return;  // changed while this was fetched: that fetch draws
      last.set(key, sample);
      draw();
    } catch (err) {
      box.replaceChildren(h("p", { class: "hint" }, `Traffic unavailable: ${err.code || ""} ${err.awsMessage || err.message}`));
    }
  }
  // A re-render draws what was fetched; the shell's ticks fetch again.
  if (last.has(key)) draw(); else tick(true);
  view.onTick(() => tick());
  return [h("div", { class: "field inline" }, h("label", { for: selectId }, "Time range"), select), about, box];
}
