"""linkplane's own AWS services through interface endpoints, with no configuration
change: inside a consumer workload, with endpoints to ec2, sts,
elasticloadbalancing, sns and monitoring (none with a backend in the config) and
private DNS on, the unmodified AWS CLI, boto3 and the AWS SDK for JavaScript v3 (no
--endpoint-url, no AWS_CA_BUNDLE, no NODE_EXTRA_CA_CERTS) reach linkplane by the AWS
default names over HTTPS, trusting the daemon's local CA through the workload's
system trust store (an instance's UserData too); the request log attributes each call to its endpoint
(aws:SourceVpce, aws:SourceVpc). With private DNS off or the endpoint deleted, the
same commands fail, as they would on AWS without internet access. Needs root."""
import os
import stat
import subprocess

import pytest

from lp import ACCOUNTS, LINKPLANE, Daemon, serving, terminate_all_instances, write_config
from test_dataplane import wait_for

JS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "sdk", "js"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture
def daemon():
    state_dir, path = write_config(body='dns_listen = ""\n')
    yield from serving(Daemon(state_dir=state_dir, config=path).start())


def inside(eni, *cmd, account="consumer", timeout=60, cwd=None):
    """Runs CMD in the workload with only the account's keys and region: no
    endpoint URL, no CA bundle variable, no config files."""
    _, key, secret = ACCOUNTS[account]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "AWS_ACCESS_KEY_ID": key,
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run([LINKPLANE, "exec", "--eni", eni, "--", *cmd], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


BOTO3 = ("import boto3\n"
         "print(','.join(sorted(v['VpcId'] for v in boto3.client('ec2').describe_vpcs()['Vpcs'])))\n")
OTHERS = ("import boto3\n"
          "print(len(boto3.client('elbv2').describe_load_balancers()['LoadBalancers']))\n"
          "sns = boto3.client('sns')\n"
          "sns.create_topic(Name='through-an-endpoint')\n"
          "print(','.join(t['TopicArn'] for t in sns.list_topics()['Topics']))\n"
          "ms = boto3.client('cloudwatch').list_metrics(Namespace='AWS/PrivateLinkEndpoints')['Metrics']\n"
          "ids = {d['Value'] for m in ms for d in m['Dimensions'] if d['Name'] == 'VPC Endpoint Id'}\n"
          "print(','.join(sorted(ids)))\n")
# The JavaScript SDK v3 with no endpoint and no CA option: Node reads only its own
# roots unless NODE_EXTRA_CA_CERTS names a file, which `linkplane exec` sets.
JS_STS = ("import {STSClient, GetCallerIdentityCommand} from '@aws-sdk/client-sts';"
          "console.log((await new STSClient({region: 'us-east-1'}).send(new GetCallerIdentityCommand({}))).Account);")


def test_cli_and_boto3_reach_linkplane_through_endpoints_by_aws_names(daemon):
    aws = lambda *a: daemon.aws(*a, account="consumer")  # noqa: E731
    # The CA: made at first start, key root-only, printed by `linkplane ca`.
    assert stat.S_IMODE(os.stat(os.path.join(daemon.state_dir, "ca.key")).st_mode) == 0o600
    ca = subprocess.run([LINKPLANE, "ca", "--state-dir", daemon.state_dir], capture_output=True, text=True)
    assert ca.returncode == 0 and ca.stdout.startswith("-----BEGIN CERTIFICATE-----")
    assert ca.stdout == open(os.path.join(daemon.state_dir, "ca.pem")).read()

    vpc = aws("ec2", "create-vpc", "--cidr-block", "10.171.0.0/16")["Vpc"]["VpcId"]
    aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", '{"Value":true}')
    sub = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.171.1.0/24", "--availability-zone-id",
              "use1-az1")["Subnet"]["SubnetId"]
    workload = aws("ec2", "create-network-interface", "--subnet-id", sub)["NetworkInterface"]["NetworkInterfaceId"]
    endpoints = {}
    for svc in ("ec2", "sts", "elasticloadbalancing", "sns", "monitoring"):
        e = aws("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc,
                "--service-name", f"com.amazonaws.us-east-1.{svc}", "--subnet-ids", sub,
                "--private-dns-enabled")["VpcEndpoint"]
        endpoints[svc] = e["VpcEndpointId"]
        if svc == "ec2":
            regional_name = e["DnsEntries"][0]["DnsName"]  # vpce-...-xxxxxxxx.ec2.us-east-1.vpce.amazonaws.com
    for e in endpoints.values():
        daemon.wait_endpoint_state(e, "available", timeout=10)

    # The unmodified CLI: describe-vpcs lists the consumer's VPC, and only its.
    r = inside(workload, "/usr/bin/aws", "ec2", "describe-vpcs", "--query", "Vpcs[].VpcId", "--output", "text")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [vpc]
    r = inside(workload, "/usr/bin/aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ACCOUNTS["consumer"][0]
    # The endpoint's own regional name: the certificate covers it too.
    assert regional_name.endswith(".ec2.us-east-1.vpce.amazonaws.com"), regional_name
    r = inside(workload, "/usr/bin/aws", "--endpoint-url", f"https://{regional_name}", "ec2", "describe-vpcs",
               "--query", "Vpcs[].VpcId", "--output", "text")
    assert r.returncode == 0 and r.stdout.split() == [vpc], r.stderr
    # boto3 with no endpoint_url.
    r = inside(workload, "/usr/bin/python3", "-c", BOTO3)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == vpc
    # The other services linkplane serves, through their endpoints, with no backend
    # configured (one boto3 process: a CLI start each would cost seconds).
    r = inside(workload, "/usr/bin/python3", "-c", OTHERS)
    assert r.returncode == 0, r.stderr
    lbs, topics, *listed = r.stdout.split("\n")
    assert lbs == "0" and topics == f"arn:aws:sns:us-east-1:{ACCOUNTS['consumer'][0]}:through-an-endpoint", r.stdout
    # The endpoints' metrics the sampler has seen so far (it may not have run yet): only the account's own.
    assert set(filter(None, listed[0].split(","))) <= set(endpoints.values()), r.stdout
    for svc in ("elasticloadbalancing", "sns", "monitoring"):
        assert wait_for(lambda: f"aws:SourceVpce={endpoints[svc]} aws:SourceVpc={vpc}" in daemon.log(), 3), svc
    # The JavaScript SDK.
    if not os.path.isdir(os.path.join(JS, "node_modules", "@aws-sdk", "client-sts")):
        pytest.fail("the JavaScript SDK is not installed: run scripts/install-deps.sh (npm ci in tests/sdk/js)")
    r = inside(workload, "node", "--input-type=module", "-e", JS_STS, cwd=JS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ACCOUNTS["consumer"][0]
    # An instance's UserData sees the same trust store: the CLI with only the keys.
    _, key, secret = ACCOUNTS["consumer"]
    script = (f"#!/bin/sh\nexport AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION=us-east-1"
              " AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1\n"
              "echo caller=$(/usr/bin/aws sts get-caller-identity --query Account --output text 2>&1)\n")
    ec2 = daemon.client("ec2", "consumer")
    image = ec2.describe_images(Owners=["136693071363"], Filters=[{"Name": "name", "Values": ["debian-12-amd64-*"]}])
    iid = ec2.run_instances(ImageId=image["Images"][0]["ImageId"], SubnetId=sub, MinCount=1, MaxCount=1,
                            UserData=script)["Instances"][0]["InstanceId"]
    try:
        console = lambda: ec2.get_console_output(InstanceId=iid).get("Output", "")  # noqa: E731
        assert wait_for(lambda: "caller=" in console(), 60, 0.5), console()
        assert f"caller={ACCOUNTS['consumer'][0]}" in console(), console()
    finally:
        terminate_all_instances(daemon, ("consumer",))
    # Attributed to the endpoint and its VPC in the request log.
    assert wait_for(lambda: f"aws:SourceVpce={endpoints['ec2']} aws:SourceVpc={vpc}" in daemon.log(), 3)
    assert f"sts GetCallerIdentity by {ACCOUNTS['consumer'][0]}" in daemon.log()
    assert f"aws:SourceVpce={endpoints['sts']}" in daemon.log()

    # Private DNS off: the AWS name no longer leads to the endpoint, so the call fails.
    aws("ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", endpoints["ec2"], "--no-private-dns-enabled")
    assert wait_for(lambda: inside(workload, "/usr/bin/aws", "ec2", "describe-vpcs", timeout=60).returncode != 0,
                    20, 0.5)
    r = inside(workload, "/usr/bin/python3", "-c", BOTO3)
    assert r.returncode != 0 and "Could not connect to the endpoint URL" in r.stderr, r.stderr
    # Deleted: sts fails too.
    aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", endpoints["sts"])
    daemon.wait_endpoint_state(endpoints["sts"], "deleted", timeout=10)
    r = inside(workload, "/usr/bin/aws", "sts", "get-caller-identity")
    assert r.returncode != 0
    r = inside(workload, "node", "--input-type=module", "-e", JS_STS, cwd=JS)
    assert r.returncode != 0 and ACCOUNTS["consumer"][0] not in r.stdout
