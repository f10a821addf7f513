"""What Terraform's aws_instance does around an instance besides running it, end to
end with the real AWS CLI v2 and boto3: the root volume as a BlockDeviceMapping asks
(size, type, encryption, DeleteOnTermination) and refused as AWS refuses it, with
nothing made; tags on the vol- id (CreateTags/DeleteTags/DescribeTags and
DescribeVolumes' tag filters); a volume that outlives its instance, available, until
DeleteVolume; and ModifyInstanceCreditSpecification with its per-instance errors,
read back by DescribeInstanceCreditSpecifications. One daemon for the file. Needs
root (an instance is a namespace)."""
import json
import os

import pytest

from lp import Daemon, serving_with_instances, wait_for
from lp import error_code as code

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

AMI_OWNER = "136693071363"  # Debian's account


@pytest.fixture(scope="module")
def d():
    with serving_with_instances(Daemon().start()) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def net(d):
    ec2 = d.client("ec2")
    images = ec2.describe_images(Owners=[AMI_OWNER],
                                 Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"]
    vpc = ec2.create_vpc(CidrBlock="10.173.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.173.1.0/24", AvailabilityZoneId="use1-az1")["Subnet"]
    return {"ami": images[0], "subnet": sub["SubnetId"], "zone": sub["AvailabilityZone"]}


def run(d, net, *extra, itype="t3.micro"):
    return d.aws("ec2", "run-instances", "--image-id", net["ami"]["ImageId"], "--instance-type", itype,
                 "--count", "1", "--subnet-id", net["subnet"], *extra)["Instances"][0]


def instances(d):
    return [i["InstanceId"] for r in d.client("ec2").describe_instances()["Reservations"] for i in r["Instances"]]


def volumes(d, **kw):
    return d.client("ec2").describe_volumes(**kw)["Volumes"]


def test_root_volume_as_the_mapping_asks_with_tags_and_kept_after_termination(d, net):
    ec2 = d.client("ec2")
    # The image's root device is the one mapped; its snapshot is 8 GiB.
    img = net["ami"]
    assert img["RootDeviceName"] == "/dev/xvda"
    mapping = [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True,
                                                   "DeleteOnTermination": False}}]
    i = run(d, net, "--block-device-mappings", json.dumps(mapping), "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=Name,Value=db}]", "ResourceType=volume,Tags=[{Key=Name,Value=db-root}]")
    iid = i["InstanceId"]
    bdm = i["BlockDeviceMappings"]
    assert [b["DeviceName"] for b in bdm] == ["/dev/xvda"] and bdm[0]["Ebs"]["DeleteOnTermination"] is False
    vid = bdm[0]["Ebs"]["VolumeId"]
    v = volumes(d, VolumeIds=[vid])[0]
    assert (v["Size"], v["VolumeType"], v["Iops"], v["Throughput"], v["Encrypted"]) == (20, "gp3", 3000, 125, True)
    assert v["State"] == "in-use" and v["AvailabilityZone"] == net["zone"]
    assert v["SnapshotId"].startswith("snap-")
    assert v["Attachments"][0]["InstanceId"] == iid and v["Attachments"][0]["Device"] == "/dev/xvda"
    assert v["Attachments"][0]["DeleteOnTermination"] is False
    assert v["Tags"] == [{"Key": "Name", "Value": "db-root"}]
    attr = ec2.describe_instance_attribute(InstanceId=iid, Attribute="blockDeviceMapping")["BlockDeviceMappings"]
    assert attr[0]["Ebs"]["VolumeId"] == vid and attr[0]["Ebs"]["DeleteOnTermination"] is False

    # Tags on the vol- id, through the AWS CLI, and DescribeVolumes' tag filters.
    d.aws("ec2", "create-tags", "--resources", vid, "--tags", "Key=team,Value=data", "Key=tmp,Value=1")
    d.aws("ec2", "delete-tags", "--resources", vid, "--tags", "Key=tmp")
    assert [x["VolumeId"] for x in volumes(d, Filters=[{"Name": "tag:team", "Values": ["data"]}])] == [vid]
    assert volumes(d, Filters=[{"Name": "tag:team", "Values": ["web"]}]) == []
    tags = d.aws("ec2", "describe-tags", "--filters", "Name=resource-type,Values=volume")["Tags"]
    assert sorted((t["ResourceId"], t["Key"], t["Value"]) for t in tags) == [(vid, "Name", "db-root"),
                                                                           (vid, "team", "data")]
    ec2c = d.client("ec2", "consumer")
    assert code(ec2c.create_tags, Resources=[vid], Tags=[{"Key": "x", "Value": "y"}]) == "InvalidVolume.NotFound"
    assert code(ec2c.describe_volumes, VolumeIds=[vid]) == "InvalidVolume.NotFound"

    # In use, it cannot be deleted; terminated, its instance leaves it available.
    assert d.aws_error("ec2", "delete-volume", "--volume-id", vid).code == "VolumeInUse"
    ec2.terminate_instances(InstanceIds=[iid])
    assert wait_for(lambda: volumes(d, VolumeIds=[vid])[0]["State"] == "available", 30, 0.2)
    v = volumes(d, VolumeIds=[vid])[0]
    assert v["Attachments"] == [] and v["Size"] == 20
    assert [x["VolumeId"] for x in volumes(d, Filters=[{"Name": "status", "Values": ["available"]}])] == [vid]
    assert code(ec2c.delete_volume, VolumeId=vid) == "InvalidVolume.NotFound"
    d.aws("ec2", "delete-volume", "--volume-id", vid)
    assert code(ec2.describe_volumes, VolumeIds=[vid]) == "InvalidVolume.NotFound"

    # The default mapping: 8 GiB gp2, gone with its instance.
    i = run(d, net)
    vid = i["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    v = volumes(d, VolumeIds=[vid])[0]
    assert (v["Size"], v["VolumeType"], v["Iops"], v["Encrypted"]) == (8, "gp2", 100, False)
    ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    assert wait_for(lambda: not volumes(d, Filters=[{"Name": "volume-id", "Values": [vid]}]), 30, 0.2)


# Refused mappings, each with AWS's code, and nothing made by any of them.
BAD_MAPPINGS = [
    ({"VolumeSize": 20, "VolumeType": "gp9"}, "/dev/xvda", "InvalidParameterValue"),
    ({"VolumeSize": 500, "VolumeType": "st1"}, "/dev/xvda", "InvalidBlockDeviceMapping"),  # not bootable
    ({"VolumeSize": 20000}, "/dev/xvda", "InvalidParameterValue"),        # over gp2's 16 TiB
    ({"VolumeSize": 20, "VolumeType": "io1"}, "/dev/xvda", "MissingParameter"),  # io1 needs Iops
    ({"VolumeSize": 20, "Iops": 3000}, "/dev/xvda", "InvalidParameterCombination"),  # not for gp2
    ({"VolumeSize": 20}, "/dev/sdf", "InvalidBlockDeviceMapping"),        # only the root volume here
]


def test_bad_mappings_are_refused_and_make_nothing(d, net):
    ec2 = d.client("ec2")
    before = instances(d), [v["VolumeId"] for v in volumes(d)]
    # Through the AWS CLI: below the image's 8 GiB root snapshot.
    err = d.aws_error("ec2", "run-instances", "--image-id", net["ami"]["ImageId"], "--instance-type", "t3.micro",
                      "--count", "1", "--subnet-id", net["subnet"], "--block-device-mappings",
                      json.dumps([{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 4}}]))
    assert err.code == "InvalidBlockDeviceMapping", err.message
    assert "smaller than snapshot" in err.message and "expect size >= 8GB" in err.message
    for ebs, device, want in BAD_MAPPINGS:
        got = code(ec2.run_instances, ImageId=net["ami"]["ImageId"], InstanceType="t3.micro", MinCount=1,
                   MaxCount=1, SubnetId=net["subnet"], BlockDeviceMappings=[{"DeviceName": device, "Ebs": ebs}])
        assert got == want, (ebs, device)
    assert (instances(d), [v["VolumeId"] for v in volumes(d)]) == before


