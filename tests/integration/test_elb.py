"""ELBv2 network load balancers end to end, driven by the real AWS CLI (`aws elbv2`)
and boto3: the provider's flow (VPC, subnets in two zones, target group, targets,
NLB with one requester-managed node interface per subnet, listener, attributes,
target health), the errors AWS answers, isolation between accounts, deletes."""

import ipaddress

import pytest
from botocore.exceptions import ClientError

from lp import AwsError


def make_vpc(daemon, cidr="10.0.0.0/16", account="provider"):
    return daemon.aws("ec2", "create-vpc", "--cidr-block", cidr, account=account)["Vpc"]["VpcId"]


def make_subnet(daemon, vpc, cidr, zone_id, account="provider"):
    return daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, "--availability-zone-id", zone_id,
                      account=account)["Subnet"]


def zones_of(daemon, account="provider"):
    """Zone id -> zone name as the account sees them."""
    azs = daemon.aws("ec2", "describe-availability-zones", account=account)["AvailabilityZones"]
    return {z["ZoneId"]: z["ZoneName"] for z in azs}


def nlb_interfaces(daemon, account="provider"):
    enis = daemon.aws("ec2", "describe-network-interfaces", account=account)["NetworkInterfaces"]
    return [e for e in enis if e.get("InterfaceType") == "network_load_balancer"]


@pytest.fixture
def provider_net(daemon):
    vpc = make_vpc(daemon)
    probe = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24",
                       "--availability-zone-id", "use1-az1", check=False)
    if isinstance(probe, AwsError):
        if probe.code == "InvalidAction":
            pytest.skip("CreateSubnet is not served yet")
        raise probe
    a = probe["Subnet"]
    b = make_subnet(daemon, vpc, "10.0.2.0/24", "use1-az2")
    return vpc, a, b


