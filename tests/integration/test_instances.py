"""EC2 instances as workloads, end to end with the real AWS CLI v2 and boto3: an
instance whose UserData starts a TCP server, its console output, an NLB with an
instance target group (AWS's default target type) in front of it published as an
endpoint service, a consumer workload reaching it through an interface endpoint;
stop, start and terminate with AWS's states, filters and pagination, and a daemon
restart that keeps the instance running. One daemon for the file. Needs root."""
import glob
import os
import shutil
import subprocess

import pytest

from lp import LINKPLANE, Daemon, terminate_all_instances, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

PY = "/usr/bin/python3"
PORT = 443     # NLB listener, so the endpoint listens there
TARGET = 8080  # where the instance's server listens

# UserData: a shell script, as on AWS. Its server answers each connection with
# "<name> <pid>" so a test sees which process served it.
USER_DATA = """#!/bin/sh
echo "hello from user-data on $(cat /etc/resolv.conf | tr '\\n' ' ')"
cat > /tmp/lp-web-$INSTANCE_ID.py <<'PYEOF'
import os, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(16)
print("web server listening on 8080", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.sendall(("web %d\\n" % os.getpid()).encode())
    finally:
        c.close()
PYEOF
nohup /usr/bin/python3 /tmp/lp-web-$INSTANCE_ID.py &
echo "user-data done"
"""

# Connects to HOST PORT (from inside a namespace) and prints the first line.
FETCH = ("import socket,sys\n"
         "for i in range(50):\n"
         "    try:\n"
         "        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); break\n"
         "    except OSError:\n"
         "        import time; time.sleep(0.1)\n"
         "print(s.makefile().readline().strip())\n")


