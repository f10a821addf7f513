// Terraform's call sequences against linkplane with the AWS SDK for JavaScript v3
// (@aws-sdk/client-ec2, client-elastic-load-balancing-v2, client-sts from npm, locked
// in package-lock.json). Run by tests/integration/test_sdk_js.py; exits non-zero,
// naming the failed step, when a call fails or an answer is not what Terraform needs.
//
// Environment: LP_URL, LP_REGION, LP_PROVIDER_KEY/SECRET, LP_CONSUMER_KEY/SECRET.
import * as EC2 from "@aws-sdk/client-ec2";
import * as ELB from "@aws-sdk/client-elastic-load-balancing-v2";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import assert from "node:assert/strict";
import * as I from "./instance.mjs";

const env = process.env;
const region = env.LP_REGION;

function clients(prefix) {
  const config = {
    endpoint: env.LP_URL, region, maxAttempts: 1,
    credentials: { accessKeyId: env[`${prefix}_KEY`], secretAccessKey: env[`${prefix}_SECRET`] },
  };
  const ec2 = new EC2.EC2Client(config), elb = new ELB.ElasticLoadBalancingV2Client(config);
  const sts = new STSClient(config);
  return {
    ec2: (name, input = {}) => ec2.send(new EC2[`${name}Command`](input)),
    elb: (name, input = {}) => elb.send(new ELB[`${name}Command`](input)),
    sts: () => sts.send(new GetCallerIdentityCommand({})),
  };
}

