"""Interface endpoints, endpoint services and the acceptance workflow, end to end
with the real AWS CLI and boto3: every CLI example of the seeds, the lifecycle
with its wire spellings, the rules that refuse bad requests (and change nothing),
and isolation between three accounts (provider, consumer, outsider; the outsider
also publishes as a second provider).

The daemon runs with the data plane off, so these tests need no root and pin the
control plane alone; traffic through endpoints is tested in test_dataplane.py."""

import re
import time

import pytest
from botocore.exceptions import ClientError

from lp import ALL_ACCOUNTS, Daemon, serving, write_config

PROVIDER, CONSUMER, OUTSIDER = (ALL_ACCOUNTS[a][0] for a in ("provider", "consumer", "outsider"))


@pytest.fixture
def daemon():
    state_dir, config = write_config(("provider", "consumer", "outsider"),
                                     'zone_ids = ["use1-az1", "use1-az2", "use1-az3"]\ndataplane = false\n'
                                     'dns_listen = ""\n[limits]\ninterface_endpoints_per_vpc = 3\n')
    yield from serving(Daemon(state_dir=state_dir, config=config).start())


def zones(daemon, account):
    """Zone id -> zone name as the account sees them."""
    return {z["ZoneId"]: z["ZoneName"]
            for z in daemon.aws("ec2", "describe-availability-zones", account=account)["AvailabilityZones"]}


def vpc_with_subnets(daemon, account, cidr, zone_ids, dns=True):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", cidr, account=account)["Vpc"]["VpcId"]
    if dns:
        daemon.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", account=account)
    base = cidr.split(".")
    subnets = []
    for i, z in enumerate(zone_ids):
        subnets.append(daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block",
                                  f"{base[0]}.{base[1]}.{i + 1}.0/24", "--availability-zone-id", z,
                                  account=account)["Subnet"]["SubnetId"])
    return vpc, subnets


def network_load_balancer(daemon, zone_ids=("use1-az1", "use1-az2"), account="provider", cidr="10.10.0.0/16",
                          name="svc"):
    """An internal NLB in a new VPC of the account, one subnet per zone, with a TCP
    listener; returns its ARN."""
    vpc, subnets = vpc_with_subnets(daemon, account, cidr, zone_ids)
    lb = daemon.aws("elbv2", "create-load-balancer", "--name", name, "--type", "network", "--scheme", "internal",
                    "--subnets", *subnets, account=account)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = daemon.aws("elbv2", "create-target-group", "--name", f"{name}-tg", "--protocol", "TCP", "--port", "8080",
                    "--vpc-id", vpc, "--target-type", "ip", account=account)["TargetGroups"][0]["TargetGroupArn"]
    daemon.aws("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "TCP", "--port", "443",
               "--default-actions", f"Type=forward,TargetGroupArn={tg}", account=account)
    return lb


def publish_service(daemon, zone_ids=("use1-az1", "use1-az2"), acceptance=True, account="provider"):
    """Provider: an NLB in the given zones behind an endpoint service."""
    lb = network_load_balancer(daemon, zone_ids, account=account)
    flag = "--acceptance-required" if acceptance else "--no-acceptance-required"
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                     flag, account=account)["ServiceConfiguration"]
    return svc, lb