def test_provider_flow_with_the_cli(daemon, provider_net):
    vpc, sub_a, sub_b = provider_net
    tg = daemon.aws("elbv2", "create-target-group", "--name", "web-tg", "--protocol", "TCP", "--port", "8080",
                    "--vpc-id", vpc, "--target-type", "ip", "--health-check-interval-seconds", "10",
                    "--healthy-threshold-count", "3")["TargetGroups"][0]
    tg_arn = tg["TargetGroupArn"]
    assert tg_arn.startswith("arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web-tg/")
    assert (tg["Protocol"], tg["Port"], tg["VpcId"], tg["TargetType"]) == ("TCP", 8080, vpc, "ip")
    assert (tg["HealthCheckIntervalSeconds"], tg["HealthyThresholdCount"]) == (10, 3)
    assert tg["LoadBalancerArns"] == []

    daemon.aws("elbv2", "register-targets", "--target-group-arn", tg_arn, "--targets", "Id=10.0.1.10",
               "Id=10.0.2.10,Port=9090")

    lb = daemon.aws("elbv2", "create-load-balancer", "--name", "web-nlb", "--type", "network", "--scheme", "internal",
                    "--subnets", sub_a["SubnetId"], sub_b["SubnetId"], "--tags", "Key=team,Value=web")["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    prefix = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/web-nlb/"
    assert lb_arn.startswith(prefix)
    lb_hex = lb_arn[len(prefix):]
    assert len(lb_hex) == 16 and int(lb_hex, 16) >= 0
    assert lb["DNSName"] == f"web-nlb-{lb_hex}.elb.us-east-1.amazonaws.com"
    assert (lb["Type"], lb["Scheme"], lb["VpcId"], lb["State"]["Code"]) == ("network", "internal", vpc, "active")
    assert lb["CanonicalHostedZoneId"] == "Z26RNL4JYFTOTI"

    # One node per subnet, in the caller's zone names, with its address in that subnet.
    names = zones_of(daemon)
    by_subnet = {z["SubnetId"]: z for z in lb["AvailabilityZones"]}
    assert set(by_subnet) == {sub_a["SubnetId"], sub_b["SubnetId"]}
    for sub in (sub_a, sub_b):
        az = by_subnet[sub["SubnetId"]]
        assert az["ZoneName"] == sub["AvailabilityZone"] == names[sub["AvailabilityZoneId"]]
        addr = az["LoadBalancerAddresses"][0]["PrivateIPv4Address"]
        assert ipaddress.ip_address(addr) in ipaddress.ip_network(sub["CidrBlock"])

    # The nodes are requester-managed interfaces the provider sees in its subnets.
    enis = nlb_interfaces(daemon)
    assert len(enis) == 2
    node_ips = {z["LoadBalancerAddresses"][0]["PrivateIPv4Address"] for z in lb["AvailabilityZones"]}
    assert {e["PrivateIpAddress"] for e in enis} == node_ips
    for e in enis:
        assert e["RequesterManaged"] is True
        assert e["Description"] == f"ELB net/web-nlb/{lb_hex}"
        assert e["VpcId"] == vpc and e["OwnerId"] == "111111111111"

    # Before a listener uses the group its targets are unused.
    health = daemon.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)["TargetHealthDescriptions"]
    assert {h["TargetHealth"]["Reason"] for h in health} == {"Target.NotInUse"}

    listener = daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb_arn, "--protocol", "TCP", "--port",
                          "443", "--default-actions", f"Type=forward,TargetGroupArn={tg_arn}")["Listeners"][0]
    assert listener["ListenerArn"].startswith(
        f"arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/web-nlb/{lb_hex}/")
    assert (listener["Port"], listener["Protocol"]) == (443, "TCP")
    assert listener["DefaultActions"][0]["Type"] == "forward"
    assert listener["DefaultActions"][0]["TargetGroupArn"] == tg_arn

    listed = daemon.aws("elbv2", "describe-listeners", "--load-balancer-arn", lb_arn)["Listeners"]
    assert [l["ListenerArn"] for l in listed] == [listener["ListenerArn"]]
    used = daemon.aws("elbv2", "describe-target-groups", "--load-balancer-arn", lb_arn)["TargetGroups"]
    assert [(g["TargetGroupArn"], g["LoadBalancerArns"]) for g in used] == [(tg_arn, [lb_arn])]

    health = daemon.aws("elbv2", "describe-target-health", "--target-group-arn", tg_arn)["TargetHealthDescriptions"]
    got = {(h["Target"]["Id"], h["Target"]["Port"]): h for h in health}
    assert set(got) == {("10.0.1.10", 8080), ("10.0.2.10", 9090)}
    assert got[("10.0.1.10", 8080)]["Target"]["AvailabilityZone"] == sub_a["AvailabilityZone"]
    assert got[("10.0.2.10", 9090)]["Target"]["AvailabilityZone"] == sub_b["AvailabilityZone"]
    assert got[("10.0.2.10", 9090)]["HealthCheckPort"] == "9090"
    for h in health:
        # The data plane may already have checked: anything but "unused" means in use.
        assert h["TargetHealth"]["State"] in ("initial", "healthy", "unhealthy")

    attrs = daemon.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", tg_arn, "--attributes",
                       "Key=proxy_protocol_v2.enabled,Value=true")["Attributes"]
    attrs = {a["Key"]: a["Value"] for a in attrs}
    assert attrs["proxy_protocol_v2.enabled"] == "true"
    assert attrs["deregistration_delay.timeout_seconds"] == "300"
    described = daemon.aws("elbv2", "describe-target-group-attributes", "--target-group-arn", tg_arn)["Attributes"]
    assert {a["Key"]: a["Value"] for a in described} == attrs

    # Deletes: the group is in use until the listener goes; the load balancer takes its nodes with it.
    err = daemon.aws_error("elbv2", "delete-target-group", "--target-group-arn", tg_arn)
    assert err.code == "ResourceInUse"
    daemon.aws("elbv2", "delete-listener", "--listener-arn", listener["ListenerArn"])
    assert daemon.aws_error("elbv2", "describe-listeners", "--listener-arns",
                            listener["ListenerArn"]).code == "ListenerNotFound"
    lb_attrs = daemon.aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb_arn, "--attributes",
                          "Key=deletion_protection.enabled,Value=true")["Attributes"]
    assert {"Key": "deletion_protection.enabled", "Value": "true"} in lb_attrs
    assert daemon.aws_error("elbv2", "delete-load-balancer", "--load-balancer-arn",
                            lb_arn).code == "OperationNotPermitted"
    assert len(nlb_interfaces(daemon)) == 2
    daemon.aws("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb_arn, "--attributes",
               "Key=deletion_protection.enabled,Value=false")
    tags = daemon.aws("elbv2", "describe-tags", "--resource-arns", lb_arn)["TagDescriptions"]
    assert tags == [{"ResourceArn": lb_arn, "Tags": [{"Key": "team", "Value": "web"}]}]
    daemon.aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb_arn)
    assert nlb_interfaces(daemon) == []
    assert daemon.aws("elbv2", "describe-load-balancers")["LoadBalancers"] == []
    daemon.aws("elbv2", "delete-target-group", "--target-group-arn", tg_arn)
    assert daemon.aws_error("elbv2", "describe-target-groups", "--target-group-arns",
                            tg_arn).code == "TargetGroupNotFound"
    # With the nodes gone the subnets and the VPC can go too.
    daemon.aws("ec2", "delete-subnet", "--subnet-id", sub_a["SubnetId"])
    daemon.aws("ec2", "delete-subnet", "--subnet-id", sub_b["SubnetId"])
    daemon.aws("ec2", "delete-vpc", "--vpc-id", vpc)


