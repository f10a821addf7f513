"""Terraform's call sequences against linkplane with boto3 (Debian's python3-boto3),
the same steps as tests/sdk/go and tests/sdk/js: provider start; aws_vpc with the
reads of every refresh; subnets, a route table and a network ACL; an instance whose
UserData starts a TCP server behind an NLB (a target group of the default type,
instance, the target registered by instance id) published as an endpoint service; a
consumer VPC whose endpoint the provider accepts; bytes from a consumer workload
through the endpoint to the instance; modify; a second plan that finds nothing to
change; destroy in reverse order. Run by tests/integration/test_sdk_boto3.py; exits
non-zero, naming the failed step, when a call fails or an answer is not what
Terraform needs.

Environment: LP_URL, LP_REGION, LP_LINKPLANE, LP_PROVIDER_KEY/SECRET, LP_CONSUMER_KEY/SECRET."""

import base64
import json
import os
import subprocess
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENV = os.environ
REGION = ENV["LP_REGION"]

# The same UserData as the Go and JS programs: a TCP server on 8080 answering each
# connection with "web <instance id>", then reading until the client closes.
USER_DATA = """#!/bin/sh
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
"""
# A t-type: for those Terraform's read also calls DescribeInstanceCreditSpecifications.
INSTANCE_TYPE = "t3.micro"
ROOT_GIB = 10

FETCH = """import socket, sys, time
for i in range(50):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
        break
    except OSError:
        time.sleep(0.1)
print(s.makefile().readline().strip())
"""


class Account:
    def __init__(self, prefix):
        kw = dict(endpoint_url=ENV["LP_URL"], region_name=REGION, aws_access_key_id=ENV[prefix + "_KEY"],
                  aws_secret_access_key=ENV[prefix + "_SECRET"], config=Config(retries={"max_attempts": 1}))
        self.ec2, self.elb, self.sts = (boto3.client(s, **kw) for s in ("ec2", "elbv2", "sts"))


def step(name):
    print("ok", name, flush=True)


def check(what, ok, got=""):
    if not ok:
        raise AssertionError(f"{what}: {got}")