def test_describe_vpc_endpoint_services_lists_the_aws_catalog_as_the_seed_shows(daemon):
    out = daemon.aws("ec2", "describe-vpc-endpoint-services", account="consumer")
    names = out["ServiceNames"]
    for svc in ("ec2", "elasticloadbalancing", "sts", "sns", "kms", "logs", "monitoring", "ssm", "secretsmanager"):
        assert f"com.amazonaws.us-east-1.{svc}" in names
    assert names == sorted(names)
    elb = next(d for d in out["ServiceDetails"] if d["ServiceName"] == "com.amazonaws.us-east-1.elasticloadbalancing")
    consumer_zones = sorted(zones(daemon, "consumer").values())
    assert elb["ServiceType"] == [{"ServiceType": "Interface"}]
    assert elb["PrivateDnsName"] == "elasticloadbalancing.us-east-1.amazonaws.com"
    assert elb["VpcEndpointPolicySupported"] is False
    assert elb["Owner"] == "amazon"
    assert elb["AvailabilityZones"] == consumer_zones
    assert elb["AcceptanceRequired"] is False
    assert elb["BaseEndpointDnsNames"] == ["elasticloadbalancing.us-east-1.vpce.amazonaws.com"]
    assert re.fullmatch(r"vpce-svc-[0-9a-f]{17}", elb["ServiceId"])

    only = daemon.aws("ec2", "describe-vpc-endpoint-services", "--filters",
                      "Name=service-name,Values=com.amazonaws.us-east-1.ec2", account="consumer")
    assert only["ServiceNames"] == ["com.amazonaws.us-east-1.ec2"]
    assert len(daemon.aws("ec2", "describe-vpc-endpoint-services", "--filters",
                          "Name=service-type,Values=Gateway")["ServiceDetails"]) == 0
    err = daemon.aws_error("ec2", "describe-vpc-endpoint-services", "--service-names", "com.amazonaws.us-east-1.nope")
    assert err.code == "InvalidServiceName"

    # Paging with boto3: both lists page together, every service exactly once.
    ec2 = daemon.client("ec2", account="consumer")
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        page = ec2.describe_vpc_endpoint_services(**kw)
        assert page["ServiceNames"] == [d["ServiceName"] for d in page["ServiceDetails"]]
        seen += page["ServiceNames"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names and pages >= 3


def test_interface_endpoint_to_an_aws_service_as_in_the_seed(daemon):
    vpc, (sub_a, sub_b) = vpc_with_subnets(daemon, "consumer", "10.20.0.0/16", ["use1-az1", "use1-az2"])
    sg = daemon.aws("ec2", "create-security-group", "--group-name", "endpoint-sg", "--description", "endpoint",
                    "--vpc-id", vpc, account="consumer")["GroupId"]
    e = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                   "--service-name", "com.amazonaws.us-east-1.elasticloadbalancing", "--subnet-id", sub_a,
                   "--security-group-id", sg, account="consumer")["VpcEndpoint"]
    eid = e["VpcEndpointId"]
    assert re.fullmatch(r"vpce-[0-9a-f]{17}", eid)
    assert (e["VpcEndpointType"], e["VpcId"], e["ServiceName"], e["State"]) == (
        "Interface", vpc, "com.amazonaws.us-east-1.elasticloadbalancing", "pending")
    assert e["PolicyDocument"] == ('{\n  "Statement": [\n    {\n      "Action": "*", \n      "Effect": "Allow", \n'
                                   '      "Principal": "*", \n      "Resource": "*"\n    }\n  ]\n}')
    assert e["RouteTableIds"] == [] and e["SubnetIds"] == [sub_a]
    assert e["Groups"] == [{"GroupId": sg, "GroupName": "endpoint-sg"}]
    assert e["PrivateDnsEnabled"] is True and e["RequesterManaged"] is False
    assert e["OwnerId"] == CONSUMER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", e["CreationTimestamp"])
    zone_a = zones(daemon, "consumer")["use1-az1"]
    label = re.escape(eid) + r"-[a-z0-9]{8}"
    dns = e["DnsEntries"]
    assert len(dns) == 3
    assert re.fullmatch(label + r"\.elasticloadbalancing\.us-east-1\.vpce\.amazonaws\.com", dns[0]["DnsName"])
    assert dns[1]["DnsName"] == dns[0]["DnsName"].replace(".", f"-{zone_a}.", 1)
    assert dns[0]["HostedZoneId"] == dns[1]["HostedZoneId"] == "Z7HUB22UULQXV"
    assert dns[2]["DnsName"] == "elasticloadbalancing.us-east-1.amazonaws.com"
    assert re.fullmatch(r"Z[0-9A-Z]{13}", dns[2]["HostedZoneId"])

    # The requester-managed interface: in the subnet, visible, not the consumer's to manage.
    (eni_id,) = e["NetworkInterfaceIds"]
    eni = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids", eni_id,
                     account="consumer")["NetworkInterfaces"][0]
    assert eni["Description"] == f"VPC Endpoint Interface {eid}"
    assert (eni["InterfaceType"], eni["RequesterManaged"], eni["SubnetId"]) == ("vpc_endpoint", True, sub_a)
    assert eni["PrivateIpAddress"].startswith("10.20.1.")
    assert [g["GroupId"] for g in eni["Groups"]] == [sg]
    assert daemon.aws_error("ec2", "delete-network-interface", "--network-interface-id", eni_id,
                            account="consumer").code == "OperationNotPermitted"

    assert daemon.wait_endpoint_state(eid, "available")["State"] == "available"
    assert daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid,
                      account="consumer")["VpcEndpoints"][0]["DnsEntries"] == dns

    # Seed: modify-vpc-endpoint --add-subnet-id makes one more interface and zonal name.
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--add-subnet-id", sub_b, account="consumer")
    e2 = daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")["VpcEndpoints"][0]
    assert sorted(e2["SubnetIds"]) == sorted([sub_a, sub_b]) and len(e2["NetworkInterfaceIds"]) == 2
    assert len(e2["DnsEntries"]) == 4
    # Removing a subnet deletes its interface.
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--remove-subnet-ids", sub_a,
               account="consumer")
    e3 = daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")["VpcEndpoints"][0]
    assert e3["SubnetIds"] == [sub_b] and eni_id not in e3["NetworkInterfaceIds"]
    assert daemon.aws_error("ec2", "describe-network-interfaces", "--network-interface-ids", eni_id,
                            account="consumer").code == "InvalidNetworkInterfaceID.NotFound"
    # Security groups follow to the interfaces; private DNS can be turned off.
    default_sg = daemon.aws("ec2", "describe-security-groups", "--filters", f"Name=vpc-id,Values={vpc}",
                            "Name=group-name,Values=default", account="consumer")["SecurityGroups"][0]["GroupId"]
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--add-security-group-ids", default_sg,
               "--remove-security-group-ids", sg, "--no-private-dns-enabled", account="consumer")
    e4 = daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")["VpcEndpoints"][0]
    assert [g["GroupId"] for g in e4["Groups"]] == [default_sg] and e4["PrivateDnsEnabled"] is False
    assert all("amazonaws.com" not in d["DnsName"] or ".vpce." in d["DnsName"] for d in e4["DnsEntries"])
    eni_b = daemon.aws("ec2", "describe-network-interfaces", "--network-interface-ids", e4["NetworkInterfaceIds"][0],
                       account="consumer")["NetworkInterfaces"][0]
    assert [g["GroupId"] for g in eni_b["Groups"]] == [default_sg]

    # A group no longer on the endpoint can go; one on it cannot.
    daemon.aws("ec2", "delete-security-group", "--group-id", sg, account="consumer")
    sg2 = daemon.aws("ec2", "create-security-group", "--group-name", "sg2", "--description", "two", "--vpc-id", vpc,
                     account="consumer")["GroupId"]
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--add-security-group-ids", sg2,
               account="consumer")
    assert daemon.aws_error("ec2", "delete-security-group", "--group-id", sg2,
                            account="consumer").code == "DependencyViolation"
    out = daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")
    assert out["Unsuccessful"] == []
    assert daemon.wait_endpoint_state(eid, "deleted")["NetworkInterfaceIds"] == []
    assert daemon.aws("ec2", "describe-network-interfaces", "--filters", f"Name=vpc-id,Values={vpc}",
                      account="consumer")["NetworkInterfaces"] == []


