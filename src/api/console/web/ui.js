// DOM helpers shared by every view: h() builds elements, table() draws a filtered,
// paginated list, dialog() runs a modal form, status() shows a state as a word and an
// icon (never colour alone), and errorBox() shows an AWS error's code and message.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
export const nextId = (p = "f") => `${p}-${++uid}`;

// A state word with a glyph and a class for its colour; the word carries the meaning.
const GLYPHS = {
  available: "●", active: "●", healthy: "●", verified: "●", accepted: "●", "in-use": "●",
  pending: "◐", pendingacceptance: "◐", initial: "◐", provisioning: "◐", pendingverification: "◐", deleting: "◐", draining: "◐",
  rejected: "✕", failed: "✕", unhealthy: "✕", deleted: "✕", expired: "✕",
  unused: "○", unavailable: "○",
};
export function status(state) {
  const key = String(state || "").toLowerCase().replace(/[^a-z-]/g, "");
  const kind = GLYPHS[key] === "●" ? "ok" : GLYPHS[key] === "✕" ? "bad" : GLYPHS[key] === "◐" ? "wait" : "none";
  return h("span", { class: `status status-${kind}`, dataset: { state: state || "" } },
    h("span", { class: "glyph", "aria-hidden": "true" }, GLYPHS[key] || "○"), " ", state || "-");
}

export function errorBox(err) {
  const code = err?.code || "Error";
  const message = err?.awsMessage ?? err?.message ?? String(err);
  return h("div", { class: "error", role: "alert" }, h("strong", { class: "error-code" }, code), " ", h("span", { class: "error-message" }, message));
}

export function flash(text) {
  const region = document.getElementById("flash");
  region.replaceChildren(h("div", { class: "notice", role: "status" }, text));
}

export function clearFlash() { document.getElementById("flash").replaceChildren(); }

// A key/value description list.
export function details(pairs) {
  return h("dl", { class: "details" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === "" || v === undefined ? "-" : v)]));
}

export function section(title, ...content) {
  const id = nextId("sec");
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}

// A table of rows with a text filter over the listed columns and pages of pageSize.
// columns: [{title, cell: row => node|string, text?: row => string}]. select:
// "radio"|"checkbox" adds a first column; onSelect(rows) is told the selection.
// A table's filter text and page, kept while the page at this address is redrawn
// (live refreshes, a choice that redraws it) and forgotten when another page opens.
const kept = new Map();
export function forgetTables() { kept.clear(); }