def test_boto3_subnet_mappings_choose_node_addresses(daemon, provider_net):
    vpc, sub_a, sub_b = provider_net
    elb = daemon.client("elbv2")
    lb = elb.create_load_balancer(Name="pinned", Type="network", Scheme="internal", SubnetMappings=[
        {"SubnetId": sub_a["SubnetId"], "PrivateIPv4Address": "10.0.1.50"},
        {"SubnetId": sub_b["SubnetId"]},
    ])["LoadBalancers"][0]
    addrs = {z["SubnetId"]: z["LoadBalancerAddresses"][0]["PrivateIPv4Address"] for z in lb["AvailabilityZones"]}
    assert addrs[sub_a["SubnetId"]] == "10.0.1.50"
    assert ipaddress.ip_address(addrs[sub_b["SubnetId"]]) in ipaddress.ip_network("10.0.2.0/24")

    # The address is taken now: a second load balancer cannot have it, and nothing is left behind.
    with pytest.raises(ClientError) as e:
        elb.create_load_balancer(Name="pinned2", Type="network", Scheme="internal",
                                 SubnetMappings=[{"SubnetId": sub_a["SubnetId"], "PrivateIPv4Address": "10.0.1.50"}])
    assert e.value.response["Error"]["Code"] == "InvalidConfigurationRequest"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(nlb_interfaces(daemon)) == 2

    # Same name, same settings: the same load balancer (CreateLoadBalancer is idempotent).
    again = elb.create_load_balancer(Name="pinned", Type="network", Scheme="internal", SubnetMappings=[
        {"SubnetId": sub_a["SubnetId"]}, {"SubnetId": sub_b["SubnetId"]}])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == lb["LoadBalancerArn"]
    assert len(nlb_interfaces(daemon)) == 2


