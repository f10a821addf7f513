// aws_instance and what puts it behind the endpoint (used by terraform_flow.mjs):
// the instance whose UserData starts the provider's server, the consumer workload
// that reaches it through the endpoint, and the reads of a second `plan`.
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";

// The instance's UserData (a shell script, base64 on the wire as on AWS): a TCP
// server on 8080 that answers each connection with "web <instance id>", then reads
// what the client sent (a PROXY v2 header once the target group turns it on) until
// it closes: closing with unread bytes would reset the connection instead.
export const userData = `#!/bin/sh
nohup /usr/bin/python3 -c '
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(16)
while True:
    c, _ = s.accept()
    try:
        c.sendall(("web " + os.environ["INSTANCE_ID"] + "\\n").encode())
        c.shutdown(socket.SHUT_WR)
        c.settimeout(2)
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
' >/dev/null 2>&1 &
echo "user-data done"
`;

// A t-type: for those Terraform's read also calls DescribeInstanceCreditSpecifications.
export const instanceType = "t3.micro";
// root_block_device's volume_size.
const rootGiB = 10;

// Connects to HOST PORT from inside a workload and prints the first line.
const fetchPy = `import socket, sys, time
for i in range(50):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
        break
    except OSError:
        time.sleep(0.1)
print(s.makefile().readline().strip())
`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls f every 200 ms until it returns a truthy value, for at most `ms`.
export async function poll(name, f, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${name}`);
    await sleep(200);
  }
}

// data "aws_ami": the newest Debian 12 image of the Debian account.
export async function findImage(p) {
  const { Images } = await p.ec2("DescribeImages", { Owners: ["136693071363"],
    Filters: [{ Name: "name", Values: ["debian-12-amd64-*"] }, { Name: "architecture", Values: ["x86_64"] }] });
  assert.ok(Images.length > 0, "no Debian 12 image");
  return Images.sort((a, b) => (a.CreationDate < b.CreationDate ? 1 : -1))[0].ImageId;
}

// aws_security_group for the instance: the load balancer's nodes (addresses in the
// provider VPC) open the health checks and the forwarded connections.
export async function createWebGroup(p, vpc) {
  const { GroupId } = await p.ec2("CreateSecurityGroup", { GroupName: "tf-web", Description: "web from the NLB", VpcId: vpc });
  const { SecurityGroupRules: [made] } = await p.ec2("AuthorizeSecurityGroupIngress", { GroupId, IpPermissions: [{
    IpProtocol: "tcp", FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: "10.0.0.0/16" }] }] });
  // aws_security_group_rule's Read: the group's rules, to find this one's sgr- id.
  const { SecurityGroupRules: rules } = await p.ec2("DescribeSecurityGroupRules",
    { Filters: [{ Name: "group-id", Values: [GroupId] }] });
  const found = rules.filter((r) => !r.IsEgress && r.IpProtocol === "tcp" && r.FromPort === 8080 && r.ToPort === 8080 &&
    r.CidrIpv4 === "10.0.0.0/16");
  assert.deepEqual(found.map((r) => r.SecurityGroupRuleId), [made.SecurityGroupRuleId]);
  return GroupId;
}

export async function waitInstance(p, id, state) {
  await poll(`instance ${state}`, async () =>
    (await p.ec2("DescribeInstances", { InstanceIds: [id] })).Reservations[0].Instances[0].State.Name === state);
}

// aws_instance's Create: RunInstances, then DescribeInstances until running.
export async function createInstance(p, image, subnet, group) {
  const r = await p.ec2("RunInstances", { ImageId: image, InstanceType: instanceType, MinCount: 1, MaxCount: 1,
    SubnetId: subnet, SecurityGroupIds: [group], UserData: Buffer.from(userData).toString("base64"),
    TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "tf-web" }] }],
    // root_block_device and credit_specification as Terraform sends them.
    BlockDeviceMappings: [{ DeviceName: "/dev/xvda",
      Ebs: { VolumeSize: rootGiB, VolumeType: "gp3", DeleteOnTermination: true } }],
    CreditSpecification: { CpuCredits: "unlimited" } });
  assert.equal(r.Instances.length, 1);
  assert.deepEqual(r.Instances[0].State, { Code: 0, Name: "pending" });
  await waitInstance(p, r.Instances[0].InstanceId, "running");
  return r.Instances[0].InstanceId;
}

const isBool = (v) => typeof v === "boolean";
const isNum = (v) => typeof v === "number";
const isStr = (v) => typeof v === "string";

// aws_instance's Read: every field it reads is present with AWS's type, and what it
// reads besides DescribeInstances (the root volume, the type, a t-type's credit option).
export async function readInstance(p, id) {
  const { Reservations } = await p.ec2("DescribeInstances", { InstanceIds: [id] });
  assert.equal(Reservations.length, 1);
  const [i] = Reservations[0].Instances;
  const typed = {
    "Placement.AvailabilityZone": isStr(i.Placement?.AvailabilityZone), "Placement.Tenancy": isStr(i.Placement?.Tenancy),
    "Monitoring.State": isStr(i.Monitoring?.State), "CpuOptions.CoreCount": isNum(i.CpuOptions?.CoreCount),
    "CpuOptions.ThreadsPerCore": isNum(i.CpuOptions?.ThreadsPerCore),
    "MetadataOptions.HttpEndpoint": isStr(i.MetadataOptions?.HttpEndpoint),
    "MetadataOptions.HttpTokens": isStr(i.MetadataOptions?.HttpTokens),
    "MetadataOptions.HttpPutResponseHopLimit": isNum(i.MetadataOptions?.HttpPutResponseHopLimit),
    "MetadataOptions.InstanceMetadataTags": isStr(i.MetadataOptions?.InstanceMetadataTags),
    "EnclaveOptions.Enabled": isBool(i.EnclaveOptions?.Enabled),
    "HibernationOptions.Configured": isBool(i.HibernationOptions?.Configured),
    "MaintenanceOptions.AutoRecovery": isStr(i.MaintenanceOptions?.AutoRecovery),
    "PrivateDnsNameOptions.HostnameType": isStr(i.PrivateDnsNameOptions?.HostnameType),
    "CapacityReservationSpecification": isStr(i.CapacityReservationSpecification?.CapacityReservationPreference),
    SourceDestCheck: isBool(i.SourceDestCheck), EbsOptimized: isBool(i.EbsOptimized),
    RootDeviceName: isStr(i.RootDeviceName), PrivateDnsName: isStr(i.PrivateDnsName),
    PrivateIpAddress: isStr(i.PrivateIpAddress), LaunchTime: i.LaunchTime instanceof Date,
    "NetworkInterfaces[0].Attachment.DeviceIndex": i.NetworkInterfaces?.[0]?.Attachment?.DeviceIndex === 0,
    "NetworkInterfaces[0].Attachment.DeleteOnTermination": isBool(i.NetworkInterfaces?.[0]?.Attachment?.DeleteOnTermination),
  };
  assert.deepEqual(Object.keys(typed).filter((k) => !typed[k]), [], "fields Terraform reads");
  const attr = async (Attribute) => p.ec2("DescribeInstanceAttribute", { InstanceId: id, Attribute });
  const term = (await attr("disableApiTermination")).DisableApiTermination.Value;
  const stop = (await attr("disableApiStop")).DisableApiStop.Value;
  const shutdown = (await attr("instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior.Value;
  const ud = (await attr("userData")).UserData.Value;
  assert.ok(isBool(term) && isBool(stop) && isStr(shutdown) && isStr(ud), "instance attributes");
  const root = i.BlockDeviceMappings[0];
  assert.equal(root.DeviceName, i.RootDeviceName);
  const [vol] = (await p.ec2("DescribeVolumes", { VolumeIds: [root.Ebs.VolumeId] })).Volumes;
  assert.ok(vol.Attachments[0].InstanceId === id && isNum(vol.Size) && isBool(vol.Encrypted), "root volume");
  const [type] = (await p.ec2("DescribeInstanceTypes", { InstanceTypes: [i.InstanceType] })).InstanceTypes;
  let credits = null;
  if (type.BurstablePerformanceSupported) {
    const specs = (await p.ec2("DescribeInstanceCreditSpecifications", { InstanceIds: [id] }))
      .InstanceCreditSpecifications;
    assert.deepEqual(specs.map((c) => c.InstanceId), [id], "credit specification");
    credits = specs[0].CpuCredits;
  }
  return { i, term, stop, shutdown, userData: Buffer.from(ud, "base64").toString(), credits,
    volume: `${vol.Size}/${vol.VolumeType}/${vol.Encrypted}` };
}

// A consumer workload (aws_network_interface): what `linkplane exec` runs in.
export async function createWorkload(c, subnet) {
  return (await c.ec2("CreateNetworkInterface", { SubnetId: subnet, Description: "consumer workload" }))
    .NetworkInterface.NetworkInterfaceId;
}

// Connects from the workload to ADDRESS:443 until the instance's server answers (30 s).
export async function fetchThrough(workload, address) {
  let got = "";
  await poll(`bytes from ${workload} to ${address}:443`, async () => {
    try {
      got = execFileSync(process.env.LP_LINKPLANE, ["exec", "--eni", workload, "--", "/usr/bin/python3", "-c", fetchPy,
        address, "443"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      got = "";
    }
    return got.startsWith("web ");
  });
  return got;
}

export async function waitHealthy(p, TargetGroupArn, instance) {
  await poll("target healthy", async () => {
    const [h, ...rest] = (await p.elb("DescribeTargetHealth", { TargetGroupArn })).TargetHealthDescriptions;
    assert.equal(rest.length, 0);
    assert.equal(h.Target.Id, instance);
    return h.TargetHealth.State === "healthy";
  }, 60000);
}

// The reads of a `plan` (each resource's Read) for what readVpc does not cover.
export async function readPlan(p, c, w, readEndpoint, permissions) {
  const [lb] = (await p.elb("DescribeLoadBalancers", { LoadBalancerArns: [w.lb] })).LoadBalancers;
  const [tg] = (await p.elb("DescribeTargetGroups", { TargetGroupArns: [w.tg] })).TargetGroups;
  const [listener] = (await p.elb("DescribeListeners", { ListenerArns: [w.listener] })).Listeners;
  const [service] = (await p.ec2("DescribeVpcEndpointServiceConfigurations", { ServiceIds: [w.service] })).ServiceConfigurations;
  const { e, ips } = await readEndpoint(c, w.endpoint);
  return {
    instance: await readInstance(p, w.instance), lb,
    lbAttrs: (await p.elb("DescribeLoadBalancerAttributes", { LoadBalancerArn: w.lb })).Attributes,
    tg, tgAttrs: (await p.elb("DescribeTargetGroupAttributes", { TargetGroupArn: w.tg })).Attributes, listener,
    // aws_lb_listener's Read (provider 5.7x on) fails without DescribeListenerAttributes.
    listenerAttrs: (await p.elb("DescribeListenerAttributes", { ListenerArn: w.listener })).Attributes,
    tags: (await p.elb("DescribeTags", { ResourceArns: [w.lb, w.tg, w.listener] })).TagDescriptions,
    // aws_lb_target_group_attachment's Read: the one target, by instance id and port.
    attachment: (await p.elb("DescribeTargetHealth", { TargetGroupArn: w.tg,
      Targets: [{ Id: w.instance, Port: 8080 }] })).TargetHealthDescriptions,
    service, principals: await permissions(p, w.service), endpoint: e, ips,
    workload: (await c.ec2("DescribeNetworkInterfaces", { NetworkInterfaceIds: [w.workload] })).NetworkInterfaces[0],
  };
}

// Where the reads differ from what was applied (what a plan would change).
export function diff(r, w) {
  const d = [];
  const want = (what, ok, got) => { if (!ok) d.push(`${what}: read ${JSON.stringify(got)}`); };
  const i = r.instance.i;
  const sorted = (v) => [...v].sort();
  want("instance ami", i.ImageId === w.image, i.ImageId);
  want("instance type", i.InstanceType === instanceType, i.InstanceType);
  want("instance subnet", i.SubnetId === w.subnet, i.SubnetId);
  want("instance state", i.State.Name === "running", i.State);
  want("vpc_security_group_ids", JSON.stringify(i.SecurityGroups.map((g) => g.GroupId)) === JSON.stringify([w.web]),
    i.SecurityGroups);
  want("instance tags", i.Tags.some((t) => t.Key === "Name" && t.Value === "tf-web"), i.Tags);
  want("user_data", r.instance.userData === userData, r.instance.userData);
  want("disable_api_termination", r.instance.term === false && r.instance.stop === false, r.instance);
  want("instance_initiated_shutdown_behavior", r.instance.shutdown === "stop", r.instance.shutdown);
  want("credit_specification", r.instance.credits === "standard", r.instance.credits);
  want("root_block_device", r.instance.volume === `${rootGiB}/gp3/false`, r.instance.volume);
  want("lb", r.lb.Type === "network" && r.lb.Scheme === "internal" && r.lb.LoadBalancerName === "tf-nlb", r.lb);
  want("lb subnets", JSON.stringify(sorted(r.lb.AvailabilityZones.map((z) => z.SubnetId))) ===
    JSON.stringify(sorted(w.providerSubnets)), r.lb.AvailabilityZones);
  want("target group", r.tg.TargetType === "instance" && r.tg.Port === 8080 && r.tg.Protocol === "TCP" &&
    r.tg.HealthCheckIntervalSeconds === 5 && r.tg.HealthyThresholdCount === 2, r.tg);
  want("listener", r.listener.Port === 443 && r.listener.Protocol === "TCP" &&
    r.listener.DefaultActions.length === 1 && r.listener.DefaultActions[0].TargetGroupArn === w.tg, r.listener);
  want("tcp_idle_timeout_seconds", JSON.stringify(r.listenerAttrs) ===
    JSON.stringify([{ Key: "tcp.idle_timeout.seconds", Value: "350" }]), r.listenerAttrs);
  want("attachment", r.attachment.length === 1 && r.attachment[0].Target.Id === w.instance &&
    r.attachment[0].Target.Port === 8080 && r.attachment[0].TargetHealth.State === "healthy", r.attachment);
  want("lb tags", r.tags.length === 3, r.tags);
  want("proxy_protocol_v2", r.tgAttrs.some((a) => a.Key === "proxy_protocol_v2.enabled" && a.Value === "true"), r.tgAttrs);
  want("service", r.service.AcceptanceRequired === w.acceptanceRequired && r.service.ServiceState === "Available" &&
    JSON.stringify(r.service.NetworkLoadBalancerArns) === JSON.stringify([w.lb]), r.service);
  want("allowed principals", JSON.stringify(r.principals) === JSON.stringify([w.consumerArn]), r.principals);
  want("endpoint", r.endpoint.State === "available" && r.endpoint.PrivateDnsEnabled === false &&
    r.endpoint.VpcEndpointType === "Interface", r.endpoint);
  want("endpoint subnet_ids", JSON.stringify(sorted(r.endpoint.SubnetIds)) === JSON.stringify(sorted(w.consumerSubnets)),
    r.endpoint.SubnetIds);
  want("endpoint security_group_ids", r.endpoint.Groups.length === 2 &&
    r.endpoint.Groups.some((g) => g.GroupId === w.endpointGroup), r.endpoint.Groups);
  want("endpoint interfaces", r.ips.length === 2, r.ips);
  want("workload", r.workload.SubnetId === w.consumerSubnets[0] && r.workload.Description === "consumer workload",
    r.workload);
  return d;
}
