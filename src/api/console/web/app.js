// The console's shell: sign-in, navigation, and the view lifecycle. A view is an
// async render(view, ...args) returning nodes; the shell re-renders the open view
// every few seconds (live state without a reload) and swaps it in only when its
// fingerprint changed, keeping keyboard focus where it was. Nothing refreshes while
// a dialog is open.
import { loadSession, signIn, signOut, session, onSignedOut } from "./api.js";
import { h, errorBox, dialogOpen, clearFlash, forgetTables } from "./ui.js";
import { endpointsPage, createEndpointPage, endpointPage } from "./endpoints.js";
import { servicesPage, createServicePage, servicePage } from "./services.js";
import { vpcsPage, vpcPage, subnetsPage, groupsPage, groupPage, interfacesPage } from "./network.js";
import { loadBalancersPage, targetGroupsPage } from "./elb.js";
import { topicsPage } from "./sns.js";

const POLL_MS = 2000;

const NAV = [
  ["Virtual private cloud", [["#/vpcs", "Your VPCs"], ["#/subnets", "Subnets"], ["#/endpoints", "Endpoints"], ["#/services", "Endpoint services"]]],
  ["Security", [["#/security-groups", "Security groups"]]],
  ["Network", [["#/network-interfaces", "Network interfaces"], ["#/load-balancers", "Load balancers"], ["#/target-groups", "Target groups"]]],
  ["Simple Notification Service", [["#/topics", "Topics"]]],
];

