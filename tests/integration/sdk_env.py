"""The environment the SDK programs under tests/sdk read (the daemon's URL, the
region, and both demo accounts' keys), and the check of what they report."""

import os

from lp import ACCOUNTS, REGION


def sdk_env(daemon):
    env = dict(os.environ, LP_URL=daemon.url, LP_REGION=REGION)
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
              "aws_lb, aws_lb_target_group, aws_lb_listener, aws_vpc_endpoint_service",
              "aws_vpc_endpoint accepted by aws_vpc_endpoint_connection_accepter", "modify",
              "second read pass unchanged", "destroy", "nothing left"]


def check_flow(r):
    """Asserts that an SDK program's run (a CompletedProcess) did every step and ended ALL OK."""
    print(r.stdout)
    assert r.returncode == 0, r.stderr + r.stdout
    steps = [line[3:] for line in r.stdout.splitlines() if line.startswith("ok ")]
    assert steps == FLOW_STEPS
    assert r.stdout.rstrip().endswith("ALL OK")
