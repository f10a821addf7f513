"""Test harness for end-to-end tests: starts the real linkplane daemon on a free
port with a temporary state directory, and drives it with the real AWS CLI v2
(/usr/bin/aws) and boto3 (/usr/bin/python3). Used by every tests/integration
test through the fixtures in conftest.py."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BUILD_DIR = os.environ.get("LP_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
LINKPLANE = os.path.join(BUILD_DIR, "src", "daemon", "linkplane")
AWS = "/usr/bin/aws"
REGION = "us-east-1"

# The default config's demo accounts (README.md).
ACCOUNTS = {
    "provider": ("111111111111", "AKIALINKPLANEPROVIDR", "provider/secret/key/0000000000000000000000"),
    "consumer": ("222222222222", "AKIALINKPLANECONSUMR", "consumer/secret/key/0000000000000000000000"),
}
# Those plus accounts that only a test's own config (write_config) has.
ALL_ACCOUNTS = dict(ACCOUNTS,
                    outsider=("333333333333", "AKIALINKPLANEOUTSIDR", "outsider/secret/key/0000000000000000000000"))


def settled(read, period, tries):
    """read() once two readings period seconds apart (a sampling or counters round) agree;
    the last reading after tries."""
    last = read()
    for _ in range(tries):
        time.sleep(period)
        now = read()
        if now == last:
            return now
        last = now
    return last


def wait_for(cond, timeout, step=0.1):
    """cond()'s first true value within timeout seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def terminate_all_instances(daemon, accounts=(None,)):
    """Terminates every instance of these accounts (None: the daemon's default
    client) and waits until they are terminated, so a clean stop leaves nothing."""
    for account in accounts:
        ec2 = daemon.client("ec2", account) if account else daemon.client("ec2")
        ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
               if i["State"]["Name"] != "terminated"]
        if ids:
            ec2.terminate_instances(InstanceIds=ids)
            wait_for(lambda: all(i["State"]["Name"] == "terminated"
                                 for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                                 for i in r["Instances"]), 30, 0.2)


@contextlib.contextmanager
def serving_with_instances(daemon):
    """Yields a started daemon; afterwards terminates its instances, stops it
    (asserting a clean exit) and removes its state directory."""
    try:
        yield daemon
    finally:
        try:
            terminate_all_instances(daemon)
        finally:
            rc = daemon.stop()
            shutil.rmtree(daemon.state_dir, ignore_errors=True)
        assert rc == 0


def error_code(call, **kw):
    """The AWS error code a boto3 call answers (it must fail)."""
    import pytest
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(accounts=("provider", "consumer"), body='dataplane = false\ndns_listen = ""\n'):
    """A config file in a new state directory: BODY (top-level keys and tables after
    them) and the named accounts (of ALL_ACCOUNTS). Returns (state_dir, config_path)."""
    state_dir = tempfile.mkdtemp(prefix="lp-test-")
    path = os.path.join(state_dir, "linkplane.toml")
    top, _, tables = body.partition("\n[")
    if body.startswith("["):
        top, tables = "", body[1:]
    # Subscribers in tests are local servers (tenancy: a config file allows none by default).
    if "subscriber_networks" not in body:
        if "[sns]" in "[" + tables:
            tables = tables.replace("sns]\n", 'sns]\nsubscriber_networks = ["127.0.0.0/8"]\n', 1)
        else:
            tables = (tables + "\n\n[" if tables else "") + 'sns]\nsubscriber_networks = ["127.0.0.0/8"]\n'
    parts = ['region = "us-east-1"', top.strip()]
    for name in accounts:
        account_id, key, secret = ALL_ACCOUNTS[name]
        parts.append(f'[[accounts]]\nid = "{account_id}"\nname = "{name}"\n'
                     f'access_key_id = "{key}"\nsecret_access_key = "{secret}"')
    if tables:
        parts.append("[" + tables)
    # 0600: the daemon refuses a file with secret keys that others may read (as ssh does).
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("\n\n".join(p for p in parts if p) + "\n")
    return state_dir, path


def serving(daemon):
    """The body of a daemon fixture, `yield from serving(d.start())`: hands the daemon to
    the test, then stops it, removes its state directory and checks it stopped cleanly."""
    try:
        yield daemon
    finally:
        rc = daemon.stop()
        shutil.rmtree(daemon.state_dir, ignore_errors=True)
    assert rc == 0, f"daemon exited {rc} on SIGTERM"


class AwsError(Exception):
    def __init__(self, code, message, returncode, stderr):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.returncode = returncode
        self.stderr = stderr


class Daemon:
    """A running `linkplane serve`. Stop it with stop() (SIGTERM) or kill() (SIGKILL)."""

    def __init__(self, state_dir=None, config=None, extra_args=(), env=None, nofile=None):
        self._own_dir = state_dir is None
        self.proc_env = env  # the daemon's environment (None: this process's)
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="lp-test-")
        self.config = config
        self.extra_args = list(extra_args)
        self.nofile = nofile  # RLIMIT_NOFILE (soft and hard) for the daemon, or None
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.state_dir, "daemon.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, port=None, timeout=20):
        self.port = port or free_port()
        args = [LINKPLANE, "serve", "--state-dir", self.state_dir, "--listen", f"127.0.0.1:{self.port}"]
        if self.config:
            args += ["--config", self.config]
        args += self.extra_args
        self._log = open(self.log_path, "ab")
        limit = None
        if self.nofile:
            import resource
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))  # noqa: E731
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, env=self.proc_env,
                                     preexec_fn=limit)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(b"linkplane listening on http://"):
                return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"daemon did not start: {line!r}\n{open(self.log_path).read()}")

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("daemon did not stop on SIGTERM")
        return self.proc.returncode if self.proc else None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start(port=self.port)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def env(self, account="provider"):
        _, key, secret = ALL_ACCOUNTS[account]
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION=REGION,
                   AWS_PAGER="", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        env.pop("AWS_PROFILE", None)
        return env

    def aws(self, *args, account="provider", check=True, raw=False):
        """Runs `aws --endpoint-url URL ARGS...` as account; returns parsed JSON
        output (or text with raw=True). Raises AwsError with the AWS error code."""
        cmd = [AWS, "--endpoint-url", self.url, "--output", "json"] + [str(a) for a in args]
        p = subprocess.run(cmd, env=self.env(account), capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            err = p.stderr.strip()
            code = ""
            if "An error occurred (" in err:
                code = err.split("An error occurred (", 1)[1].split(")", 1)[0]
            if check:
                raise AwsError(code, err, p.returncode, p.stderr)
            return AwsError(code, err, p.returncode, p.stderr)
        if raw:
            return p.stdout
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def aws_error(self, *args, account="provider"):
        """Runs a command that must fail; returns its AwsError."""
        r = self.aws(*args, account=account, check=False)
        assert isinstance(r, AwsError), f"expected an error from {args}, got {r}"
        return r

    def wait_endpoint_state(self, endpoint_id, state, account="consumer", timeout=5):
        """Polls describe-vpc-endpoints until the endpoint is in STATE; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            e = self.aws("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", endpoint_id,
                         account=account)["VpcEndpoints"][0]
            if e["State"] == state or time.monotonic() > deadline:
                assert e["State"] == state, e
                return e
            time.sleep(0.1)

    def client(self, service, account="provider"):
        import boto3
        from botocore.config import Config
        _, key, secret = ALL_ACCOUNTS[account]
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id=key,
                            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