def test_errors_are_the_aws_codes(daemon, provider_net):
    vpc, sub_a, sub_b = provider_net
    same_zone = make_subnet(daemon, vpc, "10.0.3.0/24", "use1-az1")["SubnetId"]
    other_vpc = make_vpc(daemon, "10.1.0.0/16")
    elsewhere = make_subnet(daemon, other_vpc, "10.1.1.0/24", "use1-az3")["SubnetId"]

    def lb_error(*args):
        return daemon.aws_error("elbv2", "create-load-balancer", "--type", "network", *args).code

    for bad in ("-lead", "trail-", "under_score", "internal-x", "x" * 33):
        assert lb_error(f"--name={bad}", "--subnets", sub_a["SubnetId"]) == "ValidationError", bad
    assert lb_error("--name", "z", "--subnets", sub_a["SubnetId"], same_zone) == "InvalidConfigurationRequest"
    assert lb_error("--name", "z", "--subnets", sub_a["SubnetId"], elsewhere) == "InvalidConfigurationRequest"
    assert lb_error("--name", "z", "--subnets", "subnet-0123456789abcdef0") == "SubnetNotFound"
    assert lb_error("--name", "z", "--type", "application", "--subnets", sub_a["SubnetId"]) == \
        "InvalidConfigurationRequest"
    assert daemon.aws("elbv2", "describe-load-balancers")["LoadBalancers"] == []
    assert nlb_interfaces(daemon) == []

    lb = daemon.aws("elbv2", "create-load-balancer", "--name", "dup", "--type", "network", "--scheme", "internal",
                    "--subnets", sub_a["SubnetId"])["LoadBalancers"][0]
    assert lb_error("--name", "dup", "--subnets", sub_a["SubnetId"], sub_b["SubnetId"]) == "DuplicateLoadBalancerName"
    assert daemon.aws_error("elbv2", "describe-load-balancers", "--names", "nope").code == "LoadBalancerNotFound"
    unknown_lb = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/dup/0123456789abcdef"
    assert daemon.aws_error("elbv2", "describe-load-balancers", "--load-balancer-arns",
                            unknown_lb).code == "LoadBalancerNotFound"
    assert daemon.aws_error("elbv2", "describe-load-balancers", "--load-balancer-arns",
                            "not-an-arn").code == "ValidationError"

    def tg_error(*args):
        return daemon.aws_error("elbv2", "create-target-group", "--protocol", "TCP", "--target-type", "ip",
                                *args).code

    assert tg_error("--name", "t", "--port", "80", "--vpc-id", vpc, "--health-check-interval-seconds", "301") == \
        "ValidationError"
    assert tg_error("--name", "t", "--port", "80", "--vpc-id", vpc, "--unhealthy-threshold-count", "11") == \
        "ValidationError"
    assert tg_error("--name", "t", "--port", "80", "--vpc-id", "vpc-0123456789abcdef0") == "ValidationError"
    tg = daemon.aws("elbv2", "create-target-group", "--name", "t", "--protocol", "TCP", "--port", "80", "--vpc-id",
                    vpc, "--target-type", "ip")["TargetGroups"][0]
    tg_arn = tg["TargetGroupArn"]
    assert tg_error("--name", "t", "--port", "81", "--vpc-id", vpc) == "DuplicateTargetGroupName"
    far = daemon.aws("elbv2", "create-target-group", "--name", "far", "--protocol", "TCP", "--port", "80", "--vpc-id",
                     other_vpc, "--target-type", "ip")["TargetGroups"][0]["TargetGroupArn"]

    assert daemon.aws_error("elbv2", "register-targets", "--target-group-arn", tg_arn, "--targets",
                            "Id=8.8.8.8").code == "InvalidTarget"
    unknown_tg = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/t/0123456789abcdef"
    assert daemon.aws_error("elbv2", "register-targets", "--target-group-arn", unknown_tg,
                            "--targets", "Id=10.0.1.9").code == "TargetGroupNotFound"
    assert daemon.aws_error("elbv2", "deregister-targets", "--target-group-arn", tg_arn, "--targets",
                            "Id=10.0.1.9").code == "InvalidTarget"

    def listener_error(*args):
        return daemon.aws_error("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], *args).code

    daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "TCP",
               "--port", "80", "--default-actions", f"Type=forward,TargetGroupArn={tg_arn}")
    second = daemon.aws("elbv2", "create-target-group", "--name", "second", "--protocol", "TCP", "--port", "80",
                        "--vpc-id", vpc, "--target-type", "ip")["TargetGroups"][0]["TargetGroupArn"]
    assert listener_error("--protocol", "TCP", "--port", "80", "--default-actions",
                          f"Type=forward,TargetGroupArn={second}") == "DuplicateListener"
    assert listener_error("--protocol", "TCP", "--port", "81", "--default-actions",
                          f"Type=forward,TargetGroupArn={far}") == "InvalidConfigurationRequest"
    assert listener_error("--protocol", "UDP", "--port", "82", "--default-actions",
                          f"Type=forward,TargetGroupArn={second}") == "UnsupportedProtocol"
    assert daemon.aws_error("elbv2", "delete-target-group", "--target-group-arn", tg_arn).code == "ResourceInUse"

    def attr_error(*attrs):
        return daemon.aws_error("elbv2", "modify-target-group-attributes", "--target-group-arn", tg_arn,
                                "--attributes", *attrs).code

    assert attr_error("Key=proxy_protocol_v2.enabled,Value=maybe") == "ValidationError"
    assert attr_error("Key=no.such.attribute,Value=1") == "ValidationError"
    assert attr_error("Key=stickiness.type,Value=lb_cookie") == "InvalidConfigurationRequest"
    attrs = daemon.aws("elbv2", "describe-target-group-attributes", "--target-group-arn", tg_arn)["Attributes"]
    assert {"Key": "proxy_protocol_v2.enabled", "Value": "false"} in attrs

    assert daemon.aws_error("elbv2", "describe-listeners").code == "ValidationError"
    assert daemon.aws_error("elbv2", "delete-listener", "--listener-arn",
                            lb["LoadBalancerArn"].replace(":loadbalancer/", ":listener/") + "/0123456789abcdef"
                            ).code == "ListenerNotFound"