def poll(name, f, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        v = f()
        if v:
            return v
        check(name, time.monotonic() < deadline, "timed out")
        time.sleep(0.2)


def code(call, **kw):
    try:
        call(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return ""


def retry_dependency(name, call, **kw):
    """Terraform's delete loop: DependencyViolation is retried, anything else fails."""
    def attempt():
        c = code(call, **kw)
        check(name, c in ("", "DependencyViolation"), c)
        return c == ""
    poll(name, attempt)


def f(name, *values):
    return {"Name": name, "Values": list(values)}


def tags(kind, name):
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def create_vpc(a, cidr, name):
    vpc = a.ec2.create_vpc(CidrBlock=cidr, TagSpecifications=tags("vpc", name))["Vpc"]["VpcId"]
    poll("vpc available", lambda: a.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["State"] == "available")
    a.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    a.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    return vpc


def read_vpc(a, vpc):
    """aws_vpc's Read on every refresh."""
    v = a.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
    attrs = [a.ec2.describe_vpc_attribute(VpcId=vpc, Attribute=n)[k]["Value"] for n, k in (
        ("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames"),
        ("enableNetworkAddressUsageMetrics", "EnableNetworkAddressUsageMetrics"))]
    check("vpc attributes are booleans", all(isinstance(x, bool) for x in attrs), attrs)
    acls = a.ec2.describe_network_acls(Filters=[f("default", "true"), f("vpc-id", vpc)])["NetworkAcls"]
    check("default ACL", len(acls) == 1 and acls[0]["IsDefault"] is True, acls)
    rts = a.ec2.describe_route_tables(Filters=[f("association.main", "true"), f("vpc-id", vpc)])["RouteTables"]
    check("main route table", len(rts) == 1 and rts[0]["Associations"][0]["Main"] is True, rts)
    sgs = a.ec2.describe_security_groups(Filters=[f("group-name", "default"), f("vpc-id", vpc)])["SecurityGroups"]
    check("default group", len(sgs) == 1, sgs)
    return [v, attrs, acls, rts, sgs]


def create_subnet(a, vpc, cidr, zone_id):
    """By zone id: zone names differ between accounts."""
    return a.ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZoneId=zone_id,
                               TagSpecifications=tags("subnet", cidr))["Subnet"]["SubnetId"]


def instance_of(a, iid):
    r = a.ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    check("DescribeInstances", len(r) == 1 and len(r[0]["Instances"]) == 1, r)
    return r[0]["Instances"][0]


def wait_instance(a, iid, state):
    poll(f"instance {state}", lambda: instance_of(a, iid)["State"]["Name"] == state)


def read_instance(a, iid):
    """aws_instance's Read: every field it reads is present with AWS's type, and what
    it reads besides DescribeInstances (the root volume, the type, the credit option
    of a t-type)."""
    i = instance_of(a, iid)
    typed = {
        ("Placement", "AvailabilityZone"): str, ("Placement", "Tenancy"): str, ("Monitoring", "State"): str,
        ("CpuOptions", "CoreCount"): int, ("CpuOptions", "ThreadsPerCore"): int,
        ("MetadataOptions", "HttpEndpoint"): str,
        ("MetadataOptions", "HttpTokens"): str, ("MetadataOptions", "HttpPutResponseHopLimit"): int,
        ("MetadataOptions", "InstanceMetadataTags"): str, ("EnclaveOptions", "Enabled"): bool,
        ("HibernationOptions", "Configured"): bool, ("MaintenanceOptions", "AutoRecovery"): str,
        ("PrivateDnsNameOptions", "HostnameType"): str,
        ("CapacityReservationSpecification", "CapacityReservationPreference"): str,
        ("SourceDestCheck",): bool, ("EbsOptimized",): bool, ("RootDeviceName",): str, ("PrivateDnsName",): str,
        ("PrivateIpAddress",): str,
    }
    missing = []
    for path, kind in typed.items():
        v = i
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if not isinstance(v, kind):
            missing.append(".".join(path))
    att = i["NetworkInterfaces"][0]["Attachment"]
    check("fields Terraform reads", not missing and att["DeviceIndex"] == 0 and
          isinstance(att["DeleteOnTermination"], bool), missing)
    attr = {n: a.ec2.describe_instance_attribute(InstanceId=iid, Attribute=n) for n in (
        "disableApiTermination", "disableApiStop", "instanceInitiatedShutdownBehavior", "userData")}
    root = i["BlockDeviceMappings"][0]
    vol = a.ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    check("root volume", root["DeviceName"] == i["RootDeviceName"] and vol["Attachments"][0]["InstanceId"] == iid
          and isinstance(vol["Size"], int) and isinstance(vol["Encrypted"], bool), vol)
    itype = a.ec2.describe_instance_types(InstanceTypes=[i["InstanceType"]])["InstanceTypes"][0]
    credits = None
    if itype["BurstablePerformanceSupported"]:
        specs = a.ec2.describe_instance_credit_specifications(InstanceIds=[iid])["InstanceCreditSpecifications"]
        check("credit specification", [c["InstanceId"] for c in specs] == [iid], specs)
        credits = specs[0]["CpuCredits"]
    return {"instance": i, "credits": credits, "volume": (vol["Size"], vol["VolumeType"], vol["Encrypted"]),
            "term": attr["disableApiTermination"]["DisableApiTermination"]["Value"],
            "stop": attr["disableApiStop"]["DisableApiStop"]["Value"],
            "shutdown": attr["instanceInitiatedShutdownBehavior"]["InstanceInitiatedShutdownBehavior"]["Value"],
            "user_data": base64.b64decode(attr["userData"]["UserData"]["Value"]).decode()}


def read_endpoint(c, ep):
    """aws_vpc_endpoint's Read."""
    e = c.ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"][0]
    pl = c.ec2.describe_prefix_lists(Filters=[f("prefix-list-name", e["ServiceName"])])["PrefixLists"]
    check("no prefix list for an interface service", pl == [], pl)
    ips = sorted(c.ec2.describe_network_interfaces(NetworkInterfaceIds=[n])["NetworkInterfaces"][0]["PrivateIpAddress"]
                 for n in e["NetworkInterfaceIds"])
    return e, ips


def wait_endpoint(c, ep, *states):
    def state():
        e = c.ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"][0]
        check("endpoint not failed", e["State"] != "failed", e.get("LastError"))
        return e["State"] in states
    poll(f"endpoint {states}", state)


def permissions(p, service):
    out, token = [], None
    for _ in range(20):
        page = p.ec2.describe_vpc_endpoint_service_permissions(ServiceId=service, MaxResults=5,
                                                               **({"NextToken": token} if token else {}))
        out += [x["Principal"] for x in page["AllowedPrincipals"]]
        token = page.get("NextToken")
        if not token:
            break
    return sorted(out)


def fetch_through(workload, address):
    """Connects from the consumer workload to ADDRESS:443 until the instance's server
    answers (30 s); returns its line."""
    got = [""]

    def attempt():
        r = subprocess.run([ENV["LP_LINKPLANE"], "exec", "--eni", workload, "--", "/usr/bin/python3", "-c", FETCH,
                            address, "443"], capture_output=True, text=True, timeout=30)
        got[0] = r.stdout.strip()
        return got[0].startswith("web ")
    poll(f"bytes from {workload} to {address}:443", attempt)
    return got[0]


def read_plan(p, c, w):
    """The reads of a `plan` (each resource's Read) beyond the VPCs'."""
    e, ips = read_endpoint(c, w["endpoint"])
    return {
        "instance": read_instance(p, w["instance"]),
        "lb": p.elb.describe_load_balancers(LoadBalancerArns=[w["lb"]])["LoadBalancers"][0],
        "lb_attrs": p.elb.describe_load_balancer_attributes(LoadBalancerArn=w["lb"])["Attributes"],
        "tg": p.elb.describe_target_groups(TargetGroupArns=[w["tg"]])["TargetGroups"][0],
        "tg_attrs": p.elb.describe_target_group_attributes(TargetGroupArn=w["tg"])["Attributes"],
        "listener": p.elb.describe_listeners(ListenerArns=[w["listener"]])["Listeners"][0],
        "tags": p.elb.describe_tags(ResourceArns=[w["lb"], w["tg"], w["listener"]])["TagDescriptions"],
        # aws_lb_target_group_attachment's Read: the one target, by instance id and port.
        "attachment": p.elb.describe_target_health(TargetGroupArn=w["tg"], Targets=[
            {"Id": w["instance"], "Port": 8080}])["TargetHealthDescriptions"],
        "service": p.ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=[w["service"]])["ServiceConfigurations"][0],
        "principals": permissions(p, w["service"]), "endpoint": e, "ips": ips,
        "workload": c.ec2.describe_network_interfaces(NetworkInterfaceIds=[w["workload"]])["NetworkInterfaces"][0],
    }


