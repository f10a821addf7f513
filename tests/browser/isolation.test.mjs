// What a session may not do: read or change another account's resources, be driven
// by a page of another origin, act without its CSRF token, or act after signing out.
// Also: wrong keys get a clear message and no session, repeated wrong keys slow
// sign-in down, and the cookie is HttpOnly, SameSite=Strict, expires, and is Secure
// over HTTPS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startDaemon, launch, signedInPage, screenshot, checkA11y } from "./harness.mjs";

let daemon, browser, eid, vpc;
before(async () => {
  daemon = await startDaemon();
  browser = await launch();
  // The consumer's endpoint to the AWS service catalog's ec2, made through the API.
  vpc = (await daemon.boto("consumer", "ec2", "create_vpc", { CidrBlock: "10.50.0.0/16" })).Vpc.VpcId;
  const subnet = (await daemon.boto("consumer", "ec2", "create_subnet", { VpcId: vpc, CidrBlock: "10.50.1.0/24", AvailabilityZoneId: "use1-az1" })).Subnet.SubnetId;
  eid = (await daemon.boto("consumer", "ec2", "create_vpc_endpoint", { VpcId: vpc, VpcEndpointType: "Interface", ServiceName: "com.amazonaws.us-east-1.ec2", SubnetIds: [subnet], PrivateDnsEnabled: false })).VpcEndpoint.VpcEndpointId;
});
after(async () => {
  await browser?.close();
  await daemon?.close();
});

// The endpoint still exists, as boto3 sees it.
const stillThere = async () => ["pending", "available"].includes((await daemon.boto("consumer", "ec2", "describe_vpc_endpoints", { VpcEndpointIds: [eid] }, { allowError: true })).VpcEndpoints?.[0]?.State);

