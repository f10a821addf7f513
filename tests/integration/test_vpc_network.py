"""Route tables, network ACLs, prefix lists, regions and account attributes end to
end with boto3 and the real AWS CLI v2: what every VPC gets, the reads Terraform's
aws_vpc makes on every refresh, the create/associate/replace/delete calls of
aws_route_table, aws_network_acl and their entries, ClientToken and
TagSpecifications, and DeleteVpc refusing while any of them is inside."""

import pytest
from botocore.exceptions import ClientError

from lp import REGION


def code_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"]


def make_vpc(ec2, cidr="10.0.0.0/16"):
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def test_vpc_has_main_route_table_and_default_acl_as_terraform_reads_them(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(ec2)
    # The three reads terraform-provider-aws makes on every refresh of aws_vpc.
    rts = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                             {"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert len(rts) == 1
    rt = rts[0]
    assert rt["RouteTableId"].startswith("rtb-") and rt["VpcId"] == vpc and rt["OwnerId"] == "111111111111"
    assert rt["Routes"] == [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
                             "Origin": "CreateRouteTable", "State": "active"}]
    assert rt["PropagatingVgws"] == [] and rt["Tags"] == []
    [main] = rt["Associations"]
    assert main["Main"] is True and main["RouteTableId"] == rt["RouteTableId"] and "SubnetId" not in main
    assert main["RouteTableAssociationId"].startswith("rtbassoc-")
    assert main["AssociationState"] == {"State": "associated"}

    acls = ec2.describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]},
                                              {"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]
    assert len(acls) == 1
    acl = acls[0]
    assert acl["NetworkAclId"].startswith("acl-") and acl["IsDefault"] is True and acl["VpcId"] == vpc
    assert acl["Associations"] == [] and acl["Tags"] == [] and acl["OwnerId"] == "111111111111"
    assert [(e["RuleNumber"], e["Egress"], e["Protocol"], e["RuleAction"], e["CidrBlock"]) for e in acl["Entries"]] == [
        (100, False, "-1", "allow", "0.0.0.0/0"), (32767, False, "-1", "deny", "0.0.0.0/0"),
        (100, True, "-1", "allow", "0.0.0.0/0"), (32767, True, "-1", "deny", "0.0.0.0/0")]
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]},
                                                   {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    assert len(groups) == 1

    # Another VPC's and another account's are not seen.
    other = make_vpc(ec2, "10.1.0.0/16")
    assert len(ec2.describe_route_tables()["RouteTables"]) == 2
    assert daemon.client("ec2", account="consumer").describe_route_tables()["RouteTables"] == []
    assert daemon.client("ec2", account="consumer").describe_network_acls()["NetworkAcls"] == []
    assert code_of(daemon.client("ec2", account="consumer").describe_route_tables,
                   RouteTableIds=[rt["RouteTableId"]]) == "InvalidRouteTableID.NotFound"
    ec2.delete_vpc(VpcId=other)
    # The main route table and default ACL go with their VPC.
    assert len(ec2.describe_route_tables()["RouteTables"]) == 1
    assert len(ec2.describe_network_acls()["NetworkAcls"]) == 1


def test_subnets_join_the_default_acl_and_route_tables_associate(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(ec2)
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    default = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]
    assert sorted(a["SubnetId"] for a in default["Associations"]) == sorted([s1, s2])
    for a in default["Associations"]:
        assert a["NetworkAclId"] == default["NetworkAclId"] and a["NetworkAclAssociationId"].startswith("aclassoc-")

    rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=[
        {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "private"}]}])["RouteTable"]
    assert rt["Associations"] == [] and rt["Tags"] == [{"Key": "Name", "Value": "private"}]
    assert rt["Routes"][0]["DestinationCidrBlock"] == "10.0.0.0/16"
    rtid = rt["RouteTableId"]
    assoc = ec2.associate_route_table(RouteTableId=rtid, SubnetId=s1)
    assert assoc["AssociationId"].startswith("rtbassoc-") and assoc["AssociationState"]["State"] == "associated"
    assert code_of(ec2.associate_route_table, RouteTableId=rtid, SubnetId=s1) == "Resource.AlreadyAssociated"
    found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [s1]}])["RouteTables"]
    assert [r["RouteTableId"] for r in found] == [rtid]
    assert found[0]["Associations"][0]["SubnetId"] == s1 and found[0]["Associations"][0]["Main"] is False
    assert len(ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["private"]}])["RouteTables"]) == 1

    # Deleting is refused while associated, and the main one never goes.
    assert code_of(ec2.delete_route_table, RouteTableId=rtid) == "DependencyViolation"
    main = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                              {"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    assert code_of(ec2.delete_route_table, RouteTableId=main["RouteTableId"]) == "DependencyViolation"
    assert code_of(ec2.disassociate_route_table,
                   AssociationId=main["Associations"][0]["RouteTableAssociationId"]) == "InvalidParameterValue"
    # DeleteVpc refuses while a non-main route table is inside (subnets gone first).
    moved = ec2.replace_route_table_association(AssociationId=assoc["AssociationId"],
                                                RouteTableId=main["RouteTableId"])
    assert moved["NewAssociationId"] != assoc["AssociationId"]
    assert ec2.describe_route_tables(RouteTableIds=[rtid])["RouteTables"][0]["Associations"] == []
    ec2.disassociate_route_table(AssociationId=moved["NewAssociationId"])
    assert code_of(ec2.disassociate_route_table, AssociationId=moved["NewAssociationId"]) == \
        "InvalidAssociationID.NotFound"
    ec2.associate_route_table(RouteTableId=rtid, SubnetId=s2)
    ec2.delete_subnet(SubnetId=s1)
    ec2.delete_subnet(SubnetId=s2)  # takes its route table and ACL associations with it
    assert ec2.describe_route_tables(RouteTableIds=[rtid])["RouteTables"][0]["Associations"] == []
    assert ec2.describe_network_acls(NetworkAclIds=[default["NetworkAclId"]])["NetworkAcls"][0]["Associations"] == []
    assert code_of(ec2.delete_vpc, VpcId=vpc) == "DependencyViolation"
    ec2.delete_route_table(RouteTableId=rtid)
    assert code_of(ec2.describe_route_tables, RouteTableIds=[rtid]) == "InvalidRouteTableID.NotFound"
    ec2.delete_vpc(VpcId=vpc)
    assert ec2.describe_route_tables()["RouteTables"] == [] and ec2.describe_network_acls()["NetworkAcls"] == []


def test_network_acl_entries_and_associations(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(ec2)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=[
        {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "strict"}]}])["NetworkAcl"]
    aid = acl["NetworkAclId"]
    assert acl["IsDefault"] is False and acl["Associations"] == [] and acl["Tags"] == [{"Key": "Name", "Value": "strict"}]
    assert [(e["RuleNumber"], e["Egress"], e["RuleAction"]) for e in acl["Entries"]] == [
        (32767, False, "deny"), (32767, True, "deny")]

    ec2.create_network_acl_entry(NetworkAclId=aid, RuleNumber=110, Protocol="6", RuleAction="allow", Egress=False,
                                 CidrBlock="10.1.0.0/16", PortRange={"From": 443, "To": 443})
    ec2.create_network_acl_entry(NetworkAclId=aid, RuleNumber=100, Protocol="1", RuleAction="deny", Egress=False,
                                 CidrBlock="0.0.0.0/0", IcmpTypeCode={"Type": 8, "Code": -1})
    ec2.create_network_acl_entry(NetworkAclId=aid, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True,
                                 CidrBlock="0.0.0.0/0")
    entries = ec2.describe_network_acls(NetworkAclIds=[aid])["NetworkAcls"][0]["Entries"]
    assert [(e["Egress"], e["RuleNumber"]) for e in entries] == [(False, 100), (False, 110), (False, 32767),
                                                                 (True, 100), (True, 32767)]
    tcp = entries[1]
    assert tcp["Protocol"] == "6" and tcp["PortRange"] == {"From": 443, "To": 443} and "IcmpTypeCode" not in tcp
    assert entries[0]["IcmpTypeCode"] == {"Type": 8, "Code": -1} and "PortRange" not in entries[0]

    # Errors change nothing.
    dup = dict(NetworkAclId=aid, RuleNumber=110, Protocol="-1", RuleAction="allow", Egress=False, CidrBlock="0.0.0.0/0")
    assert code_of(ec2.create_network_acl_entry, **dup) == "NetworkAclEntryAlreadyExists"
    assert code_of(ec2.create_network_acl_entry, **dict(dup, RuleNumber=32767)) == "InvalidParameterValue"
    assert code_of(ec2.create_network_acl_entry, **dict(dup, RuleNumber=120, Protocol="6")) == "MissingParameter"
    assert code_of(ec2.create_network_acl_entry, **dict(dup, RuleNumber=120, RuleAction="maybe")) == \
        "InvalidParameterValue"
    assert code_of(ec2.create_network_acl_entry, **dict(dup, RuleNumber=120, CidrBlock="10.0.0.0/33")) == \
        "InvalidParameterValue"
    assert code_of(ec2.replace_network_acl_entry, **dict(dup, RuleNumber=120)) == "InvalidNetworkAclEntry.NotFound"
    assert code_of(ec2.delete_network_acl_entry, NetworkAclId=aid, RuleNumber=32767, Egress=False) == \
        "InvalidNetworkAclEntry.NotFound"
    assert code_of(ec2.create_network_acl_entry, **dict(dup, NetworkAclId="acl-0123456789abcdef0")) == \
        "InvalidNetworkAclID.NotFound"
    assert ec2.describe_network_acls(NetworkAclIds=[aid])["NetworkAcls"][0]["Entries"] == entries

    ec2.replace_network_acl_entry(**dict(dup, CidrBlock="10.2.0.0/16", RuleAction="deny"))
    ec2.delete_network_acl_entry(NetworkAclId=aid, RuleNumber=100, Egress=False)
    entries = ec2.describe_network_acls(NetworkAclIds=[aid])["NetworkAcls"][0]["Entries"]
    assert [(e["Egress"], e["RuleNumber"], e["RuleAction"], e["CidrBlock"]) for e in entries][:2] == [
        (False, 110, "deny", "10.2.0.0/16"), (False, 32767, "deny", "0.0.0.0/0")]
    assert "PortRange" not in entries[0]
    f = ec2.describe_network_acls(Filters=[{"Name": "entry.rule-number", "Values": ["110"]}])["NetworkAcls"]
    assert [a["NetworkAclId"] for a in f] == [aid]

    # Terraform's aws_network_acl subnet_ids: find the subnet's association, replace it.
    cur = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
    assert len(cur) == 1 and cur[0]["IsDefault"] is True
    old = [a for a in cur[0]["Associations"] if a["SubnetId"] == subnet][0]["NetworkAclAssociationId"]
    new = ec2.replace_network_acl_association(AssociationId=old, NetworkAclId=aid)["NewAssociationId"]
    assert new.startswith("aclassoc-") and new != old
    mine = ec2.describe_network_acls(NetworkAclIds=[aid])["NetworkAcls"][0]["Associations"]
    assert mine == [{"NetworkAclAssociationId": new, "NetworkAclId": aid, "SubnetId": subnet}]
    assert code_of(ec2.replace_network_acl_association, AssociationId=old, NetworkAclId=aid) == \
        "InvalidAssociationID.NotFound"
    assert code_of(ec2.delete_network_acl, NetworkAclId=aid) == "DependencyViolation"
    default = cur[0]["NetworkAclId"]
    assert code_of(ec2.delete_network_acl, NetworkAclId=default) == "InvalidParameterValue"
    back = ec2.replace_network_acl_association(AssociationId=new, NetworkAclId=default)["NewAssociationId"]
    assert [a["NetworkAclAssociationId"] for a in
            ec2.describe_network_acls(NetworkAclIds=[default])["NetworkAcls"][0]["Associations"]] == [back]
    ec2.delete_subnet(SubnetId=subnet)
    assert code_of(ec2.delete_vpc, VpcId=vpc) == "DependencyViolation"  # the non-default ACL is inside
    ec2.delete_network_acl(NetworkAclId=aid)
    ec2.delete_vpc(VpcId=vpc)


