"""Workload network interfaces end to end with the real AWS CLI v2 and boto3:
addresses, security groups, idempotency tokens, filters, pagination and
account isolation."""

import pytest
from botocore.exceptions import ClientError


def setup_subnet(daemon, account="provider", cidr="10.0.0.0/24"):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", account=account)["Vpc"]["VpcId"]
    sub = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, account=account)["Subnet"]
    return vpc, sub


def default_group(daemon, vpc, account="provider"):
    g = daemon.aws("ec2", "describe-security-groups", "--filters", f"Name=vpc-id,Values={vpc}",
                   "Name=group-name,Values=default", account=account)["SecurityGroups"]
    return g[0]["GroupId"]


def test_create_describe_delete(daemon):
    vpc, sub = setup_subnet(daemon)
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"], "--description", "web",
                     "--tag-specifications",
                     "ResourceType=network-interface,Tags=[{Key=Name,Value=w1}]")["NetworkInterface"]
    assert eni["NetworkInterfaceId"].startswith("eni-")
    assert eni["PrivateIpAddress"] == "10.0.0.4"  # first four addresses are reserved
    assert eni["PrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.0.4", "Primary": True}]
    assert eni["Status"] == "available" and eni["InterfaceType"] == "interface"
    assert eni["RequesterManaged"] is False and eni["OwnerId"] == "111111111111"
    assert eni["VpcId"] == vpc and eni["SubnetId"] == sub["SubnetId"]
    assert eni["AvailabilityZone"] == sub["AvailabilityZone"] and eni["Description"] == "web"
    assert len(eni["MacAddress"].split(":")) == 6
    assert eni["Groups"] == [{"GroupId": default_group(daemon, vpc), "GroupName": "default"}]
    assert eni["TagSet"] == [{"Key": "Name", "Value": "w1"}]

    again = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                       eni["NetworkInterfaceId"])["NetworkInterfaces"]
    assert again == [eni]

    second = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"],
                        "--private-ip-address", "10.0.0.50")["NetworkInterface"]
    assert second["PrivateIpAddress"] == "10.0.0.50"
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"],
                         "--private-ip-address", "10.0.0.50")
    assert e.code == "InvalidIPAddress.InUse"
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"],
                         "--private-ip-address", "10.0.5.5")
    assert e.code == "InvalidParameterValue"
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"], "--dry-run")
    assert e.code == "DryRunOperation"
    assert len(daemon.aws("ec2", "describe-network-interfaces")["NetworkInterfaces"]) == 2

    for x in (eni, second):
        daemon.aws("ec2", "delete-network-interface", "--network-interface-id", x["NetworkInterfaceId"])
    assert daemon.aws("ec2", "describe-network-interfaces")["NetworkInterfaces"] == []
    e = daemon.aws_error("ec2", "delete-network-interface", "--network-interface-id", eni["NetworkInterfaceId"])
    assert e.code == "InvalidNetworkInterfaceID.NotFound"


def test_security_groups(daemon):
    vpc, sub = setup_subnet(daemon)
    g = daemon.aws("ec2", "create-security-group", "--group-name", "app", "--description", "app",
                   "--vpc-id", vpc)["GroupId"]
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"],
                     "--groups", g)["NetworkInterface"]
    assert eni["Groups"] == [{"GroupId": g, "GroupName": "app"}]
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"],
                         "--groups", "sg-0123456789abcdef0")
    assert e.code == "InvalidGroup.NotFound"
    # A group of another account is unknown too.
    cvpc, _ = setup_subnet(daemon, account="consumer")
    cg = default_group(daemon, cvpc, account="consumer")
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"], "--groups", cg)
    assert e.code == "InvalidGroup.NotFound"
    assert len(daemon.aws("ec2", "describe-network-interfaces")["NetworkInterfaces"]) == 1
    found = daemon.aws("ec2", "describe-network-interfaces", "--filters", f"Name=group-id,Values={g}")
    assert [x["NetworkInterfaceId"] for x in found["NetworkInterfaces"]] == [eni["NetworkInterfaceId"]]


def test_client_token_idempotency(daemon):
    _, sub = setup_subnet(daemon)
    ec2 = daemon.client("ec2")
    a = ec2.create_network_interface(SubnetId=sub["SubnetId"], Description="x", ClientToken="tok-1")
    b = ec2.create_network_interface(SubnetId=sub["SubnetId"], Description="x", ClientToken="tok-1")
    assert a["NetworkInterface"]["NetworkInterfaceId"] == b["NetworkInterface"]["NetworkInterfaceId"]
    assert b["ClientToken"] == "tok-1"
    with pytest.raises(ClientError) as e:
        ec2.create_network_interface(SubnetId=sub["SubnetId"], Description="other", ClientToken="tok-1")
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    assert len(ec2.describe_network_interfaces()["NetworkInterfaces"]) == 1


