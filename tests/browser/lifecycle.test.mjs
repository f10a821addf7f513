// The endpoint's lifecycle timeline: the state changes the daemon recorded (the API
// call and account that made each one, or the reconciler), drawn on the endpoint's
// page and updated without a reload as the provider accepts and rejects in its own
// browser context and the consumer deletes; checked against the console's API
// (/console/lifecycle) for both accounts, against boto3's state, and refused to an
// account that is neither the endpoint's owner nor the service's. On the way, the
// endpoint's charts: per zone, TCP resets, and a time range choice.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, launch, signedInPage, screenshot, checkA11y, until, seedNetworks, open } from "./harness.mjs";

let daemon, browser, seed, serviceId, eid;
before(async () => {
  daemon = await startDaemon();
  browser = await launch();
  seed = await seedNetworks(daemon);
  const svc = (await daemon.boto("provider", "ec2", "create_vpc_endpoint_service_configuration", { NetworkLoadBalancerArns: [seed.lb], AcceptanceRequired: true })).ServiceConfiguration;
  serviceId = svc.ServiceId;
  await daemon.boto("provider", "ec2", "modify_vpc_endpoint_service_permissions", { ServiceId: serviceId, AddAllowedPrincipals: [`arn:aws:iam::${daemon.accounts.consumer.id}:root`] });
  eid = (await daemon.boto("consumer", "ec2", "create_vpc_endpoint", { VpcId: seed.consumerVpc, VpcEndpointType: "Interface", ServiceName: svc.ServiceName, SubnetIds: [seed.consumerSubnets[0]] })).VpcEndpoint.VpcEndpointId;
});
after(async () => {
  await browser?.close();
  await daemon?.close();
});

const stateOf = async (id) => (await daemon.boto("consumer", "ec2", "describe_vpc_endpoints", { VpcEndpointIds: [id] })).VpcEndpoints[0].State;

// The timeline as drawn: [{state, time, cause, text}] oldest first.
const drawn = (page) => page.locator("ol.timeline > li").evaluateAll((lis) => lis.map((li) => ({ state: li.dataset.state, time: li.dataset.time, cause: li.dataset.cause, text: li.textContent })));

// POST /console/lifecycle from the page, as the console's scripts make it.
const history = (page, id) => page.evaluate(async (id) => {
  const s = await (await fetch("/console/session")).json();
  const r = await fetch("/console/lifecycle", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Lp-Csrf": s.csrf }, body: new URLSearchParams({ VpcEndpointId: id }) });
  return { status: r.status, body: await r.json() };
}, id);

function inOrder(steps) {
  const times = steps.map((s) => Date.parse(s.time));
  assert.ok(times.every((t) => Number.isFinite(t)), `every step has a time: ${JSON.stringify(steps)}`);
  for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1], `times in order: ${JSON.stringify(steps)}`);
}

