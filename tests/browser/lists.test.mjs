// Long lists: a few hundred security groups, network interfaces and some dozens of
// target groups, made through boto3. Each list page draws from one bounded first
// call (MaxResults / PageSize 50) and fetches the rest behind it; then its pager
// counts exactly what boto3 lists, the filter box finds one item among them, the
// pages turn, and axe-core finds nothing serious.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDaemon, launch, signedInPage, screenshot, checkA11y, until, open } from "./harness.mjs";

const GROUPS = 250, INTERFACES = 250, TARGET_GROUPS = 60;
let daemon, browser, vpc;
before(async () => {
  daemon = await startDaemon();
  browser = await launch();
  vpc = (await daemon.boto("outsider", "ec2", "create_vpc", { CidrBlock: "10.60.0.0/16" })).Vpc.VpcId;
  const subnet = (await daemon.boto("outsider", "ec2", "create_subnet", { VpcId: vpc, CidrBlock: "10.60.0.0/20", AvailabilityZoneId: "use1-az1" })).Subnet.SubnetId;
  for (let i = 0; i < GROUPS; i++) await daemon.boto("outsider", "ec2", "create_security_group", { GroupName: `lp-many-${i}`, Description: `group ${i}`, VpcId: vpc });
  for (let i = 0; i < INTERFACES; i++) await daemon.boto("outsider", "ec2", "create_network_interface", { SubnetId: subnet, Description: `interface ${i}` });
  for (let i = 0; i < TARGET_GROUPS; i++) await daemon.boto("outsider", "elbv2", "create_target_group", { Name: `tg-many-${i}`, Protocol: "TCP", Port: 1000 + i, VpcId: vpc, TargetType: "ip" });
});
after(async () => {
  await browser?.close();
  await daemon?.close();
});

// The Describe calls the page posts, in order: [{action, MaxResults, NextToken, PageSize, Marker}].
function recordCalls(page) {
  const calls = [];
  page.on("request", (r) => {
    if (!r.url().includes("/console/api/") || r.method() !== "POST") return;
    const p = new URLSearchParams(r.postData() || "");
    if (p.get("Action")?.startsWith("Describe")) calls.push(Object.fromEntries(["Action", "MaxResults", "NextToken", "PageSize", "Marker"].map((k) => [k, p.get(k)])));
  });
  return calls;
}

const pagerOf = (page, caption) => page.getByRole("navigation", { name: `${caption} pages` });

async function checkList(page, { route, caption, action, size, sizeKey, tokenKey, count, filter, expect }) {
  const calls = recordCalls(page);
  const started = Date.now();
  await open(page, daemon.url, route);
  const firstDrawn = Date.now() - started;
  // Drawn from one bounded call, before the rest.
  const mine = () => calls.filter((c) => c.Action === action);
  assert.deepEqual({ size: mine()[0][sizeKey], token: mine()[0][tokenKey] }, { size: String(size), token: null }, `${route}: first call`);
  assert.ok(await page.locator(`table:has(caption:text-is("${caption}")) tbody tr`).count() <= 10);
  // The rest behind it, with the first answer's token.
  const pager = pagerOf(page, caption);
  await until(async () => (await pager.textContent()).includes(`(${count} items)`), 30000, `${route}: ${count} items`);
  assert.ok(mine().length >= 2 && mine()[1][tokenKey], `${route}: the rest fetched with the token: ${JSON.stringify(mine())}`);
  // Filter box: one item among the hundreds.
  await page.getByLabel(`Filter ${caption.toLowerCase()}`).fill(filter);
  await until(async () => (await pager.textContent()).includes("(1 item)"), 5000, `${route}: filter to one`);
  await page.getByRole("cell", { name: expect, exact: true }).waitFor();
  await page.getByLabel(`Filter ${caption.toLowerCase()}`).fill("");
  await pager.getByRole("button", { name: "Next page" }).click();
  await until(async () => (await pager.textContent()).startsWith("Previous pagePage 2 of"), 5000, `${route}: page 2`);
  await checkA11y(page, `${route} with ${count} items`);
  await screenshot(page, route);
  return firstDrawn;
}

test("long lists draw their first page at once, then page and filter through all of it", async () => {
  const s = await signedInPage(browser, daemon, "outsider");
  const page = s.page;
  try {
    const groups = (await daemon.boto("outsider", "ec2", "describe_security_groups", { Filters: [{ Name: "vpc-id", Values: [vpc] }] })).SecurityGroups;
    assert.equal(groups.length, GROUPS + 1);  // and the VPC's default group
    const g = groups.find((x) => x.GroupName === "lp-many-137");
    const timings = {};
    timings.groups = await checkList(page, {
      route: "security-groups", caption: "Security groups", action: "DescribeSecurityGroups", size: 50, sizeKey: "MaxResults", tokenKey: "NextToken",
      count: GROUPS + 1, filter: "lp-many-137", expect: g.GroupId,
    });

    const enis = (await daemon.boto("outsider", "ec2", "describe_network_interfaces")).NetworkInterfaces;
    assert.equal(enis.length, INTERFACES);
    const n = enis.find((x) => x.Description === "interface 201");
    timings.interfaces = await checkList(page, {
      route: "network-interfaces", caption: "Network interfaces", action: "DescribeNetworkInterfaces", size: 50, sizeKey: "MaxResults", tokenKey: "NextToken",
      count: INTERFACES, filter: n.NetworkInterfaceId, expect: n.NetworkInterfaceId,
    });

    const tgs = (await daemon.boto("outsider", "elbv2", "describe_target_groups")).TargetGroups;
    assert.equal(tgs.length, TARGET_GROUPS);
    timings.targetGroups = await checkList(page, {
      route: "target-groups", caption: "Target groups", action: "DescribeTargetGroups", size: 50, sizeKey: "PageSize", tokenKey: "Marker",
      count: TARGET_GROUPS, filter: "tg-many-42", expect: "tg-many-42",
    });
    // Choosing a group shows its targets (one DescribeTargetHealth, not one per group).
    await page.getByLabel("Filter target groups").fill("tg-many-42");
    // (click, not check: choosing redraws the page with that group's targets)
    await page.getByRole("radio", { name: "Select tg-many-42" }).click();
    await page.getByRole("heading", { name: "tg-many-42 (TCP:1042)" }).waitFor();
    await page.getByRole("table", { name: "Targets of tg-many-42" }).waitFor();
    // The redrawn list keeps the user's filter, with the choice made.
    assert.equal(await page.getByLabel("Filter target groups").inputValue(), "tg-many-42");
    assert.equal(await page.getByRole("radio", { name: "Select tg-many-42" }).isChecked(), true);
    await checkA11y(page, "a chosen target group");
    console.log(`first rows drawn (ms, page.goto to drawn; machine shared): ${JSON.stringify(timings)}`);
    assert.deepEqual(s.errors, []);
  } catch (err) {
    await screenshot(page, "FAILED-lists").catch(() => {});
    throw err;
  } finally {
    await s.context.close();
  }
});
