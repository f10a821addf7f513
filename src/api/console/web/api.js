// The console's only way to the daemon: the session (sign in, who am I, sign out)
// and call(), which posts an EC2/ELBv2/SNS/CloudWatch Query action to /console/api/<service>.
// The daemon runs it through the same handlers as a SigV4 request, as the session's
// account, and answers with the same XML, which xmlToObject() turns into plain objects.

let csrf = "";
export let session = null;

export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.awsMessage = message;
    this.status = status;
  }
}

async function jsonOrError(resp) {
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(body.code || `HTTP${resp.status}`, body.message || resp.statusText, resp.status);
  return body;
}

export async function loadSession() {
  const resp = await fetch("/console/session", { credentials: "same-origin", cache: "no-store" });
  if (resp.status === 401) { session = null; csrf = ""; return null; }
  session = await jsonOrError(resp);
  csrf = session.csrf;
  return session;
}

export async function signIn(accessKeyId, secretAccessKey) {
  const resp = await fetch("/console/session", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ accessKeyId, secretAccessKey }),
  });
  session = await jsonOrError(resp);
  csrf = session.csrf;
  return session;
}

export async function signOut() {
  const resp = await fetch("/console/signout", { method: "POST", credentials: "same-origin", headers: { "X-Lp-Csrf": csrf } });
  session = null;
  csrf = "";
  return jsonOrError(resp);
}

// Listeners told when a call finds the session gone (expired or signed out elsewhere).
const signedOutListeners = [];
export function onSignedOut(fn) { signedOutListeners.push(fn); }

// Flattens {Filter: [{Name, Values: [..]}]}-style arguments into the wire's form
// fields: arrays become Name.1, Name.2 (or Name.member.1 for Query services),
// objects Name.Field.
function encode(params, service, prefix = "", out = new URLSearchParams()) {
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) {
      const base = service === "ec2" || k.endsWith(".member") ? key : `${key}.member`;
      if (v.length === 0 && service !== "ec2") out.append(key, "");
      v.forEach((item, i) => {
        if (item !== null && typeof item === "object") encode(item, service, `${base}.${i + 1}`, out);
        else out.append(`${base}.${i + 1}`, String(item));
      });
    } else if (typeof v === "object") {
      encode(v, service, key, out);
    } else {
      out.append(key, String(v));
    }
  }
  return out;
}

const LIST_TAGS = new Set(["item", "member", "entry"]);

// XML element -> value: text for a leaf, an array when the children are item/member/
// entry (EC2 and Query lists), otherwise an object by child name.
export function xmlToObject(el) {
  const kids = Array.from(el.children);
  if (kids.length === 0) return el.textContent;
  if (kids.every((k) => LIST_TAGS.has(k.tagName))) return kids.map(xmlToObject);
  const o = {};
  for (const k of kids) o[k.tagName] = xmlToObject(k);
  return o;
}

// A list field that may be absent or an empty element ("").
export const list = (v) => (Array.isArray(v) ? v : []);

export async function call(service, action, params = {}) {
  const body = encode({ Action: action, ...(service === "ec2" ? {} : { Version: VERSIONS[service] }), ...params }, service);
  const resp = await fetch(`/console/api/${service}`, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Lp-Csrf": csrf },
    body,
  });
  const type = resp.headers.get("Content-Type") || "";
  if (type.startsWith("application/json")) {
    const err = await resp.json().catch(() => ({}));
    if (resp.status === 401) signedOutListeners.forEach((fn) => fn());
    throw new ApiError(err.code || `HTTP${resp.status}`, err.message || resp.statusText, resp.status);
  }
  const doc = new DOMParser().parseFromString(await resp.text(), "application/xml");
  const root = doc.documentElement;
  if (!resp.ok) {
    const code = root.querySelector("Code")?.textContent || `HTTP${resp.status}`;
    const message = root.querySelector("Message")?.textContent || "";
    throw new ApiError(code, message, resp.status);
  }
  const result = service === "ec2" ? root : root.querySelector(`${action}Result`);
  return result ? xmlToObject(result) : {};
}

// An endpoint's state changes as the daemon keeps them (POST /console/lifecycle): the
// owner's endpoints and, for a provider, the connections to its services.
export async function lifecycle(vpcEndpointId) {
  const resp = await fetch("/console/lifecycle", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Lp-Csrf": csrf },
    body: new URLSearchParams({ VpcEndpointId: vpcEndpointId }),
  });
  if (resp.status === 401) signedOutListeners.forEach((fn) => fn());
  return jsonOrError(resp);
}

const VERSIONS = { elasticloadbalancing: "2015-12-01", sns: "2010-03-31", monitoring: "2010-08-01" };

export const ec2 = (action, params) => call("ec2", action, params);
export const elb = (action, params) => call("elasticloadbalancing", action, params);
export const sns = (action, params) => call("sns", action, params);
