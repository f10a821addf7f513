"""The calls terraform-provider-aws makes when a user changes what is set (issue 15,
session 7), end to end with the real AWS CLI v2 and boto3:

- ModifySecurityGroupRules (aws_vpc_security_group_ingress_rule's Update): the rule
  changes under its own id, DescribeSecurityGroupRules and DescribeSecurityGroups
  show it, and the data path's nftables follow (a workload's probe);
- ModifySubnetAttribute (aws_subnet's Create and Update), read back by DescribeSubnets
  and copied into what RunInstances launches there;
- CreateRoute, ReplaceRoute, DeleteRoute (aws_route, aws_route_table's routes);
- ModifyInstanceMetadataOptions, MonitorInstances, UnmonitorInstances (aws_instance),
  ModifyVolume and DescribeVolumesModifications (aws_ebs_volume);
- tcp.idle_timeout.seconds of a listener: the data plane's configured idle timeout.

Every call: another account gets NotFound, bad input gets AWS's error and changes
nothing, the result survives a restart."""
import json
import os
import subprocess
import time

import pytest

from lp import Daemon, error_code, serving, serving_with_instances, wait_for, write_config
from test_terraform_reads import AMI_OWNER, attributes, elb_call, net  # net: a VPC and a subnet in this module's d

IDLE = 120  # [dataplane] idle_timeout_seconds of the API daemon below


@pytest.fixture(scope="module")
def d():
    state_dir, config = write_config(body=f'dns_listen = ""\n[dataplane]\nenabled = false\n'
                                          f'idle_timeout_seconds = {IDLE}\n')
    with serving_with_instances(Daemon(state_dir=state_dir, config=config).start()) as daemon:
        yield daemon


def image(ec2):
    return [i for i in ec2.describe_images(Owners=[AMI_OWNER])["Images"] if i["Architecture"] == "x86_64"][0]["ImageId"]


def test_modify_subnet_attribute_as_terraform_sets_it(d, net):
    ec2 = d.client("ec2")
    sid = net["subnet"]
    [s] = ec2.describe_subnets(SubnetIds=[sid])["Subnets"]
    assert (s["MapPublicIpOnLaunch"], s["PrivateDnsNameOptionsOnLaunch"]) == (False, {
        "HostnameType": "ip-name", "EnableResourceNameDnsARecord": False, "EnableResourceNameDnsAAAARecord": False})
    # aws_subnet's Create: one attribute a call, falses included.
    d.aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--map-public-ip-on-launch")
    d.aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--private-dns-hostname-type-on-launch",
          "resource-name")
    d.aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--enable-resource-name-dns-a-record-on-launch")
    for flag in ("--no-assign-ipv6-address-on-creation", "--no-enable-dns64",
                 "--no-enable-resource-name-dns-aaaa-record-on-launch"):
        d.aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, flag)
    want = {"HostnameType": "resource-name", "EnableResourceNameDnsARecord": True,
            "EnableResourceNameDnsAAAARecord": False}
    [s] = ec2.describe_subnets(SubnetIds=[sid])["Subnets"]
    assert (s["MapPublicIpOnLaunch"], s["PrivateDnsNameOptionsOnLaunch"]) == (True, want)
    assert (s["AssignIpv6AddressOnCreation"], s["EnableDns64"]) == (False, False)
    assert [x["SubnetId"] for x in ec2.describe_subnets(Filters=[
        {"Name": "map-public-ip-on-launch", "Values": ["true"]}])["Subnets"]] == [sid]

    # What an IPv4-only subnet outside an Outpost cannot do, and bad values: refused, nothing changes.
    def refused(*args, account="provider"):
        return d.aws_error("ec2", "modify-subnet-attribute", "--subnet-id", sid, *args, account=account).code
    assert refused("--assign-ipv6-address-on-creation") == "InvalidParameterValue"
    assert refused("--enable-dns64") == "InvalidParameterValue"
    assert refused("--enable-resource-name-dns-aaaa-record-on-launch") == "InvalidParameterValue"
    assert refused("--private-dns-hostname-type-on-launch", "fqdn") == "InvalidParameterValue"
    assert refused("--enable-lni-at-device-index", "1") == "InvalidParameterValue"
    assert refused("--map-customer-owned-ip-on-launch", "--customer-owned-ipv4-pool", "ipv4pool-coip-1") == \
        "InvalidParameterValue"
    assert refused("--no-map-public-ip-on-launch", "--no-enable-dns64") == "InvalidParameterCombination"
    assert refused() == "MissingParameter"
    assert refused("--no-map-public-ip-on-launch", account="consumer") == "InvalidSubnetID.NotFound"
    assert error_code(ec2.modify_subnet_attribute, SubnetId="subnet-nope",
                      MapPublicIpOnLaunch={"Value": False}) == "InvalidSubnetID.Malformed"
    [s] = ec2.describe_subnets(SubnetIds=[sid])["Subnets"]
    assert (s["MapPublicIpOnLaunch"], s["PrivateDnsNameOptionsOnLaunch"]) == (True, want)

    # An instance launched there takes the subnet's DNS name options.
    iid = ec2.run_instances(ImageId=image(ec2), InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=sid)["Instances"][0]["InstanceId"]
    [r] = ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    assert r["Instances"][0]["PrivateDnsNameOptions"] == want

    d.restart()
    [s] = d.client("ec2").describe_subnets(SubnetIds=[sid])["Subnets"]
    assert (s["MapPublicIpOnLaunch"], s["PrivateDnsNameOptionsOnLaunch"]) == (True, want)
    d.aws("ec2", "modify-subnet-attribute", "--subnet-id", sid, "--no-map-public-ip-on-launch")
    assert d.client("ec2").describe_subnets(SubnetIds=[sid])["Subnets"][0]["MapPublicIpOnLaunch"] is False


