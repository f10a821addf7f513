// The seeds' PrivateLink walkthrough done entirely in the console, with the provider
// and the consumer each in their own browser context, every step checked through the
// API with boto3, a screenshot after each step, and axe-core on every page visited.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, launch, signedInPage, screenshot, checkA11y, until, seedNetworks, open } from "./harness.mjs";

let daemon, browser, seed;
before(async () => {
  daemon = await startDaemon();
  browser = await launch();
  seed = await seedNetworks(daemon, { nlb: false });
});
after(async () => {
  await browser?.close();
  await daemon?.close();
});

const endpointOf = async (id) => (await daemon.boto("consumer", "ec2", "describe_vpc_endpoints", { VpcEndpointIds: [id] })).VpcEndpoints[0];

test("the seeds' walkthrough in two browser contexts", async () => {
  // Sign-in page is accessible before anyone signs in.
  {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${daemon.url}/console/`);
    await page.getByLabel("Access key ID").waitFor();
    await checkA11y(page, "sign-in");
    await screenshot(page, "sign-in");
    await ctx.close();
  }
  const provider = await signedInPage(browser, daemon, "provider");
  const consumer = await signedInPage(browser, daemon, "consumer");
  const pp = provider.page, cp = consumer.page;
  try {
    await walkthrough(provider, consumer);
  } catch (err) {
    // What each account saw when the step failed, beside the step screenshots.
    await screenshot(pp, "FAILED-provider").catch(() => {});
    await screenshot(cp, "FAILED-consumer").catch(() => {});
    throw err;
  }
  await provider.context.close();
  await consumer.context.close();
});

const PRIVATE_NAME = "api.walkthrough.example";

// Provider: the network load balancer the service will front, made in the console:
// Create target group, Register targets, Create load balancer, Add listener.
async function providerLoadBalancer(pp) {
  await open(pp, daemon.url, "target-groups");
  await pp.getByRole("button", { name: "Create target group" }).click();
  let dlg = pp.getByRole("dialog");
  await dlg.getByLabel("Target type").selectOption("ip");
  await dlg.getByLabel("Target group name").fill("svc-tg");
  await dlg.getByLabel("Protocol").selectOption("TCP");
  await dlg.getByLabel("Port", { exact: true }).fill("8080");
  await dlg.getByLabel("VPC", { exact: true }).selectOption(seed.providerVpc);
  await checkA11y(pp, "create target group dialog");
  await dlg.getByRole("button", { name: "Create target group" }).click();
  await pp.getByRole("heading", { name: "svc-tg (TCP:8080)" }).waitFor();
  const groups = (await daemon.boto("provider", "elbv2", "describe_target_groups")).TargetGroups;
  assert.deepEqual(groups.map((g) => [g.TargetGroupName, g.Protocol, g.Port, g.VpcId, g.TargetType]), [["svc-tg", "TCP", 8080, seed.providerVpc, "ip"]]);
  const tg = groups[0].TargetGroupArn;

  // Register targets: a refused one shows AWS's code and registers nothing.
  await pp.getByRole("button", { name: "Register targets", exact: true }).click();
  dlg = pp.getByRole("dialog");
  await dlg.getByLabel(/IP addresses/).fill("not-an-address");
  await dlg.getByRole("button", { name: "Register targets", exact: true }).click();
  await dlg.locator(".error-code", { hasText: "InvalidTarget" }).waitFor();
  assert.deepEqual((await daemon.boto("provider", "elbv2", "describe_target_health", { TargetGroupArn: tg })).TargetHealthDescriptions, []);
  await dlg.getByLabel(/IP addresses/).fill("10.10.1.10\n10.10.2.10:9090");
  await checkA11y(pp, "register targets dialog");
  await dlg.getByRole("button", { name: "Register targets", exact: true }).click();
  await pp.getByRole("cell", { name: "10.10.2.10", exact: true }).waitFor();
  const targets = (await daemon.boto("provider", "elbv2", "describe_target_health", { TargetGroupArn: tg })).TargetHealthDescriptions;
  assert.deepEqual(targets.map((t) => `${t.Target.Id}:${t.Target.Port}`).sort(), ["10.10.1.10:8080", "10.10.2.10:9090"]);
  await checkA11y(pp, "target groups with targets");
  await screenshot(pp, "provider-target-group");

  // Create load balancer (network, internal, a subnet in each of two zones).
  await open(pp, daemon.url, "load-balancers");
  await pp.getByRole("button", { name: "Create load balancer" }).click();
  dlg = pp.getByRole("dialog");
  await dlg.getByLabel("Load balancer name").fill("svc");
  await dlg.getByLabel("Scheme").selectOption("internal");
  await dlg.getByLabel("VPC", { exact: true }).selectOption(seed.providerVpc);
  for (const subnet of seed.providerSubnets) await dlg.getByRole("checkbox", { name: new RegExp(subnet) }).check();
  await checkA11y(pp, "create load balancer dialog");
  await dlg.getByRole("button", { name: "Create load balancer" }).click();
  await pp.getByRole("cell", { name: "svc", exact: true }).waitFor();
  const lbs = (await daemon.boto("provider", "elbv2", "describe_load_balancers")).LoadBalancers;
  assert.deepEqual(lbs.map((l) => [l.LoadBalancerName, l.Type, l.Scheme, l.VpcId, l.AvailabilityZones.map((z) => z.SubnetId).sort()]),
    [["svc", "network", "internal", seed.providerVpc, [...seed.providerSubnets].sort()]]);
  const lb = lbs[0].LoadBalancerArn;

  // Add listener: TCP:443 forwarding to the target group.
  await pp.getByRole("radio", { name: "Select svc" }).check();
  await pp.getByRole("button", { name: "Add listener" }).click();
  dlg = pp.getByRole("dialog");
  await dlg.getByLabel("Protocol").selectOption("TCP");
  await dlg.getByLabel("Port", { exact: true }).fill("443");
  await dlg.getByLabel(/forward to target group/).selectOption(tg);
  await checkA11y(pp, "add listener dialog");
  await dlg.getByRole("button", { name: "Add listener" }).click();
  await pp.getByRole("cell", { name: "TCP:443", exact: true }).waitFor();
  const listeners = (await daemon.boto("provider", "elbv2", "describe_listeners", { LoadBalancerArn: lb })).Listeners;
  assert.deepEqual(listeners.map((l) => [l.Protocol, l.Port, l.DefaultActions.map((a) => [a.Type, a.TargetGroupArn])]), [["TCP", 443, [["forward", tg]]]]);
  await screenshot(pp, "provider-load-balancer");
  return lb;
}

async function walkthrough(provider, consumer) {
  const pp = provider.page, cp = consumer.page;
  const lb = await providerLoadBalancer(pp);

  // Provider: Create endpoint service (choose the NLB, acceptance required, a private DNS name).
  await pp.goto(`${daemon.url}/console/#/services/create`);
  await pp.getByRole("checkbox", { name: /^svc / }).check();
  await assert.ok(await pp.getByLabel("Acceptance required").isChecked());
  await pp.getByLabel("Private DNS name (optional)").fill(PRIVATE_NAME);
  await checkA11y(pp, "create endpoint service");
  await pp.getByRole("button", { name: "Create", exact: true }).click();
  await pp.waitForURL(/#\/services\/vpce-svc-/);
  const serviceName = (await pp.locator("code.service-name").textContent()).trim();
  const sid = serviceName.split(".").pop();
  let cfg = (await daemon.boto("provider", "ec2", "describe_vpc_endpoint_service_configurations")).ServiceConfigurations;
  assert.deepEqual(cfg.map((s) => [s.ServiceId, s.ServiceName, s.AcceptanceRequired, s.NetworkLoadBalancerArns, s.PrivateDnsName]), [[sid, serviceName, true, [lb], PRIVATE_NAME]]);
  await checkA11y(pp, "endpoint service details");
  await screenshot(pp, "provider-service-created");

  // Provider: the domain's TXT record to publish is shown; Verify domain ownership.
  const dnsConf = cfg[0].PrivateDnsNameConfiguration;
  assert.equal(dnsConf.State, "pendingVerification");
  await pp.locator("dd .status", { hasText: "pendingVerification" }).waitFor();
  await pp.getByText(dnsConf.Name, { exact: true }).waitFor();
  await pp.getByText(dnsConf.Value, { exact: true }).waitFor();
  await pp.getByRole("button", { name: "Verify domain ownership" }).click();
  await pp.getByText("Domain ownership verification started.").waitFor();
  await pp.locator("dd .status", { hasText: "verified" }).waitFor();
  cfg = (await daemon.boto("provider", "ec2", "describe_vpc_endpoint_service_configurations", { ServiceIds: [sid] })).ServiceConfigurations;
  assert.equal(cfg[0].PrivateDnsNameConfiguration.State, "verified");
  await screenshot(pp, "provider-domain-verified");

  // Provider: Allow principals (the consumer's account).
  const principal = `arn:aws:iam::${daemon.accounts.consumer.id}:root`;
  await pp.getByRole("button", { name: "Allow principals" }).click();
  await pp.getByLabel(/Principals to add/).fill(principal);
  await checkA11y(pp, "allow principals dialog");
  await pp.getByRole("dialog").getByRole("button", { name: "Allow principals" }).click();
  await pp.getByRole("cell", { name: principal, exact: true }).waitFor();
  const perms = (await daemon.boto("provider", "ec2", "describe_vpc_endpoint_service_permissions", { ServiceId: sid })).AllowedPrincipals;
  assert.deepEqual(perms.map((p) => p.Principal), [principal]);
  await screenshot(pp, "provider-principal-allowed");

  // Consumer: Create Endpoint, Find service by name, Verify.
  await cp.goto(`${daemon.url}/console/#/endpoints/create`);
  await cp.getByLabel("Find service by name").check();
  await cp.getByLabel("Service name").fill(serviceName);
  await cp.getByRole("button", { name: "Verify" }).click();
  await cp.getByText("Service name found.").waitFor();
  // A refused form (no VPC chosen) shows AWS's code and message and creates nothing.
  await cp.getByRole("button", { name: "Create endpoint" }).click();
  await cp.locator(".error-code").waitFor();
  const refusedCode = await cp.locator(".error-code").textContent();
  assert.match(refusedCode, /^Invalid|^Missing/);
  assert.equal((await daemon.boto("consumer", "ec2", "describe_vpc_endpoints")).VpcEndpoints.length, 0);
  await screenshot(cp, "consumer-create-refused");
  await cp.getByLabel("VPC", { exact: true }).selectOption(seed.consumerVpc);
  // Subnets: one row per zone; the zone the service is not in is unavailable.
  const az3 = cp.getByRole("checkbox", { name: new RegExp(`^${seed.consumerZone.az3} `) });
  await az3.waitFor();
  assert.ok(await az3.isDisabled(), "the unsupported zone must be unavailable");
  await cp.getByText("Unavailable: the service is not in this zone").waitFor();
  await checkA11y(cp, "create endpoint");
  await screenshot(cp, "consumer-create-endpoint");
  await cp.getByRole("checkbox", { name: new RegExp(`^${seed.consumerZone.az1} `) }).check();
  await cp.getByRole("checkbox", { name: new RegExp(`^${seed.consumerZone.az2} `) }).check();
  await cp.getByRole("button", { name: "Create endpoint" }).click();
  await cp.waitForURL(/#\/endpoints\/vpce-/);
  const eid = cp.url().split("/").pop();
  let e = await endpointOf(eid);
  assert.equal(e.State, "pendingAcceptance");
  assert.deepEqual([...e.SubnetIds].sort(), [seed.consumerSubnets[0], seed.consumerSubnets[1]].sort());
  await cp.locator(".status", { hasText: "pendingAcceptance" }).first().waitFor();
  await checkA11y(cp, "endpoint details");
  await screenshot(cp, "consumer-endpoint-pending");
  // Marks this document: if the page reloads, the mark is gone.
  await cp.evaluate(() => { window.lpNoReload = true; });

  // Provider: the connection appears without a reload; Accept endpoint connection request.
  await pp.evaluate(() => { window.lpNoReload = true; });
  const row = pp.getByRole("row", { name: new RegExp(eid) });
  await row.waitFor({ timeout: 10000 });
  await row.getByRole("checkbox").check();
  await pp.getByRole("button", { name: "Accept endpoint connection request" }).click();
  await pp.getByRole("dialog").getByRole("button", { name: "Accept" }).click();
  await until(async () => (await endpointOf(eid)).State === "available", 10000, "available");
  await screenshot(pp, "provider-accepted");

  // Consumer: available without a reload, with its DNS names and subnets.
  await cp.locator(".status", { hasText: "available" }).first().waitFor({ timeout: 10000 });
  assert.equal(await cp.evaluate(() => window.lpNoReload), true, "the page must not reload");
  e = await endpointOf(eid);
  for (const d of e.DnsEntries) await cp.getByText(d.DnsName, { exact: true }).waitFor();
  const enis = (await daemon.boto("consumer", "ec2", "describe_network_interfaces", { NetworkInterfaceIds: e.NetworkInterfaceIds })).NetworkInterfaces;
  assert.equal(enis.length, 2);
  for (const n of enis) {
    const r = cp.getByRole("row", { name: new RegExp(n.NetworkInterfaceId) });
    await r.getByText(n.PrivateIpAddress, { exact: true }).waitFor();
    await r.getByText(n.SubnetId).waitFor();
  }
  await screenshot(cp, "consumer-endpoint-available");

  // Monitoring: the charts are CloudWatch's GetMetricData as this account, in total and
  // per zone (no data plane here, so no datapoints: zeros), and no error.
  await cp.getByText(/from CloudWatch \(namespace AWS\/PrivateLinkEndpoints\)/).waitFor();
  for (const series of ["Bytes", "New connections", "Active connections", `Bytes ${seed.consumerZone.az1}`, `Active connections ${seed.consumerZone.az2}`])
    await cp.locator(`figure.chart[data-series="${series}"]`).waitFor();
  assert.equal(await cp.getByText(/Traffic unavailable/).count(), 0);
  await pp.getByText(/from CloudWatch \(namespace AWS\/PrivateLinkServices\)/).waitFor();
  await pp.locator('figure.chart[data-series="Bytes"]').waitFor();
  assert.equal(await pp.getByText(/Traffic unavailable/).count(), 0);

  // Notifications: a topic, then Create / Modify / Delete notification.
  // Two topics: one whose policy lets vpce.amazonaws.com publish, one without.
  const topicArn = `arn:aws:sns:us-east-1:${daemon.accounts.consumer.id}:endpoint-events`;
  const plainArn = `arn:aws:sns:us-east-1:${daemon.accounts.consumer.id}:plain`;
  await open(cp, daemon.url, "topics");
  for (const [name, allow] of [["endpoint-events", true], ["plain", false]]) {
    await cp.getByRole("button", { name: "Create topic" }).click();
    await cp.getByLabel("Name", { exact: true }).fill(name);
    if (allow) await cp.getByLabel(/Allow VPC endpoint connection notifications/).check();
    await cp.getByRole("dialog").getByRole("button", { name: "Create topic" }).click();
    await cp.getByRole("cell", { name: `arn:aws:sns:us-east-1:${daemon.accounts.consumer.id}:${name}`, exact: true }).waitFor();
  }
  const policy = JSON.parse((await daemon.boto("consumer", "sns", "get_topic_attributes", { TopicArn: topicArn })).Attributes.Policy);
  assert.ok(policy.Statement.some((st) => st.Principal?.Service === "vpce.amazonaws.com"));
  await checkA11y(cp, "topics");
  await open(cp, daemon.url, `endpoints/${eid}`);
  // A topic that does not let the service publish: AWS's code and message, nothing made.
  await cp.getByRole("button", { name: "Create notification" }).click();
  await cp.getByLabel("SNS topic ARN").selectOption(plainArn);
  await cp.getByRole("dialog").getByRole("button", { name: "Create notification" }).click();
  await cp.getByRole("dialog").locator(".error-code", { hasText: "InvalidConnectionNotification" }).waitFor();
  assert.deepEqual((await daemon.boto("consumer", "ec2", "describe_vpc_endpoint_connection_notifications")).ConnectionNotificationSet, []);
  await screenshot(cp, "consumer-notification-refused");
  await cp.getByLabel("SNS topic ARN").selectOption(topicArn);
  await cp.getByRole("dialog").getByRole("button", { name: "Create notification" }).click();
  await cp.getByRole("cell", { name: topicArn, exact: true }).waitFor();
  let notes = (await daemon.boto("consumer", "ec2", "describe_vpc_endpoint_connection_notifications")).ConnectionNotificationSet;
  assert.equal(notes.length, 1);
  assert.equal(notes[0].VpcEndpointId, eid);
  assert.deepEqual([...notes[0].ConnectionEvents].sort(), ["Accept", "Connect", "Delete", "Reject"]);
  await screenshot(cp, "consumer-notification-created");
  await cp.getByRole("radio", { name: new RegExp(`Select ${notes[0].ConnectionNotificationId}`) }).check();
  await cp.getByRole("button", { name: "Modify Notification" }).click();
  await cp.getByRole("dialog").getByLabel("Delete", { exact: true }).uncheck();
  await cp.getByRole("dialog").getByRole("button", { name: "Modify notification" }).click();
  await until(async () => !(await cp.getByRole("row", { name: new RegExp(notes[0].ConnectionNotificationId) }).textContent()).includes("Delete"), 10000, "the modified events");
  notes = (await daemon.boto("consumer", "ec2", "describe_vpc_endpoint_connection_notifications")).ConnectionNotificationSet;
  assert.deepEqual([...notes[0].ConnectionEvents].sort(), ["Accept", "Connect", "Reject"]);
  await cp.getByRole("radio", { name: new RegExp(`Select ${notes[0].ConnectionNotificationId}`) }).check();
  await cp.getByRole("button", { name: "Delete notification" }).click();
  await cp.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await cp.getByRole("cell", { name: topicArn, exact: true }).waitFor({ state: "detached" });
  assert.deepEqual((await daemon.boto("consumer", "ec2", "describe_vpc_endpoint_connection_notifications")).ConnectionNotificationSet, []);

  // Manage Subnets (drop the second zone) and Manage security groups (add one).
  await cp.getByRole("button", { name: "Manage Subnets" }).click();
  await cp.getByRole("dialog").getByRole("checkbox", { name: new RegExp(seed.consumerSubnets[1]) }).uncheck();
  await checkA11y(cp, "manage subnets dialog");
  await cp.getByRole("dialog").getByRole("button", { name: "Modify subnets" }).click();
  await until(async () => (await endpointOf(eid)).SubnetIds.length === 1, 10000, "one subnet");
  assert.deepEqual((await endpointOf(eid)).SubnetIds, [seed.consumerSubnets[0]]);
  await cp.getByRole("button", { name: "Manage security groups" }).click();
  await cp.getByRole("dialog").getByRole("checkbox", { name: new RegExp(seed.extraGroup) }).check();
  await cp.getByRole("dialog").getByRole("button", { name: "Modify security groups" }).click();
  await cp.getByRole("link", { name: seed.extraGroup }).waitFor();
  assert.ok((await endpointOf(eid)).Groups.some((g) => g.GroupId === seed.extraGroup));
  await screenshot(cp, "consumer-subnets-and-groups-managed");

  // Provider: Reject endpoint connection request (of an accepted one).
  await row.getByRole("checkbox").check();
  await pp.getByRole("button", { name: "Reject endpoint connection request" }).click();
  await pp.getByRole("dialog").getByRole("button", { name: "Reject" }).click();
  await until(async () => (await endpointOf(eid)).State === "rejected", 10000, "rejected");
  await cp.locator(".status", { hasText: "rejected" }).first().waitFor({ timeout: 10000 });
  assert.equal(await cp.evaluate(() => window.lpNoReload), true, "the page must not reload");
  await screenshot(cp, "consumer-endpoint-rejected");

  // Consumer: Delete endpoint.
  await cp.getByRole("button", { name: "Delete endpoint" }).click();
  await cp.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await cp.waitForURL(/#\/endpoints$/);
  await until(async () => {
    const r = await daemon.boto("consumer", "ec2", "describe_vpc_endpoints", { VpcEndpointIds: [eid] }, { allowError: true });
    return r.error?.code === "InvalidVpcEndpointId.NotFound" || r.VpcEndpoints?.[0]?.State === "deleted";
  }, 10000, "deleted");
  await screenshot(cp, "consumer-endpoint-deleted");

  // Every other page of both accounts, at 1280x800: accessible.
  for (const [page, who] of [[pp, "provider"], [cp, "consumer"]]) {
    for (const route of ["endpoints", "services", "vpcs", "subnets", "security-groups", "network-interfaces", "load-balancers", "target-groups", "topics"]) {
      await open(page, daemon.url, route);
      await checkA11y(page, `${who} ${route}`);
    }
  }
  await screenshot(pp, "provider-topics");
  assert.deepEqual([...provider.errors, ...consumer.errors], [], "no script errors in the pages");
}

test("a narrow window still shows every control and the endpoint's details", async () => {
  const { context, page } = await signedInPage(browser, daemon, "provider", { width: 400, height: 800 });
  await open(page, daemon.url, "services");
  const link = page.getByRole("link", { name: "Create endpoint service" });
  assert.ok(await link.isVisible());
  // Nothing wider than the window except inside the tables' own scroll areas.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 400px window`);
  await checkA11y(page, "narrow services");
  await screenshot(page, "narrow-services");
  // Keyboard: Tab reaches the navigation with a visible focus ring.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");
  await context.close();
});

test("AWS services: private DNS explained until the VPC's DNS attributes allow it", async () => {
  const { context, page, errors } = await signedInPage(browser, daemon, "consumer");
  await open(page, daemon.url, "endpoints/create");
  await page.getByLabel("Filter service name").fill("ec2");
  await page.getByRole("radio", { name: "Select com.amazonaws.us-east-1.ec2" }).check();
  await page.getByRole("cell", { name: "Interface", exact: true }).first().waitFor();
  await page.getByLabel("VPC", { exact: true }).selectOption(seed.consumerVpc);
  // The seed VPC has DNS hostnames off: the requirement is explained, the box unchecked.
  await page.getByText("the VPC attributes enableDnsHostnames and enableDnsSupport must both be true").waitFor();
  assert.equal(await page.getByLabel(/Enable Private DNS Name/).isChecked(), false);
  await checkA11y(page, "create endpoint, private DNS explained");
  await screenshot(page, "private-dns-explained");

  // Edit DNS settings on the VPC's page, as the explanation's link leads.
  await page.getByRole("link", { name: "Edit the VPC's DNS settings" }).click();
  await page.locator(`main[data-route="#/vpcs/${seed.consumerVpc}"][aria-busy=false]`).waitFor();
  await page.getByRole("button", { name: "Edit DNS settings" }).click();
  await page.getByLabel("Enable DNS hostnames").check();
  await page.getByRole("dialog").getByRole("button", { name: "Save changes" }).click();
  await page.getByText("DNS settings saved.").waitFor();
  const attr = await daemon.boto("consumer", "ec2", "describe_vpc_attribute", { VpcId: seed.consumerVpc, Attribute: "enableDnsHostnames" });
  assert.equal(attr.EnableDnsHostnames.Value, true);

  await open(page, daemon.url, "endpoints/create");
  await page.getByLabel("Filter service name").fill("ec2");
  await page.getByRole("radio", { name: "Select com.amazonaws.us-east-1.ec2" }).check();
  await page.getByLabel("VPC", { exact: true }).selectOption(seed.consumerVpc);
  await page.getByText("The VPC has DNS resolution and DNS hostnames enabled.").waitFor();
  assert.equal(await page.getByLabel(/Enable Private DNS Name/).isChecked(), true);
  await page.getByRole("checkbox", { name: new RegExp(`^${seed.consumerZone.az1} `) }).check();
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.waitForURL(/#\/endpoints\/vpce-/);
  const eid = page.url().split("/").pop();
  const e = (await daemon.boto("consumer", "ec2", "describe_vpc_endpoints", { VpcEndpointIds: [eid] })).VpcEndpoints[0];
  assert.equal(e.ServiceName, "com.amazonaws.us-east-1.ec2");
  assert.equal(e.PrivateDnsEnabled, true);
  await page.getByText("Private DNS names enabled").waitFor();
  assert.equal(await page.locator("dt:has-text('Private DNS names enabled') + dd").textContent(), "Yes");
  await screenshot(page, "aws-service-endpoint");
  assert.deepEqual(errors, []);
  await context.close();
});
