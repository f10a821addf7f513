"""Subnets and availability zones end to end with the real AWS CLI v2 and boto3:
CIDR rules, per-account zone names, available address counts, filters,
pagination, dependencies and account isolation."""

import pytest
from botocore.exceptions import ClientError

from lp import REGION


def make_vpc(daemon, cidr="10.0.0.0/16", account="provider"):
    return daemon.aws("ec2", "create-vpc", "--cidr-block", cidr, account=account)["Vpc"]["VpcId"]


def make_subnet(daemon, vpc, cidr, account="provider", *extra):
    return daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, *extra, account=account)["Subnet"]


def zones(daemon, account):
    return daemon.aws("ec2", "describe-availability-zones", account=account)["AvailabilityZones"]


def test_availability_zones_are_named_per_account(daemon):
    p, c = zones(daemon, "provider"), zones(daemon, "consumer")
    assert len(p) >= 2
    for z in p:
        assert z["State"] == "available" and z["RegionName"] == REGION and z["ZoneType"] == "availability-zone"
        assert z["OptInStatus"] == "opt-in-not-required" and z["ZoneName"].startswith(REGION)
        assert z["GroupName"] == REGION and z["NetworkBorderGroup"] == REGION and z["Messages"] == []
    assert sorted(z["ZoneId"] for z in p) == sorted(z["ZoneId"] for z in c)
    pmap = {z["ZoneId"]: z["ZoneName"] for z in p}
    cmap = {z["ZoneId"]: z["ZoneName"] for z in c}
    assert pmap != cmap, "the two accounts must see different name->zone mappings"
    assert zones(daemon, "provider") == p  # stable

    zid = p[0]["ZoneId"]
    only = daemon.aws("ec2", "describe-availability-zones", "--zone-ids", zid, account="consumer")["AvailabilityZones"]
    assert [(z["ZoneId"], z["ZoneName"]) for z in only] == [(zid, cmap[zid])]
    byname = daemon.aws("ec2", "describe-availability-zones", "--zone-names", pmap[zid])["AvailabilityZones"]
    assert [z["ZoneId"] for z in byname] == [zid]
    f = daemon.aws("ec2", "describe-availability-zones", "--filters", f"Name=zone-id,Values={zid}")
    assert [z["ZoneName"] for z in f["AvailabilityZones"]] == [pmap[zid]]
    assert daemon.aws_error("ec2", "describe-availability-zones", "--zone-names",
                            f"{REGION}zz").code == "InvalidParameterValue"
    assert daemon.aws_error("ec2", "describe-availability-zones", "--filters",
                            "Name=bogus,Values=x").code == "InvalidParameterValue"


def test_create_describe_delete_subnet(daemon):
    vpc = make_vpc(daemon)
    pzones = zones(daemon, "provider")
    s = make_subnet(daemon, vpc, "10.0.1.0/24", "provider", "--availability-zone", pzones[1]["ZoneName"],
                    "--tag-specifications", "ResourceType=subnet,Tags=[{Key=Name,Value=app}]")
    assert s["SubnetId"].startswith("subnet-") and s["VpcId"] == vpc and s["CidrBlock"] == "10.0.1.0/24"
    assert s["AvailabilityZone"] == pzones[1]["ZoneName"] and s["AvailabilityZoneId"] == pzones[1]["ZoneId"]
    assert s["AvailableIpAddressCount"] == 251 and s["DefaultForAz"] is False and s["MapPublicIpOnLaunch"] is False
    assert s["OwnerId"] == "111111111111" and s["State"] == "available"
    assert s["SubnetArn"] == f"arn:aws:ec2:{REGION}:111111111111:subnet/{s['SubnetId']}"
    assert s["Tags"] == [{"Key": "Name", "Value": "app"}]

    got = daemon.aws("ec2", "describe-subnets", "--subnet-ids", s["SubnetId"])["Subnets"]
    assert got == [s]

    # By zone id; the name is the caller's.
    s2 = make_subnet(daemon, vpc, "10.0.2.0/28", "provider", "--availability-zone-id", pzones[0]["ZoneId"])
    assert s2["AvailabilityZone"] == pzones[0]["ZoneName"] and s2["AvailableIpAddressCount"] == 11
    # Neither: some zone of the region.
    s3 = make_subnet(daemon, vpc, "10.0.3.0/24")
    assert s3["AvailabilityZoneId"] in {z["ZoneId"] for z in pzones}

    # DryRun changes nothing.
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.9.0/24", "--dry-run")
    assert e.code == "DryRunOperation"
    assert len(daemon.aws("ec2", "describe-subnets")["Subnets"]) == 3

    for sub in (s, s2, s3):
        daemon.aws("ec2", "delete-subnet", "--subnet-id", sub["SubnetId"])
    assert daemon.aws("ec2", "describe-subnets")["Subnets"] == []
    assert daemon.aws_error("ec2", "delete-subnet", "--subnet-id", s["SubnetId"]).code == "InvalidSubnetID.NotFound"
    daemon.aws("ec2", "delete-vpc", "--vpc-id", vpc)