const ROUTES = [
  [/^#\/endpoints\/create$/, createEndpointPage, "Create endpoint"],
  [/^#\/endpoints\/(vpce-[0-9a-f]+)$/, endpointPage, "Endpoint"],
  [/^#\/endpoints$/, endpointsPage, "Endpoints"],
  [/^#\/services\/create$/, createServicePage, "Create endpoint service"],
  [/^#\/services\/(vpce-svc-[0-9a-f]+)$/, servicePage, "Endpoint service"],
  [/^#\/services$/, servicesPage, "Endpoint services"],
  [/^#\/vpcs\/(vpc-[0-9a-f]+)$/, vpcPage, "VPC"],
  [/^#\/vpcs$/, vpcsPage, "Your VPCs"],
  [/^#\/subnets$/, subnetsPage, "Subnets"],
  [/^#\/security-groups\/(sg-[0-9a-f]+)$/, groupPage, "Security group"],
  [/^#\/security-groups$/, groupsPage, "Security groups"],
  [/^#\/network-interfaces$/, interfacesPage, "Network interfaces"],
  [/^#\/load-balancers$/, loadBalancersPage, "Load balancers"],
  [/^#\/target-groups$/, targetGroupsPage, "Target groups"],
  [/^#\/topics$/, topicsPage, "Topics"],
];

const main = () => document.getElementById("main");
let current = null;  // the open View

class View {
  constructor(render, args, title) {
    this.render = render;
    this.args = args;
    this.title = title;
    this.ticks = [];
    this.fp = null;
    this.closed = false;
    this.busy = false;
    this.hash = location.hash;
  }

  fingerprint(fp) { this.pending = fp; }
  onTick(fn) { this.pendingTicks.push(fn); }
  // fn runs once the view is drawn (the rest of a long list, fetched behind the
  // first page); it returns the fingerprint of what the page then shows.
  later(fn) { this.pendingLater.push(fn); }
  // Whether this is the view's first drawing (not a refresh).
  get first() { return this.fp === null; }

  async build() {
    this.pendingTicks = [];
    this.pendingLater = [];
    this.pending = null;
    const nodes = await this.render(this, ...this.args);
    return { nodes, fp: this.pending, ticks: this.pendingTicks, later: this.pendingLater };
  }

  async show() {
    let later = [];
    try {
      const built = await this.build();
      if (this.closed) return;
      this.fp = built.fp;
      this.ticks = built.ticks;
      later = built.later;
      main().replaceChildren(...[built.nodes].flat(Infinity).filter(Boolean));
    } catch (err) {
      if (!this.closed) main().replaceChildren(h("h1", {}, this.title), errorBox(err));
    } finally {
      // Tests and assistive technology can tell when the page for this address is drawn.
      if (!this.closed) {
        main().dataset.route = this.hash;
        main().setAttribute("aria-busy", "false");
      }
    }
    if (!later.length) return;
    // No refresh while the rest loads: it would fetch the same list a second time.
    this.busy = true;
    try {
      for (const fn of later) {
        const fp = await fn();
        if (!this.closed && fp !== undefined) this.fp = fp;
      }
    } catch (err) {
      if (!this.closed) main().append(errorBox(err));
    } finally {
      this.busy = false;
    }
  }

  // force: after a change the user made; otherwise only when the data changed.
  async refresh(force = false) {
    if (this.closed || (!force && (this.busy || dialogOpen() || document.hidden))) return;
    this.ticks.forEach((t) => t());
    if (this.fp === "static" && !force) return;
    let built;
    this.busy = true;
    try { built = await this.build(); } catch { return; } finally { this.busy = false; }
    if (this.closed || (!force && built.fp === this.fp) || (!force && dialogOpen())) return;
    const focus = describeFocus();
    this.fp = built.fp;
    this.ticks = built.ticks;
    main().replaceChildren(...[built.nodes].flat(Infinity).filter(Boolean));
    restoreFocus(focus);
  }

  close() { this.closed = true; }
}

// Focus survives a re-render when an element with the same role and text exists.
function describeFocus() {
  const el = document.activeElement;
  if (!el || !main().contains(el) || el === main()) return null;
  return { tag: el.tagName, text: el.textContent, label: el.getAttribute("aria-label"), href: el.getAttribute("href") };
}
function restoreFocus(f) {
  if (!f) return;
  const match = Array.from(main().querySelectorAll(f.tag)).find((el) => el.textContent === f.text && el.getAttribute("aria-label") === f.label && el.getAttribute("href") === f.href);
  match?.focus();
}

function drawNav() {
  const here = location.hash.split("/").slice(0, 2).join("/");
  document.getElementById("nav").replaceChildren(...NAV.map(([group, links]) => h("div", { class: "nav-group" },
    h("h2", {}, group),
    h("ul", {}, links.map(([href, text]) => h("li", {}, h("a", { href, "aria-current": href === here ? "page" : false }, text)))))));
}

function route() {
  if (!session) return;
  if (!location.hash || location.hash === "#/") { location.hash = "#/endpoints"; return; }
  current?.close();
  drawNav();
  for (const [re, render, title] of ROUTES) {
    const m = location.hash.match(re);
    if (!m) continue;
    document.title = `${title} | linkplane VPC console`;
    main().setAttribute("aria-busy", "true");
    current = new View(render, m.slice(1), title);
    current.show();
    return;
  }
  main().replaceChildren(h("h1", {}, "Not found"), h("p", {}, "No console page at this address."));
}

function showSignIn(message) {
  current?.close();
  current = null;
  document.body.classList.add("signed-out");
  document.getElementById("who").replaceChildren();
  document.getElementById("nav").replaceChildren();
  document.title = "Sign in | linkplane VPC console";
  const errors = h("div", { "aria-live": "assertive" }, message ? h("p", { class: "notice" }, message) : null);
  const key = h("input", { id: "access-key-id", name: "accessKeyId", autocomplete: "username", required: true, spellcheck: "false" });
  const secret = h("input", { id: "secret-access-key", name: "secretAccessKey", type: "password", autocomplete: "current-password", required: true });
  main().replaceChildren(h("form", { class: "panel signin", onsubmit: async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    try {
      await signIn(key.value.trim(), secret.value);
      signedIn();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
      secret.value = "";
      secret.focus();
    }
  } },
  h("h1", {}, "Sign in to the VPC console"),
  h("p", {}, "Use an account's access key, as the AWS CLI does."),
  h("div", { class: "field" }, h("label", { for: "access-key-id" }, "Access key ID"), key),
  h("div", { class: "field" }, h("label", { for: "secret-access-key" }, "Secret access key"), secret),
  errors,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in"))));
  key.focus();
}

function signedIn() {
  document.body.classList.remove("signed-out");
  document.getElementById("who").replaceChildren(
    h("span", { class: "account" }, `${session.accountName} @ ${session.accountId}`, " · ", session.region),
    h("button", { type: "button", class: "secondary", onclick: async () => {
      try { await signOut(); } catch { /* the session is gone either way */ }
      showSignIn("You signed out.");
    } }, "Sign out"));
  route();
}

onSignedOut(() => showSignIn("Your session ended. Sign in again."));
window.addEventListener("hashchange", () => { clearFlash(); forgetTables(); route(); });
// Poll every POLL_MS, or three times as long as the last refresh took: a list of
// 1,000 endpoints takes about a second to fetch and draw on a busy 2-core host, and
// the console should not keep the daemon that busy.
async function poll() {
  const started = performance.now();
  try { await current?.refresh(); } catch { /* shown by the view itself */ }
  setTimeout(poll, Math.max(POLL_MS, 3 * (performance.now() - started)));
}
setTimeout(poll, POLL_MS);

(async () => {
  try {
    if (await loadSession()) signedIn();
    else showSignIn();
  } catch (err) {
    main().replaceChildren(errorBox(err));
  }
})();