def exec_in(flag, target, *cmd, timeout=30):
    p = subprocess.run([LINKPLANE, "exec", flag, target, "--", *cmd], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def fetch(flag, target, host, port):
    rc, out, err = exec_in(flag, target, PY, "-c", FETCH, host, str(port))
    assert rc == 0, err
    return out


def try_fetch(flag, target, host, port):
    rc, out, _ = exec_in(flag, target, PY, "-c", FETCH, host, str(port))
    return out if rc == 0 else ""


def leftovers(state_dir):
    """Namespaces the daemon's ledger still names (a test that failed half way)."""
    try:
        with open(os.path.join(state_dir, "netns-owned")) as f:
            return [line.strip() for line in f if line.startswith("lp-")]
    except OSError:
        return []


@pytest.fixture(scope="module")
def d():
    daemon = Daemon().start()
    try:
        yield daemon
    finally:
        # Terminate every instance so a clean stop leaves nothing behind.
        try:
            terminate_all_instances(daemon, ("provider", "consumer"))
        finally:
            rc = daemon.stop()
            for ns in leftovers(daemon.state_dir):  # only after a failure
                pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
                for pid in pids:
                    subprocess.run(["kill", "-9", pid])
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(daemon.state_dir, ignore_errors=True)
            for f in glob.glob("/tmp/lp-web-i-*.py"):
                os.remove(f)
        assert rc == 0


def instance(d, iid, account="provider"):
    r = d.client("ec2", account).describe_instances(InstanceIds=[iid])["Reservations"]
    return r[0]["Instances"][0]


def wait_state(d, iid, state, timeout=30):
    got = wait_for(lambda: instance(d, iid)["State"]["Name"] == state, timeout, 0.2)
    assert got, instance(d, iid)["State"]


def console(d, iid):
    """The console as boto3 gives it (botocore decodes the base64 Output)."""
    out = d.client("ec2").get_console_output(InstanceId=iid)
    assert out["InstanceId"] == iid
    return out.get("Output", "")


STATE = {}


def test_instance_behind_an_nlb_serves_a_consumer_through_an_endpoint(d):
    ec2, elb = d.client("ec2"), d.client("elbv2")
    images = ec2.describe_images(Owners=["136693071363"],
                                 Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])["Images"]
    assert images and all(i["Name"].startswith("debian-12-amd64-") for i in images)
    ami = max(images, key=lambda i: i["CreationDate"])["ImageId"]

    vpc = ec2.create_vpc(CidrBlock="10.171.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.171.1.0/24", AvailabilityZoneId="use1-az1")["Subnet"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": TARGET, "ToPort": TARGET, "IpRanges": [{"CidrIp": "10.171.0.0/16"}]}])
    # The AWS CLI base64-encodes --user-data, as it does for AWS.
    r = d.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--count", "1",
              "--subnet-id", sub["SubnetId"], "--security-group-ids", web, "--private-ip-address", "10.171.1.20",
              "--user-data", USER_DATA, "--tag-specifications",
              "ResourceType=instance,Tags=[{Key=Name,Value=web}]",
              "ResourceType=network-interface,Tags=[{Key=Name,Value=web-eth0}]")
    i = r["Instances"][0]
    iid = i["InstanceId"]
    assert r["ReservationId"].startswith("r-") and r["OwnerId"] == "111111111111"
    assert i["State"] == {"Code": 0, "Name": "pending"}
    assert (i["ImageId"], i["InstanceType"], i["PrivateIpAddress"]) == (ami, "t3.micro", "10.171.1.20")
    assert i["SubnetId"] == sub["SubnetId"] and i["VpcId"] == vpc
    assert i["Placement"]["AvailabilityZone"] == sub["AvailabilityZone"]
    assert i["SecurityGroups"] == [{"GroupId": web, "GroupName": "web"}]
    assert i["Tags"] == [{"Key": "Name", "Value": "web"}]
    nic = i["NetworkInterfaces"][0]
    assert nic["Attachment"]["DeviceIndex"] == 0 and nic["Attachment"]["DeleteOnTermination"] is True
    eni = nic["NetworkInterfaceId"]
    e = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert e["Attachment"]["InstanceId"] == iid and e["Status"] == "in-use"
    assert e["TagSet"] == [{"Key": "Name", "Value": "web-eth0"}]

    wait_state(d, iid, "running")
    assert instance(d, iid)["State"] == {"Code": 16, "Name": "running"}
    # UserData ran as root inside the instance: its output is the console's, and
    # resolv.conf there names the VPC resolver (VPC base + 2).
    out = wait_for(lambda: "user-data done" in console(d, iid) and "listening on 8080" in console(d, iid)
                   and console(d, iid), 20, 0.3)
    assert out, console(d, iid)
    assert "hello from user-data on nameserver 10.171.0.2" in out
    # linkplane exec --instance runs a command inside it.
    served = fetch("--instance", iid, "127.0.0.1", TARGET)
    assert served.startswith("web ")
    STATE.update(iid=iid, eni=eni, vpc=vpc, sub=sub["SubnetId"], web=web, pid=served.split()[1], ami=ami)

    # An NLB with an instance target group (no TargetType: AWS's default), published.
    tg = elb.create_target_group(Name="web", Protocol="TCP", Port=TARGET, VpcId=vpc, HealthCheckIntervalSeconds=5,
                                 HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)["TargetGroups"][0]
    assert tg["TargetType"] == "instance"
    d.aws("elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets", f"Id={iid}")
    lb = elb.create_load_balancer(Name="web", Type="network", Scheme="internal",
                                  Subnets=[sub["SubnetId"]])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="TCP", Port=PORT,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb], AcceptanceRequired=False)
    svc = svc["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"],
                                                AddAllowedPrincipals=["arn:aws:iam::222222222222:root"])
    STATE["tg"] = tg["TargetGroupArn"]

    cec2 = d.client("ec2", "consumer")
    cvpc = cec2.create_vpc(CidrBlock="10.172.0.0/16")["Vpc"]["VpcId"]
    csub = cec2.create_subnet(VpcId=cvpc, CidrBlock="10.172.1.0/24", AvailabilityZoneId="use1-az1")["Subnet"]
    workload = cec2.create_network_interface(SubnetId=csub["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
    ep = cec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=cvpc, ServiceName=svc["ServiceName"],
                                  SubnetIds=[csub["SubnetId"]])["VpcEndpoint"]
    assert wait_for(lambda: cec2.describe_vpc_endpoints(VpcEndpointIds=[ep["VpcEndpointId"]])["VpcEndpoints"][0]
                    ["State"] == "available", 15, 0.2)
    ep_ip = cec2.describe_network_interfaces(NetworkInterfaceIds=ep["NetworkInterfaceIds"])[
        "NetworkInterfaces"][0]["PrivateIpAddress"]
    STATE.update(workload=workload, ep_ip=ep_ip)

    def health():
        return elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert wait_for(lambda: health()[0]["TargetHealth"]["State"] == "healthy", 20, 0.5), health()
    assert health()[0]["Target"]["Id"] == iid and health()[0]["Target"]["Port"] == TARGET
    # Bytes flow: consumer workload -> endpoint -> NLB -> the instance's server.
    assert fetch("--eni", workload, ep_ip, PORT) == served


def test_states_filters_pagination_and_restart(d):
    assert STATE, "needs the first test"
    ec2 = d.client("ec2")
    iid = STATE["iid"]
    # Five more, no UserData, one call, with a client token.
    args = dict(ImageId=STATE["ami"], InstanceType="t3.nano", MinCount=1, MaxCount=5, SubnetId=STATE["sub"],
                ClientToken="batch-1", TagSpecifications=[{"ResourceType": "instance",
                                                           "Tags": [{"Key": "team", "Value": "batch"}]}])
    r = ec2.run_instances(**args)
    batch = [i["InstanceId"] for i in r["Instances"]]
    assert len(batch) == 5 and [i["AmiLaunchIndex"] for i in r["Instances"]] == [0, 1, 2, 3, 4]
    again = ec2.run_instances(**args)
    assert again["ReservationId"] == r["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == batch

    def ids(**kw):
        return sorted(i["InstanceId"] for res in ec2.describe_instances(**kw)["Reservations"]
                      for i in res["Instances"])
    assert ids(Filters=[{"Name": "tag:team", "Values": ["batch"]}]) == sorted(batch)
    assert ids(Filters=[{"Name": "tag-key", "Values": ["Name"]}]) == [iid]
    assert ids(Filters=[{"Name": "private-ip-address", "Values": ["10.171.1.20"]}]) == [iid]
    assert ids(Filters=[{"Name": "network-interface.network-interface-id", "Values": [STATE["eni"]]}]) == [iid]
    assert ids(Filters=[{"Name": "vpc-id", "Values": [STATE["vpc"]]}, {"Name": "subnet-id",
                                                                        "Values": [STATE["sub"]]},
                        {"Name": "image-id", "Values": [STATE["ami"]]}]) == sorted(batch + [iid])
    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    assert [sum(len(res["Instances"]) for res in p["Reservations"]) for p in pages] == [5, 1]
    for b in batch:
        wait_state(d, b, "running")
    assert ids(Filters=[{"Name": "instance-state-name", "Values": ["running"]}]) == sorted(batch + [iid])

    # Stop and start: AWS's states and codes; UserData does not run again.
    ch = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
    assert ch["PreviousState"] == {"Code": 16, "Name": "running"}
    assert ch["CurrentState"] == {"Code": 64, "Name": "stopping"}
    wait_state(d, iid, "stopped", timeout=20)
    assert instance(d, iid)["State"]["Code"] == 80
    assert instance(d, iid)["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    st = ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]
    assert st == []
    st = ec2.describe_instance_status(InstanceIds=[iid], IncludeAllInstances=True)["InstanceStatuses"]
    assert st[0]["InstanceState"] == {"Code": 80, "Name": "stopped"}
    rc, _, err = exec_in("--instance", iid, "true")
    assert rc != 0 and "no running instance" in err
    ch = ec2.start_instances(InstanceIds=[iid])["StartingInstances"][0]
    assert ch["CurrentState"] == {"Code": 0, "Name": "pending"}
    wait_state(d, iid, "running")
    assert wait_for(lambda: "not run again" in console(d, iid), 10, 0.3), console(d, iid)
    assert console(d, iid).count("user-data done") == 1
    e = d.aws_error("ec2", "start-instances", "--instance-ids", "i-0123456789abcdef0")
    assert e.code == "InvalidInstanceID.NotFound"

    # What uses the instance cannot be deleted from under it.
    for args in (("delete-subnet", "--subnet-id", STATE["sub"]), ("delete-security-group", "--group-id", STATE["web"]),
                 ("delete-vpc", "--vpc-id", STATE["vpc"])):
        assert d.aws_error("ec2", *args).code == "DependencyViolation"

    # A restart keeps the instances described, and a running one running: the
    # same server process (its pid) answers afterwards.
    ec2.stop_instances(InstanceIds=[batch[0]])
    wait_state(d, batch[0], "stopped")
    # After a start nothing runs in it (no init system): start the server again
    # with linkplane exec --instance; what it starts there is the instance's.
    rc, _, err = exec_in("--instance", iid, "/bin/sh", "-c",
                         f"setsid {PY} /tmp/lp-web-{iid}.py >/dev/null 2>&1 &")
    assert rc == 0, err
    served = fetch("--instance", iid, "127.0.0.1", TARGET)
    pid = served.split()[1]
    d.restart()
    ec2 = d.client("ec2")
    assert instance(d, iid)["State"]["Name"] == "running"
    assert instance(d, batch[0])["State"]["Name"] == "stopped"
    assert fetch("--instance", iid, "127.0.0.1", TARGET) == f"web {pid}"
    assert wait_for(lambda: try_fetch("--eni", STATE["workload"], STATE["ep_ip"], PORT) == f"web {pid}", 30, 0.5)

    # Terminate: shutting-down, then terminated; the interface and the target go.
    ch = ec2.terminate_instances(InstanceIds=[iid] + batch)["TerminatingInstances"]
    assert {c["CurrentState"]["Name"] for c in ch} == {"shutting-down"}
    for x in [iid] + batch:
        wait_state(d, x, "terminated", timeout=30)
    t = instance(d, iid)
    assert t["State"] == {"Code": 48, "Name": "terminated"} and t["NetworkInterfaces"] == []
    assert ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id",
                                                     "Values": [iid]}])["NetworkInterfaces"] == []
    assert d.client("elbv2").describe_target_health(TargetGroupArn=STATE["tg"])["TargetHealthDescriptions"] == []
    assert d.aws_error("ec2", "start-instances", "--instance-ids", iid).code == "IncorrectInstanceState"
    # The server died with its instance.
    rc, _, _ = exec_in("--instance", iid, "true")
    assert rc != 0
