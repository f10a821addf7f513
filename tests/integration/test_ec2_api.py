"""The EC2 calls Terraform still needed, end to end with the real AWS CLI v2 and boto3:
secondary VPC CIDR blocks (AWS's rules, route tables' local routes, subnets and
workloads in them that reach the primary block's and its resolver),
enableNetworkAddressUsageMetrics, vpc-max-security-groups-per-interface enforced
everywhere an interface gets groups, what aws_instance reads (instance types, the
root volume, credit specifications, instance attributes) and changes (attributes,
termination protection, reboot), and DeleteVpc refusing while anything is inside.
One daemon for the file. Needs root (instances and workloads are namespaces)."""
import base64
import glob
import os
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError

from lp import LINKPLANE, Daemon, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

PY = "/usr/bin/python3"

# A server that answers each connection with "<name> <pid>".
SERVER = ("import os,socket,sys\n"
          "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('0.0.0.0', int(sys.argv[2]))); s.listen(16)\n"
          "print('listening', flush=True)\n"
          "while True:\n"
          "    c,_=s.accept(); c.sendall(('%s %d\\n' % (sys.argv[1], os.getpid())).encode()); c.close()\n")
# Connects to HOST PORT and prints the first line ("" when nothing answers).
FETCH = ("import socket,sys,time\n"
         "for i in range(int(sys.argv[3])):\n"
         "    try:\n"
         "        s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); break\n"
         "    except OSError:\n"
         "        s=None; time.sleep(0.1)\n"
         "print(s.makefile().readline().strip() if s else '')\n")

USER_DATA = """#!/bin/sh
cat > /tmp/lp-ec2api-$INSTANCE_ID.py <<'PYEOF'
import os, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(("web %d\\n" % os.getpid()).encode()); c.close()
PYEOF
nohup /usr/bin/python3 /tmp/lp-ec2api-$INSTANCE_ID.py >/dev/null 2>&1 &
echo "user-data done"
"""


def code_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"]


def fetch(flag, target, host, port, tries=50):
    p = subprocess.run([LINKPLANE, "exec", flag, target, "--", PY, "-c", FETCH, host, str(port), str(tries)],
                       capture_output=True, text=True, timeout=60)
    return p.stdout.strip() if p.returncode == 0 else ""


def leftovers(state_dir):
    try:
        with open(os.path.join(state_dir, "netns-owned")) as f:
            return [line.strip() for line in f if line.startswith("lp-")]
    except OSError:
        return []


@pytest.fixture(scope="module")
def d():
    daemon = Daemon().start()
    servers = []
    daemon.servers = servers
    try:
        yield daemon
    finally:
        try:
            for p in servers:
                if p.poll() is None:
                    os.killpg(p.pid, 9)
                    p.wait()
            ec2 = daemon.client("ec2")
            ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                   if i["State"]["Name"] != "terminated"]
            for iid in ids:
                ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
            if ids:
                ec2.terminate_instances(InstanceIds=ids)
                wait_for(lambda: all(i["State"]["Name"] == "terminated"
                                     for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                                     for i in r["Instances"]), 30, 0.2)
        finally:
            rc = daemon.stop()
            for ns in leftovers(daemon.state_dir):  # only after a failure
                for pid in subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split():
                    subprocess.run(["kill", "-9", pid])
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(daemon.state_dir, ignore_errors=True)
            for f in glob.glob("/tmp/lp-ec2api-i-*.py"):
                os.remove(f)
        assert rc == 0