test("the timeline shows each recorded state change, live, to the owner and the provider", async () => {
  const consumer = await signedInPage(browser, daemon, "consumer");
  const provider = await signedInPage(browser, daemon, "provider");
  const cp = consumer.page, pp = provider.page;
  try {
    await open(cp, daemon.url, `endpoints/${eid}`);
    await cp.locator('ol.timeline > li[data-state="pendingAcceptance"]').waitFor();
    let steps = await drawn(cp);
    assert.deepEqual(steps.map((s) => [s.state, s.cause]), [["pendingAcceptance", "CreateVpcEndpoint"]]);
    assert.match(steps[0].text, new RegExp(`account ${daemon.accounts.consumer.id}`));
    await checkA11y(cp, "endpoint page with its timeline");

    // Its charts: in total and per zone, TCP resets among them, PacketsDropped only if
    // CloudWatch lists it; a time range choice redraws them over 3 hours by 5 minutes.
    const zone = seed.consumerZone.az1;
    for (const series of ["Bytes", "New connections", "Active connections", "TCP resets", `Bytes ${zone}`, `TCP resets ${zone}`, `New connections ${zone}`])
      await cp.locator(`figure.chart[data-series="${series}"][data-range="30m"][data-points="30"]`).waitFor();
    assert.equal(await cp.locator('figure.chart[data-series="TCP resets"]').getAttribute("data-metric"), "RstPacketsReceived");
    const dropped = (await daemon.boto("consumer", "cloudwatch", "list_metrics", { Namespace: "AWS/PrivateLinkEndpoints", MetricName: "PacketsDropped", Dimensions: [{ Name: "VPC Endpoint Id", Value: eid }] })).Metrics;
    assert.equal(await cp.locator('figure.chart[data-series="Dropped packets"]').count(), dropped.length ? 2 : 0);
    await cp.getByRole("group", { name: zone }).waitFor();
    await cp.getByLabel("Time range").selectOption("3h");
    await cp.locator('figure.chart[data-series="Bytes"][data-range="3h"][data-points="36"]').waitFor();
    assert.equal(await cp.locator('figure.chart[data-range="30m"]').count(), 0);
    await checkA11y(cp, "charts over 3 hours");
    await cp.evaluate(() => { window.lpNoReload = true; });

    // Provider accepts in its page; the consumer's timeline gains pending (the
    // provider's call) and available (the reconciler) without a reload.
    await open(pp, daemon.url, `services/${serviceId}`);
    const row = pp.getByRole("row", { name: new RegExp(eid) });
    await row.getByRole("checkbox").check();
    await pp.getByRole("button", { name: "Accept endpoint connection request" }).click();
    await pp.getByRole("dialog").getByRole("button", { name: "Accept" }).click();
    await until(async () => (await stateOf(eid)) === "available", 15000, "available");
    await cp.locator('ol.timeline > li[data-state="available"]').waitFor({ timeout: 10000 });
    steps = await drawn(cp);
    assert.deepEqual(steps.map((s) => [s.state, s.cause]), [["pendingAcceptance", "CreateVpcEndpoint"], ["pending", "AcceptVpcEndpointConnections"], ["available", "reconciler"]]);
    assert.match(steps[1].text, new RegExp(`account ${daemon.accounts.provider.id}`));
    assert.match(steps[2].text, /reconciler/);
    inOrder(steps);
    await screenshot(cp, "timeline-available");

    // The provider sees the same history for the connection (View lifecycle).
    await row.getByRole("button", { name: `View lifecycle of ${eid}` }).click();
    const dlg = pp.getByRole("dialog");
    await dlg.locator('ol.timeline > li[data-state="available"]').waitFor();
    assert.deepEqual((await dlg.locator("ol.timeline > li").evaluateAll((lis) => lis.map((li) => li.dataset.state))), ["pendingAcceptance", "pending", "available"]);
    await checkA11y(pp, "connection lifecycle dialog");
    await screenshot(pp, "provider-connection-lifecycle");
    await dlg.getByRole("button", { name: "Close" }).click();

    // Rejected by the provider (of an accepted one).
    await row.getByRole("checkbox").check();
    await pp.getByRole("button", { name: "Reject endpoint connection request" }).click();
    await pp.getByRole("dialog").getByRole("button", { name: "Reject" }).click();
    await until(async () => (await stateOf(eid)) === "rejected", 15000, "rejected");
    await cp.locator('ol.timeline > li[data-state="rejected"]').waitFor({ timeout: 10000 });
    assert.equal(await cp.evaluate(() => window.lpNoReload), true, "the page must not reload");

    // Deleted by the consumer: deleting (its call), then deleted (the reconciler),
    // still on the endpoint's page while the deleted endpoint is kept.
    await cp.getByRole("button", { name: "Delete endpoint" }).click();
    await cp.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await cp.waitForURL(/#\/endpoints$/);
    await until(async () => (await stateOf(eid)) === "deleted", 15000, "deleted");
    await open(cp, daemon.url, `endpoints/${eid}`);
    await cp.locator('ol.timeline > li[data-state="deleted"]').waitFor({ timeout: 10000 });
    steps = await drawn(cp);
    assert.deepEqual(steps.map((s) => [s.state, s.cause]), [
      ["pendingAcceptance", "CreateVpcEndpoint"], ["pending", "AcceptVpcEndpointConnections"], ["available", "reconciler"],
      ["rejected", "RejectVpcEndpointConnections"], ["deleting", "DeleteVpcEndpoints"], ["deleted", "reconciler"]]);
    inOrder(steps);
    await checkA11y(cp, "timeline of a deleted endpoint");
    await screenshot(cp, "timeline-deleted");

    // The API side: both accounts get the same record the page drew; its last state
    // is boto3's.
    const mine = await history(cp, eid);
    const theirs = await history(pp, eid);
    assert.equal(mine.status, 200);
    assert.deepEqual(theirs, mine);
    assert.deepEqual(mine.body.StateChanges.map((c) => [c.State, c.Time, c.Cause]), steps.map((s) => [s.state, s.time, s.cause]));
    assert.deepEqual(mine.body.StateChanges.map((c) => c.Account), [daemon.accounts.consumer.id, daemon.accounts.provider.id, undefined, daemon.accounts.provider.id, daemon.accounts.consumer.id, undefined]);
    assert.equal(mine.body.State, await stateOf(eid));
    assert.deepEqual([...new Set(consumer.errors.concat(provider.errors))], []);
  } catch (err) {
    await screenshot(cp, "FAILED-lifecycle-consumer").catch(() => {});
    await screenshot(pp, "FAILED-lifecycle-provider").catch(() => {});
    throw err;
  } finally {
    await consumer.context.close();
    await provider.context.close();
  }
});

test("an account that owns neither the endpoint nor its service gets NotFound", async () => {
  const outsider = await signedInPage(browser, daemon, "outsider");
  const provider = await signedInPage(browser, daemon, "provider");
  try {
    // The consumer's endpoint to the AWS ec2 service: not a connection to the provider's service.
    const own = (await daemon.boto("consumer", "ec2", "create_vpc_endpoint", { VpcId: seed.consumerVpc, VpcEndpointType: "Interface", ServiceName: "com.amazonaws.us-east-1.ec2", SubnetIds: [seed.consumerSubnets[1]], PrivateDnsEnabled: false })).VpcEndpoint.VpcEndpointId;
    for (const [page, id] of [[outsider.page, eid], [provider.page, own]]) {
      const r = await history(page, id);
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, { code: "InvalidVpcEndpointId.NotFound", message: `The VpcEndpoint Id '${id}' does not exist` });
    }
    // And in the page: the endpoint's page shows the API's error, no timeline.
    await open(outsider.page, daemon.url, `endpoints/${eid}`);
    await outsider.page.locator(".error-code", { hasText: "InvalidVpcEndpointId.NotFound" }).waitFor();
    assert.equal(await outsider.page.locator("ol.timeline").count(), 0);
  } finally {
    await outsider.context.close();
    await provider.context.close();
  }
});