def test_private_dns_rules(daemon):
    vpc, (sub,) = vpc_with_subnets(daemon, "consumer", "10.21.0.0/16", ["use1-az1"], dns=False)
    ec2 = "com.amazonaws.us-east-1.ec2"
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                           "--service-name", ec2, "--subnet-id", sub, account="consumer")
    assert err.code == "InvalidParameter" and "enableDnsHostnames" in err.message
    assert daemon.aws("ec2", "describe-vpc-endpoints", account="consumer")["VpcEndpoints"] == []
    e = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                   "--service-name", ec2, "--subnet-id", sub, "--no-private-dns-enabled",
                   account="consumer")["VpcEndpoint"]
    assert e["PrivateDnsEnabled"] is False and len(e["DnsEntries"]) == 2
    err = daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", e["VpcEndpointId"],
                           "--private-dns-enabled", account="consumer")
    assert err.code == "InvalidParameter"
    daemon.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", account="consumer")
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", e["VpcEndpointId"], "--private-dns-enabled",
               account="consumer")
    # A second endpoint in the VPC cannot claim the same private name.
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                           "--service-name", ec2, "--subnet-id", sub, account="consumer")
    assert err.code == "InvalidParameter" and "conflicting DNS domain" in err.message
    # Endpoint services without a private DNS name refuse it.
    svc, _ = publish_service(daemon, acceptance=False)
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                           "--service-name", svc["ServiceName"], "--subnet-id", sub, "--private-dns-enabled",
                           account="consumer")
    assert err.code == "InvalidParameter" and "private DNS name" in err.message
    plain = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                       "--service-name", svc["ServiceName"], "--subnet-id", sub, account="consumer")["VpcEndpoint"]
    assert plain["PrivateDnsEnabled"] is False and plain["State"] == "pending"
    assert plain["DnsEntries"][0]["DnsName"].endswith(f".{svc['ServiceId']}.us-east-1.vpce.amazonaws.com")