def serve(d, eni, name, port):
    """Starts SERVER in eni's namespace once the reconciler has made it (CreateNetworkInterface
    answers first: on a loaded host the namespace can come seconds later) and returns once it
    listens."""
    assert wait_for(lambda: os.path.exists("/run/netns/lp-" + eni), 30, 0.1), f"no namespace for {eni}"
    p = subprocess.Popen([LINKPLANE, "exec", "--eni", eni, "--", PY, "-c", SERVER, name, str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    d.servers.append(p)
    assert p.stdout.readline().strip() == b"listening", f"the server in {eni} did not start"
    return p


def stop_server(p):
    os.killpg(p.pid, 9)
    p.wait()


def test_secondary_cidr_blocks_as_aws_has_them_and_the_host_routes_them(d):
    vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.20.0.0/16")["Vpc"]
    vid = vpc["VpcId"]
    d.aws("ec2", "modify-vpc-attribute", "--vpc-id", vid, "--enable-dns-hostnames", '{"Value":true}')
    a = d.aws("ec2", "associate-vpc-cidr-block", "--vpc-id", vid, "--cidr-block", "10.21.0.0/16")
    assert a["VpcId"] == vid
    assoc = a["CidrBlockAssociation"]
    assert assoc["CidrBlock"] == "10.21.0.0/16" and assoc["CidrBlockState"]["State"] == "associating"
    assert assoc["AssociationId"].startswith("vpc-cidr-assoc-")
    got = d.aws("ec2", "describe-vpcs", "--vpc-ids", vid)["Vpcs"][0]
    assert got["CidrBlock"] == "10.20.0.0/16"
    assert [(c["CidrBlock"], c["CidrBlockState"]["State"]) for c in got["CidrBlockAssociationSet"]] == [
        ("10.20.0.0/16", "associated"), ("10.21.0.0/16", "associated")]
    found = d.aws("ec2", "describe-vpcs", "--filters", "Name=cidr-block-association.cidr-block,Values=10.21.0.0/16")
    assert [v["VpcId"] for v in found["Vpcs"]] == [vid]
    rt = d.aws("ec2", "describe-route-tables", "--filters", f"Name=vpc-id,Values={vid}",
               "Name=association.main,Values=true")["RouteTables"][0]
    assert [(r["DestinationCidrBlock"], r["GatewayId"]) for r in rt["Routes"]] == [
        ("10.20.0.0/16", "local"), ("10.21.0.0/16", "local")]

    # AWS's rules; each refusal changes nothing.
    for cidr, code in [("10.20.128.0/17", "InvalidVpc.Range"),   # overlaps the primary
                       ("172.16.0.0/16", "InvalidVpc.Range"),    # another private range
                       ("10.30.0.0/15", "InvalidVpc.Range"),     # larger than /16
                       ("10.30.0.0/29", "InvalidVpc.Range"),     # smaller than /28
                       ("10.30.0.1/24", "InvalidParameterValue")]:
        assert d.aws_error("ec2", "associate-vpc-cidr-block", "--vpc-id", vid, "--cidr-block", cidr).code == code, cidr
    ec2 = d.client("ec2")
    extra = [ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock=c)["CidrBlockAssociation"]["AssociationId"]
             for c in ("10.22.0.0/16", "100.64.0.0/24", "203.0.113.0/24")]
    assert code_of(ec2.associate_vpc_cidr_block, VpcId=vid, CidrBlock="10.23.0.0/16") == "CidrLimitExceeded"
    assert len(ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["CidrBlockAssociationSet"]) == 5
    assert code_of(ec2.disassociate_vpc_cidr_block, AssociationId=vpc["CidrBlockAssociationSet"][0]["AssociationId"]) \
        == "OperationNotPermitted"
    for x in extra:
        assert ec2.disassociate_vpc_cidr_block(AssociationId=x)["CidrBlockAssociation"]["CidrBlockState"]["State"] \
            == "disassociating"

    # Subnets in either block; a workload in each reaches the other, and the one in
    # the secondary block uses the resolver at the primary block's base+2.
    s1 = ec2.create_subnet(VpcId=vid, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vid, CidrBlock="10.21.1.0/24")["Subnet"]["SubnetId"]
    assert code_of(ec2.create_subnet, VpcId=vid, CidrBlock="10.22.1.0/24") == "InvalidSubnet.Range"  # disassociated
    w1 = ec2.create_network_interface(SubnetId=s1)["NetworkInterface"]
    w2 = ec2.create_network_interface(SubnetId=s2)["NetworkInterface"]
    assert w2["PrivateIpAddress"].startswith("10.21.1.")
    ep = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vid, SubnetIds=[s1],
                                 ServiceName="com.amazonaws.us-east-1.ec2")["VpcEndpoint"]
    p1 = serve(d, w1["NetworkInterfaceId"], "primary", 7001)
    p2 = serve(d, w2["NetworkInterfaceId"], "secondary", 7002)
    assert fetch("--eni", w2["NetworkInterfaceId"], w1["PrivateIpAddress"], 7001).startswith("primary ")
    assert fetch("--eni", w1["NetworkInterfaceId"], w2["PrivateIpAddress"], 7002).startswith("secondary ")
    resolv = subprocess.run([LINKPLANE, "exec", "--eni", w2["NetworkInterfaceId"], "--", "cat", "/etc/resolv.conf"],
                            capture_output=True, text=True, timeout=30).stdout
    assert "nameserver 10.20.0.2" in resolv, resolv
    eni_ip = ec2.describe_network_interfaces(NetworkInterfaceIds=ep["NetworkInterfaceIds"])[
        "NetworkInterfaces"][0]["PrivateIpAddress"]
    lookup = "import socket; print(socket.gethostbyname('ec2.us-east-1.amazonaws.com'))"
    out = wait_for(lambda: subprocess.run([LINKPLANE, "exec", "--eni", w2["NetworkInterfaceId"], "--", PY, "-c", lookup],
                                          capture_output=True, text=True, timeout=30).stdout.strip() == eni_ip, 10, 0.5)
    assert out, "the secondary block's workload resolves the endpoint's private DNS name"

    # A block with a subnet stays until the subnet goes.
    second = a["CidrBlockAssociation"]["AssociationId"]
    assert d.aws_error("ec2", "disassociate-vpc-cidr-block", "--association-id", second).code == \
        "InvalidCidrBlock.InUse"
    stop_server(p1)
    stop_server(p2)
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])
    for w in (w1, w2):
        ec2.delete_network_interface(NetworkInterfaceId=w["NetworkInterfaceId"])
    ec2.delete_subnet(SubnetId=s2)
    gone = d.aws("ec2", "disassociate-vpc-cidr-block", "--association-id", second)
    assert gone["CidrBlockAssociation"]["CidrBlockState"]["State"] == "disassociating"
    states = {c["CidrBlock"]: c["CidrBlockState"]["State"]
              for c in ec2.describe_vpcs(VpcIds=[vid])["Vpcs"][0]["CidrBlockAssociationSet"]}
    assert states["10.20.0.0/16"] == "associated" and states["10.21.0.0/16"] == "disassociated"
    rt = ec2.describe_route_tables(RouteTableIds=[rt["RouteTableId"]])["RouteTables"][0]
    assert [r["DestinationCidrBlock"] for r in rt["Routes"]] == ["10.20.0.0/16"]
    wait_for(lambda: not ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vid]}])["VpcEndpoints"], 10, 0.2)
    ec2.delete_subnet(SubnetId=s1)
    ec2.delete_vpc(VpcId=vid)