def with_client_token(ec2, operation, token):
    """Debian's botocore predates ClientToken on CreateRouteTable/CreateNetworkAcl
    (newer SDKs send it): add it to the form body before signing, as they do."""
    def add(request, **_):
        request.data["ClientToken"] = token
    ec2.meta.events.register(f"before-sign.ec2.{operation}", add, unique_id=f"token-{operation}")


def test_client_token_makes_creates_idempotent(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(ec2)
    other = make_vpc(ec2, "10.1.0.0/16")
    for create, key in ((ec2.create_route_table, "RouteTable"), (ec2.create_network_acl, "NetworkAcl")):
        id_key = key + "Id"
        with_client_token(ec2, "Create" + key, "tok-" + key)
        first, again = create(VpcId=vpc)[key], create(VpcId=vpc)[key]
        assert first[id_key] == again[id_key]
        assert code_of(create, VpcId=other) == "IdempotentParameterMismatch"
    assert len(ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]) == 2
    assert len(ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]) == 2


def test_tags_on_route_tables_and_acls(daemon):
    ec2 = daemon.client("ec2")
    vpc = make_vpc(ec2)
    rt = ec2.describe_route_tables()["RouteTables"][0]["RouteTableId"]
    acl = ec2.describe_network_acls()["NetworkAcls"][0]["NetworkAclId"]
    ec2.create_tags(Resources=[rt, acl], Tags=[{"Key": "env", "Value": "dev"}])
    assert ec2.describe_route_tables(Filters=[{"Name": "tag:env", "Values": ["dev"]}])["RouteTables"][0]["Tags"] == \
        [{"Key": "env", "Value": "dev"}]
    assert ec2.describe_network_acls(Filters=[{"Name": "tag-key", "Values": ["env"]}])["NetworkAcls"][0]["VpcId"] == vpc
    kinds = sorted(t["ResourceType"] for t in ec2.describe_tags()["Tags"])
    assert kinds == ["network-acl", "route-table"]
    assert code_of(ec2.create_route_table, VpcId=vpc, TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}]) == "InvalidParameterValue"


