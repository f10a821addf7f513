// What the browser tests share: the daemon (started by sidecar.py through the same
// lp.py harness as the end-to-end tests), boto3 calls through that sidecar to check
// each step through the API, Debian's Chromium driven by playwright-core, signing in
// as an account in its own browser context, screenshots, and axe-core.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.LP_BROWSER_ARTIFACTS || join(here, "..", "..", "build", "browser-artifacts");
const AXE = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

// dataplane: the data plane on (root), for traffic() below.
export async function startDaemon({ dataplane = false } = {}) {
  const env = { ...process.env, LP_SIDECAR_DATAPLANE: dataplane ? "1" : "0" };
  const proc = spawn("/usr/bin/python3", [join(here, "sidecar.py")], { stdio: ["pipe", "pipe", "inherit"], env });
  const lines = createInterface({ input: proc.stdout });
  const queue = [];
  const waiting = [];
  lines.on("line", (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  const next = (ms = 60000) => new Promise((resolve, reject) => {
    if (queue.length) return resolve(queue.shift());
    const timer = setTimeout(() => reject(new Error(`sidecar did not answer in ${ms / 1000} s`)), ms);
    waiting.push((l) => { clearTimeout(timer); resolve(l); });
  });
  const exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  const hello = JSON.parse(await next());
  let chain = Promise.resolve();
  return {
    url: hello.url,
    tlsUrl: hello.tlsUrl,  // the HTTPS listener (the daemon's local CA: not trusted by the browser)
    accounts: hello.accounts,
    // boto3 as account: returns the result; an AWS error throws, or with
    // allowError is returned as {error: {code, message}}.
    boto(account, service, method, params = {}, { allowError = false } = {}) {
      const run = async () => {
        proc.stdin.write(JSON.stringify({ account, service, method, params }) + "\n");
        const r = JSON.parse(await next());
        if (r.error && !allowError) throw new Error(`boto3 ${method} as ${account}: ${r.error.code}: ${r.error.message}`);
        return r.error ? { error: r.error } : r.result;
      };
      chain = chain.then(run, run);
      return chain;
    },
    // With the data plane on: an available endpoint with `bytes` echoed through it
    // (sidecar.py's Traffic); returns {endpoint, serviceId, serviceName, vpc, subnet, bytes}.
    traffic(bytes) {
      const run = async () => {
        proc.stdin.write(JSON.stringify({ setup: "traffic", bytes }) + "\n");
        const r = JSON.parse(await next(180000));
        if (r.error) throw new Error(`traffic setup: ${r.error.code}: ${r.error.message}`);
        return r.result;
      };
      chain = chain.then(run, run);
      return chain;
    },
    async close() {
      proc.stdin.end();
      const code = await exited;
      assert.equal(code, 0, "the daemon did not stop cleanly (see its log above)");
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.LP_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

export async function signedInPage(browser, daemon, account, viewport = { width: 1280, height: 800 }, { url = daemon.url } = {}) {
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: url.startsWith("https:") });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`${account}: ${e.message}`));
  await page.goto(`${url}/console/`);
  await page.getByLabel("Access key ID").fill(daemon.accounts[account].key);
  await page.getByLabel("Secret access key").fill(daemon.accounts[account].secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`${account} @ ${daemon.accounts[account].id}`).waitFor();
  return { context, page, errors };
}

// Navigates within the console and waits until that page is drawn.
export async function open(page, url, route) {
  await page.goto(`${url}/console/#/${route}`);
  await page.locator(`main[data-route="#/${route}"][aria-busy=false]`).waitFor();
}

let shot = 0;
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Each test file runs in its own process: its name keeps the files apart.
  const file = basename(process.argv[1] || "test").replace(/\.test\.mjs$/, "");
  await page.screenshot({ path: join(ARTIFACTS, `${file}-${String(++shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

// axe-core on the page as it is: no serious or critical violations.
export async function checkA11y(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")})`), [], `axe on ${what}`);
}

// Polls fn (async, returns truthy when done) for up to ms; returns its last value.
export async function until(fn, ms = 10000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// The provider's VPC with subnets in two zones, and the consumer's VPC with subnets
// in three zones (one the service will not support), made through boto3: the seeds'
// walkthrough starts with these in place. With nlb, also the provider's network load
// balancer (listener TCP:443 forwarding to an ip target group) through boto3; the
// walkthrough makes its own in the console.
export async function seedNetworks(daemon, { nlb = true } = {}) {
  const zoneName = async (account, zoneId) => (await daemon.boto(account, "ec2", "describe_availability_zones")).AvailabilityZones.find((z) => z.ZoneId === zoneId).ZoneName;
  const vpcWithSubnets = async (account, cidr, zoneIds) => {
    const vpc = (await daemon.boto(account, "ec2", "create_vpc", { CidrBlock: cidr })).Vpc.VpcId;
    const base = cidr.split(".");
    const subnets = [];
    for (const [i, z] of zoneIds.entries()) subnets.push((await daemon.boto(account, "ec2", "create_subnet", { VpcId: vpc, CidrBlock: `${base[0]}.${base[1]}.${i + 1}.0/24`, AvailabilityZoneId: z })).Subnet.SubnetId);
    return { vpc, subnets };
  };
  const p = await vpcWithSubnets("provider", "10.10.0.0/16", ["use1-az1", "use1-az2"]);
  let lb, tg;
  if (nlb) {
    lb = (await daemon.boto("provider", "elbv2", "create_load_balancer", { Name: "svc", Type: "network", Scheme: "internal", Subnets: p.subnets })).LoadBalancers[0].LoadBalancerArn;
    tg = (await daemon.boto("provider", "elbv2", "create_target_group", { Name: "svc-tg", Protocol: "TCP", Port: 8080, VpcId: p.vpc, TargetType: "ip" })).TargetGroups[0].TargetGroupArn;
    await daemon.boto("provider", "elbv2", "create_listener", { LoadBalancerArn: lb, Protocol: "TCP", Port: 443, DefaultActions: [{ Type: "forward", TargetGroupArn: tg }] });
  }
  const c = await vpcWithSubnets("consumer", "10.30.0.0/16", ["use1-az1", "use1-az2", "use1-az3"]);
  const extraGroup = (await daemon.boto("consumer", "ec2", "create_security_group", { GroupName: "endpoint-clients", Description: "clients of the endpoint", VpcId: c.vpc })).GroupId;
  return {
    lb, tg, providerVpc: p.vpc, providerSubnets: p.subnets, consumerVpc: c.vpc, consumerSubnets: c.subnets, extraGroup,
    consumerZone: { az1: await zoneName("consumer", "use1-az1"), az2: await zoneName("consumer", "use1-az2"), az3: await zoneName("consumer", "use1-az3") },
  };
}