def test_network_address_usage_metrics_attribute(d):
    ec2 = d.client("ec2")
    vid = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    read = lambda: ec2.describe_vpc_attribute(VpcId=vid, Attribute="enableNetworkAddressUsageMetrics")[  # noqa: E731
        "EnableNetworkAddressUsageMetrics"]["Value"]
    assert read() is False
    d.aws("ec2", "modify-vpc-attribute", "--vpc-id", vid, "--enable-network-address-usage-metrics")
    assert read() is True
    assert code_of(ec2.modify_vpc_attribute, VpcId=vid, EnableDnsSupport={"Value": True},
                   EnableNetworkAddressUsageMetrics={"Value": False}) == "InvalidParameterCombination"
    assert read() is True
    ec2.modify_vpc_attribute(VpcId=vid, EnableNetworkAddressUsageMetrics={"Value": False})
    assert read() is False
    ec2.delete_vpc(VpcId=vid)


def test_security_groups_per_interface_limit_everywhere(d):
    ec2 = d.client("ec2")
    attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
             for a in ec2.describe_account_attributes()["AccountAttributes"]}
    assert attrs["vpc-max-security-groups-per-interface"] == ["5"] and attrs["max-instances"] == ["100"]
    vid = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    sid = ec2.create_subnet(VpcId=vid, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    six = [ec2.create_security_group(GroupName=f"g{n}", Description="g", VpcId=vid)["GroupId"] for n in range(6)]
    limit = "SecurityGroupsPerInterfaceLimitExceeded"
    assert code_of(ec2.create_network_interface, SubnetId=sid, Groups=six) == limit
    err = d.aws_error("ec2", "run-instances", "--image-id", "ami-0d3b1e2c4a5f60712", "--instance-type", "t3.micro",
                      "--subnet-id", sid, "--security-group-ids", *six)
    assert err.code == limit
    assert code_of(ec2.create_vpc_endpoint, VpcEndpointType="Interface", VpcId=vid, SubnetIds=[sid],
                   SecurityGroupIds=six, ServiceName="com.amazonaws.us-east-1.ec2", PrivateDnsEnabled=False) == limit
    assert ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vid]}])["NetworkInterfaces"] == []
    assert ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vid]}])["VpcEndpoints"] == []

    eni = ec2.create_network_interface(SubnetId=sid, Groups=six[:5])["NetworkInterface"]["NetworkInterfaceId"]
    assert code_of(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni, Groups=six) == limit
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[six[5]])
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert [g["GroupId"] for g in got["Groups"]] == [six[5]]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    assert ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["SourceDestCheck"] is False
    ep = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vid, SubnetIds=[sid], SecurityGroupIds=six[:5],
                                 ServiceName="com.amazonaws.us-east-1.ec2",
                                 PrivateDnsEnabled=False)["VpcEndpoint"]["VpcEndpointId"]
    assert code_of(ec2.modify_vpc_endpoint, VpcEndpointId=ep, AddSecurityGroupIds=[six[5]]) == limit
    groups = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"][0]["Groups"]
    assert sorted(g["GroupId"] for g in groups) == sorted(six[:5])
    ec2.modify_vpc_endpoint(VpcEndpointId=ep, AddSecurityGroupIds=[six[5]], RemoveSecurityGroupIds=[six[0]])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ep])
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    wait_for(lambda: not ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"], 10, 0.2)


def instance(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def wait_state(ec2, iid, state, timeout=30):
    assert wait_for(lambda: instance(ec2, iid)["State"]["Name"] == state, timeout, 0.2), instance(ec2, iid)["State"]


def test_what_terraform_reads_and_changes_on_an_instance(d):
    ec2 = d.client("ec2")
    vid = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    sid = ec2.create_subnet(VpcId=vid, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]

    types = ec2.describe_instance_types(InstanceTypes=["t3.micro"])["InstanceTypes"]
    assert len(types) == 1
    t = types[0]
    assert t["VCpuInfo"]["DefaultVCpus"] == 2 and t["MemoryInfo"]["SizeInMiB"] == 1024
    assert t["NetworkInfo"]["NetworkPerformance"] == "Up to 5 Gigabit"
    assert t["NetworkInfo"]["MaximumNetworkInterfaces"] == 2 and t["BurstablePerformanceSupported"] is True
    assert t["ProcessorInfo"]["SupportedArchitectures"] == ["x86_64"]
    assert code_of(ec2.describe_instance_types, InstanceTypes=["x9.huge"]) == "InvalidInstanceType"
    names = [x["InstanceType"] for p in ec2.get_paginator("describe_instance_types").paginate(
        PaginationConfig={"PageSize": 5}) for x in p["InstanceTypes"]]
    assert len(names) == len(set(names)) and "m5.large" in names and "t2.micro" in names
    assert d.aws_error("ec2", "run-instances", "--image-id", "ami-0d3b1e2c4a5f60712", "--instance-type", "x9.huge",
                       "--subnet-id", sid).code == "InvalidParameterValue"

    run = d.aws("ec2", "run-instances", "--image-id", "ami-0d3b1e2c4a5f60712", "--instance-type", "t3.micro",
                "--subnet-id", sid, "--user-data", USER_DATA, "--disable-api-termination",
                "--tag-specifications", "ResourceType=volume,Tags=[{Key=Name,Value=root}]")
    iid = run["Instances"][0]["InstanceId"]
    wait_state(ec2, iid, "running")
    inst = instance(ec2, iid)
    [bdm] = inst["BlockDeviceMappings"]
    assert bdm["DeviceName"] == inst["RootDeviceName"] == "/dev/xvda"
    vol_id = bdm["Ebs"]["VolumeId"]
    assert vol_id.startswith("vol-") and bdm["Ebs"]["Status"] == "attached" and bdm["Ebs"]["DeleteOnTermination"]
    [vol] = ec2.describe_volumes(VolumeIds=[vol_id])["Volumes"]
    assert vol["State"] == "in-use" and vol["Size"] == 8 and vol["VolumeType"] == "gp2"
    assert vol["Attachments"][0]["InstanceId"] == iid and vol["Attachments"][0]["Device"] == "/dev/xvda"
    assert vol["Tags"] == [{"Key": "Name", "Value": "root"}]
    assert vol["AvailabilityZone"] == inst["Placement"]["AvailabilityZone"]
    assert [v["VolumeId"] for v in ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]] == [vol_id]
    credits = ec2.describe_instance_credit_specifications(InstanceIds=[iid])["InstanceCreditSpecifications"]
    assert credits == [{"InstanceId": iid, "CpuCredits": "unlimited"}]
    assert inst["CpuOptions"] == {"CoreCount": 1, "ThreadsPerCore": 2}

    attr = lambda name: ec2.describe_instance_attribute(InstanceId=iid, Attribute=name)  # noqa: E731
    assert base64.b64decode(attr("userData")["UserData"]["Value"]).decode() == USER_DATA
    assert attr("disableApiTermination")["DisableApiTermination"]["Value"] is True
    assert attr("instanceInitiatedShutdownBehavior")["InstanceInitiatedShutdownBehavior"]["Value"] == "stop"
    assert attr("instanceType")["InstanceType"]["Value"] == "t3.micro"
    assert [g["GroupId"] for g in attr("groupSet")["Groups"]] == [g["GroupId"] for g in inst["SecurityGroups"]]

    # Termination protection: refused, nothing changes.
    assert d.aws_error("ec2", "terminate-instances", "--instance-ids", iid).code == "OperationNotPermitted"
    assert instance(ec2, iid)["State"]["Name"] == "running"
    assert code_of(ec2.modify_instance_attribute, InstanceId=iid, InstanceType={"Value": "t3.small"}) == \
        "IncorrectInstanceState"

    # Reboot: the UserData's server goes, the UserData does not run again.
    first = wait_for(lambda: fetch("--instance", iid, "127.0.0.1", 8080), 20, 0.5)
    assert first.startswith("web "), first
    ec2.reboot_instances(InstanceIds=[iid])
    console = lambda: ec2.get_console_output(InstanceId=iid).get("Output", "")  # noqa: E731
    assert wait_for(lambda: "rebooted" in console(), 20, 0.3), console()
    assert instance(ec2, iid)["State"]["Name"] == "running"
    assert fetch("--instance", iid, "127.0.0.1", 8080, tries=5) == ""
    assert console().count("user-data done") == 1

    # Stopped: type, UserData and groups change; the volume stays.
    ec2.stop_instances(InstanceIds=[iid])
    wait_state(ec2, iid, "stopped")
    d.aws("ec2", "modify-instance-attribute", "--instance-id", iid, "--instance-type", '{"Value": "t2.small"}')
    ec2.modify_instance_attribute(InstanceId=iid, UserData={"Value": b"#!/bin/sh\necho second\n"})
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vid)["GroupId"]
    ec2.modify_instance_attribute(InstanceId=iid, Groups=[sg])
    assert code_of(ec2.modify_instance_attribute, InstanceId=iid, InstanceType={"Value": "t4g.micro"}) == \
        "InvalidInstanceAttributeValue"
    inst = instance(ec2, iid)
    assert inst["InstanceType"] == "t2.small" and [g["GroupId"] for g in inst["SecurityGroups"]] == [sg]
    assert [g["GroupId"] for g in inst["NetworkInterfaces"][0]["Groups"]] == [sg]
    assert base64.b64decode(attr("userData")["UserData"]["Value"]) == b"#!/bin/sh\necho second\n"
    assert ec2.describe_instance_credit_specifications(InstanceIds=[iid])["InstanceCreditSpecifications"] == [
        {"InstanceId": iid, "CpuCredits": "unlimited"}]
    assert ec2.describe_volumes(VolumeIds=[vol_id])["Volumes"][0]["State"] == "in-use"

    # Protection off: terminate, and the root volume goes with the instance.
    ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[iid])
    wait_state(ec2, iid, "terminated")
    assert code_of(ec2.describe_volumes, VolumeIds=[vol_id]) == "InvalidVolume.NotFound"
    assert code_of(ec2.reboot_instances, InstanceIds=[iid]) == "IncorrectInstanceState"
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_subnet(SubnetId=sid)
    ec2.delete_vpc(VpcId=vid)