def test_acceptance_workflow_between_provider_and_consumer(daemon):
    svc, lb = publish_service(daemon)
    sid, name = svc["ServiceId"], svc["ServiceName"]
    assert name == f"com.amazonaws.vpce.us-east-1.{sid}"
    assert svc["ServiceState"] == "Available" and svc["AcceptanceRequired"] is True
    assert svc["ServiceType"] == [{"ServiceType": "Interface"}]
    assert svc["NetworkLoadBalancerArns"] == [lb]
    assert svc["BaseEndpointDnsNames"] == [f"{sid}.us-east-1.vpce.amazonaws.com"]
    pz = zones(daemon, "provider")
    assert svc["AvailabilityZones"] == sorted([pz["use1-az1"], pz["use1-az2"]])

    vpc, (sub_a, sub_b, sub_c) = vpc_with_subnets(daemon, "consumer", "10.30.0.0/16",
                                                   ["use1-az1", "use1-az2", "use1-az3"])
    create = ["ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface", "--service-name",
              name, "--subnet-id", sub_a, sub_b]
    # Not allowed yet: invisible and unconnectable.
    assert name not in daemon.aws("ec2", "describe-vpc-endpoint-services", account="consumer")["ServiceNames"]
    assert daemon.aws_error(*create, account="consumer").code == "InvalidServiceName"

    out = daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", sid,
                     "--add-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")
    assert out["ReturnValue"] is True
    assert out["AddedPrincipals"][0]["Principal"] == f"arn:aws:iam::{CONSUMER}:root"
    assert out["AddedPrincipals"][0]["PrincipalType"] == "Account"
    perms = daemon.aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id", sid)["AllowedPrincipals"]
    assert [(p["Principal"], p["PrincipalType"]) for p in perms] == [(f"arn:aws:iam::{CONSUMER}:root", "Account")]
    assert daemon.aws_error("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", sid,
                            "--add-allowed-principals", "bob").code == "InvalidPrincipal"
    assert daemon.aws_error("ec2", "describe-vpc-endpoint-service-permissions", "--service-id", sid,
                            account="consumer").code == "InvalidVpcEndpointServiceId.NotFound"

    detail = daemon.aws("ec2", "describe-vpc-endpoint-services", "--service-names", name,
                        account="consumer")["ServiceDetails"][0]
    cz = zones(daemon, "consumer")
    assert detail["Owner"] == PROVIDER and detail["AcceptanceRequired"] is True
    assert detail["AvailabilityZones"] == sorted([cz["use1-az1"], cz["use1-az2"]])
    # The outsider still cannot see or use it.
    assert name not in daemon.aws("ec2", "describe-vpc-endpoint-services", account="outsider")["ServiceNames"]

    # A subnet in a zone the service does not support is refused.
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                           "--service-name", name, "--subnet-id", sub_c, account="consumer")
    assert err.code == "InvalidParameter"
    e = daemon.aws(*create, account="consumer")["VpcEndpoint"]
    eid = e["VpcEndpointId"]
    assert e["State"] == "pendingAcceptance" and len(e["NetworkInterfaceIds"]) == 2
    time.sleep(0.5)
    assert daemon.wait_endpoint_state(eid, "pendingAcceptance")

    # The provider sees the connection, and only that.
    conns = daemon.aws("ec2", "describe-vpc-endpoint-connections")["VpcEndpointConnections"]
    assert [(c["VpcEndpointId"], c["VpcEndpointOwner"], c["VpcEndpointState"], c["ServiceId"]) for c in conns] == [
        (eid, CONSUMER, "pendingAcceptance", sid)]
    assert conns[0]["NetworkLoadBalancerArns"] == [lb]
    assert daemon.aws("ec2", "describe-vpc-endpoint-connections", account="consumer")["VpcEndpointConnections"] == []
    assert daemon.aws("ec2", "describe-vpc-endpoint-connections", "--filters",
                      "Name=vpc-endpoint-state,Values=available")["VpcEndpointConnections"] == []
    # Nobody but the consumer sees or deletes the endpoint.
    for acct in ("provider", "outsider"):
        assert daemon.aws_error("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid,
                                account=acct).code == "InvalidVpcEndpointId.NotFound"
    out = daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", eid)
    assert out["Unsuccessful"][0]["ResourceId"] == eid
    assert out["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcEndpoint.NotFound"
    # Only the service's owner decides.
    assert daemon.aws_error("ec2", "accept-vpc-endpoint-connections", "--service-id", sid, "--vpc-endpoint-ids", eid,
                            account="consumer").code == "InvalidVpcEndpointServiceId.NotFound"
    # The provider cannot delete a service with connections.
    out = daemon.aws("ec2", "delete-vpc-endpoint-service-configurations", "--service-ids", sid)
    assert out["Unsuccessful"][0]["Error"]["Code"] == "ExistingVpcEndpointConnections"

    out = daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", sid, "--vpc-endpoint-ids", eid,
                     "vpce-0123456789abcdef0")
    assert [u["ResourceId"] for u in out["Unsuccessful"]] == ["vpce-0123456789abcdef0"]
    assert daemon.wait_endpoint_state(eid, "available")
    # Accepting twice is an item error, not a call error.
    out = daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", sid, "--vpc-endpoint-ids", eid)
    assert out["Unsuccessful"][0]["ResourceId"] == eid
    # Reject after available.
    assert daemon.aws("ec2", "reject-vpc-endpoint-connections", "--service-id", sid,
                      "--vpc-endpoint-ids", eid)["Unsuccessful"] == []
    assert daemon.wait_endpoint_state(eid, "rejected")
    conn = daemon.aws("ec2", "describe-vpc-endpoint-connections")["VpcEndpointConnections"][0]
    assert conn["VpcEndpointState"] == "rejected"

    # The consumer deletes; then the provider may delete the service.
    assert daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")["Unsuccessful"] == []
    assert daemon.wait_endpoint_state(eid, "deleted")
    assert daemon.aws("ec2", "delete-vpc-endpoint-service-configurations", "--service-ids", sid)["Unsuccessful"] == []
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations")["ServiceConfigurations"] == []
    assert daemon.aws_error("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                            sid).code == "InvalidVpcEndpointServiceId.NotFound"


def test_everyone_principal_and_auto_accept(daemon):
    svc, _ = publish_service(daemon, acceptance=False)
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", "*")
    vpc, (sub,) = vpc_with_subnets(daemon, "outsider", "10.40.0.0/16", ["use1-az2"])
    e = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                   "--service-name", svc["ServiceName"], "--subnet-id", sub, account="outsider")["VpcEndpoint"]
    assert e["State"] == "pending"
    assert daemon.wait_endpoint_state(e["VpcEndpointId"], "available", account="outsider")
    # Changing the service: acceptance on; its only load balancer cannot go (with
    # two, see test_load_balancers_stay_while_endpoints_are_connected).
    daemon.aws("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", svc["ServiceId"],
               "--acceptance-required")
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids", svc["ServiceId"]
                      )["ServiceConfigurations"][0]["AcceptanceRequired"] is True
    err = daemon.aws_error("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", svc["ServiceId"],
                           "--remove-network-load-balancer-arns", svc["NetworkLoadBalancerArns"][0])
    assert err.code == "InvalidParameter" and "at least one network load balancer" in err.message
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids", svc["ServiceId"]
                      )["ServiceConfigurations"][0]["NetworkLoadBalancerArns"] == svc["NetworkLoadBalancerArns"]


