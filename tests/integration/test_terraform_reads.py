"""Reads terraform-provider-aws makes that the SDK flows' own calls did not reach, end
to end with the real AWS CLI v2 and boto3 (issue 15, item 4):

- aws_security_group_rule's Read and aws_vpc_security_group_{ingress,egress}_rule's
  Create/Read/Update/Delete: DescribeSecurityGroupRules by group-id filter, by rule
  id, by tag, paginated; CreateTags/DeleteTags/DescribeTags on sgr- ids; revoke by
  rule id; the errors Terraform tells apart (NotFound ends the resource, anything
  else fails the plan);
- aws_lb_listener's Read (provider 5.7x on): DescribeListenerAttributes, and
  ModifyListenerAttributes when tcp_idle_timeout_seconds is set. Debian's botocore
  and AWS CLI predate these two calls, so this file signs them with botocore's SigV4
  signer itself (test_sdk_js.py makes them through the JS SDK);
- aws_lb's destroy: DescribeNetworkInterfaces filtered on
  attachment.instance-owner-id and description (an unknown filter would fail it);
- aws_ebs_volume and aws_volume_attachment: CreateVolume, AttachVolume,
  DetachVolume, DescribeVolumes with attachment filters, DeleteVolume.

One daemon for the file, without the data plane (these are API answers)."""
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lp import ALL_ACCOUNTS, REGION, Daemon, serving_with_instances, wait_for, write_config
from lp import error_code as code  # this file's error_code reads a raw XML answer

AMI_OWNER = "136693071363"  # Debian's account


@pytest.fixture(scope="module")
def d():
    state_dir, config = write_config()
    with serving_with_instances(Daemon(state_dir=state_dir, config=config).start()) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def net(d):
    ec2 = d.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    return {"vpc": vpc, "subnet": subnet}


def test_security_group_rules_as_terraform_reads_and_deletes_them(d, net):
    ec2 = d.client("ec2")
    sg = ec2.create_security_group(GroupName="tf-web", Description="web", VpcId=net["vpc"])["GroupId"]
    peer = ec2.create_security_group(GroupName="tf-peer", Description="peer", VpcId=net["vpc"])["GroupId"]
    # aws_vpc_security_group_ingress_rule's Create: one rule, tagged, its id from the answer.
    made = d.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
                 "IpProtocol=tcp,FromPort=8080,ToPort=8080,IpRanges=[{CidrIp=10.0.0.0/16,Description=nlb}]",
                 "--tag-specifications", "ResourceType=security-group-rule,Tags=[{Key=Name,Value=tf-8080}]")
    rid = made["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    from_peer = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": peer}]}])
    peer_rid = from_peer["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    # aws_security_group_rule's Read: the group's rules, matched on protocol, ports, source.
    rules = d.aws("ec2", "describe-security-group-rules", "--filters", f"Name=group-id,Values={sg}")["SecurityGroupRules"]
    by_id = {r["SecurityGroupRuleId"]: r for r in rules}
    assert set(by_id) >= {rid, peer_rid} and len(rules) == 3, rules  # + the default egress rule
    assert by_id[rid] == {
        "SecurityGroupRuleId": rid, "GroupId": sg, "GroupOwnerId": "111111111111", "IsEgress": False,
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "CidrIpv4": "10.0.0.0/16", "Description": "nlb",
        "Tags": [{"Key": "Name", "Value": "tf-8080"}]}  # Debian's models predate SecurityGroupRuleArn
    assert by_id[peer_rid]["ReferencedGroupInfo"] == {"GroupId": peer, "UserId": "111111111111"}
    assert "CidrIpv4" not in by_id[peer_rid]
    egress = [r for r in rules if r["IsEgress"]]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIpv4"]) for r in egress] == [("-1", -1, -1, "0.0.0.0/0")]

    # aws_vpc_security_group_ingress_rule's Read: by id; and by tag.
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"] == [by_id[rid]]
    tagged = ec2.describe_security_group_rules(Filters=[{"Name": "tag:Name", "Values": ["tf-8080"]}])
    assert [r["SecurityGroupRuleId"] for r in tagged["SecurityGroupRules"]] == [rid]
    # aws_vpc_security_group_ingress_rule's tag update: CreateTags/DeleteTags on the sgr- id.
    ec2.create_tags(Resources=[rid, peer_rid], Tags=[{"Key": "env", "Value": "prod"}])
    ec2.delete_tags(Resources=[rid], Tags=[{"Key": "Name"}])
    described = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["security-group-rule"]}])["Tags"]
    assert sorted((t["ResourceId"], t["Key"], t["Value"]) for t in described) == \
        sorted([(rid, "env", "prod"), (peer_rid, "env", "prod")])
    [read] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert read["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert code(ec2.create_tags, Resources=[rid, "sgr-0123456789abcdef0"],
                Tags=[{"Key": "x", "Value": "y"}]) == "InvalidSecurityGroupRuleId.NotFound"
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"][0]["Tags"] == \
        [{"Key": "env", "Value": "prod"}]
    # The group's rules are as they were (tags live beside them).
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"][0]["FromPort"] in (8080, 5432)
    both = ec2.describe_security_group_rules(
        Filters=[{"Name": "security-group-rule-id", "Values": [rid, peer_rid]}])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in both) == sorted([rid, peer_rid])

    # Pages of 5 over every rule of the account, each rule once.
    for port in range(9000, 9004):
        ec2.authorize_security_group_ingress(GroupId=peer, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    pages = [p["SecurityGroupRules"] for p in
             ec2.get_paginator("describe_security_group_rules").paginate(PaginationConfig={"PageSize": 5})]
    ids = [r["SecurityGroupRuleId"] for page in pages for r in page]
    # 3 rules of tf-web, 5 of tf-peer, 2 of the VPC's default group.
    assert [len(p) for p in pages] == [5, 5] and len(set(ids)) == 10, pages

    # What Terraform tells apart: NotFound ends the resource; the rest fail the plan.
    assert code(ec2.describe_security_group_rules, SecurityGroupRuleIds=["sgr-0123456789abcdef0"]) == \
        "InvalidSecurityGroupRuleId.NotFound"
    assert code(ec2.describe_security_group_rules, SecurityGroupRuleIds=["sg-0123"]) == \
        "InvalidSecurityGroupRuleId.Malformed"
    assert code(ec2.describe_security_group_rules, Filters=[{"Name": "vpc-id", "Values": [net["vpc"]]}]) == \
        "InvalidParameterValue"
    consumer = d.client("ec2", "consumer")
    assert code(consumer.describe_security_group_rules, SecurityGroupRuleIds=[rid]) == \
        "InvalidSecurityGroupRuleId.NotFound"
    assert consumer.describe_security_group_rules()["SecurityGroupRules"] == []

    # aws_vpc_security_group_ingress_rule's Delete: revoke by id, then the id is gone.
    ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=[rid])
    assert code(ec2.describe_security_group_rules, SecurityGroupRuleIds=[rid]) == "InvalidSecurityGroupRuleId.NotFound"
    left = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in left) == sorted([peer_rid, egress[0]["SecurityGroupRuleId"]])


