"""The environment the SDK programs under tests/sdk read (the daemon's URL, the
region, and both demo accounts' keys), and the check of what they report."""

import os
import shutil
import time

from lp import ACCOUNTS, LINKPLANE, REGION, Daemon


def sdk_env(daemon):
    # LP_LINKPLANE: the programs run `linkplane exec` in a consumer workload.
    env = dict(os.environ, LP_URL=daemon.url, LP_REGION=REGION, LP_LINKPLANE=os.path.abspath(LINKPLANE))
    for name in ("provider", "consumer"):
        account, key, secret = ACCOUNTS[name]
        env[f"LP_{name.upper()}_KEY"] = key
        env[f"LP_{name.upper()}_SECRET"] = secret
        env[f"LP_{name.upper()}_ACCOUNT"] = account
    # Keep the SDKs from reading a developer's ~/.aws or a real endpoint.
    for k in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        env.pop(k, None)
    return env


# The steps each SDK's program reports, in order, as Terraform would run them.
FLOW_STEPS = ["provider start", "aws_vpc, aws_subnet, aws_route_table, aws_network_acl",
              "aws_security_group, aws_instance",
              "aws_lb, aws_lb_target_group, aws_lb_target_group_attachment, aws_lb_listener, aws_vpc_endpoint_service",
              "aws_vpc_endpoint accepted by aws_vpc_endpoint_connection_accepter",
              "bytes flow from a consumer workload through the endpoint to the instance", "modify",
              "second plan finds nothing to change", "destroy", "nothing left"]


def check_flow(r):
    """Asserts that an SDK program's run (a CompletedProcess) did every step and ended ALL OK."""
    print(r.stdout)
    assert r.returncode == 0, r.stderr + r.stdout
    steps = [line[3:] for line in r.stdout.splitlines() if line.startswith("ok ")]
    assert steps == FLOW_STEPS
    assert r.stdout.rstrip().endswith("ALL OK")


def sdk_daemon():
    """The body of the SDK tests' daemon fixture (`yield from sdk_daemon()`): a fresh
    daemon; afterwards, whatever the flow left when it failed half way, its instances
    are terminated first, since a clean stop keeps running instances' namespaces and
    processes on purpose (docs/instances.md)."""
    d = Daemon().start()
    try:
        yield d
    finally:
        try:
            for account in ACCOUNTS:
                ec2 = d.client("ec2", account)
                ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                       if i["State"]["Name"] != "terminated"]
                if ids:
                    ec2.terminate_instances(InstanceIds=ids)
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline and any(
                            i["State"]["Name"] != "terminated"
                            for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]):
                        time.sleep(0.2)
        finally:
            rc = d.stop()
            shutil.rmtree(d.state_dir, ignore_errors=True)
        assert rc == 0, f"daemon exited {rc} on SIGTERM"