export function table({ caption, columns, rows, pageSize = 10, select, onSelect, keyOf = (r, i) => i, selected = [], emptyText = "Nothing here yet." }) {
  const wrap = h("div", { class: "table-wrap" });
  const keptKey = `${location.hash}|${caption || ""}`;
  const was = kept.get(keptKey) || { text: "", page: 0 };
  const state = { filter: was.text.toLowerCase(), page: was.page, chosen: new Set(selected) };
  const filterId = nextId("filter");
  const filterInput = h("input", { id: filterId, type: "search", placeholder: "Filter", value: was.text, oninput: (e) => { state.filter = e.target.value.toLowerCase(); state.page = 0; draw(); } });
  const name = nextId("sel");
  const textOf = (r) => columns.map((c) => (c.text ? c.text(r) : typeof c.cell(r) === "string" ? c.cell(r) : c.cell(r)?.textContent || "")).join(" ").toLowerCase();
  const body = h("div");
  function draw() {
    const matching = rows.filter((r) => !state.filter || textOf(r).includes(state.filter));
    const pages = Math.max(1, Math.ceil(matching.length / pageSize));
    state.page = Math.min(state.page, pages - 1);
    const shown = matching.slice(state.page * pageSize, (state.page + 1) * pageSize);
    kept.set(keptKey, { text: filterInput.value, page: state.page });
    const head = h("tr", {}, select ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Select")) : null, columns.map((c) => h("th", { scope: "col" }, c.title)));
    const trs = shown.map((r) => {
      // The key by the row's place in all rows, not on this page or under the filter.
      const key = keyOf(r, rows.indexOf(r));
      const first = columns[0];
      const label = first.text ? first.text(r) : typeof first.cell(r) === "string" ? first.cell(r) : first.cell(r)?.textContent || String(key);
      const box = select ? h("input", {
        type: select, name, checked: state.chosen.has(key), "aria-label": `Select ${label}`,
        onchange: (e) => {
          if (select === "radio") state.chosen = new Set([key]);
          else if (e.target.checked) state.chosen.add(key); else state.chosen.delete(key);
          onSelect?.(rows.filter((x, j) => state.chosen.has(keyOf(x, j))));
        },
      }) : null;
      return h("tr", {}, select ? h("td", {}, box) : null, columns.map((c) => h("td", {}, c.cell(r))));
    });
    const table = h("table", {}, caption ? h("caption", {}, caption) : null, h("thead", {}, head), h("tbody", {}, trs.length ? trs : h("tr", {}, h("td", { colspan: columns.length + (select ? 1 : 0) }, matching.length === rows.length ? emptyText : "No match for the filter."))));
    const nav = h("nav", { class: "pager", "aria-label": `${caption || "Table"} pages` },
      h("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page--; draw(); } }, "Previous page"),
      h("span", { "aria-live": "polite" }, `Page ${state.page + 1} of ${pages} (${matching.length} ${matching.length === 1 ? "item" : "items"})`),
      h("button", { type: "button", disabled: state.page >= pages - 1, onclick: () => { state.page++; draw(); } }, "Next page"));
    // Focusable, so a keyboard can scroll a table wider than a narrow window even
    // when no row holds a link (axe: scrollable-region-focusable).
    body.replaceChildren(h("div", { class: "scroll", tabindex: 0, role: "region", "aria-label": `${caption || "Table"} (scrollable)` }, table), nav);
  }
  draw();
  // More rows arrived (a long list fetched behind its first page): the filter,
  // page and selection stay as the user left them.
  wrap.setRows = (more) => { rows = more; draw(); };
  wrap.append(h("div", { class: "filter" }, h("label", { for: filterId }, `Filter ${caption ? caption.toLowerCase() : "rows"}`), filterInput), body);
  return wrap;
}

// A modal form. fields build the form's body; submit(form) may throw an ApiError,
// which is shown in the dialog (nothing changes, the dialog stays open).
export function dialog({ title, fields, submitText = "Save", submit, danger = false }) {
  const id = nextId("dlg");
  const errors = h("div", { class: "dialog-errors" });
  const form = h("form", { method: "dialog" }, h("h2", { id }, title), fields, errors,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => dlg.close() }, "Cancel"),
      h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitText)));
  const dlg = h("dialog", { "aria-labelledby": id }, form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await submit(form);
      dlg.close();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export const dialogOpen = () => document.querySelector("dialog[open]") !== null;

// A labelled input, select or textarea.
export function field(label, control, hint) {
  const id = control.id || nextId("in");
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}

export function choice(options, value, attrs = {}) {
  return h("select", attrs, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export function checkboxGroup(legend, options, checked = []) {
  return h("fieldset", {}, h("legend", {}, legend), options.map(([v, text, extra = {}]) => {
    const id = nextId("cb");
    return h("div", { class: "check" }, h("input", { type: "checkbox", id, value: v, checked: checked.includes(v), ...extra }), h("label", { for: id }, text));
  }));
}

export const checkedValues = (root) => Array.from(root.querySelectorAll("input[type=checkbox]:checked")).map((c) => c.value);

export function link(href, text) { return h("a", { href }, text); }

export function button(text, onclick, cls = "secondary", extra = {}) { return h("button", { type: "button", class: cls, onclick, ...extra }, text); }
