"""CreateTags / DeleteTags / DescribeTags end to end over VPCs, subnets,
security groups and network interfaces, with the real AWS CLI v2 and boto3."""

import pytest
from botocore.exceptions import ClientError


def resources(daemon, account="provider"):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", account=account)["Vpc"]["VpcId"]
    sub = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24",
                     account=account)["Subnet"]["SubnetId"]
    sg = daemon.aws("ec2", "create-security-group", "--group-name", "g", "--description", "g", "--vpc-id", vpc,
                    account=account)["GroupId"]
    eni = daemon.aws("ec2", "create-network-interface", "--subnet-id", sub,
                     account=account)["NetworkInterface"]["NetworkInterfaceId"]
    return {"vpc": vpc, "subnet": sub, "security-group": sg, "network-interface": eni}


def tag_map(daemon, rid, account="provider"):
    out = daemon.aws("ec2", "describe-tags", "--filters", f"Name=resource-id,Values={rid}", account=account)["Tags"]
    for t in out:
        assert t["ResourceId"] == rid
    return {t["Key"]: t["Value"] for t in out}


def test_create_describe_delete_on_every_kind(daemon):
    res = resources(daemon)
    daemon.aws("ec2", "create-tags", "--resources", *res.values(), "--tags", "Key=env,Value=prod", "Key=team,Value=")
    for kind, rid in res.items():
        got = daemon.aws("ec2", "describe-tags", "--filters", f"Name=resource-id,Values={rid}")["Tags"]
        assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in got) == [("env", "prod", kind),
                                                                                  ("team", "", kind)]
    # The resources' own Describe shows them.
    v = daemon.aws("ec2", "describe-vpcs", "--vpc-ids", res["vpc"])["Vpcs"][0]
    assert sorted((t["Key"], t["Value"]) for t in v["Tags"]) == [("env", "prod"), ("team", "")]
    n = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                   res["network-interface"])["NetworkInterfaces"][0]
    assert sorted((t["Key"], t["Value"]) for t in n["TagSet"]) == [("env", "prod"), ("team", "")]

    # Overwrite.
    daemon.aws("ec2", "create-tags", "--resources", res["vpc"], "--tags", "Key=env,Value=dev")
    assert tag_map(daemon, res["vpc"]) == {"env": "dev", "team": ""}

    by_type = daemon.aws("ec2", "describe-tags", "--filters", "Name=resource-type,Values=subnet")["Tags"]
    assert {t["ResourceId"] for t in by_type} == {res["subnet"]}
    by_kv = daemon.aws("ec2", "describe-tags", "--filters", "Name=key,Values=env", "Name=value,Values=prod")["Tags"]
    assert {t["ResourceId"] for t in by_kv} == {res["subnet"], res["security-group"], res["network-interface"]}

    # DeleteTags value semantics.
    daemon.aws("ec2", "delete-tags", "--resources", res["subnet"], "--tags", "Key=env,Value=wrong")
    assert tag_map(daemon, res["subnet"]) == {"env": "prod", "team": ""}
    daemon.aws("ec2", "delete-tags", "--resources", res["subnet"], "--tags", "Key=env")
    assert tag_map(daemon, res["subnet"]) == {"team": ""}
    daemon.aws("ec2", "delete-tags", "--resources", res["subnet"], "--tags", "Key=team,Value=")
    assert tag_map(daemon, res["subnet"]) == {}
    ec2 = daemon.client("ec2")
    ec2.delete_tags(Resources=[res["security-group"]], Tags=[{"Key": "team", "Value": ""}])
    assert tag_map(daemon, res["security-group"]) == {"env": "prod"}
    # No tags at all: everything goes.
    daemon.aws("ec2", "delete-tags", "--resources", res["network-interface"])
    assert tag_map(daemon, res["network-interface"]) == {}


def test_errors_change_nothing(daemon):
    res = resources(daemon)
    vpc = res["vpc"]

    def code(*args, account="provider"):
        return daemon.aws_error("ec2", *args, account=account).code

    assert code("create-tags", "--resources", "foo-12345678", "--tags", "Key=a,Value=b") == "InvalidID"
    missing = {"vpc-0123456789abcdef0": "InvalidVpcID.NotFound",
               "subnet-0123456789abcdef0": "InvalidSubnetID.NotFound",
               "sg-0123456789abcdef0": "InvalidGroup.NotFound",
               "eni-0123456789abcdef0": "InvalidNetworkInterfaceID.NotFound",
               "vpce-0123456789abcdef0": "InvalidVpcEndpointId.NotFound",
               "vpce-svc-0123456789abcdef0": "InvalidVpcEndpointServiceId.NotFound"}
    for rid, c in missing.items():
        # All or nothing: the good VPC in the same call is not tagged.
        assert code("create-tags", "--resources", vpc, rid, "--tags", "Key=a,Value=b") == c
        assert code("delete-tags", "--resources", rid) == c
    assert tag_map(daemon, vpc) == {}
    # Another account's resource is not found.
    assert code("create-tags", "--resources", vpc, "--tags", "Key=a,Value=b",
                account="consumer") == "InvalidVpcID.NotFound"
    assert code("delete-tags", "--resources", res["network-interface"],
                account="consumer") == "InvalidNetworkInterfaceID.NotFound"
    assert daemon.aws("ec2", "describe-tags", account="consumer")["Tags"] == []
    assert code("create-tags", "--resources", vpc, "--tags", "Key=aws:x,Value=1") == "InvalidTagKey.Malformed"
    assert code("create-tags", "--resources", vpc, "--tags", "Key=a,Value=b", "--dry-run") == "DryRunOperation"
    assert tag_map(daemon, vpc) == {}

    # 50 tags per resource.
    ec2 = daemon.client("ec2")
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    with pytest.raises(ClientError) as e:
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "x", "Value": "1"}, {"Key": "y", "Value": "2"}])
    assert e.value.response["Error"]["Code"] == "TagLimitExceeded"
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k0", "Value": "w"}, {"Key": "x", "Value": "1"}])
    assert len(tag_map(daemon, vpc)) == 50
    assert daemon.aws_error("ec2", "describe-tags", "--filters", "Name=nope,Values=1").code == "InvalidParameterValue"


def test_pagination(daemon):
    res = resources(daemon)
    ec2 = daemon.client("ec2")
    ec2.create_tags(Resources=list(res.values()), Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(4)])
    want = {(rid, f"k{i}") for rid in res.values() for i in range(4)}
    seen = []
    for page in ec2.get_paginator("describe_tags").paginate(PaginationConfig={"PageSize": 5}):
        assert len(page["Tags"]) <= 5
        seen += [(t["ResourceId"], t["Key"]) for t in page["Tags"]]
    assert len(seen) == len(set(seen)) and set(seen) == want
    first = daemon.aws("ec2", "describe-tags", "--max-items", "6", "--page-size", "5")
    rest = daemon.aws("ec2", "describe-tags", "--starting-token", first["NextToken"], "--page-size", "5")
    both = [(t["ResourceId"], t["Key"]) for t in first["Tags"] + rest["Tags"]]
    assert len(both) == 16 and set(both) == want
