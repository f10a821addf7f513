"""The daemon answers the real AWS CLI and boto3, and refuses bad credentials."""

from lp import ACCOUNTS


def test_cli_creates_and_describes_a_vpc(daemon):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
    found = daemon.aws("ec2", "describe-vpcs", "--vpc-ids", vpc["VpcId"])["Vpcs"]
    assert [v["CidrBlock"] for v in found] == ["10.0.0.0/16"]


def test_boto3_get_caller_identity_names_each_account(daemon):
    for name, (account_id, _, _) in ACCOUNTS.items():
        ident = daemon.client("sts", account=name).get_caller_identity()
        assert ident["Account"] == account_id
        assert ident["Arn"] == f"arn:aws:iam::{account_id}:root"