def diff(r, w):
    """Where the reads differ from what was applied (what a plan would change)."""
    d = []

    def want(what, ok, got):
        if not ok:
            d.append(f"{what}: read {got!r}")
    i = r["instance"]["instance"]
    want("instance ami", i["ImageId"] == w["image"], i["ImageId"])
    want("instance type", i["InstanceType"] == INSTANCE_TYPE, i["InstanceType"])
    want("instance subnet", i["SubnetId"] == w["subnet"], i["SubnetId"])
    want("instance state", i["State"]["Name"] == "running", i["State"])
    want("vpc_security_group_ids", [g["GroupId"] for g in i["SecurityGroups"]] == [w["web"]], i["SecurityGroups"])
    want("instance tags", {"Key": "Name", "Value": "tf-web"} in i["Tags"], i["Tags"])
    want("user_data", r["instance"]["user_data"] == USER_DATA, r["instance"]["user_data"])
    want("disable_api_termination", r["instance"]["term"] is False and r["instance"]["stop"] is False, r["instance"])
    want("instance_initiated_shutdown_behavior", r["instance"]["shutdown"] == "stop", r["instance"]["shutdown"])
    want("credit_specification", r["instance"]["credits"] == "standard", r["instance"]["credits"])
    want("root_block_device", r["instance"]["volume"] == [ROOT_GIB, "gp3", False], r["instance"]["volume"])
    lb = r["lb"]
    want("lb", (lb["Type"], lb["Scheme"], lb["LoadBalancerName"]) == ("network", "internal", "tf-nlb"), lb)
    want("lb subnets", sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(w["provider_subnets"]),
         lb["AvailabilityZones"])
    tg = r["tg"]
    want("target group", (tg["TargetType"], tg["Port"], tg["Protocol"], tg["HealthCheckIntervalSeconds"],
                          tg["HealthyThresholdCount"]) == ("instance", 8080, "TCP", 5, 2), tg)
    ln = r["listener"]
    want("listener", (ln["Port"], ln["Protocol"], [a.get("TargetGroupArn") for a in ln["DefaultActions"]]) ==
         (443, "TCP", [w["tg"]]), ln)
    at = r["attachment"]
    want("attachment", [(h["Target"]["Id"], h["Target"]["Port"], h["TargetHealth"]["State"]) for h in at] ==
         [(w["instance"], 8080, "healthy")], at)
    want("lb tags", len(r["tags"]) == 3, r["tags"])
    want("deregistration_delay", {"Key": "deregistration_delay.timeout_seconds", "Value": "60"} in r["tg_attrs"],
         r["tg_attrs"])
    s = r["service"]
    want("service", s["AcceptanceRequired"] is False and s["ServiceState"] == "Available" and
         s["NetworkLoadBalancerArns"] == [w["lb"]], s)
    want("allowed principals", r["principals"] == [w["consumer_arn"]], r["principals"])
    e = r["endpoint"]
    want("endpoint", (e["State"], e["PrivateDnsEnabled"], e["VpcEndpointType"]) == ("available", False, "Interface"), e)
    want("endpoint subnet_ids", sorted(e["SubnetIds"]) == sorted(w["consumer_subnets"]), e["SubnetIds"])
    want("endpoint security_group_ids", len(e["Groups"]) == 2 and
         any(g["GroupId"] == w["endpoint_group"] for g in e["Groups"]), e["Groups"])
    want("endpoint interfaces", len(r["ips"]) == 2, r["ips"])
    want("workload", (r["workload"]["SubnetId"], r["workload"]["Description"]) ==
         (w["consumer_subnets"][0], "consumer workload"), r["workload"])
    return d