def test_describe_filters_and_pagination(daemon):
    ec2 = daemon.client("ec2")
    vpcs = [make_vpc(ec2, f"10.{i}.0.0/16") for i in range(7)]
    seen, token = [], None
    while True:
        page = ec2.describe_route_tables(MaxResults=5, **({"NextToken": token} if token else {}))
        seen += [r["RouteTableId"] for r in page["RouteTables"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 7 == len(set(seen))
    assert code_of(ec2.describe_route_tables, MaxResults=1000) == "InvalidParameterValue"
    assert code_of(ec2.describe_route_tables, Filters=[{"Name": "bogus", "Values": ["x"]}]) == "InvalidParameterValue"
    assert code_of(ec2.describe_network_acls, NetworkAclIds=["acl-nothex"]) == "InvalidNetworkAclId.Malformed"
    assert ec2.describe_network_acls(Filters=[{"Name": "default", "Values": ["false"]}])["NetworkAcls"] == []
    only = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": vpcs[:2]}])["NetworkAcls"]
    assert sorted(a["VpcId"] for a in only) == sorted(vpcs[:2])


def test_regions_account_attributes_and_prefix_lists(daemon):
    ec2 = daemon.client("ec2")
    regions = ec2.describe_regions()["Regions"]
    assert regions == [{"RegionName": REGION, "Endpoint": f"ec2.{REGION}.amazonaws.com",
                        "OptInStatus": "opt-in-not-required"}]
    assert ec2.describe_regions(AllRegions=True)["Regions"] == regions
    assert ec2.describe_regions(RegionNames=[REGION])["Regions"] == regions
    assert code_of(ec2.describe_regions, RegionNames=["eu-west-9"]) == "InvalidParameterValue"
    assert ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-*"]}])["Regions"] == []

    attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
             for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attrs["supported-platforms"] == ["VPC"] and attrs["default-vpc"] == ["none"]
    assert attrs["vpc-max-security-groups-per-interface"] == ["5"]
    one = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert one == [{"AttributeName": "default-vpc", "AttributeValues": [{"AttributeValue": "none"}]}]

    # aws_vpc_endpoint's read: a prefix list named after an interface service is not found, which is fine.
    svc = f"com.amazonaws.vpce.{REGION}.vpce-svc-0123456789abcdef0"
    assert ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [svc]}])["PrefixLists"] == []
    assert ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [svc]}])["PrefixLists"] == []
    assert code_of(ec2.describe_prefix_lists, PrefixListIds=["pl-0123456789abcdef0"]) == \
        "InvalidPrefixListID.NotFound"
    assert code_of(ec2.describe_prefix_lists, Filters=[{"Name": "bogus", "Values": ["x"]}]) == "InvalidParameterValue"


def test_cli_reads_route_tables_and_acls(daemon):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16")["Vpc"]["VpcId"]
    out = daemon.aws("ec2", "describe-route-tables", "--filters", f"Name=vpc-id,Values={vpc}")
    assert out["RouteTables"][0]["Associations"][0]["Main"] is True
    out = daemon.aws("ec2", "describe-network-acls", "--filters", "Name=default,Values=true")
    assert out["NetworkAcls"][0]["Entries"][0]["RuleNumber"] == 100
    assert daemon.aws_error("ec2", "delete-network-acl", "--network-acl-id",
                            out["NetworkAcls"][0]["NetworkAclId"]).code == "InvalidParameterValue"