def test_bad_requests_are_refused_and_change_nothing(daemon):
    vpc, (sub_a, sub_a2) = vpc_with_subnets(daemon, "consumer", "10.50.0.0/16", ["use1-az1", "use1-az1"])
    other_vpc, (other_sub,) = vpc_with_subnets(daemon, "consumer", "10.51.0.0/16", ["use1-az2"])
    other_sg = daemon.aws("ec2", "create-security-group", "--group-name", "x", "--description", "x", "--vpc-id",
                          other_vpc, account="consumer")["GroupId"]
    svc = "com.amazonaws.us-east-1.sts"
    base = ["ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface", "--service-name", svc]

    def code(*extra, account="consumer"):
        return daemon.aws_error(*base, *extra, account=account).code

    assert code("--subnet-id", sub_a, sub_a2) == "DuplicateSubnetsInSameZone"
    assert code("--subnet-id", other_sub) == "InvalidParameter"
    assert code("--subnet-id", "subnet-0123456789abcdef0") == "InvalidSubnetID.NotFound"
    assert code("--subnet-id", sub_a, "--security-group-id", other_sg) == "InvalidParameter"
    assert code("--subnet-id", sub_a, "--security-group-id", "sg-0123456789abcdef0") == "InvalidGroup.NotFound"
    assert code("--subnet-id", sub_a, "--security-group-id", "bogus") == "InvalidGroupId.Malformed"
    assert daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Gateway",
                            "--service-name", svc, account="consumer").code == "InvalidVpcEndpointType"
    assert daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                            "--service-name", "com.amazonaws.us-west-2.sts", account="consumer"
                            ).code == "InvalidServiceName"
    assert daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", "vpc-0123456789abcdef0", "--vpc-endpoint-type",
                            "Interface", "--service-name", svc, account="consumer").code == "InvalidVpcID.NotFound"
    # Another account's VPC is not found either.
    assert code("--subnet-id", sub_a, account="provider") == "InvalidVpcID.NotFound"
    assert code("--subnet-id", sub_a, "--dry-run") == "DryRunOperation"
    assert daemon.aws("ec2", "describe-vpc-endpoints", account="consumer")["VpcEndpoints"] == []
    assert daemon.aws("ec2", "describe-network-interfaces", account="consumer")["NetworkInterfaces"] == []

    # ClientToken: the same request returns the same endpoint; a different one is refused.
    first = daemon.aws(*base, "--subnet-id", sub_a, "--client-token", "tok-1", "--tag-specifications",
                       "ResourceType=vpc-endpoint,Tags=[{Key=team,Value=blue}]", account="consumer")["VpcEndpoint"]
    again = daemon.aws(*base, "--subnet-id", sub_a, "--client-token", "tok-1", account="consumer")["VpcEndpoint"]
    assert again["VpcEndpointId"] == first["VpcEndpointId"]
    assert first["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert code("--subnet-id", sub_a2, "--client-token", "tok-1") == "IdempotentParameterMismatch"
    # The per-VPC limit (3 in this config).
    for s in ("com.amazonaws.us-east-1.kms", "com.amazonaws.us-east-1.logs"):
        daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                   "--service-name", s, "--no-private-dns-enabled", account="consumer")
    assert code("--no-private-dns-enabled") == "VpcEndpointLimitExceeded"
    assert len(daemon.aws("ec2", "describe-vpc-endpoints", account="consumer")["VpcEndpoints"]) == 3
    # The VPC cannot go while endpoints live in it.
    assert daemon.aws_error("ec2", "delete-vpc", "--vpc-id", vpc, account="consumer").code == "DependencyViolation"
    # Modify errors.
    eid = first["VpcEndpointId"]
    assert daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--add-subnet-id", sub_a2,
                            account="consumer").code == "DuplicateSubnetsInSameZone"
    assert daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", "vpce-0123456789abcdef0",
                            "--reset-policy", account="consumer").code == "InvalidVpcEndpointId.NotFound"
    assert daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--policy-document", "{nope",
                            account="consumer").code == "InvalidPolicyDocument"
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--policy-document",
               '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}', account="consumer")
    assert "Deny" in daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid,
                                account="consumer")["VpcEndpoints"][0]["PolicyDocument"]
    daemon.aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, "--reset-policy", account="consumer")
    assert "Allow" in daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid,
                                 account="consumer")["VpcEndpoints"][0]["PolicyDocument"]
    # Describe: filters, malformed ids, paging.
    f = daemon.aws("ec2", "describe-vpc-endpoints", "--filters", "Name=tag:team,Values=blue",
                   "Name=vpc-endpoint-state,Values=pending,available", account="consumer")["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in f] == [eid]
    assert daemon.aws("ec2", "describe-vpc-endpoints", "--filters", "Name=service-name,Values=*kms",
                      account="consumer")["VpcEndpoints"][0]["ServiceName"].endswith("kms")
    assert daemon.aws_error("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", "bogus",
                            account="consumer").code == "InvalidVpcEndpointId.Malformed"
    assert daemon.aws_error("ec2", "describe-vpc-endpoints", "--filters", "Name=nope,Values=x",
                            account="consumer").code == "InvalidParameterValue"
    ec2 = daemon.client("ec2", account="consumer")
    pages = list(ec2.get_paginator("describe_vpc_endpoints").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["VpcEndpoints"]) for p in pages] == [2, 1]
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[eid], DryRun=True)
    assert e.value.response["Error"]["Code"] == "DryRunOperation"