def elb_call(d, action, params, account="provider"):
    """An ELBv2 Query call signed with botocore's SigV4 signer; (status, parsed XML)."""
    _, key, secret = ALL_ACCOUNTS[account]
    body = urllib.parse.urlencode({"Action": action, "Version": "2015-12-01", **params})
    req = AWSRequest(method="POST", url=d.url + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "elasticloadbalancing", REGION).add_auth(req)
    prepared = req.prepare()
    http = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=30) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


def attributes(doc):
    ns = {"e": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"}
    return [(m.find("e:Key", ns).text, m.find("e:Value", ns).text)
            for m in doc.findall(".//e:Attributes/e:member", ns)]


def error_code(doc):
    return doc.find(".//{*}Error/{*}Code").text


def test_listener_attributes_as_terraform_reads_them(d, net):
    elb = d.client("elbv2")
    lb = elb.create_load_balancer(Name="tf-nlb", Type="network", Scheme="internal",
                                  Subnets=[net["subnet"]])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tf-tg", Protocol="TCP", Port=8080, VpcId=net["vpc"],
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=443, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]

    status, doc = elb_call(d, "DescribeListenerAttributes", {"ListenerArn": listener})
    assert status == 200 and attributes(doc) == [("tcp.idle_timeout.seconds", "350")]
    # Writing back the value read (a tcp_idle_timeout_seconds = 350 in the config) is fine.
    status, doc = elb_call(d, "ModifyListenerAttributes", {
        "ListenerArn": listener, "Attributes.member.1.Key": "tcp.idle_timeout.seconds",
        "Attributes.member.1.Value": "350"})
    assert status == 200 and attributes(doc) == [("tcp.idle_timeout.seconds", "350")]

    def refused(params, account="provider"):
        status, doc = elb_call(d, "ModifyListenerAttributes", {"ListenerArn": listener, **params}, account)
        assert status == 400
        return error_code(doc)

    def one(key, value):
        return {"Attributes.member.1.Key": key, "Attributes.member.1.Value": value}

    # Another idle timeout is not a setting of one listener here: said, nothing changes.
    assert refused(one("tcp.idle_timeout.seconds", "600")) == "InvalidConfigurationRequest"
    assert refused(one("tcp.idle_timeout.seconds", "59")) == "ValidationError"
    assert refused(one("tcp.idle_timeout.seconds", "ten")) == "ValidationError"
    assert refused(one("routing.http.response.server.enabled", "true")) == "ValidationError"
    assert refused({}) == "ValidationError"
    assert refused(one("tcp.idle_timeout.seconds", "350"), account="consumer") == "ListenerNotFound"
    status, doc = elb_call(d, "DescribeListenerAttributes", {"ListenerArn": listener})
    assert attributes(doc) == [("tcp.idle_timeout.seconds", "350")]
    status, doc = elb_call(d, "DescribeListenerAttributes", {"ListenerArn": listener}, "consumer")
    assert status == 400 and error_code(doc) == "ListenerNotFound"
    status, doc = elb_call(d, "DescribeListenerAttributes", {"ListenerArn": "arn:aws:ec2:nope"})
    assert status == 400 and error_code(doc) == "ValidationError"


