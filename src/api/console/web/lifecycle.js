// The endpoint's lifecycle timeline: its state changes as the daemon recorded them
// (POST /console/lifecycle), oldest first, each with its time, what made it (the API
// action and the calling account, or the reconciler) and the time since the one before.
import { h, status } from "./ui.js";

const CAUSES = {
  CreateVpcEndpoint: "Endpoint created",
  AcceptVpcEndpointConnections: "Connection accepted by the service owner",
  RejectVpcEndpointConnections: "Connection rejected by the service owner",
  DeleteVpcEndpoints: "Endpoint deleted",
  reconciler: "Reconciler",
};

function since(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms later`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s later`;
  if (ms < 7200000) return `${Math.round(ms / 60000)} min later`;
  return `${(ms / 3600000).toFixed(1)} h later`;
}

function who(c) {
  if (c.Cause === "reconciler") return "the reconciler (the data plane is in place)";
  return `${c.Cause}, account ${c.Account || "-"}`;
}

export function lifecycleTimeline(history) {
  const changes = history?.StateChanges || [];
  if (!changes.length) return h("p", {}, "No state changes recorded.");
  let before = null;
  return h("ol", { class: "timeline", "aria-label": "State changes, oldest first" }, changes.map((c) => {
    const at = new Date(c.Time);
    const gap = before ? since(at - before) : "";
    before = at;
    return h("li", { class: "timeline-step", dataset: { state: c.State, time: c.Time, cause: c.Cause } },
      h("span", { class: "timeline-dot", "aria-hidden": "true" }),
      h("div", { class: "timeline-body" },
        h("div", {}, status(c.State), " ", h("time", { datetime: c.Time }, at.toLocaleString(undefined, { hour12: false })),
          gap ? h("span", { class: "hint" }, ` (${gap})`) : null),
        h("div", { class: "hint" }, `${CAUSES[c.Cause] || c.Cause}: ${who(c)}`),
        c.Reason ? h("div", { class: "timeline-reason" }, c.Reason) : null));
  }));
}