def test_provider_side_errors(daemon):
    assert daemon.aws_error("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns",
                            "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/x/0123456789abcdef"
                            ).code == "InvalidNetworkLoadBalancerArn.NotFound"
    assert daemon.aws_error("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns",
                            "not-an-arn").code == "InvalidNetworkLoadBalancerArn.Malformed"
    svc, lb = publish_service(daemon)
    # The consumer cannot use the provider's load balancer or see its services.
    assert daemon.aws_error("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                            account="consumer").code == "InvalidNetworkLoadBalancerArn.NotFound"
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations",
                      account="consumer")["ServiceConfigurations"] == []
    assert daemon.aws_error("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids", "vpce-svc-1",
                            ).code == "InvalidVpcEndpointServiceIdId.Malformed"
    out = daemon.aws("ec2", "delete-vpc-endpoint-service-configurations", "--service-ids", svc["ServiceId"],
                     account="consumer")
    assert out["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcEndpointService.NotFound"
    # Private DNS name: pending verification until verified, then usable by consumers.
    daemon.aws("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", svc["ServiceId"],
               "--private-dns-name", "api.example.internal")
    cfg = daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                     svc["ServiceId"])["ServiceConfigurations"][0]
    assert cfg["PrivateDnsName"] == "api.example.internal"
    assert cfg["PrivateDnsNameConfiguration"]["State"] == "pendingVerification"
    assert cfg["PrivateDnsNameConfiguration"]["Type"] == "TXT"
    daemon.aws("ec2", "start-vpc-endpoint-service-private-dns-verification", "--service-id", svc["ServiceId"])
    cfg = daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--filters",
                     "Name=service-state,Values=Available")["ServiceConfigurations"][0]
    assert cfg["PrivateDnsNameConfiguration"]["State"] == "verified"
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")
    vpc, (sub,) = vpc_with_subnets(daemon, "consumer", "10.60.0.0/16", ["use1-az1"])
    e = daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                   "--service-name", svc["ServiceName"], "--subnet-id", sub, "--private-dns-enabled",
                   account="consumer")["VpcEndpoint"]
    assert e["DnsEntries"][-1]["DnsName"] == "api.example.internal"
    # Tags on services and endpoints through the generic tag calls.
    daemon.aws("ec2", "create-tags", "--resources", svc["ServiceId"], "--tags", "Key=tier,Value=gold")
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--filters",
                      "Name=tag:tier,Values=gold")["ServiceConfigurations"][0]["ServiceId"] == svc["ServiceId"]


def allow(daemon, service_id, account_name, owner="provider"):
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", service_id,
               "--add-allowed-principals", f"arn:aws:iam::{ALL_ACCOUNTS[account_name][0]}:root", account=owner)


def endpoint_to(daemon, service_name, vpc, subnets, *extra, account="consumer"):
    return daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                      "--service-name", service_name, "--subnet-id", *subnets, *extra,
                      account=account)["VpcEndpoint"]


def test_private_dns_names_under_aws_domains_or_held_by_another_account_are_refused(daemon):
    svc, lb = publish_service(daemon)
    sid = svc["ServiceId"]

    def config(account="provider"):
        return daemon.aws("ec2", "describe-vpc-endpoint-service-configurations",
                          account=account)["ServiceConfigurations"]

    # A provider cannot take an AWS API's name (it would answer for STS in every
    # consumer VPC that enables private DNS for its service).
    for name in ("sts.us-east-1.amazonaws.com", "*.us-east-1.amazonaws.com", "ec2.us-east-1.api.aws"):
        err = daemon.aws_error("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", sid,
                               "--private-dns-name", name)
        assert err.code == "InvalidParameter" and "reserved for AWS services" in err.message, name
        err = daemon.aws_error("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                               "--private-dns-name", name)
        assert err.code == "InvalidParameter", name
    assert [(c["ServiceId"], c.get("PrivateDnsName")) for c in config()] == [(sid, None)]

    # First claim owns a name: another account cannot take it, a name under it or a domain over it.
    daemon.aws("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", sid,
               "--private-dns-name", "api.example.internal")
    other_lb = network_load_balancer(daemon, account="outsider")
    for name in ("api.example.internal", "API.example.internal", "v2.api.example.internal", "example.internal"):
        err = daemon.aws_error("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns",
                               other_lb, "--private-dns-name", name, account="outsider")
        assert err.code == "InvalidParameter" and "another account" in err.message, name
    assert config("outsider") == []
    other = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", other_lb,
                       "--private-dns-name", "web.example.internal", account="outsider")["ServiceConfiguration"]
    err = daemon.aws_error("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", other["ServiceId"],
                           "--private-dns-name", "api.example.internal", account="outsider")
    assert err.code == "InvalidParameter"
    assert config("outsider")[0]["PrivateDnsName"] == "web.example.internal"
    # The owner may use its name on a second service.
    again = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                       "--private-dns-name", "api.example.internal")["ServiceConfiguration"]
    assert again["PrivateDnsName"] == "api.example.internal"