def test_routes_to_interfaces_and_instances(d, net):
    ec2 = d.client("ec2")
    rtb = d.aws("ec2", "create-route-table", "--vpc-id", net["vpc"])["RouteTable"]["RouteTableId"]
    eni = ec2.create_network_interface(SubnetId=net["subnet"])["NetworkInterface"]["NetworkInterfaceId"]
    iid = ec2.run_instances(ImageId=image(ec2), InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=net["subnet"])["Instances"][0]["InstanceId"]
    primary = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
        "NetworkInterfaces"][0]["NetworkInterfaceId"]

    d.aws("ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "192.168.0.0/16",
          "--network-interface-id", eni)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="172.16.0.0/12", InstanceId=iid)

    def routes(client=ec2):
        return {r["DestinationCidrBlock"]: r for r in
                client.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]["Routes"]}
    rs = routes()
    assert rs["10.0.0.0/16"] == {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
                                 "Origin": "CreateRouteTable", "State": "active"}
    assert rs["192.168.0.0/16"] == {"DestinationCidrBlock": "192.168.0.0/16", "NetworkInterfaceId": eni,
                                    "Origin": "CreateRoute", "State": "active"}
    assert rs["172.16.0.0/12"] == {"DestinationCidrBlock": "172.16.0.0/12", "InstanceId": iid,
                                   "InstanceOwnerId": "111111111111", "NetworkInterfaceId": primary,
                                   "Origin": "CreateRoute", "State": "active"}
    found = ec2.describe_route_tables(Filters=[{"Name": "route.network-interface-id", "Values": [eni]}])
    assert [t["RouteTableId"] for t in found["RouteTables"]] == [rtb]

    # Targets linkplane has no such thing as: AWS's NotFound for them; nothing changes.
    def refused(*args, account="provider"):
        return d.aws_error("ec2", *args, account=account).code
    dest = ["--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0"]
    assert refused("create-route", *dest, "--gateway-id", "igw-0123456789abcdef0") == "InvalidGatewayID.NotFound"
    assert refused("create-route", *dest, "--nat-gateway-id", "nat-0123456789abcdef0") == "NatGatewayNotFound"
    assert refused("create-route", *dest, "--vpc-peering-connection-id", "pcx-0123456789abcdef0") == \
        "InvalidVpcPeeringConnectionID.NotFound"
    assert refused("create-route", *dest, "--transit-gateway-id", "tgw-0123456789abcdef0") == \
        "InvalidTransitGatewayID.NotFound"
    assert refused("create-route", *dest, "--network-interface-id", eni, "--instance-id", iid) == \
        "InvalidParameterCombination"
    assert refused("create-route", *dest) == "MissingParameter"
    assert refused("create-route", "--route-table-id", rtb, "--destination-cidr-block", "192.168.0.0/16",
                   "--network-interface-id", eni) == "RouteAlreadyExists"
    assert refused("create-route", "--route-table-id", rtb, "--destination-cidr-block", "10.0.0.0/33",
                   "--network-interface-id", eni) == "InvalidParameterValue"
    assert refused("create-route", "--route-table-id", rtb, "--destination-ipv6-cidr-block", "::/0",
                   "--network-interface-id", eni) == "InvalidParameterValue"
    assert refused("create-route", *dest, "--network-interface-id", "eni-0123456789abcdef0") == \
        "InvalidNetworkInterfaceID.NotFound"
    assert refused("create-route", *dest, "--network-interface-id", eni, account="consumer") == \
        "InvalidRouteTableID.NotFound"
    # The local route cannot be changed; the message is what Terraform's aws_route matches.
    local = d.aws_error("ec2", "delete-route", "--route-table-id", rtb, "--destination-cidr-block", "10.0.0.0/16")
    assert local.code == "InvalidParameterValue" and "cannot remove local route" in local.message
    assert refused("replace-route", "--route-table-id", rtb, "--destination-cidr-block", "10.0.0.0/16",
                   "--network-interface-id", eni) == "InvalidParameterValue"
    assert refused("replace-route", *dest, "--network-interface-id", eni) == "InvalidRoute.NotFound"
    assert refused("delete-route", *dest) == "InvalidRoute.NotFound"
    assert sorted(routes()) == ["10.0.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]

    # ReplaceRoute moves a route to another target; a deleted interface leaves a blackhole.
    d.aws("ec2", "replace-route", "--route-table-id", rtb, "--destination-cidr-block", "172.16.0.0/12",
          "--network-interface-id", eni)
    assert "InstanceId" not in routes()["172.16.0.0/12"] and routes()["172.16.0.0/12"]["NetworkInterfaceId"] == eni
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert {k: r["State"] for k, r in routes().items()} == {
        "10.0.0.0/16": "active", "172.16.0.0/12": "blackhole", "192.168.0.0/16": "blackhole"}
    ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", InstanceId=iid)
    assert routes()["192.168.0.0/16"]["State"] == "active"

    d.restart()
    ec2 = d.client("ec2")
    assert {k: (r["State"], r.get("InstanceId")) for k, r in routes(ec2).items()} == {
        "10.0.0.0/16": ("active", None), "172.16.0.0/12": ("blackhole", None), "192.168.0.0/16": ("active", iid)}
    ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="172.16.0.0/12")
    assert sorted(routes(ec2)) == ["10.0.0.0/16", "192.168.0.0/16"]