def test_credit_specification_modified_per_instance(d, net):
    t3 = run(d, net)["InstanceId"]
    m5 = d.client("ec2").run_instances(ImageId=net["ami"]["ImageId"], InstanceType="m5.large", MinCount=1, MaxCount=1,
                                       SubnetId=net["subnet"])["Instances"][0]["InstanceId"]
    # CreditSpecification at launch, for a t-type.
    t2 = run(d, net, "--credit-specification", "CpuCredits=unlimited", itype="t2.micro")["InstanceId"]
    assert code(d.client("ec2").run_instances, ImageId=net["ami"]["ImageId"], InstanceType="m5.large", MinCount=1,
                MaxCount=1, SubnetId=net["subnet"],
                CreditSpecification={"CpuCredits": "standard"}) == "InvalidParameterCombination"

    def credits(*ids):
        r = d.aws("ec2", "describe-instance-credit-specifications", "--instance-ids", *ids)
        return {c["InstanceId"]: c["CpuCredits"] for c in r["InstanceCreditSpecifications"]}
    assert credits(t3, t2) == {t3: "unlimited", t2: "unlimited"}

    r = d.aws("ec2", "modify-instance-credit-specification", "--instance-credit-specification",
              f"InstanceId={t3},CpuCredits=standard", f"InstanceId={m5},CpuCredits=standard",
              "InstanceId=i-0123456789abcdef0,CpuCredits=standard", "InstanceId=i-bad,CpuCredits=standard")
    assert [s["InstanceId"] for s in r["SuccessfulInstanceCreditSpecifications"]] == [t3]
    failed = {u["InstanceId"]: u["Error"]["Code"] for u in r["UnsuccessfulInstanceCreditSpecifications"]}
    assert failed == {m5: "InstanceCreditSpecification.NotSupported",
                      "i-0123456789abcdef0": "InvalidInstanceID.NotFound", "i-bad": "InvalidInstanceID.Malformed"}
    assert all(u["Error"]["Message"] for u in r["UnsuccessfulInstanceCreditSpecifications"])
    assert credits(t3) == {t3: "standard"}

    # Another account's instance is not found for it; the whole call's errors change nothing.
    ec2c = d.client("ec2", "consumer")
    r = ec2c.modify_instance_credit_specification(
        InstanceCreditSpecifications=[{"InstanceId": t3, "CpuCredits": "unlimited"}])
    assert r["SuccessfulInstanceCreditSpecifications"] == []
    assert r["UnsuccessfulInstanceCreditSpecifications"][0]["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert code(d.client("ec2").modify_instance_credit_specification, InstanceCreditSpecifications=[
        {"InstanceId": t3, "CpuCredits": "unlimited"}, {"InstanceId": t2, "CpuCredits": "turbo"}]) == "InvalidCpuCredits"
    assert code(d.client("ec2").modify_instance_credit_specification, InstanceCreditSpecifications=[
        {"InstanceId": t3, "CpuCredits": "unlimited"}, {"InstanceId": t3, "CpuCredits": "unlimited"}]) == \
        "InvalidInstanceCreditSpecification.DuplicateInstanceId"
    assert credits(t3, t2) == {t3: "standard", t2: "unlimited"}