def test_describe_vpc_endpoints_filters_and_endpoint_tags(daemon):
    vpc1, (sub1,) = vpc_with_subnets(daemon, "consumer", "10.70.0.0/16", ["use1-az1"])
    vpc2, (sub2,) = vpc_with_subnets(daemon, "consumer", "10.71.0.0/16", ["use1-az2"])
    e1 = endpoint_to(daemon, "com.amazonaws.us-east-1.sts", vpc1, [sub1])["VpcEndpointId"]
    e2 = endpoint_to(daemon, "com.amazonaws.us-east-1.kms", vpc2, [sub2])["VpcEndpointId"]

    def ids(*filters, account="consumer"):
        return sorted(e["VpcEndpointId"] for e in daemon.aws("ec2", "describe-vpc-endpoints", "--filters", *filters,
                                                             account=account)["VpcEndpoints"])

    assert ids(f"Name=vpc-endpoint-id,Values={e1}") == [e1]
    assert ids(f"Name=vpc-endpoint-id,Values={e1},{e2}") == sorted([e1, e2])
    assert ids("Name=vpc-endpoint-id,Values=vpce-0123456789abcdef0") == []
    assert ids(f"Name=vpc-id,Values={vpc2}") == [e2]
    assert ids("Name=vpc-id,Values=vpc-0123456789abcdef0") == []
    assert ids("Name=vpc-endpoint-type,Values=Interface") == sorted([e1, e2])
    assert ids("Name=vpc-endpoint-type,Values=Gateway") == []
    assert ids(f"Name=vpc-id,Values={vpc1}", "Name=vpc-endpoint-type,Values=Interface") == [e1]
    assert ids(f"Name=vpc-endpoint-id,Values={e1}", account="outsider") == []

    # Tags on an existing endpoint: the generic tag calls, seen by Describe and by tag:KEY.
    daemon.aws("ec2", "create-tags", "--resources", e1, "--tags", "Key=team,Value=red", "Key=env,Value=dev",
               account="consumer")
    tags = daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", e1,
                      account="consumer")["VpcEndpoints"][0]["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "red")]
    assert ids("Name=tag:team,Values=red") == [e1]
    assert ids("Name=tag:team,Values=blue") == []
    # Nobody else tags or untags it (the provider of an AWS service is no exception).
    for acct in ("outsider", "provider"):
        assert daemon.aws_error("ec2", "create-tags", "--resources", e1, "--tags", "Key=team,Value=evil",
                                account=acct).code == "InvalidVpcEndpointId.NotFound"
        assert daemon.aws_error("ec2", "delete-tags", "--resources", e1, "--tags", "Key=team",
                                account=acct).code == "InvalidVpcEndpointId.NotFound"
    assert ids("Name=tag:team,Values=red") == [e1]
    daemon.aws("ec2", "delete-tags", "--resources", e1, "--tags", "Key=team", account="consumer")
    assert ids("Name=tag:team,Values=red") == []
    assert daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", e1,
                      account="consumer")["VpcEndpoints"][0]["Tags"] == [{"Key": "env", "Value": "dev"}]


def test_a_removed_principal_can_no_longer_discover_or_connect(daemon):
    svc, _ = publish_service(daemon, acceptance=False)
    sid, name = svc["ServiceId"], svc["ServiceName"]
    allow(daemon, sid, "consumer")
    allow(daemon, sid, "outsider")
    vpc, (sub,) = vpc_with_subnets(daemon, "consumer", "10.72.0.0/16", ["use1-az1"])
    assert name in daemon.aws("ec2", "describe-vpc-endpoint-services", account="consumer")["ServiceNames"]

    out = daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", sid,
                     "--remove-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")
    assert out["ReturnValue"] is True
    perms = daemon.aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id", sid)["AllowedPrincipals"]
    assert [p["Principal"] for p in perms] == [f"arn:aws:iam::{OUTSIDER}:root"]
    assert name not in daemon.aws("ec2", "describe-vpc-endpoint-services", account="consumer")["ServiceNames"]
    assert daemon.aws_error("ec2", "describe-vpc-endpoint-services", "--service-names", name,
                            account="consumer").code == "InvalidServiceName"
    err = daemon.aws_error("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                           "--service-name", name, "--subnet-id", sub, account="consumer")
    assert err.code == "InvalidServiceName"
    assert daemon.aws("ec2", "describe-vpc-endpoints", account="consumer")["VpcEndpoints"] == []
    # The principal still allowed keeps seeing it.
    assert name in daemon.aws("ec2", "describe-vpc-endpoint-services", account="outsider")["ServiceNames"]


def test_a_service_with_an_available_endpoint_cannot_be_deleted(daemon):
    svc, _ = publish_service(daemon, acceptance=False)
    sid = svc["ServiceId"]
    allow(daemon, sid, "consumer")
    vpc, (sub,) = vpc_with_subnets(daemon, "consumer", "10.73.0.0/16", ["use1-az1"])
    eid = endpoint_to(daemon, svc["ServiceName"], vpc, [sub])["VpcEndpointId"]
    daemon.wait_endpoint_state(eid, "available")

    # boto3, to see the HTTP status: a per-item failure, not a call error.
    out = daemon.client("ec2").delete_vpc_endpoint_service_configurations(ServiceIds=[sid])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        (sid, "ExistingVpcEndpointConnections")]
    cfg = daemon.aws("ec2", "describe-vpc-endpoint-service-configurations")["ServiceConfigurations"]
    assert [(c["ServiceId"], c["ServiceState"]) for c in cfg] == [(sid, "Available")]
    assert daemon.wait_endpoint_state(eid, "available")
    conns = daemon.aws("ec2", "describe-vpc-endpoint-connections")["VpcEndpointConnections"]
    assert [(c["VpcEndpointId"], c["VpcEndpointState"]) for c in conns] == [(eid, "available")]


