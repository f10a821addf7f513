// The console's traffic charts with real traffic: the data plane on, bytes of a known
// size echoed through an endpoint (sidecar.py's Traffic, test_dataplane's topology),
// then the consumer's endpoint page and the provider's service page chart exactly that
// many bytes, in total and per zone, as CloudWatch (boto3 GetMetricStatistics) counts
// them. Needs root (namespaces, nftables).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, launch, signedInPage, screenshot, checkA11y, until, open } from "./harness.mjs";

const root = process.getuid?.() === 0;
let daemon, browser, t;
before(async () => {
  if (!root) return;
  daemon = await startDaemon({ dataplane: true });
  browser = await launch();
  t = await daemon.traffic(256 * 1024);
});
after(async () => {
  await browser?.close();
  await daemon?.close();
});

// The figure a chart draws: its total over the charted half hour.
const chartTotal = (page, series) => page.locator(`figure.chart[data-series="${series}"]`).getAttribute("data-total", { timeout: 2000 }).then(Number).catch(() => -1);

test("endpoint and service charts show the bytes CloudWatch counted", { skip: !root && "needs root" }, async () => {
  const now = new Date();
  const cw = await daemon.boto("consumer", "cloudwatch", "get_metric_statistics", {
    Namespace: "AWS/PrivateLinkEndpoints", MetricName: "BytesProcessed", Period: 60, Statistics: ["Sum"],
    StartTime: new Date(now - 30 * 60000).toISOString(), EndTime: new Date(+now + 120000).toISOString(),
    Dimensions: [{ Name: "Endpoint Type", Value: "Interface" }, { Name: "Service Name", Value: t.serviceName }, { Name: "VPC Endpoint Id", Value: t.endpoint }, { Name: "VPC Id", Value: t.vpc }],
  });
  // The sampler runs every second; CloudWatch may need a moment to have it all.
  // The splice path counts payload; the kernel fast path counts packets with their
  // TCP/IP headers: the figure is the payload plus at most the headers.
  const withinHeaders = (got) => got >= t.bytes && got <= t.bytes + Math.max(4096, t.bytes * 0.06);
  const cwSum = async () => (await daemon.boto("consumer", "cloudwatch", "get_metric_statistics", {
    Namespace: "AWS/PrivateLinkEndpoints", MetricName: "BytesProcessed", Period: 60, Statistics: ["Sum"],
    StartTime: new Date(now - 30 * 60000).toISOString(), EndTime: new Date(Date.now() + 120000).toISOString(),
    Dimensions: [{ Name: "Endpoint Type", Value: "Interface" }, { Name: "Service Name", Value: t.serviceName }, { Name: "VPC Endpoint Id", Value: t.endpoint }, { Name: "VPC Id", Value: t.vpc }],
  })).Datapoints.reduce((a, d) => a + d.Sum, 0);
  assert.ok(cw.Datapoints.reduce((a, d) => a + d.Sum, 0) <= t.bytes + Math.max(4096, t.bytes * 0.06));
  await until(async () => withinHeaders(await cwSum()), 20000, `CloudWatch to count about ${t.bytes} bytes`);
  // Settled: two readings a sampling period apart agree (the closing packets counted too).
  let counted = await cwSum();
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    const next = await cwSum();
    if (next === counted) break;
    counted = next;
  }
  assert.ok(withinHeaders(counted), `${counted} bytes counted for ${t.bytes} of payload`);

  const consumer = await signedInPage(browser, daemon, "consumer");
  await open(consumer.page, daemon.url, `endpoints/${t.endpoint}`);
  const zone = (await daemon.boto("consumer", "ec2", "describe_subnets", { SubnetIds: [t.subnet] })).Subnets[0].AvailabilityZone;
  // The chart refetches every 10 s while the page is open: no reload needed.
  await until(async () => (await chartTotal(consumer.page, "Bytes")) === counted, 45000, `the endpoint's Bytes chart to reach ${counted}`);
  assert.equal(await chartTotal(consumer.page, `Bytes ${zone}`), counted);
  assert.equal(await chartTotal(consumer.page, "New connections"), 1);
  await checkA11y(consumer.page, "endpoint with traffic");
  await screenshot(consumer.page, "endpoint-traffic");

  const provider = await signedInPage(browser, daemon, "provider");
  await open(provider.page, daemon.url, `services/${t.serviceId}`);
  await until(async () => (await chartTotal(provider.page, "Bytes")) === counted, 45000, `the service's Bytes chart to reach ${counted}`);
  const perZone = await provider.page.locator('figure.chart[data-series^="Bytes "]').evaluateAll((fs) => fs.map((f) => Number(f.dataset.total)));
  assert.equal(perZone.reduce((a, b) => a + b, 0), counted, "the per-zone charts add up to the total");
  await screenshot(provider.page, "service-traffic");

  // The same figure through the API as the page drew: CloudWatch's own answer.
  const again = await daemon.boto("consumer", "cloudwatch", "get_metric_statistics", {
    Namespace: "AWS/PrivateLinkEndpoints", MetricName: "BytesProcessed", Period: 60, Statistics: ["Sum"],
    StartTime: new Date(now - 30 * 60000).toISOString(), EndTime: new Date(Date.now() + 120000).toISOString(),
    Dimensions: [{ Name: "Endpoint Type", Value: "Interface" }, { Name: "Service Name", Value: t.serviceName }, { Name: "VPC Endpoint Id", Value: t.endpoint }, { Name: "VPC Id", Value: t.vpc }],
  });
  assert.equal(again.Datapoints.reduce((a, d) => a + d.Sum, 0), counted);
  // The provider's session charts nothing of the consumer's endpoint: CloudWatch's rules.
  await open(provider.page, daemon.url, `endpoints/${t.endpoint}`);
  await provider.page.getByText("InvalidVpcEndpointId.NotFound").waitFor();
  assert.deepEqual([...consumer.errors, ...provider.errors], []);
  await consumer.context.close();
  await provider.context.close();
});