// A call from the page's own origin with its session, as the console's scripts make it.
const pageCall = (page, body, headers = {}) => page.evaluate(async ({ body, headers }) => {
  const s = await (await fetch("/console/session")).json();
  const r = await fetch("/console/api/ec2", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Lp-Csrf": s.csrf, ...headers }, body });
  return { status: r.status, text: await r.text() };
}, { body, headers });

test("wrong keys get a clear message and no session", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${daemon.url}/console/`);
  await page.getByLabel("Access key ID").fill(daemon.accounts.consumer.key);
  await page.getByLabel("Secret access key").fill("not-the-secret");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("InvalidClientTokenId").waitFor();
  await page.getByText(/not valid for this region's accounts/).waitFor();
  assert.deepEqual(await ctx.cookies(), []);
  assert.equal(await page.getByRole("navigation", { name: "Console" }).getByRole("link").count(), 0);
  await checkA11y(page, "sign-in refused");
  await screenshot(page, "sign-in-refused");
  await ctx.close();
});

test("the session cookie is HttpOnly, SameSite=Strict, expires, and the page has a strict CSP", async () => {
  const { context, page } = await signedInPage(browser, daemon, "consumer");
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, "lp_console");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/console");
  assert.ok(cookie.expires > Date.now() / 1000 && cookie.expires < Date.now() / 1000 + 24 * 3600, "expires within a day");
  assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read the session cookie");
  const resp = await page.request.get(`${daemon.url}/console/`);
  const csp = resp.headers()["content-security-policy"];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(cookie.secure, false, "plain HTTP: a Secure cookie would never be sent back");
  await context.close();
});

test("over the HTTPS listener the session cookie is also Secure", async () => {
  const { context, page, errors } = await signedInPage(browser, daemon, "consumer", undefined, { url: daemon.tlsUrl });
  const [cookie] = await context.cookies();
  assert.equal(cookie.name, "lp_console");
  assert.equal(cookie.secure, true);
  assert.equal(cookie.httpOnly, true);
  // The page works there: the consumer's endpoint is listed.
  await page.goto(`${daemon.tlsUrl}/console/#/endpoints`);
  await page.getByRole("link", { name: eid }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("one account's session cannot read or change another's resources", async () => {
  const { context, page } = await signedInPage(browser, daemon, "provider");
  // The page: the consumer's endpoint is not found, with AWS's code.
  await page.goto(`${daemon.url}/console/#/endpoints/${eid}`);
  await page.locator(".error-code", { hasText: "InvalidVpcEndpointId.NotFound" }).waitFor();
  await screenshot(page, "provider-cannot-see-consumer-endpoint");
  await page.goto(`${daemon.url}/console/#/endpoints`);
  await page.getByText("Nothing here yet.").waitFor();
  assert.equal(await page.getByText(eid).count(), 0);
  // The API behind the page, called directly with the provider's session.
  let r = await pageCall(page, `Action=DeleteVpcEndpoints&VpcEndpointId.1=${eid}`);
  assert.equal(r.status, 200);
  assert.match(r.text, /InvalidVpcEndpoint.NotFound/);
  r = await pageCall(page, `Action=ModifyVpcAttribute&VpcId=${vpc}&EnableDnsHostnames.Value=true`);
  assert.equal(r.status, 400);
  assert.match(r.text, /InvalidVpcID.NotFound/);
  assert.ok(await stillThere(), "the endpoint must be untouched");
  const attr = await daemon.boto("consumer", "ec2", "describe_vpc_attribute", { VpcId: vpc, Attribute: "enableDnsHostnames" });
  assert.equal(attr.EnableDnsHostnames.Value, false);
  await context.close();
});

test("a page of another origin cannot use the session; neither can a call without the token", async () => {
  const { context, page } = await signedInPage(browser, daemon, "consumer");
  // Without the CSRF token, or with another origin in Origin, the daemon refuses.
  let r = await page.evaluate(async (id) => {
    const resp = await fetch("/console/api/ec2", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `Action=DeleteVpcEndpoints&VpcEndpointId.1=${id}` });
    return { status: resp.status, text: await resp.text() };
  }, eid);
  assert.equal(r.status, 403);
  assert.match(r.text, /InvalidCsrfToken/);

  // Another origin (another port on loopback) posts a form and tries to read the token.
  const evil = createServer((req, res) => {
    res.setHeader("Content-Type", "text/html");
    res.end(`<!doctype html><title>other</title>
<form id="f" method="POST" action="${daemon.url}/console/api/ec2" enctype="application/x-www-form-urlencoded">
<input name="Action" value="DeleteVpcEndpoints"><input name="VpcEndpointId.1" value="${eid}"></form>
<pre id="read"></pre>
<script>
fetch("${daemon.url}/console/session", { credentials: "include" }).then(r => r.text()).then(t => { document.getElementById("read").textContent = "READ " + t; }, e => { document.getElementById("read").textContent = "BLOCKED"; });
</script>`);
  });
  await new Promise((resolve) => evil.listen(0, "127.0.0.1", resolve));
  const other = `http://localhost:${evil.address().port}`;
  const attacker = await context.newPage();
  await attacker.goto(other);
  await attacker.locator("#read").filter({ hasText: /BLOCKED|READ/ }).waitFor();
  assert.equal(await attacker.locator("#read").textContent(), "BLOCKED", "another origin must not read the session's token");
  const [resp] = await Promise.all([attacker.waitForNavigation(), attacker.evaluate(() => document.getElementById("f").submit())]);
  assert.ok([401, 403].includes(resp.status()), `cross-origin form post answered ${resp.status()}`);
  assert.match(await attacker.content(), /InvalidOrigin|NotSignedIn/);
  assert.ok(await stillThere(), "the endpoint must be untouched");
  await screenshot(attacker, "cross-origin-post-refused");
  evil.close();

  // A same-origin request that claims another Origin is refused too.
  r = await page.request.post(`${daemon.url}/console/api/ec2`, { headers: { Origin: other, "Content-Type": "application/x-www-form-urlencoded" }, data: `Action=DescribeVpcEndpoints` });
  assert.equal(r.status(), 403);
  await context.close();
});

test("a signed-out session is refused", async () => {
  const { context, page } = await signedInPage(browser, daemon, "consumer");
  const [cookie] = await context.cookies();
  const csrf = await page.evaluate(async () => (await (await fetch("/console/session")).json()).csrf);
  await page.goto(`${daemon.url}/console/#/endpoints`);
  await page.getByText(eid).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You signed out.").waitFor();
  await page.getByLabel("Access key ID").waitFor();
  // The old cookie and token, replayed from another context, are refused.
  const replay = await browser.newContext();
  await replay.addCookies([{ ...cookie }]);
  const rp = await replay.newPage();
  await rp.goto(`${daemon.url}/console/`);
  const r = await rp.evaluate(async ({ csrf, id }) => {
    const resp = await fetch("/console/api/ec2", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Lp-Csrf": csrf }, body: `Action=DeleteVpcEndpoints&VpcEndpointId.1=${id}` });
    return { status: resp.status, text: await resp.text() };
  }, { csrf, id: eid });
  assert.equal(r.status, 401);
  assert.match(r.text, /NotSignedIn/);
  await rp.getByLabel("Access key ID").waitFor();
  assert.ok(await stillThere(), "the endpoint must be untouched");
  await replay.close();
  await context.close();
});

// Last in this file: it leaves this address blocked from signing in for a while.
test("repeated wrong keys slow sign-in down, with a clear message and nothing else", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${daemon.url}/console/`);
  const attempt = async (key, secret) => {
    await page.getByLabel("Access key ID").fill(key);
    await page.getByLabel("Secret access key").fill(secret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".error-code").waitFor();
    const code = await page.locator(".error-code").textContent();
    const message = await page.locator(".error-message").textContent();
    return { code, message };
  };
  // Five failures are free (typos), each answered as a wrong key.
  for (let i = 0; i < 5; i++) assert.equal((await attempt(daemon.accounts.outsider.key, `wrong-${i}`)).code, "InvalidClientTokenId");
  // Then even the right secret is refused, saying when to try again, and only that.
  const slowed = await attempt(daemon.accounts.outsider.key, daemon.accounts.outsider.secret);
  assert.equal(slowed.code, "TooManySignInAttempts");
  assert.match(slowed.message, /^Too many failed sign-in attempts from this address or for this access key\. Try again in \d+ seconds?\.$/);
  assert.deepEqual(await ctx.cookies(), []);
  // The same for a key that does not exist: nothing tells keys apart.
  const unknown = await attempt("AKIDOESNOTEXIST00000", "x");
  assert.equal(unknown.code, "TooManySignInAttempts");
  const r = await page.evaluate(async () => {
    const resp = await fetch("/console/session", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "accessKeyId=x&secretAccessKey=y" });
    return { status: resp.status, retryAfter: resp.headers.get("Retry-After"), body: await resp.json() };
  });
  assert.equal(r.status, 429);
  assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 10, `Retry-After ${r.retryAfter}`);
  assert.deepEqual(Object.keys(r.body).sort(), ["code", "message"]);
  await checkA11y(page, "sign-in slowed down");
  await screenshot(page, "sign-in-slowed");
  await ctx.close();
});