def test_load_balancers_stay_while_endpoints_are_connected(daemon):
    lb1 = network_load_balancer(daemon, ("use1-az1",), cidr="10.10.0.0/16", name="one")
    lb2 = network_load_balancer(daemon, ("use1-az2",), cidr="10.11.0.0/16", name="two")
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb1, lb2,
                     "--no-acceptance-required")["ServiceConfiguration"]
    sid = svc["ServiceId"]
    pz = zones(daemon, "provider")
    assert svc["AvailabilityZones"] == sorted([pz["use1-az1"], pz["use1-az2"]])
    allow(daemon, sid, "consumer")
    vpc, (sub,) = vpc_with_subnets(daemon, "consumer", "10.74.0.0/16", ["use1-az1"])
    eid = endpoint_to(daemon, svc["ServiceName"], vpc, [sub])["VpcEndpointId"]
    daemon.wait_endpoint_state(eid, "available")

    def service():
        return daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                          sid)["ServiceConfigurations"][0]

    # Even a load balancer in a zone the endpoint does not use stays while it is connected.
    err = daemon.aws_error("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", sid,
                           "--remove-network-load-balancer-arns", lb2)
    assert err.code == "ExistingVpcEndpointConnections"
    assert (sorted(service()["NetworkLoadBalancerArns"]), service()["AvailabilityZones"]) == (
        sorted([lb1, lb2]), svc["AvailabilityZones"])
    # Once the consumer has deleted its endpoint, the load balancer and its zone go.
    daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")
    daemon.wait_endpoint_state(eid, "deleted")
    daemon.aws("ec2", "modify-vpc-endpoint-service-configuration", "--service-id", sid,
               "--remove-network-load-balancer-arns", lb2)
    assert (service()["NetworkLoadBalancerArns"], service()["AvailabilityZones"]) == ([lb1], [pz["use1-az1"]])


def test_other_accounts_change_nothing_and_each_provider_sees_only_its_connections(daemon):
    svc, _ = publish_service(daemon)
    sid, name = svc["ServiceId"], svc["ServiceName"]
    allow(daemon, sid, "consumer")
    vpc, (sub_a, sub_b) = vpc_with_subnets(daemon, "consumer", "10.75.0.0/16", ["use1-az1", "use1-az2"])
    eid = endpoint_to(daemon, name, vpc, [sub_a])["VpcEndpointId"]
    assert daemon.wait_endpoint_state(eid, "pendingAcceptance")

    def endpoint():
        return daemon.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", eid,
                          account="consumer")["VpcEndpoints"][0]

    before = endpoint()
    # Nobody but the consumer modifies its endpoint, not even the service's provider.
    for acct in ("outsider", "provider"):
        for change in (("--add-subnet-ids", sub_b), ("--reset-policy",), ("--no-private-dns-enabled",)):
            err = daemon.aws_error("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", eid, *change, account=acct)
            assert err.code == "InvalidVpcEndpointId.NotFound", (acct, change)
    assert endpoint() == before

    # Nobody but the provider changes its service or decides on its connections.
    perms = daemon.aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id", sid)["AllowedPrincipals"]
    cfg = daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                     sid)["ServiceConfigurations"]
    for acct in ("consumer", "outsider"):
        for call in (("modify-vpc-endpoint-service-configuration", "--service-id", sid, "--no-acceptance-required"),
                     ("modify-vpc-endpoint-service-permissions", "--service-id", sid, "--add-allowed-principals", "*"),
                     ("modify-vpc-endpoint-service-permissions", "--service-id", sid, "--remove-allowed-principals",
                      f"arn:aws:iam::{CONSUMER}:root"),
                     ("accept-vpc-endpoint-connections", "--service-id", sid, "--vpc-endpoint-ids", eid),
                     ("reject-vpc-endpoint-connections", "--service-id", sid, "--vpc-endpoint-ids", eid)):
            err = daemon.aws_error("ec2", *call, account=acct)
            assert err.code == "InvalidVpcEndpointServiceId.NotFound", (acct, call)
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-permissions", "--service-id",
                      sid)["AllowedPrincipals"] == perms
    assert daemon.aws("ec2", "describe-vpc-endpoint-service-configurations", "--service-ids",
                      sid)["ServiceConfigurations"] == cfg
    assert endpoint()["State"] == "pendingAcceptance"
    assert name not in daemon.aws("ec2", "describe-vpc-endpoint-services", account="outsider")["ServiceNames"]

    # A second provider: the outsider publishes its own service, the consumer connects to both.
    svc2, _ = publish_service(daemon, account="outsider")
    sid2 = svc2["ServiceId"]
    allow(daemon, sid2, "consumer", owner="outsider")
    eid2 = endpoint_to(daemon, svc2["ServiceName"], vpc, [sub_b])["VpcEndpointId"]

    def connections(account):
        return [(c["VpcEndpointId"], c["ServiceId"], c["VpcEndpointOwner"]) for c in daemon.aws(
            "ec2", "describe-vpc-endpoint-connections", account=account)["VpcEndpointConnections"]]

    assert connections("provider") == [(eid, sid, CONSUMER)]
    assert connections("outsider") == [(eid2, sid2, CONSUMER)]
    assert connections("consumer") == []
    # Its own service id does not let the second provider decide on the first one's connection.
    out = daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", sid2, "--vpc-endpoint-ids", eid,
                     account="outsider")
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        (eid, "InvalidVpcEndpoint.NotFound")]
    assert endpoint()["State"] == "pendingAcceptance"
    # Each provider accepts its own.
    daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", sid2, "--vpc-endpoint-ids", eid2,
               account="outsider")
    assert daemon.wait_endpoint_state(eid2, "available")
    assert endpoint()["State"] == "pendingAcceptance"