def main():
    p, c = Account("LP_PROVIDER"), Account("LP_CONSUMER")
    check("GetCallerIdentity", len(p.sts.get_caller_identity()["Account"]) == 12)
    consumer_arn = f"arn:aws:iam::{c.sts.get_caller_identity()['Account']}:root"
    check("DescribeRegions", [r["RegionName"] for r in p.ec2.describe_regions()["Regions"]] == [REGION])
    attrs = p.ec2.describe_account_attributes(AttributeNames=["supported-platforms"])["AccountAttributes"]
    check("DescribeAccountAttributes", [v["AttributeValue"] for v in attrs[0]["AttributeValues"]] == ["VPC"], attrs)
    step("provider start")

    zone_ids = [z["ZoneId"] for z in p.ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    pvpc = create_vpc(p, "10.0.0.0/16", "provider")
    _, pattrs, *_ = read_vpc(p, pvpc)
    check("aws_vpc attributes", pattrs == [True, True, False], pattrs)
    psub = [create_subnet(p, pvpc, "10.0.1.0/24", zone_ids[0]), create_subnet(p, pvpc, "10.0.2.0/24", zone_ids[1])]
    rt = p.ec2.create_route_table(VpcId=pvpc, TagSpecifications=tags("route-table", "tf"))["RouteTable"]["RouteTableId"]
    assoc = p.ec2.associate_route_table(RouteTableId=rt, SubnetId=psub[0])
    check("AssociateRouteTable", assoc["AssociationState"]["State"] == "associated", assoc)
    acl = p.ec2.create_network_acl(VpcId=pvpc, TagSpecifications=tags("network-acl", "tf"))["NetworkAcl"][
        "NetworkAclId"]
    p.ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=False,
                                   CidrBlock="0.0.0.0/0")
    step("aws_vpc, aws_subnet, aws_route_table, aws_network_acl")

    # The provider's backend: an instance whose UserData starts its server.
    images = p.ec2.describe_images(Owners=["136693071363"], Filters=[f("name", "debian-12-amd64-*"),
                                                                      f("architecture", "x86_64")])["Images"]
    image = max(images, key=lambda i: i["CreationDate"])["ImageId"]
    web = p.ec2.create_security_group(GroupName="tf-web", Description="web from the NLB", VpcId=pvpc)["GroupId"]
    p.ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    # boto3 base64-encodes UserData itself, as it does for AWS.
    # root_block_device and credit_specification as Terraform sends them.
    run = p.ec2.run_instances(ImageId=image, InstanceType=INSTANCE_TYPE, MinCount=1, MaxCount=1, SubnetId=psub[0],
                              SecurityGroupIds=[web], UserData=USER_DATA, TagSpecifications=tags("instance", "tf-web"),
                              BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
                                  "VolumeSize": ROOT_GIB, "VolumeType": "gp3", "DeleteOnTermination": True}}],
                              CreditSpecification={"CpuCredits": "unlimited"})
    check("RunInstances", [i["State"]["Name"] for i in run["Instances"]] == ["pending"], run["Instances"])
    iid = run["Instances"][0]["InstanceId"]
    wait_instance(p, iid, "running")
    read_instance(p, iid)
    step("aws_security_group, aws_instance")

    lb = p.elb.create_load_balancer(Name="tf-nlb", Type="network", Scheme="internal", Subnets=psub,
                                    Tags=[{"Key": "Name", "Value": "tf-nlb"}])["LoadBalancers"][0]["LoadBalancerArn"]
    poll("lb active", lambda: p.elb.describe_load_balancers(
        LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]["Code"] == "active")
    p.elb.describe_load_balancer_attributes(LoadBalancerArn=lb)
    # No TargetType: AWS's default, instance; the attachment's target id is the instance id.
    tg = p.elb.create_target_group(Name="tf-tg", Protocol="TCP", Port=8080, VpcId=pvpc, HealthCheckIntervalSeconds=5,
                                   HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0]
    check("default target type", tg["TargetType"] == "instance", tg)
    tg = tg["TargetGroupArn"]
    p.elb.describe_target_group_attributes(TargetGroupArn=tg)
    p.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid, "Port": 8080}])
    attached = p.elb.describe_target_health(TargetGroupArn=tg, Targets=[{"Id": iid, "Port": 8080}])
    check("attachment", [h["Target"]["Id"] for h in attached["TargetHealthDescriptions"]] == [iid], attached)
    listener = p.elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=443, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    p.elb.describe_tags(ResourceArns=[lb, tg, listener])
    svc_in = dict(AcceptanceRequired=True, NetworkLoadBalancerArns=[lb], ClientToken="tf-svc",
                  TagSpecifications=tags("vpc-endpoint-service", "tf"))
    svc = p.ec2.create_vpc_endpoint_service_configuration(**svc_in)["ServiceConfiguration"]
    again = p.ec2.create_vpc_endpoint_service_configuration(**svc_in)["ServiceConfiguration"]
    check("ClientToken", again["ServiceId"] == svc["ServiceId"], again)
    poll("service Available", lambda: p.ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[svc["ServiceId"]])["ServiceConfigurations"][0]["ServiceState"] == "Available")
    p.ec2.modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"], AddAllowedPrincipals=[consumer_arn])
    check("permissions", permissions(p, svc["ServiceId"]) == [consumer_arn])
    step("aws_lb, aws_lb_target_group, aws_lb_target_group_attachment, aws_lb_listener, aws_vpc_endpoint_service")

    cvpc = create_vpc(c, "10.1.0.0/16", "consumer")
    read_vpc(c, cvpc)
    csub = [create_subnet(c, cvpc, "10.1.1.0/24", zone_ids[0]), create_subnet(c, cvpc, "10.1.2.0/24", zone_ids[1])]
    seen = c.ec2.describe_vpc_endpoint_services(Filters=[f("service-type", "Interface"),
                                                         f("service-name", svc["ServiceName"])])["ServiceDetails"]
    check("DescribeVpcEndpointServices", len(seen) == 1, seen)
    ep_in = dict(VpcId=cvpc, ServiceName=svc["ServiceName"], VpcEndpointType="Interface", SubnetIds=[csub[0]],
                 PrivateDnsEnabled=False, ClientToken="tf-ep", TagSpecifications=tags("vpc-endpoint", "tf"))
    ep = c.ec2.create_vpc_endpoint(**ep_in)["VpcEndpoint"]["VpcEndpointId"]
    check("ClientToken", c.ec2.create_vpc_endpoint(**ep_in)["VpcEndpoint"]["VpcEndpointId"] == ep)
    wait_endpoint(c, ep, "pendingAcceptance", "available")
    read_endpoint(c, ep)
    acc = p.ec2.accept_vpc_endpoint_connections(ServiceId=svc["ServiceId"], VpcEndpointIds=[ep])
    check("AcceptVpcEndpointConnections", acc["Unsuccessful"] == [], acc)
    wait_endpoint(c, ep, "available")
    _, ips = read_endpoint(c, ep)
    check("endpoint interfaces", len(ips) == 1 and ips[0].startswith("10.1.1."), ips)
    workload = c.ec2.create_network_interface(SubnetId=csub[0], Description="consumer workload")[
        "NetworkInterface"]["NetworkInterfaceId"]
    step("aws_vpc_endpoint accepted by aws_vpc_endpoint_connection_accepter")

    # Bytes: consumer workload -> endpoint -> NLB -> the instance's server.
    poll("target healthy", lambda: p.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0][
        "TargetHealth"]["State"] == "healthy", timeout=60)
    got = fetch_through(workload, ips[0])
    check("bytes through the endpoint", got == f"web {iid}", got)
    step("bytes flow from a consumer workload through the endpoint to the instance")

    sg = c.ec2.create_security_group(GroupName="tf-ep-sg", Description="endpoint", VpcId=cvpc)["GroupId"]
    c.ec2.modify_vpc_endpoint(VpcEndpointId=ep, AddSecurityGroupIds=[sg], AddSubnetIds=[csub[1]])
    p.ec2.modify_vpc_endpoint_service_configuration(ServiceId=svc["ServiceId"], AcceptanceRequired=False)
    p.elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}])
    p.ec2.create_tags(Resources=[pvpc, iid], Tags=[{"Key": "env", "Value": "test"}])
    # credit_specification changed in place, as Terraform updates it.
    mod = p.ec2.modify_instance_credit_specification(InstanceCreditSpecifications=[
        {"InstanceId": iid, "CpuCredits": "standard"}])
    check("ModifyInstanceCreditSpecification", [x["InstanceId"] for x in mod["SuccessfulInstanceCreditSpecifications"]]
          == [iid] and mod["UnsuccessfulInstanceCreditSpecifications"] == [], mod)
    wait_endpoint(c, ep, "available")
    _, ips = read_endpoint(c, ep)
    check("endpoint interfaces after ModifyVpcEndpoint", len(ips) == 2, ips)
    got = fetch_through(workload, ips[1])
    check("bytes through the new subnet's interface", got == f"web {iid}", got)
    step("modify")

    # A second `plan`: every resource read again as its Read does; the reads agree
    # with each other and with what was applied.
    applied = dict(image=image, subnet=psub[0], web=web, instance=iid, lb=lb, tg=tg, listener=listener,
                   service=svc["ServiceId"], endpoint=ep, provider_subnets=psub, consumer_subnets=csub,
                   endpoint_group=sg, consumer_arn=consumer_arn, workload=workload)

    def plan():
        return json.dumps([read_vpc(p, pvpc), read_vpc(c, cvpc), read_plan(p, c, applied)], default=str,
                          sort_keys=True)
    first = plan()
    check("second plan reads the same", plan() == first)
    changes = diff(json.loads(first)[2], applied)
    check("second plan finds nothing to change", changes == [], changes)
    check("the env tag is read back", '"env"' in first)
    step("second plan finds nothing to change")

    # Destroy in reverse order.
    check("DeleteVpcEndpoints", c.ec2.delete_vpc_endpoints(VpcEndpointIds=[ep])["Unsuccessful"] == [])

    def endpoint_gone():
        try:
            e = c.ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"]
        except ClientError as x:
            check("DescribeVpcEndpoints", x.response["Error"]["Code"] == "InvalidVpcEndpointId.NotFound", x)
            return True
        return not e or e[0]["State"] == "deleted"
    poll("endpoint deleted", endpoint_gone)
    c.ec2.delete_network_interface(NetworkInterfaceId=workload)
    retry_dependency("DeleteSecurityGroup", c.ec2.delete_security_group, GroupId=sg)
    for s in csub:
        retry_dependency("DeleteSubnet", c.ec2.delete_subnet, SubnetId=s)
    retry_dependency("DeleteVpc consumer", c.ec2.delete_vpc, VpcId=cvpc)
    check("DeleteVpcEndpointServiceConfigurations", p.ec2.delete_vpc_endpoint_service_configurations(
        ServiceIds=[svc["ServiceId"]])["Unsuccessful"] == [])
    check("DeleteVpc with the instance inside", code(p.ec2.delete_vpc, VpcId=pvpc) == "DependencyViolation")
    p.elb.delete_listener(ListenerArn=listener)
    p.elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": iid, "Port": 8080}])
    p.elb.delete_target_group(TargetGroupArn=tg)
    p.elb.delete_load_balancer(LoadBalancerArn=lb)
    # aws_instance's Delete: TerminateInstances, then DescribeInstances until terminated.
    term = p.ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"]
    check("TerminateInstances", [t["CurrentState"]["Name"] for t in term] == ["shutting-down"], term)
    wait_instance(p, iid, "terminated")
    retry_dependency("DeleteSecurityGroup tf-web", p.ec2.delete_security_group, GroupId=web)
    p.ec2.disassociate_route_table(AssociationId=assoc["AssociationId"])
    p.ec2.delete_route_table(RouteTableId=rt)
    p.ec2.delete_network_acl(NetworkAclId=acl)
    for s in psub:
        retry_dependency("DeleteSubnet", p.ec2.delete_subnet, SubnetId=s)
    retry_dependency("DeleteVpc provider", p.ec2.delete_vpc, VpcId=pvpc)
    step("destroy")

    for a in (p, c):
        left = [a.ec2.describe_vpcs()["Vpcs"], a.ec2.describe_route_tables()["RouteTables"],
                a.ec2.describe_network_acls()["NetworkAcls"], a.elb.describe_load_balancers()["LoadBalancers"],
                a.ec2.describe_network_interfaces()["NetworkInterfaces"],
                # A terminated instance stays described for a while, as on AWS.
                a.ec2.describe_instances(Filters=[f("instance-state-name", "pending", "running", "stopping", "stopped",
                                                    "shutting-down")])["Reservations"]]
        check("nothing left", left == [[]] * len(left), left)
    step("nothing left")
    print("ALL OK")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ClientError) as e:
        print("FAIL", e, file=sys.stderr)
        sys.exit(1)