def test_accounts_are_isolated(daemon):
    _, sub = setup_subnet(daemon)
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"])["NetworkInterface"]
    eid = eni["NetworkInterfaceId"]
    assert daemon.aws("ec2", "describe-network-interfaces", account="consumer")["NetworkInterfaces"] == []
    e = daemon.aws_error("ec2", "describe-network-interfaces", "--network-interface-ids", eid, account="consumer")
    assert e.code == "InvalidNetworkInterfaceID.NotFound"
    e = daemon.aws_error("ec2", "delete-network-interface", "--network-interface-id", eid, account="consumer")
    assert e.code == "InvalidNetworkInterfaceID.NotFound"
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", sub["SubnetId"], account="consumer")
    assert e.code == "InvalidSubnetID.NotFound"
    assert len(daemon.aws("ec2", "describe-network-interfaces")["NetworkInterfaces"]) == 1


def test_errors(daemon):
    e = daemon.aws_error("ec2", "create-network-interface", "--subnet-id", "subnet-0123456789abcdef0")
    assert e.code == "InvalidSubnetID.NotFound"
    e = daemon.aws_error("ec2", "describe-network-interfaces", "--network-interface-ids", "eni-0123456789abcdef0")
    assert e.code == "InvalidNetworkInterfaceID.NotFound"
    ec2 = daemon.client("ec2")
    with pytest.raises(ClientError) as ce:
        ec2.describe_network_interfaces(NetworkInterfaceIds=["eni-0123456789abcdef0"], MaxResults=5)
    assert ce.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_filters_and_pagination(daemon):
    vpc, sub = setup_subnet(daemon)
    ec2 = daemon.client("ec2")
    made = []
    for i in range(12):
        r = ec2.create_network_interface(SubnetId=sub["SubnetId"], Description=f"n{i % 2}",
                                         TagSpecifications=[{"ResourceType": "network-interface",
                                                             "Tags": [{"Key": "i", "Value": str(i)}]}])
        made.append(r["NetworkInterface"])
    seen = []
    for page in ec2.get_paginator("describe_network_interfaces").paginate(PaginationConfig={"PageSize": 5}):
        assert len(page["NetworkInterfaces"]) <= 5
        seen += [n["NetworkInterfaceId"] for n in page["NetworkInterfaces"]]
    assert len(seen) == len(set(seen)) and set(seen) == {m["NetworkInterfaceId"] for m in made}
    first = daemon.aws("ec2", "describe-network-interfaces", "--max-items", "7", "--page-size", "5")
    rest = daemon.aws("ec2", "describe-network-interfaces", "--starting-token", first["NextToken"])
    both = [n["NetworkInterfaceId"] for n in first["NetworkInterfaces"] + rest["NetworkInterfaces"]]
    assert len(both) == 12 and set(both) == set(seen)

    def ids(*filters):
        out = daemon.aws("ec2", "describe-network-interfaces", "--filters", *filters)["NetworkInterfaces"]
        return sorted(n["NetworkInterfaceId"] for n in out)

    m0 = made[0]
    assert ids("Name=description,Values=n0") == sorted(m["NetworkInterfaceId"] for m in made[::2])
    assert ids(f"Name=private-ip-address,Values={m0['PrivateIpAddress']}") == [m0["NetworkInterfaceId"]]
    assert ids(f"Name=addresses.private-ip-address,Values={m0['PrivateIpAddress']}") == [m0["NetworkInterfaceId"]]
    assert ids(f"Name=mac-address,Values={m0['MacAddress']}") == [m0["NetworkInterfaceId"]]
    assert ids("Name=tag:i,Values=3") == [made[3]["NetworkInterfaceId"]]
    assert len(ids("Name=tag-key,Values=i", f"Name=vpc-id,Values={vpc}", f"Name=subnet-id,Values={sub['SubnetId']}",
                   "Name=interface-type,Values=interface", "Name=requester-managed,Values=false",
                   "Name=status,Values=available", "Name=owner-id,Values=111111111111",
                   f"Name=availability-zone,Values={sub['AvailabilityZone']}",
                   f"Name=availability-zone-id,Values={sub['AvailabilityZoneId']}")) == 12
    assert ids("Name=requester-managed,Values=true") == []
    assert daemon.aws_error("ec2", "describe-network-interfaces", "--filters",
                            "Name=bogus,Values=1").code == "InvalidParameterValue"