def test_instance_metadata_options_monitoring_and_volume_modifications(d, net):
    ec2 = d.client("ec2")
    iid = ec2.run_instances(ImageId=image(ec2), InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=net["subnet"], Monitoring={"Enabled": True},
                            MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 2})[
        "Instances"][0]["InstanceId"]

    def instance(client=ec2):
        return client.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    i = instance()
    assert i["Monitoring"] == {"State": "enabled"}
    assert i["MetadataOptions"] == {"State": "applied", "HttpTokens": "required", "HttpPutResponseHopLimit": 2,
                                    "HttpEndpoint": "enabled", "HttpProtocolIpv6": "disabled",
                                    "InstanceMetadataTags": "disabled"}

    # aws_instance's metadata_options update: the answer says pending, Describe applied.
    out = d.aws("ec2", "modify-instance-metadata-options", "--instance-id", iid, "--http-tokens", "optional",
                "--http-endpoint", "disabled", "--instance-metadata-tags", "enabled")
    assert out["InstanceId"] == iid and out["InstanceMetadataOptions"]["State"] == "pending"
    assert out["InstanceMetadataOptions"]["HttpTokens"] == "optional"
    want = {"State": "applied", "HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "disabled",
            "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "enabled"}
    assert instance()["MetadataOptions"] == want
    assert [x["InstanceId"] for r in ec2.describe_instances(Filters=[
        {"Name": "metadata-options.http-endpoint", "Values": ["disabled"]}])["Reservations"] for x in r["Instances"]] \
        == [iid]

    def refused(*args, account="provider"):
        return d.aws_error("ec2", "modify-instance-metadata-options", "--instance-id", iid, *args,
                           account=account).code
    assert refused("--http-tokens", "always") == "InvalidParameterValue"
    assert refused("--http-put-response-hop-limit", "65") == "InvalidParameterValue"
    assert refused("--http-endpoint", "on") == "InvalidParameterValue"
    assert refused("--http-tokens", "required", account="consumer") == "InvalidInstanceID.NotFound"
    assert error_code(ec2.modify_instance_metadata_options, InstanceId="i-nope") == "InvalidInstanceID.Malformed"
    assert instance()["MetadataOptions"] == want

    # Monitoring: pending/disabling in the answer, enabled/disabled in Describe.
    un = d.aws("ec2", "unmonitor-instances", "--instance-ids", iid)["InstanceMonitorings"]
    assert un == [{"InstanceId": iid, "Monitoring": {"State": "disabling"}}]
    assert instance()["Monitoring"] == {"State": "disabled"}
    assert ec2.monitor_instances(InstanceIds=[iid])["InstanceMonitorings"] == [
        {"InstanceId": iid, "Monitoring": {"State": "pending"}}]
    assert instance()["Monitoring"] == {"State": "enabled"}
    assert d.aws_error("ec2", "unmonitor-instances", "--instance-ids", iid, "i-0123456789abcdef0").code == \
        "InvalidInstanceID.NotFound"
    assert d.aws_error("ec2", "unmonitor-instances", "--instance-ids", iid, account="consumer").code == \
        "InvalidInstanceID.NotFound"
    assert instance()["Monitoring"] == {"State": "enabled"}  # all or nothing

    # ModifyVolume on the root volume: size grows, type and IOPS recorded.
    vol = i["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    mod = d.aws("ec2", "modify-volume", "--volume-id", vol, "--size", "20", "--volume-type", "gp3", "--iops",
                "4000")["VolumeModification"]
    assert (mod["VolumeId"], mod["ModificationState"], mod["OriginalSize"], mod["TargetSize"],
            mod["OriginalVolumeType"], mod["TargetVolumeType"], mod["TargetIops"], mod["TargetThroughput"]) == \
        (vol, "modifying", 8, 20, "gp2", "gp3", 4000, 125)
    [v] = ec2.describe_volumes(VolumeIds=[vol])["Volumes"]
    assert (v["Size"], v["VolumeType"], v["Iops"], v["Throughput"]) == (20, "gp3", 4000, 125)
    [m] = ec2.describe_volumes_modifications(VolumeIds=[vol])["VolumesModifications"]
    assert (m["ModificationState"], m["Progress"], m["TargetSize"], m["OriginalSize"]) == ("completed", 100, 20, 8)
    assert ec2.describe_volumes_modifications(Filters=[{"Name": "modification-state",
                                                        "Values": ["completed"]}])["VolumesModifications"] == [m]

    def vol_refused(*args, account="provider"):
        return d.aws_error("ec2", "modify-volume", "--volume-id", vol, *args, account=account).code
    assert vol_refused("--size", "10") == "InvalidParameterValue"          # smaller
    assert vol_refused("--volume-type", "st1") == "InvalidParameterValue"  # not for a root volume
    assert vol_refused("--volume-type", "io1") == "MissingParameter"       # io1 needs IOPS
    assert vol_refused("--size", "30", account="consumer") == "InvalidVolume.NotFound"
    assert error_code(ec2.modify_volume, VolumeId=vol) == "MissingParameter"
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Size"] == 20
    other = ec2.create_volume(AvailabilityZone="us-east-1a", Size=4)["VolumeId"]
    assert error_code(ec2.describe_volumes_modifications, VolumeIds=[other]) == \
        "InvalidVolumeModification.NotFound"

    d.restart()
    ec2 = d.client("ec2")
    i = instance(ec2)
    assert (i["MetadataOptions"], i["Monitoring"]) == (want, {"State": "enabled"})
    assert ec2.describe_volumes_modifications(VolumeIds=[vol])["VolumesModifications"] == [m]
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Size"] == 20


def test_listener_idle_timeout_is_the_data_planes(d, net):
    elb = d.client("elbv2")
    lb = elb.create_load_balancer(Name="idle-nlb", Type="network", Scheme="internal",
                                  Subnets=[net["subnet"]])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="idle-tg", Protocol="TCP", Port=8080, VpcId=net["vpc"],
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=443, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    status, doc = elb_call(d, "DescribeListenerAttributes", {"ListenerArn": listener})
    assert status == 200 and attributes(doc) == [("tcp.idle_timeout.seconds", str(IDLE))]
    status, doc = elb_call(d, "ModifyListenerAttributes", {
        "ListenerArn": listener, "Attributes.member.1.Key": "tcp.idle_timeout.seconds",
        "Attributes.member.1.Value": str(IDLE)})
    assert status == 200 and attributes(doc) == [("tcp.idle_timeout.seconds", str(IDLE))]
    status, _ = elb_call(d, "ModifyListenerAttributes", {
        "ListenerArn": listener, "Attributes.member.1.Key": "tcp.idle_timeout.seconds",
        "Attributes.member.1.Value": "350"})
    assert status == 400


# ---- ModifySecurityGroupRules, in the data path (root: namespaces, nftables) -------

PROBE = r'''
import json, socket, sys
res = {}
for t in sys.argv[2:]:
    ip, port = t.rsplit(":", 1)
    s = socket.socket(); s.settimeout(float(sys.argv[1]))
    try:
        s.connect((ip, int(port))); res[t] = True
    except ConnectionRefusedError:
        res[t] = True
    except OSError:
        res[t] = False
    finally:
        s.close()
print(json.dumps(res))
'''


def probe(eni, *targets, timeout=0.5):
    """{"ip:port": True when a SYN got an answer (accept or RST), False when dropped}."""
    p = subprocess.run(["ip", "netns", "exec", "lp-" + eni, "/usr/bin/python3", "-c", PROBE, str(timeout),
                        *targets], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def settles(cond, timeout=3.0):
    start = time.monotonic()
    while not cond():
        assert time.monotonic() - start < timeout, "not in effect after %.1f s" % timeout
        time.sleep(0.05)
    return time.monotonic() - start


def netns():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def dp():
    if os.geteuid() != 0:
        pytest.fail("needs root (namespaces, nftables)")
    yield from serving(Daemon().start())


def nft_ruleset(vpc):
    return subprocess.run(["ip", "netns", "exec", "lp-" + vpc, "nft", "list", "ruleset"], capture_output=True,
                          text=True, check=True).stdout


def test_modify_security_group_rules_takes_effect_in_the_data_path(dp):
    ec2 = dp.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.84.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.84.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    client = ec2.create_security_group(GroupName="client", Description="client", VpcId=vpc)["GroupId"]
    made = ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.84.1.10/32"}]}])
    rid = made["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    ec2.create_tags(Resources=[rid], Tags=[{"Key": "Name", "Value": "web-in"}])
    c = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.84.1.10", Groups=[client])[
        "NetworkInterface"]["NetworkInterfaceId"]
    w = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.84.1.20", Groups=[web])[
        "NetworkInterface"]["NetworkInterfaceId"]
    settles(lambda: {"lp-" + c, "lp-" + w} <= netns(), 10)
    settles(lambda: probe(c, "10.84.1.20:8080")["10.84.1.20:8080"], 10)
    assert probe(c, "10.84.1.20:8081") == {"10.84.1.20:8081": False}

    # The rule now names port 8081: in effect for new connections within a second or so.
    dp.aws("ec2", "modify-security-group-rules", "--group-id", web, "--security-group-rules",
           json.dumps([{"SecurityGroupRuleId": rid, "SecurityGroupRule": {
               "IpProtocol": "tcp", "FromPort": 8081, "ToPort": 8081, "CidrIpv4": "10.84.1.10/32",
               "Description": "moved"}}]))
    took = settles(lambda: probe(c, "10.84.1.20:8081", "10.84.1.20:8080") == {
        "10.84.1.20:8081": True, "10.84.1.20:8080": False})
    print(f"a modified rule was in effect {took:.2f} s after the API answered (probes included)")
    ruleset = nft_ruleset(vpc)
    assert "8081" in ruleset and "8080" not in ruleset
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert (rule["FromPort"], rule["ToPort"], rule["CidrIpv4"], rule["Description"], rule["IsEgress"],
            rule["Tags"]) == (8081, 8081, "10.84.1.10/32", "moved", False, [{"Key": "Name", "Value": "web-in"}])
    perms = ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]["IpPermissions"]
    assert [(p["FromPort"], p["IpRanges"]) for p in perms] == [(8081, [{"CidrIp": "10.84.1.10/32",
                                                                        "Description": "moved"}])]

    # Now a group as the source: the client group's member passes, as it is a member.
    ec2.modify_security_group_rules(GroupId=web, SecurityGroupRules=[{"SecurityGroupRuleId": rid,
                                                                      "SecurityGroupRule": {
                                                                          "IpProtocol": "tcp", "FromPort": 9000,
                                                                          "ToPort": 9001,
                                                                          "ReferencedGroupId": client}}])
    settles(lambda: probe(c, "10.84.1.20:9001", "10.84.1.20:8081") == {
        "10.84.1.20:9001": True, "10.84.1.20:8081": False})
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert rule["ReferencedGroupInfo"]["GroupId"] == client and "CidrIpv4" not in rule

    # Bad input: AWS's errors, and the rule (and the data path) as it was.
    def refused(rules, account="provider", group=web):
        return dp.aws_error("ec2", "modify-security-group-rules", "--group-id", group, "--security-group-rules",
                            json.dumps(rules), account=account).code
    one = {"SecurityGroupRuleId": rid, "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                             "CidrIpv4": "0.0.0.0/0"}}
    assert refused([one], account="consumer") == "InvalidGroup.NotFound"
    assert refused([{**one, "SecurityGroupRuleId": "sgr-0123456789abcdef0"}]) == "InvalidSecurityGroupRuleId.NotFound"
    assert refused([one], group=client) == "InvalidSecurityGroupRuleId.NotFound"
    assert refused([{**one, "SecurityGroupRule": {**one["SecurityGroupRule"], "FromPort": 23, "ToPort": 22}}]) == \
        "InvalidParameterValue"
    assert refused([{**one, "SecurityGroupRule": {**one["SecurityGroupRule"], "CidrIpv4": "10.0.0.0/40"}}]) == \
        "InvalidParameterValue"
    assert refused([{**one, "SecurityGroupRule": {**one["SecurityGroupRule"], "ReferencedGroupId": client}}]) == \
        "InvalidParameterCombination"
    # The result would duplicate the group's other rule.
    other = ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assert other["SecurityGroupRules"][0]["SecurityGroupRuleId"] != rid
    assert refused([one]) == "InvalidPermission.Duplicate"
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert (rule["FromPort"], rule["ToPort"]) == (9000, 9001)
    assert probe(c, "10.84.1.20:9000") == {"10.84.1.20:9000": True}

    # Durable: after a restart the rule and its effect are as modified.
    dp.restart()
    ec2 = dp.client("ec2")
    [rule] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert (rule["FromPort"], rule["ToPort"], rule["ReferencedGroupInfo"]["GroupId"]) == (9000, 9001, client)
    # A clean stop removed the namespaces; the reconciler makes them again after start,
    # so a probe may find no namespace (or no address in it) for a moment.
    def after_restart():
        try:
            return probe(c, "10.84.1.20:9000", "10.84.1.20:8081")
        except AssertionError:
            return None
    settles(lambda: after_restart() == {"10.84.1.20:9000": True, "10.84.1.20:8081": False}, 15)