def test_delete_vpc_refuses_while_anything_is_inside(d):
    """Terraform's destroy order, checking DeleteVpc between each step."""
    ec2, elb = d.client("ec2"), d.client("elbv2")
    vid = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vid, CidrBlock="10.71.0.0/16")
    sid = ec2.create_subnet(VpcId=vid, CidrBlock="10.71.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vid)["GroupId"]
    rt = ec2.create_route_table(VpcId=vid)["RouteTable"]["RouteTableId"]
    acl = ec2.create_network_acl(VpcId=vid)["NetworkAcl"]["NetworkAclId"]
    lb = elb.create_load_balancer(Name="lp-ec2api-nlb", Type="network", Scheme="internal",
                                  Subnets=[sid])["LoadBalancers"][0]["LoadBalancerArn"]
    ep = ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vid, SubnetIds=[sid], PrivateDnsEnabled=False,
                                 ServiceName="com.amazonaws.us-east-1.ec2")["VpcEndpoint"]["VpcEndpointId"]
    iid = ec2.run_instances(ImageId="ami-0d3b1e2c4a5f60712", InstanceType="t3.nano", MinCount=1, MaxCount=1,
                            SubnetId=sid, SecurityGroupIds=[sg])["Instances"][0]["InstanceId"]

    def refused():
        with pytest.raises(ClientError) as e:
            ec2.delete_vpc(VpcId=vid)
        return e.value.response["Error"]["Code"] == "DependencyViolation"

    assert refused()
    ec2.terminate_instances(InstanceIds=[iid])
    assert refused()  # shutting down is still inside
    wait_state(ec2, iid, "terminated")
    assert refused()
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ep])
    wait_for(lambda: not ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])["VpcEndpoints"], 10, 0.2)
    assert refused()
    elb.delete_load_balancer(LoadBalancerArn=lb)
    wait_for(lambda: not elb.describe_load_balancers()["LoadBalancers"], 10, 0.2)
    assert refused()
    ec2.delete_subnet(SubnetId=sid)
    assert refused()
    ec2.delete_network_acl(NetworkAclId=acl)
    assert refused()
    ec2.delete_route_table(RouteTableId=rt)
    assert refused()
    ec2.delete_security_group(GroupId=sg)
    # Only the secondary block, main route table, default ACL and default group are left: they go with it.
    ec2.delete_vpc(VpcId=vid)
    assert code_of(ec2.describe_vpcs, VpcIds=[vid]) == "InvalidVpcID.NotFound"

    # Each of the things without a subnet holds a VPC back on its own.
    for make, drop in [
            (lambda v: ec2.create_security_group(GroupName="x", Description="x", VpcId=v)["GroupId"],
             lambda x: ec2.delete_security_group(GroupId=x)),
            (lambda v: ec2.create_route_table(VpcId=v)["RouteTable"]["RouteTableId"],
             lambda x: ec2.delete_route_table(RouteTableId=x)),
            (lambda v: ec2.create_network_acl(VpcId=v)["NetworkAcl"]["NetworkAclId"],
             lambda x: ec2.delete_network_acl(NetworkAclId=x))]:
        vid = ec2.create_vpc(CidrBlock="10.72.0.0/16")["Vpc"]["VpcId"]
        thing = make(vid)
        assert refused(), thing
        drop(thing)
        ec2.delete_vpc(VpcId=vid)
