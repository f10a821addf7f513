// Console benchmark (issue 17: "loads in under a second with 1,000 endpoints"): a
// real daemon (control plane only, through tests/browser/sidecar.py), N endpoints
// made through boto3, then in Debian's Chromium the Endpoints page's time to its
// first rendered rows and to the full list, against the AWS CLI's
// `aws ec2 describe-vpc-endpoints` of the same endpoints measured in the same run.
// Prints the machine's load with the numbers: this host is shared.
//   node bench/console/console_bench.mjs        (LP_BUILD_DIR, N=1000, RUNS=3)
import { execFileSync } from "node:child_process";
import { loadavg, cpus } from "node:os";
import { startDaemon, launch, signedInPage } from "../../tests/browser/harness.mjs";

const N = Number(process.env.N || 1000);
const RUNS = Number(process.env.RUNS || 3);
const PER_VPC = 50;  // endpoints per VPC, well under the per-VPC quota

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const ms = (x) => `${Math.round(x)} ms`;

const daemon = await startDaemon();
const browser = await launch();
try {
  let t = Date.now(), made = 0;
  for (let v = 0; made < N; v++) {
    const vpc = (await daemon.boto("consumer", "ec2", "create_vpc", { CidrBlock: `10.${v}.0.0/16` })).Vpc.VpcId;
    const subnet = (await daemon.boto("consumer", "ec2", "create_subnet", { VpcId: vpc, CidrBlock: `10.${v}.1.0/24`, AvailabilityZoneId: "use1-az1" })).Subnet.SubnetId;
    for (let i = 0; i < PER_VPC && made < N; i++, made++)
      await daemon.boto("consumer", "ec2", "create_vpc_endpoint", { VpcId: vpc, VpcEndpointType: "Interface", ServiceName: "com.amazonaws.us-east-1.ec2", SubnetIds: [subnet], PrivateDnsEnabled: false });
  }
  console.log(`made ${made} endpoints through boto3 in ${ms(Date.now() - t)}`);

  // The peer: the AWS CLI as a user would run it (all pages, JSON out).
  const acct = daemon.accounts.consumer;
  const env = { ...process.env, AWS_ACCESS_KEY_ID: acct.key, AWS_SECRET_ACCESS_KEY: acct.secret, AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "" };
  const cli = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    const out = execFileSync("/usr/bin/aws", ["--endpoint-url", daemon.url, "ec2", "describe-vpc-endpoints", "--output", "json"], { env, maxBuffer: 1 << 28 });
    cli.push(performance.now() - t);
    const n = JSON.parse(out).VpcEndpoints.length;
    if (n !== N) throw new Error(`the CLI listed ${n} endpoints, not ${N}`);
  }

  const { page } = await signedInPage(browser, daemon, "consumer");
  const rows = page.locator("main table tbody tr a[href^='#/endpoints/vpce-']");
  const full = page.locator("main .pager span", { hasText: `(${N} items)` });
  // One measurement: start() begins the navigation; returns [first rows, full list] ms.
  async function measure(start) {
    const t0 = performance.now();
    await start();
    await rows.first().waitFor({ timeout: 60000 });
    const first = performance.now() - t0;
    await full.first().waitFor({ timeout: 60000 });
    return [first, performance.now() - t0];
  }
  const nav = [], reload = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${daemon.url}/console/#/vpcs`);
    await page.locator(`main[data-route="#/vpcs"][aria-busy=false]`).waitFor();
    nav.push(await measure(() => page.evaluate(() => { location.hash = "#/endpoints"; })));
    // A cold load of the page itself (HTML, modules, session) straight to the list.
    reload.push(await measure(() => page.reload()));
  }
  const shownRows = await rows.count();

  const line = (what, xs) => console.log(`${what.padEnd(52)} ${ms(median(xs)).padStart(8)}   (${xs.map(ms).join(", ")})`);
  console.log(`\nconsole with ${N} endpoints, ${RUNS} runs, median (all runs); ${cpus().length} CPUs, load average ${load()} (shared host)`);
  line("aws ec2 describe-vpc-endpoints (the peer)", cli);
  line("console, from another page: first rows drawn", nav.map((x) => x[0]));
  line("console, from another page: full list loaded", nav.map((x) => x[1]));
  line("console, page reload: first rows drawn", reload.map((x) => x[0]));
  line("console, page reload: full list loaded", reload.map((x) => x[1]));
  const ratio = (xs) => (median(xs) / median(cli)).toFixed(2);
  console.log(`first rows / CLI: ${ratio(nav.map((x) => x[0]))} (navigation), ${ratio(reload.map((x) => x[0]))} (reload); full list / CLI: ${ratio(nav.map((x) => x[1]))}, ${ratio(reload.map((x) => x[1]))}`);
  const worst = Math.max(median(nav.map((x) => x[0])), median(reload.map((x) => x[0])));
  console.log(`target "first rows in under a second": ${worst < 1000 ? "met" : "NOT met"} (${ms(worst)}; ${shownRows} rows on the first page)`);
} finally {
  await browser.close();
  await daemon.close();
}