const step = (name) => console.log("ok", name);
const filter = (Name, ...Values) => ({ Name, Values });
const tags = (ResourceType, Name) => [{ ResourceType, Tags: [{ Key: "Name", Value: Name }] }];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls f every 200 ms until it returns a truthy value, for at most 30 s.
async function poll(name, f) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${name}`);
    await sleep(200);
  }
}

async function codeOf(promise) {
  try {
    await promise;
    return "";
  } catch (e) {
    return e.name;
  }
}

// Terraform's delete loop: DependencyViolation is retried, anything else fails.
async function retryDependency(name, f) {
  await poll(name, async () => {
    try {
      await f();
      return true;
    } catch (e) {
      if (e.name === "DependencyViolation") return false;
      throw e;
    }
  });
}

async function createVpc(a, cidr, name) {
  const { Vpc } = await a.ec2("CreateVpc", { CidrBlock: cidr, TagSpecifications: tags("vpc", name) });
  await poll("vpc available", async () =>
    (await a.ec2("DescribeVpcs", { VpcIds: [Vpc.VpcId] })).Vpcs[0].State === "available");
  await a.ec2("ModifyVpcAttribute", { VpcId: Vpc.VpcId, EnableDnsSupport: { Value: true } });
  await a.ec2("ModifyVpcAttribute", { VpcId: Vpc.VpcId, EnableDnsHostnames: { Value: true } });
  return Vpc.VpcId;
}

// aws_vpc's Read on every refresh.
async function readVpc(a, id) {
  const [vpc] = (await a.ec2("DescribeVpcs", { VpcIds: [id] })).Vpcs;
  const attr = async (Attribute) => (await a.ec2("DescribeVpcAttribute", { VpcId: id, Attribute }));
  const dns = (await attr("enableDnsSupport")).EnableDnsSupport.Value;
  const hostnames = (await attr("enableDnsHostnames")).EnableDnsHostnames.Value;
  const metrics = (await attr("enableNetworkAddressUsageMetrics")).EnableNetworkAddressUsageMetrics.Value;
  assert.equal(typeof metrics, "boolean");
  const acls = (await a.ec2("DescribeNetworkAcls", { Filters: [filter("default", "true"), filter("vpc-id", id)] })).NetworkAcls;
  assert.equal(acls.length, 1, "default ACL");
  assert.equal(acls[0].IsDefault, true);
  const rts = (await a.ec2("DescribeRouteTables", { Filters: [filter("association.main", "true"), filter("vpc-id", id)] })).RouteTables;
  assert.equal(rts.length, 1, "main route table");
  assert.equal(rts[0].Associations[0].Main, true);
  assert.deepEqual(rts[0].Routes.map((r) => [r.DestinationCidrBlock, r.GatewayId]), [[vpc.CidrBlock, "local"]]);
  const sgs = (await a.ec2("DescribeSecurityGroups", { Filters: [filter("group-name", "default"), filter("vpc-id", id)] })).SecurityGroups;
  assert.equal(sgs.length, 1, "default group");
  return { vpc, dns, hostnames, metrics, acl: acls[0], rt: rts[0], sg: sgs[0].GroupId };
}

// By zone id: zone names differ between accounts, and the consumer's endpoint
// subnets must share zones with the provider's NLB.
async function createSubnet(a, vpc, cidr, zoneId) {
  const { Subnet } = await a.ec2("CreateSubnet", { VpcId: vpc, CidrBlock: cidr, AvailabilityZoneId: zoneId,
    TagSpecifications: tags("subnet", cidr) });
  return Subnet.SubnetId;
}

async function readEndpoint(c, id) {
  const [e] = (await c.ec2("DescribeVpcEndpoints", { VpcEndpointIds: [id] })).VpcEndpoints;
  const pl = await c.ec2("DescribePrefixLists", { Filters: [filter("prefix-list-name", e.ServiceName)] });
  assert.deepEqual(pl.PrefixLists, []);
  const ips = [];
  for (const eni of e.NetworkInterfaceIds) {
    ips.push((await c.ec2("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eni] })).NetworkInterfaces[0].PrivateIpAddress);
  }
  return { e, ips: ips.sort() };
}

async function waitEndpoint(c, id, ...states) {
  return poll(`endpoint ${states}`, async () => {
    const [e] = (await c.ec2("DescribeVpcEndpoints", { VpcEndpointIds: [id] })).VpcEndpoints;
    assert.notEqual(e.State, "failed", JSON.stringify(e.LastError));
    return states.includes(e.State) && e;
  });
}

async function permissions(p, ServiceId) {
  const out = [];
  let NextToken;
  for (let i = 0; i < 20; i++) {
    const page = await p.ec2("DescribeVpcEndpointServicePermissions", { ServiceId, MaxResults: 5, NextToken });
    out.push(...page.AllowedPrincipals.map((x) => x.Principal));
    NextToken = page.NextToken;
    if (!NextToken) break;
  }
  return out.sort();
}

async function main() {
  const p = clients("LP_PROVIDER"), c = clients("LP_CONSUMER");
  const me = await p.sts();
  assert.match(me.Account, /^\d{12}$/);
  const consumerArn = `arn:aws:iam::${(await c.sts()).Account}:root`;
  const regions = (await p.ec2("DescribeRegions")).Regions;
  assert.deepEqual(regions.map((r) => r.RegionName), [region]);
  const attrs = (await p.ec2("DescribeAccountAttributes", { AttributeNames: ["supported-platforms"] })).AccountAttributes;
  assert.deepEqual(attrs[0].AttributeValues.map((v) => v.AttributeValue), ["VPC"]);
  step("provider start");

  const pz = (await p.ec2("DescribeAvailabilityZones")).AvailabilityZones;
  const pvpc = await createVpc(p, "10.0.0.0/16", "provider");
  const pread = await readVpc(p, pvpc);
  assert.deepEqual([pread.dns, pread.hostnames, pread.metrics], [true, true, false]);
  const zoneIds = [pz[0].ZoneId, pz[1].ZoneId];
  const psub = [await createSubnet(p, pvpc, "10.0.1.0/24", zoneIds[0]),
    await createSubnet(p, pvpc, "10.0.2.0/24", zoneIds[1])];

  // aws_route_table + aws_route_table_association, aws_network_acl + rules.
  const rt = (await p.ec2("CreateRouteTable", { VpcId: pvpc, TagSpecifications: tags("route-table", "tf") })).RouteTable;
  const assoc = await p.ec2("AssociateRouteTable", { RouteTableId: rt.RouteTableId, SubnetId: psub[0] });
  assert.equal(assoc.AssociationState.State, "associated");
  const acl = (await p.ec2("CreateNetworkAcl", { VpcId: pvpc, TagSpecifications: tags("network-acl", "tf") })).NetworkAcl;
  await p.ec2("CreateNetworkAclEntry", { NetworkAclId: acl.NetworkAclId, RuleNumber: 200, Protocol: "17",
    RuleAction: "allow", Egress: true, CidrBlock: "10.0.0.0/8", PortRange: { From: 53, To: 53 } });
  // ACLs are enforced and stateless: the load balancer's node in this subnet opens
  // connections to the instance in the other, and the answers come back.
  for (const Egress of [false, true]) {
    await p.ec2("CreateNetworkAclEntry", { NetworkAclId: acl.NetworkAclId, RuleNumber: 100, Protocol: "-1",
      RuleAction: "allow", Egress, CidrBlock: "10.0.0.0/16" });
  }
  const [cur] = (await p.ec2("DescribeNetworkAcls", { Filters: [filter("association.subnet-id", psub[1])] })).NetworkAcls;
  const old = cur.Associations.find((x) => x.SubnetId === psub[1]).NetworkAclAssociationId;
  const moved = await p.ec2("ReplaceNetworkAclAssociation", { AssociationId: old, NetworkAclId: acl.NetworkAclId });
  const [got] = (await p.ec2("DescribeNetworkAcls", { NetworkAclIds: [acl.NetworkAclId] })).NetworkAcls;
  assert.deepEqual(got.Entries.map((e) => [e.Egress, e.RuleNumber, e.PortRange?.From ?? null]),
    [[false, 100, null], [false, 32767, null], [true, 100, null], [true, 200, 53], [true, 32767, null]]);
  assert.deepEqual(got.Associations.map((x) => x.SubnetId), [psub[1]]);
  step("aws_vpc, aws_subnet, aws_route_table, aws_network_acl");

  // The provider's backend: an instance whose UserData starts its server.
  const image = await I.findImage(p);
  const web = await I.createWebGroup(p, pvpc);
  const iid = await I.createInstance(p, image, psub[0], web);
  await I.readInstance(p, iid);
  step("aws_security_group, aws_instance");

  // The provider's NLB, target group (ip), listener, endpoint service.
  const lb = (await p.elb("CreateLoadBalancer", { Name: "tf-nlb", Type: "network", Scheme: "internal", Subnets: psub })).LoadBalancers[0];
  await poll("lb active", async () =>
    (await p.elb("DescribeLoadBalancers", { LoadBalancerArns: [lb.LoadBalancerArn] })).LoadBalancers[0].State.Code === "active");
  await p.elb("DescribeLoadBalancerAttributes", { LoadBalancerArn: lb.LoadBalancerArn });
  // No TargetType: AWS's default, instance; the attachment's target id is the instance id.
  const tg = (await p.elb("CreateTargetGroup", { Name: "tf-tg", Protocol: "TCP", Port: 8080, VpcId: pvpc,
    HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2 })).TargetGroups[0];
  assert.equal(tg.TargetType, "instance");
  await p.elb("DescribeTargetGroupAttributes", { TargetGroupArn: tg.TargetGroupArn });
  await p.elb("RegisterTargets", { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: iid, Port: 8080 }] });
  const attached = (await p.elb("DescribeTargetHealth", { TargetGroupArn: tg.TargetGroupArn,
    Targets: [{ Id: iid, Port: 8080 }] })).TargetHealthDescriptions;
  assert.deepEqual(attached.map((h) => [h.Target.Id, h.Target.Port]), [[iid, 8080]]);
  const listener = (await p.elb("CreateListener", { LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP", Port: 443,
    DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroupArn }] })).Listeners[0];
  await p.elb("DescribeListenerAttributes", { ListenerArn: listener.ListenerArn });
  await p.elb("DescribeTags", { ResourceArns: [lb.LoadBalancerArn, tg.TargetGroupArn] });
  const svcIn = { AcceptanceRequired: true, NetworkLoadBalancerArns: [lb.LoadBalancerArn], ClientToken: "tf-svc",
    TagSpecifications: tags("vpc-endpoint-service", "tf") };
  const svc = (await p.ec2("CreateVpcEndpointServiceConfiguration", svcIn)).ServiceConfiguration;
  assert.equal((await p.ec2("CreateVpcEndpointServiceConfiguration", svcIn)).ServiceConfiguration.ServiceId, svc.ServiceId);
  await poll("service Available", async () => (await p.ec2("DescribeVpcEndpointServiceConfigurations",
    { ServiceIds: [svc.ServiceId] })).ServiceConfigurations[0].ServiceState === "Available");
  await p.ec2("ModifyVpcEndpointServicePermissions", { ServiceId: svc.ServiceId, AddAllowedPrincipals: [consumerArn] });
  assert.deepEqual(await permissions(p, svc.ServiceId), [consumerArn]);
  step("aws_lb, aws_lb_target_group, aws_lb_target_group_attachment, aws_lb_listener, aws_vpc_endpoint_service");

  // The consumer's VPC and endpoint, accepted by the provider.
  const cvpc = await createVpc(c, "10.1.0.0/16", "consumer");
  await readVpc(c, cvpc);
  const csub = [await createSubnet(c, cvpc, "10.1.1.0/24", zoneIds[0]),
    await createSubnet(c, cvpc, "10.1.2.0/24", zoneIds[1])];
  const seen = (await c.ec2("DescribeVpcEndpointServices", { Filters: [filter("service-type", "Interface"),
    filter("service-name", svc.ServiceName)] })).ServiceDetails;
  assert.equal(seen.length, 1);
  const epIn = { VpcId: cvpc, ServiceName: svc.ServiceName, VpcEndpointType: "Interface", SubnetIds: [csub[0]],
    PrivateDnsEnabled: false, ClientToken: "tf-ep", TagSpecifications: tags("vpc-endpoint", "tf") };
  const ep = (await c.ec2("CreateVpcEndpoint", epIn)).VpcEndpoint;
  assert.equal((await c.ec2("CreateVpcEndpoint", epIn)).VpcEndpoint.VpcEndpointId, ep.VpcEndpointId);
  await waitEndpoint(c, ep.VpcEndpointId, "pendingAcceptance", "available");
  await readEndpoint(c, ep.VpcEndpointId);
  const acc = await p.ec2("AcceptVpcEndpointConnections", { ServiceId: svc.ServiceId, VpcEndpointIds: [ep.VpcEndpointId] });
  assert.deepEqual(acc.Unsuccessful, []);
  await waitEndpoint(c, ep.VpcEndpointId, "available");
  const { ips } = await readEndpoint(c, ep.VpcEndpointId);
  assert.equal(ips.length, 1);
  assert.ok(ips[0].startsWith("10.1.1."), ips[0]);
  const workload = await I.createWorkload(c, csub[0]);
  step("aws_vpc_endpoint accepted by aws_vpc_endpoint_connection_accepter");

  // Bytes: consumer workload -> endpoint -> NLB -> the instance's server.
  await I.waitHealthy(p, tg.TargetGroupArn, iid);
  assert.equal(await I.fetchThrough(workload, ips[0]), `web ${iid}`);
  step("bytes flow from a consumer workload through the endpoint to the instance");

  // Modify.
  const sg = await c.ec2("CreateSecurityGroup", { GroupName: "tf-ep-sg", Description: "endpoint", VpcId: cvpc });
  await c.ec2("ModifyVpcEndpoint", { VpcEndpointId: ep.VpcEndpointId, AddSecurityGroupIds: [sg.GroupId],
    AddSubnetIds: [csub[1]] });
  await p.elb("ModifyTargetGroupAttributes", { TargetGroupArn: tg.TargetGroupArn,
    Attributes: [{ Key: "proxy_protocol_v2.enabled", Value: "true" }] });
  await p.ec2("CreateTags", { Resources: [pvpc, rt.RouteTableId, iid], Tags: [{ Key: "env", Value: "test" }] });
  // credit_specification changed in place, as Terraform updates it.
  const mod = await p.ec2("ModifyInstanceCreditSpecification", {
    InstanceCreditSpecifications: [{ InstanceId: iid, CpuCredits: "standard" }] });
  assert.deepEqual(mod.SuccessfulInstanceCreditSpecifications.map((x) => x.InstanceId), [iid]);
  assert.deepEqual(mod.UnsuccessfulInstanceCreditSpecifications ?? [], []);
  await waitEndpoint(c, ep.VpcEndpointId, "available");
  const after = (await readEndpoint(c, ep.VpcEndpointId)).ips;
  assert.equal(after.length, 2);
  // Through the new subnet's interface too (PROXY v2 now precedes the bytes; the server writes first).
  assert.equal(await I.fetchThrough(workload, after.find((ip) => ip.startsWith("10.1.2."))), `web ${iid}`);
  step("modify");

  // A second `plan`: every resource read again as its Read does; the reads agree
  // with each other and with what was applied.
  const applied = { image, subnet: psub[0], web, instance: iid, lb: lb.LoadBalancerArn, tg: tg.TargetGroupArn,
    listener: listener.ListenerArn, service: svc.ServiceId, endpoint: ep.VpcEndpointId, providerSubnets: psub,
    consumerSubnets: csub, endpointGroup: sg.GroupId, consumerArn, workload, acceptanceRequired: true };
  const pass = async () => JSON.stringify([await readVpc(p, pvpc), await readVpc(c, cvpc),
    await I.readPlan(p, c, applied, readEndpoint, permissions)]);
  const first = await pass();
  assert.equal(await pass(), first);
  assert.ok(first.includes("tf-ep-sg") && first.includes('"env"'), "the modification is read back");
  assert.deepEqual(I.diff(JSON.parse(first).at(-1), applied), [], "a second plan would change these");
  step("second plan finds nothing to change");

  // Destroy in reverse order.
  const del = await c.ec2("DeleteVpcEndpoints", { VpcEndpointIds: [ep.VpcEndpointId] });
  assert.deepEqual(del.Unsuccessful, []);
  await poll("endpoint deleted", async () => {
    try {
      const r = await c.ec2("DescribeVpcEndpoints", { VpcEndpointIds: [ep.VpcEndpointId] });
      return r.VpcEndpoints.length === 0 || r.VpcEndpoints[0].State === "deleted";
    } catch (e) {
      if (e.name === "InvalidVpcEndpointId.NotFound") return true;
      throw e;
    }
  });
  await c.ec2("DeleteNetworkInterface", { NetworkInterfaceId: workload });
  await retryDependency("DeleteSecurityGroup", () => c.ec2("DeleteSecurityGroup", { GroupId: sg.GroupId }));
  for (const s of csub) await retryDependency("DeleteSubnet", () => c.ec2("DeleteSubnet", { SubnetId: s }));
  await retryDependency("DeleteVpc consumer", () => c.ec2("DeleteVpc", { VpcId: cvpc }));
  assert.deepEqual((await p.ec2("DeleteVpcEndpointServiceConfigurations", { ServiceIds: [svc.ServiceId] })).Unsuccessful, []);
  await p.elb("DeleteListener", { ListenerArn: listener.ListenerArn });
  await p.elb("DeregisterTargets", { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: iid, Port: 8080 }] });
  await p.elb("DeleteTargetGroup", { TargetGroupArn: tg.TargetGroupArn });
  await p.elb("DeleteLoadBalancer", { LoadBalancerArn: lb.LoadBalancerArn });
  // aws_instance's Delete: TerminateInstances, then DescribeInstances until terminated.
  const term = (await p.ec2("TerminateInstances", { InstanceIds: [iid] })).TerminatingInstances;
  assert.deepEqual(term.map((t) => t.CurrentState.Name), ["shutting-down"]);
  await I.waitInstance(p, iid, "terminated");
  await retryDependency("DeleteSecurityGroup tf-web", () => p.ec2("DeleteSecurityGroup", { GroupId: web }));
  await p.ec2("DisassociateRouteTable", { AssociationId: assoc.AssociationId });
  await p.ec2("ReplaceNetworkAclAssociation", { AssociationId: moved.NewAssociationId, NetworkAclId: cur.NetworkAclId });
  for (const s of psub) await retryDependency("DeleteSubnet", () => p.ec2("DeleteSubnet", { SubnetId: s }));
  // The route table and the ACL are still inside: DeleteVpc refuses.
  assert.equal(await codeOf(p.ec2("DeleteVpc", { VpcId: pvpc })), "DependencyViolation");
  await p.ec2("DeleteRouteTable", { RouteTableId: rt.RouteTableId });
  await p.ec2("DeleteNetworkAcl", { NetworkAclId: acl.NetworkAclId });
  await retryDependency("DeleteVpc provider", () => p.ec2("DeleteVpc", { VpcId: pvpc }));
  step("destroy");

  for (const a of [p, c]) {
    assert.deepEqual((await a.ec2("DescribeVpcs")).Vpcs, []);
    assert.deepEqual((await a.ec2("DescribeRouteTables")).RouteTables, []);
    assert.deepEqual((await a.ec2("DescribeNetworkAcls")).NetworkAcls, []);
    assert.deepEqual((await a.elb("DescribeLoadBalancers")).LoadBalancers, []);
    // A terminated instance stays described for a while, as on AWS.
    assert.deepEqual((await a.ec2("DescribeInstances", { Filters: [filter("instance-state-name", "pending", "running",
      "stopping", "stopped", "shutting-down")] })).Reservations, []);
    assert.deepEqual((await a.ec2("DescribeNetworkInterfaces")).NetworkInterfaces, []);
  }
  step("nothing left");
  console.log("ALL OK");
}

main().catch((e) => {
  console.error("FAIL", e.name, e.message, e.$metadata ? JSON.stringify(e.$metadata) : "");
  process.exit(1);
});
