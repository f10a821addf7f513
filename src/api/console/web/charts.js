// Traffic over time for an endpoint or a service: bytes, new connections and active
// connections, per zone when the page knows the endpoint's network interfaces.
//
// trafficSample() is the one place the numbers come from. Today it reads the data
// plane's cumulative counters (POST /console/traffic, from dataplane-counters.json);
// when the daemon serves CloudWatch metrics (issue 16), switch this function to
// GetMetricData and keep the drawing as it is.
import { trafficCounters } from "./api.js";
import { h } from "./ui.js";

const SAMPLES = 60;
const history = new Map();  // key -> [{at, series: {name: cumulative}}]

export async function trafficSample(owner, interfaces) {
  const c = await trafficCounters(owner);
  const series = {};
  const add = (name, v) => { series[name] = (series[name] || 0) + (v || 0); };
  for (const v of Object.values(c.endpoints || {})) {
    add("Bytes", (v.bytesIn || 0) + (v.bytesOut || 0));
    add("New connections", v.connections);
    add("Active connections", v.active);
  }
  for (const [eni, v] of Object.entries(c.interfaces || {})) {
    const zone = interfaces.find((i) => i.networkInterfaceId === eni)?.availabilityZone || eni;
    add(`Bytes ${zone}`, (v.bytesIn || 0) + (v.bytesOut || 0));
    add(`Active connections ${zone}`, v.active);
  }
  return { at: c.at, series };
}

// Cumulative counters become per-interval values, except gauges (active connections).
function points(samples, name) {
  const gauge = name.startsWith("Active");
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const v = samples[i].series[name] ?? 0;
    out.push(gauge ? v : Math.max(0, v - (samples[i - 1].series[name] ?? 0)));
  }
  return out;
}

function sparkline(values, label) {
  const w = 240, hgt = 48, max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const d = values.map((v, i) => `${i ? "L" : "M"}${(i * step).toFixed(1)},${(hgt - (v / max) * (hgt - 4) - 2).toFixed(1)}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${label}: latest ${values.at(-1) ?? 0}, highest ${Math.max(0, ...values)} over the last ${values.length} samples`);
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d || "M0,46 L240,46");
  path.setAttribute("class", "line");
  svg.append(path);
  return svg;
}

export function trafficChart(view, owner, interfaces = []) {
  const key = JSON.stringify(owner);
  const box = h("div", { class: "charts", "aria-live": "off" }, h("p", { class: "hint" }, "Loading traffic…"));
  function draw() {
    const samples = history.get(key) || [];
    const s = samples.at(-1);
    if (!s) return;
    const names = Object.keys(s.series).sort();
    if (!names.length) { box.replaceChildren(h("p", { class: "hint" }, "No traffic counted yet.")); return; }
    box.replaceChildren(...names.map((n) => {
      const v = points(samples, n);
      return h("figure", { class: "chart", dataset: { series: n } }, sparkline(v, n), h("figcaption", {}, `${n}: `, h("strong", {}, String(v.at(-1) ?? 0)), n.startsWith("Active") ? " now" : " in the last interval", ` (total ${s.series[n]})`));
    }));
  }
  async function tick() {
    try {
      const s = await trafficSample(owner, interfaces);
      const samples = history.get(key) || [];
      samples.push(s);
      while (samples.length > SAMPLES) samples.shift();
      history.set(key, samples);
      draw();
    } catch (err) {
      box.replaceChildren(h("p", { class: "hint" }, `Traffic unavailable: ${err.code || ""} ${err.awsMessage || err.message}`));
    }
  }
  // A re-render draws what was sampled; only the shell's ticks take new samples.
  if (history.has(key)) draw(); else tick();
  view.onTick(tick);
  return [h("p", { class: "hint" }, "Bytes, new and active connections, sampled every few seconds while this page is open (source: the data plane's counters)."), box];
}