def test_paging_with_markers(daemon, provider_net):
    vpc, sub_a, _ = provider_net
    elb = daemon.client("elbv2")
    for i in range(5):
        elb.create_target_group(Name=f"tg-{i}", Protocol="TCP", Port=80 + i, VpcId=vpc, TargetType="ip")
    seen, marker = [], None
    while True:
        kw = {"PageSize": 2}
        if marker:
            kw["Marker"] = marker
        page = elb.describe_target_groups(**kw)
        assert len(page["TargetGroups"]) <= 2
        seen += [g["TargetGroupName"] for g in page["TargetGroups"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert sorted(seen) == [f"tg-{i}" for i in range(5)]
    # The CLI passes --page-size / --marker through (they are the operation's own names).
    first = daemon.aws("elbv2", "describe-target-groups", "--page-size", "3")
    rest = daemon.aws("elbv2", "describe-target-groups", "--marker", first["NextMarker"])
    assert "NextMarker" not in rest
    assert sorted(g["TargetGroupName"] for g in first["TargetGroups"] + rest["TargetGroups"]) == sorted(seen)
    assert len(daemon.aws("elbv2", "describe-target-groups")["TargetGroups"]) == 5
    with pytest.raises(ClientError) as e:
        elb.describe_target_groups(PageSize=401)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_accounts_see_only_their_own(daemon, provider_net):
    vpc, sub_a, sub_b = provider_net
    lb = daemon.aws("elbv2", "create-load-balancer", "--name", "private", "--type", "network", "--scheme", "internal",
                    "--subnets", sub_a["SubnetId"])["LoadBalancers"][0]
    tg = daemon.aws("elbv2", "create-target-group", "--name", "private-tg", "--protocol", "TCP", "--port", "80",
                    "--vpc-id", vpc, "--target-type", "ip")["TargetGroups"][0]
    consumer = daemon.client("elbv2", account="consumer")

    assert consumer.describe_load_balancers()["LoadBalancers"] == []
    assert consumer.describe_target_groups()["TargetGroups"] == []

    def code(fn, **kw):
        with pytest.raises(ClientError) as e:
            fn(**kw)
        return e.value.response["Error"]["Code"]

    assert code(consumer.describe_load_balancers, LoadBalancerArns=[lb["LoadBalancerArn"]]) == "LoadBalancerNotFound"
    assert code(consumer.describe_load_balancers, Names=["private"]) == "LoadBalancerNotFound"
    assert code(consumer.delete_load_balancer, LoadBalancerArn=lb["LoadBalancerArn"]) == "LoadBalancerNotFound"
    assert code(consumer.describe_target_health, TargetGroupArn=tg["TargetGroupArn"]) == "TargetGroupNotFound"
    assert code(consumer.register_targets, TargetGroupArn=tg["TargetGroupArn"],
                Targets=[{"Id": "10.0.1.10"}]) == "TargetGroupNotFound"
    assert code(consumer.delete_target_group, TargetGroupArn=tg["TargetGroupArn"]) == "TargetGroupNotFound"
    assert code(consumer.describe_listeners, LoadBalancerArn=lb["LoadBalancerArn"]) == "LoadBalancerNotFound"
    # The provider's subnets and VPC do not exist for the consumer.
    assert code(consumer.create_load_balancer, Name="steal", Type="network", Scheme="internal",
                Subnets=[sub_a["SubnetId"]]) == "SubnetNotFound"
    assert code(consumer.create_target_group, Name="steal", Protocol="TCP", Port=80, VpcId=vpc,
                TargetType="ip") == "ValidationError"
    # The consumer may use the same names in its own account.
    cvpc = make_vpc(daemon, "10.0.0.0/16", account="consumer")
    csub = make_subnet(daemon, cvpc, "10.0.1.0/24", "use1-az1", account="consumer")["SubnetId"]
    mine = consumer.create_load_balancer(Name="private", Type="network", Scheme="internal",
                                         Subnets=[csub])["LoadBalancers"][0]
    assert mine["LoadBalancerArn"].startswith("arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/net/")
    assert nlb_interfaces(daemon, account="consumer")[0]["OwnerId"] == "222222222222"

    # Everything the provider made is still there.
    assert [l["LoadBalancerName"] for l in daemon.aws("elbv2", "describe-load-balancers")["LoadBalancers"]] == \
        ["private"]
    assert len(nlb_interfaces(daemon)) == 1


def test_target_group_lifecycle_with_boto3(daemon):
    """Needs only a VPC: groups, targets, health before any listener, attributes, delete."""
    vpc = make_vpc(daemon)
    elb = daemon.client("elbv2")
    tg = elb.create_target_group(Name="api", Protocol="TCP", Port=5000, VpcId=vpc, TargetType="ip",
                                 HealthCheckPort="5001", HealthCheckTimeoutSeconds=5,
                                 Tags=[{"Key": "env", "Value": "test"}])["TargetGroups"][0]
    arn = tg["TargetGroupArn"]
    assert tg["HealthCheckPort"] == "5001" and tg["HealthCheckTimeoutSeconds"] == 5
    assert elb.create_target_group(Name="api", Protocol="TCP", Port=5000, VpcId=vpc, TargetType="ip",
                                   HealthCheckPort="5001", HealthCheckTimeoutSeconds=5,
                                   )["TargetGroups"][0]["TargetGroupArn"] == arn

    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.1.10"}, {"Id": "172.16.0.5", "Port": 6000,
                                                                            "AvailabilityZone": "all"}])
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert sorted((h["Target"]["Id"], h["Target"]["Port"], h["HealthCheckPort"]) for h in health) == [
        ("10.0.1.10", 5000, "5001"), ("172.16.0.5", 6000, "5001")]
    assert {h["TargetHealth"]["State"] for h in health} == {"unused"}
    asked = elb.describe_target_health(TargetGroupArn=arn, Targets=[{"Id": "10.0.9.9"}])["TargetHealthDescriptions"]
    assert asked[0]["TargetHealth"]["Reason"] == "Target.NotRegistered"

    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "172.16.0.5", "Port": 6000}])
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    assert [h["Target"]["Id"] for h in health] == ["10.0.1.10"]

    attrs = elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "proxy_protocol_v2.enabled", "Value": "true"},
        {"Key": "deregistration_delay.timeout_seconds", "Value": "10"}])["Attributes"]
    got = {a["Key"]: a["Value"] for a in attrs}
    assert got["proxy_protocol_v2.enabled"] == "true"
    assert got["deregistration_delay.timeout_seconds"] == "10"
    assert got["stickiness.type"] == "source_ip"
    with pytest.raises(ClientError) as e:
        elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "proxy_protocol_v2.enabled", "Value": "false"}, {"Key": "bogus", "Value": "x"}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    after = elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    assert {"Key": "proxy_protocol_v2.enabled", "Value": "true"} in after  # the refused call changed nothing

    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "owner", "Value": "me"}, {"Key": "env", "Value": "prod"}])
    elb.remove_tags(ResourceArns=[arn], TagKeys=["owner"])
    described = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    assert described == [{"ResourceArn": arn, "Tags": [{"Key": "env", "Value": "prod"}]}]
    consumer = daemon.client("elbv2", account="consumer")
    with pytest.raises(ClientError) as e:
        consumer.describe_tags(ResourceArns=[arn])
    assert e.value.response["Error"]["Code"] == "TargetGroupNotFound"

    changed = elb.modify_target_group(TargetGroupArn=arn, HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                      HealthyThresholdCount=2)["TargetGroups"][0]
    assert (changed["HealthCheckIntervalSeconds"], changed["HealthCheckTimeoutSeconds"],
            changed["HealthyThresholdCount"], changed["Port"]) == (5, 2, 2, 5000)

    elb.delete_target_group(TargetGroupArn=arn)
    with pytest.raises(ClientError) as e:
        elb.describe_target_groups(TargetGroupArns=[arn])
    assert e.value.response["Error"]["Code"] == "TargetGroupNotFound"


def test_a_load_balancer_behind_an_endpoint_service_cannot_be_deleted(daemon, provider_net):
    vpc, sub_a, sub_b = provider_net
    lb_arn = daemon.aws("elbv2", "create-load-balancer", "--name", "svc-nlb", "--type", "network", "--scheme",
                        "internal", "--subnets", sub_a["SubnetId"], sub_b["SubnetId"]
                        )["LoadBalancers"][0]["LoadBalancerArn"]
    created = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb_arn,
                         "--acceptance-required", check=False)
    if isinstance(created, AwsError):
        if created.code == "InvalidAction":
            pytest.skip("CreateVpcEndpointServiceConfiguration is not served yet")
        raise created
    service_id = created["ServiceConfiguration"]["ServiceId"]
    assert daemon.aws_error("elbv2", "delete-load-balancer", "--load-balancer-arn", lb_arn).code == "ResourceInUse"
    assert len(nlb_interfaces(daemon)) == 2
    daemon.aws("ec2", "delete-vpc-endpoint-service-configurations", "--service-ids", service_id)
    daemon.aws("elbv2", "delete-load-balancer", "--load-balancer-arn", lb_arn)
    assert nlb_interfaces(daemon) == []