def test_network_interface_filters_of_an_lb_destroy(d, net):
    ec2 = d.client("ec2")
    image = [i for i in ec2.describe_images(Owners=[AMI_OWNER])["Images"] if i["Architecture"] == "x86_64"][0]
    iid = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=net["subnet"])["Instances"][0]["InstanceId"]

    # waitForNLBNetworkInterfacesToDetach: none of AWS's amazon-* owned node interfaces here.
    assert ec2.describe_network_interfaces(Filters=[
        {"Name": "attachment.instance-owner-id", "Values": ["amazon-aws"]},
        {"Name": "description", "Values": ["ELB net/tf-nlb/*"]}])["NetworkInterfaces"] == []
    # The instance's own interface carries its attachment, owned by the account; the CLI agrees.
    mine = d.aws("ec2", "describe-network-interfaces", "--filters",
                 "Name=attachment.instance-owner-id,Values=111111111111")["NetworkInterfaces"]
    assert [(e["Attachment"]["InstanceId"], e["Attachment"]["InstanceOwnerId"]) for e in mine] == [(iid, "111111111111")]
    by_attachment = ec2.describe_network_interfaces(Filters=[
        {"Name": "attachment.attachment-id", "Values": [mine[0]["Attachment"]["AttachmentId"]]}])["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in by_attachment] == [mine[0]["NetworkInterfaceId"]]


def test_data_volumes_as_aws_ebs_volume_and_aws_volume_attachment_make_them(d, net):
    ec2 = d.client("ec2")
    image = [i for i in ec2.describe_images(Owners=[AMI_OWNER])["Images"] if i["Architecture"] == "x86_64"][0]
    iid = ec2.run_instances(ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=net["subnet"])["Instances"][0]["InstanceId"]
    root = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
    assert [v["Attachments"][0]["Device"] for v in root] == ["/dev/xvda"]
    volumes_before = len(ec2.describe_volumes()["Volumes"])

    # aws_ebs_volume's Create, with the ClientToken a retry repeats, then its Read.
    made = d.aws("ec2", "create-volume", "--availability-zone", "us-east-1a", "--size", "10", "--volume-type", "gp3",
                 "--client-token", "tf-data", "--tag-specifications",
                 "ResourceType=volume,Tags=[{Key=Name,Value=tf-data}]")
    vol = made["VolumeId"]
    assert (made["State"], made["Size"], made["VolumeType"], made["Iops"], made["Throughput"], made["Encrypted"],
            made["AvailabilityZone"], made["Tags"]) == \
        ("available", 10, "gp3", 3000, 125, False, "us-east-1a", [{"Key": "Name", "Value": "tf-data"}])
    again = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="gp3", ClientToken="tf-data")
    assert again["VolumeId"] == vol
    assert code(ec2.create_volume, AvailabilityZone="us-east-1a", Size=20, VolumeType="gp3",
                ClientToken="tf-data") == "IdempotentParameterMismatch"
    [read] = ec2.describe_volumes(VolumeIds=[vol])["Volumes"]
    assert read["State"] == "available" and read["Attachments"] == []

    # Refused as AWS refuses, and nothing made.
    zone = {"AvailabilityZone": "us-east-1a"}
    assert code(ec2.create_volume, **zone) == "MissingParameter"
    assert code(ec2.create_volume, AvailabilityZone="us-east-1z", Size=10) == "InvalidParameterValue"
    assert code(ec2.create_volume, **zone, Size=100, VolumeType="sc1") == "InvalidParameterValue"
    assert code(ec2.create_volume, **zone, Size=10, VolumeType="io1") == "MissingParameter"
    assert code(ec2.create_volume, **zone, Size=10, VolumeType="gp2", Iops=500) == "InvalidParameterCombination"
    assert code(ec2.create_volume, **zone, Size=10, KmsKeyId="alias/x", Encrypted=True) == "InvalidParameterValue"
    assert code(ec2.create_volume, **zone, Size=10, VolumeType="io2", Iops=1000,
                MultiAttachEnabled=True) == "UnsupportedOperation"
    assert code(ec2.create_volume, **zone, Size=10, SnapshotId="snap-0123456789abcdef0") == "InvalidSnapshot.NotFound"
    assert len(ec2.describe_volumes()["Volumes"]) == volumes_before + 1

    # aws_volume_attachment: the instance ready, AttachVolume, then the wait for attached.
    assert wait_for(lambda: ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
                    ["State"]["Name"] == "running", 60, 0.2)
    att = d.aws("ec2", "attach-volume", "--volume-id", vol, "--instance-id", iid, "--device", "/dev/sdf")
    assert (att["State"], att["Device"], att["InstanceId"], att["VolumeId"]) == ("attaching", "/dev/sdf", iid, vol)

    def attachment(device="/dev/sdf"):
        return ec2.describe_volumes(VolumeIds=[vol], Filters=[
            {"Name": "attachment.device", "Values": [device]},
            {"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]

    [v] = attachment()
    assert v["State"] == "in-use"
    assert [(a["State"], a["Device"], a["InstanceId"], a["DeleteOnTermination"]) for a in v["Attachments"]] == \
        [("attached", "/dev/sdf", iid, False)]

    other = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    far = ec2.create_volume(AvailabilityZone="us-east-1b", Size=1)["VolumeId"]
    assert code(ec2.attach_volume, VolumeId=vol, InstanceId=iid, Device="/dev/sdg") == "VolumeInUse"
    assert code(ec2.attach_volume, VolumeId=other, InstanceId=iid, Device="/dev/sdf") == "InvalidParameterValue"
    assert code(ec2.attach_volume, VolumeId=other, InstanceId=iid, Device="/dev/xvda") == "InvalidParameterValue"
    assert code(ec2.attach_volume, VolumeId=far, InstanceId=iid, Device="/dev/sdg") == "InvalidVolume.ZoneMismatch"
    assert code(ec2.attach_volume, VolumeId=other, InstanceId="i-0123456789abcdef0",
                Device="/dev/sdg") == "InvalidInstanceID.NotFound"
    assert code(ec2.delete_volume, VolumeId=vol) == "VolumeInUse"
    assert code(ec2.detach_volume, VolumeId=root[0]["VolumeId"]) == "UnsupportedOperation"
    assert code(ec2.detach_volume, VolumeId=vol, InstanceId="i-0123456789abcdef0") == "IncorrectState"
    assert [a["State"] for a in attachment()[0]["Attachments"]] == ["attached"]

    # aws_volume_attachment's Delete: DetachVolume, then the wait finds no attachment.
    det = d.aws("ec2", "detach-volume", "--volume-id", vol, "--instance-id", iid, "--device", "/dev/sdf")
    assert (det["State"], det["Device"], det["InstanceId"]) == ("detaching", "/dev/sdf", iid)
    assert attachment() == []
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"] == "available"
    assert code(ec2.detach_volume, VolumeId=vol) == "IncorrectState"

    # Attached again, the instance terminated: the data volume stays, detached.
    ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/xvdf")
    ec2.terminate_instances(InstanceIds=[iid])
    assert wait_for(lambda: ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["State"] == "available", 60, 0.2)
    assert ec2.describe_volumes(VolumeIds=[vol])["Volumes"][0]["Attachments"] == []
    assert code(ec2.describe_volumes, VolumeIds=[root[0]["VolumeId"]]) == "InvalidVolume.NotFound"
    # aws_ebs_volume's Delete.
    for v in (vol, other, far):
        ec2.delete_volume(VolumeId=v)
    assert code(ec2.describe_volumes, VolumeIds=[vol]) == "InvalidVolume.NotFound"
