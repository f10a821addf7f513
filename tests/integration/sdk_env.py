"""The environment the SDK programs under tests/sdk read: the daemon's URL, the
region, and both demo accounts' keys."""

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