@pytest.mark.parametrize("cidr,code", [
    ("10.1.0.0/24", "InvalidSubnet.Range"),      # outside the VPC
    ("10.0.0.0/15", "InvalidSubnet.Range"),      # too big
    ("10.0.0.0/29", "InvalidSubnet.Range"),      # too small
    ("10.0.0.0/16", "InvalidSubnet.Conflict"),   # overlaps 10.0.0.0/24
    ("10.0.0.128/25", "InvalidSubnet.Conflict"),
    ("10.0.300.0/24", "InvalidParameterValue"),
    ("10.0.5.1/24", "InvalidParameterValue"),    # host bits set
])
def test_create_subnet_cidr_errors(daemon, cidr, code):
    vpc = make_vpc(daemon)
    make_subnet(daemon, vpc, "10.0.0.0/24")
    assert daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr).code == code
    assert len(daemon.aws("ec2", "describe-subnets")["Subnets"]) == 1


def test_create_subnet_other_errors(daemon):
    vpc = make_vpc(daemon)
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24",
                         "--availability-zone", f"{REGION}q")
    assert e.code == "InvalidParameterValue"
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24",
                         "--availability-zone-id", "use1-az99")
    assert e.code == "InvalidAvailabilityZone"
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", "vpc-0123456789abcdef0", "--cidr-block", "10.0.0.0/24")
    assert e.code == "InvalidVpcID.NotFound"
    # Another account's VPC is not found either.
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24", account="consumer")
    assert e.code == "InvalidVpcID.NotFound"
    e = daemon.aws_error("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24",
                         "--tag-specifications", "ResourceType=vpc,Tags=[{Key=a,Value=b}]")
    assert e.code == "InvalidParameterValue"
    assert daemon.aws("ec2", "describe-subnets")["Subnets"] == []
    assert daemon.aws_error("ec2", "describe-subnets", "--subnet-ids",
                            "subnet-0123456789abcdef0").code == "InvalidSubnetID.NotFound"


def test_subnet_limit(daemon, tmp_path):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(daemon)
    # The default quota is 200 per VPC; fill it with /28s.
    for i in range(200):
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/28")
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.250.0/28")
    assert e.value.response["Error"]["Code"] == "SubnetLimitExceeded"


def test_zone_names_differ_between_accounts_for_same_zone(daemon):
    pz = {z["ZoneId"]: z["ZoneName"] for z in zones(daemon, "provider")}
    cz = {z["ZoneId"]: z["ZoneName"] for z in zones(daemon, "consumer")}
    zid = next(z for z in pz if pz[z] != cz[z])
    pv, cv = make_vpc(daemon), make_vpc(daemon, account="consumer")
    ps = make_subnet(daemon, pv, "10.0.0.0/24", "provider", "--availability-zone-id", zid)
    cs = make_subnet(daemon, cv, "10.0.0.0/24", "consumer", "--availability-zone-id", zid)
    assert ps["AvailabilityZone"] == pz[zid] and cs["AvailabilityZone"] == cz[zid]
    assert ps["AvailabilityZone"] != cs["AvailabilityZone"]
    # Filtering by name uses the caller's names.
    got = daemon.aws("ec2", "describe-subnets", "--filters", f"Name=availability-zone,Values={cz[zid]}",
                     account="consumer")["Subnets"]
    assert [s["SubnetId"] for s in got] == [cs["SubnetId"]]


def test_accounts_are_isolated(daemon):
    pv = make_vpc(daemon)
    ps = make_subnet(daemon, pv, "10.0.0.0/24")
    assert daemon.aws("ec2", "describe-subnets", account="consumer")["Subnets"] == []
    e = daemon.aws_error("ec2", "describe-subnets", "--subnet-ids", ps["SubnetId"], account="consumer")
    assert e.code == "InvalidSubnetID.NotFound"
    e = daemon.aws_error("ec2", "delete-subnet", "--subnet-id", ps["SubnetId"], account="consumer")
    assert e.code == "InvalidSubnetID.NotFound"
    assert len(daemon.aws("ec2", "describe-subnets")["Subnets"]) == 1


def test_delete_subnet_with_interface_is_refused(daemon):
    vpc = make_vpc(daemon)
    s = make_subnet(daemon, vpc, "10.0.0.0/24")
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", s["SubnetId"])["NetworkInterface"]
    got = daemon.aws("ec2", "describe-subnets", "--subnet-ids", s["SubnetId"])["Subnets"][0]
    assert got["AvailableIpAddressCount"] == 250
    e = daemon.aws_error("ec2", "delete-subnet", "--subnet-id", s["SubnetId"])
    assert e.code == "DependencyViolation"
    daemon.aws("ec2", "delete-network-interface", "--network-interface-id", eni["NetworkInterfaceId"])
    daemon.aws("ec2", "delete-subnet", "--subnet-id", s["SubnetId"])


def test_filters(daemon):
    vpc1, vpc2 = make_vpc(daemon), make_vpc(daemon, "10.1.0.0/16")
    pz = zones(daemon, "provider")
    a = make_subnet(daemon, vpc1, "10.0.0.0/24", "provider", "--availability-zone", pz[0]["ZoneName"],
                    "--tag-specifications", "ResourceType=subnet,Tags=[{Key=tier,Value=web}]")
    b = make_subnet(daemon, vpc1, "10.0.1.0/28", "provider", "--availability-zone", pz[1]["ZoneName"],
                    "--tag-specifications", "ResourceType=subnet,Tags=[{Key=tier,Value=db}]")
    c = make_subnet(daemon, vpc2, "10.1.0.0/24", "provider", "--availability-zone", pz[0]["ZoneName"])

    def ids(*filters):
        out = daemon.aws("ec2", "describe-subnets", "--filters", *filters)["Subnets"]
        return sorted(s["SubnetId"] for s in out)

    assert ids(f"Name=vpc-id,Values={vpc1}") == sorted([a["SubnetId"], b["SubnetId"]])
    assert ids("Name=cidr-block,Values=10.0.1.0/28") == [b["SubnetId"]]
    assert ids("Name=cidr,Values=10.1.0.0/24") == [c["SubnetId"]]
    assert ids("Name=cidrBlock,Values=10.0.0.0/24") == [a["SubnetId"]]
    assert ids(f"Name=availability-zone,Values={pz[0]['ZoneName']}") == sorted([a["SubnetId"], c["SubnetId"]])
    assert ids(f"Name=availability-zone-id,Values={pz[1]['ZoneId']}") == [b["SubnetId"]]
    assert ids("Name=available-ip-address-count,Values=11") == [b["SubnetId"]]
    assert ids("Name=tag:tier,Values=web,db") == sorted([a["SubnetId"], b["SubnetId"]])
    assert ids("Name=tag-key,Values=tier", f"Name=vpc-id,Values={vpc1}", "Name=tag:tier,Values=w*") == [a["SubnetId"]]
    assert ids("Name=state,Values=available", "Name=owner-id,Values=111111111111",
               "Name=default-for-az,Values=false") == sorted([a["SubnetId"], b["SubnetId"], c["SubnetId"]])
    assert ids(f"Name=subnet-id,Values={c['SubnetId']}") == [c["SubnetId"]]
    assert daemon.aws_error("ec2", "describe-subnets", "--filters",
                            "Name=nonsense,Values=x").code == "InvalidParameterValue"


def test_pagination(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(daemon)
    made = {ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in range(13)}
    seen = []
    for page in ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5}):
        assert len(page["Subnets"]) <= 5
        seen += [s["SubnetId"] for s in page["Subnets"]]
    assert sorted(seen) == sorted(made)
    cli = daemon.aws("ec2", "describe-subnets", "--page-size", "5")["Subnets"]
    assert sorted(s["SubnetId"] for s in cli) == sorted(made)
    first = daemon.aws("ec2", "describe-subnets", "--max-items", "6", "--page-size", "5")
    assert len(first["Subnets"]) == 6 and first["NextToken"]
    rest = daemon.aws("ec2", "describe-subnets", "--starting-token", first["NextToken"], "--page-size", "5")
    both = [s["SubnetId"] for s in first["Subnets"] + rest["Subnets"]]
    assert len(both) == len(set(both)) and set(both) == made
    page = ec2.describe_subnets(MaxResults=5)
    assert len(page["Subnets"]) == 5 and page["NextToken"]
