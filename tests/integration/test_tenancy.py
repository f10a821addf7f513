"""Tenancy (issue 19, docs/tenancy.md), end to end with the real AWS CLI and boto3,
the adversary being a third account ('outsider'):

- its 50 subscriptions to endpoints that accept and never answer (tarpits) do not
  delay another account's subscription confirmation or a provider's connection
  event by more than a second;
- it cannot make the daemon send anything to a cloud metadata address, the daemon's
  own API, another tenant's VPC, or (unless the config allows it) loopback:
  Subscribe answers InvalidParameter with the reason and no connection is made,
  also when an already accepted subscriber's address stops being allowed;
- a config file holding secret keys that others may read is refused, and the
  daemon never logs a secret key or a request signature."""

import os
import shutil
import socket
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lp import ALL_ACCOUNTS, REGION, Daemon, serving, write_config
from test_notifications import consumer_endpoint, notification_topic, publish_service
from test_sns import Receiver

ACCOUNTS = ("provider", "consumer", "outsider")


class Tarpit:
    """A TCP server on 127.0.0.1 that accepts connections and never answers. Holds
    at most `limit` connections; all are closed by stop()."""

    def __init__(self, limit=200):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.limit = limit
        self.accepted = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                if len(self.accepted) >= self.limit:
                    c.close()
                else:
                    self.accepted.append(c)

    def count(self):
        with self.lock:
            return len(self.accepted)

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        with self.lock:
            for c in self.accepted:
                c.close()
        self.sock.close()


class Listener:
    """A TCP server on 127.0.0.1 that counts connections and answers each with
    HTTP 500 (so a confirmation stays owed and is retried)."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            c.settimeout(2)
            try:
                c.recv(65536)
                c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            c.close()

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def start(body):
    state_dir, config = write_config(ACCOUNTS, 'zone_ids = ["use1-az1", "use1-az2"]\ndataplane = false\n'
                                               'dns_listen = ""\nlog_level = "debug"\n' + body)
    try:
        return Daemon(state_dir=state_dir, config=config).start()
    except Exception:
        shutil.rmtree(state_dir, ignore_errors=True)
        raise


@pytest.fixture(scope="module")
def daemon():
    # 10/8 allowed: a VPC's range must still be refused for its own reason.
    yield from serving(start('[sns]\nsubscriber_networks = ["127.0.0.0/8", "10.0.0.0/8"]\n'))


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return time.time()
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_tarpit_subscriptions_of_one_account_delay_no_other_account(daemon):
    tarpit = Tarpit()
    receivers = [Receiver().start(), Receiver().start()]
    try:
        sns = daemon.client("sns", account="outsider")  # boto3: 50 calls in a few seconds
        flood = sns.create_topic(Name="flood")["TopicArn"]
        first = time.time()
        for i in range(50):
            out = sns.subscribe(TopicArn=flood, Protocol="http", Endpoint=f"http://127.0.0.1:{tarpit.port}/tarpit/{i}")
            assert out["SubscriptionArn"] == "pending confirmation"
        # The adversary's confirmations now hang in as many connections as its share allows.
        wait(lambda: tarpit.count() >= 8, 20, "the tarpit to hold the adversary's deliveries")

        # Another account's subscription confirmation arrives at once.
        topic = daemon.aws("sns", "create-topic", "--name", "calm", account="consumer")["TopicArn"]
        daemon.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "http",
                   "--notification-endpoint", receivers[0].url, account="consumer")
        asked = time.time()
        got = wait(lambda: receivers[0].of_type("SubscriptionConfirmation"), 15, "the consumer's confirmation")
        assert got - asked < 1.0, f"confirmation took {got - asked:.2f}s behind 50 tarpits"
        if time.time() - first < 14:  # before the first 15 s timeouts, the tarpit holds exactly the share
            assert tarpit.count() == 8

        # And so does a provider's connection event (Connect, when the consumer asks).
        svc = publish_service(daemon)
        events = notification_topic(daemon, "events", "provider")
        receivers[1].confirm = True
        daemon.aws("sns", "subscribe", "--topic-arn", events, "--protocol", "http",
                   "--notification-endpoint", receivers[1].url)
        wait(lambda: receivers[1].confirm_results, 15, "the provider's confirmation")
        provider_sns = daemon.client("sns")
        wait(lambda: any(s["SubscriptionArn"] != "PendingConfirmation" for s in provider_sns.list_subscriptions_by_topic(
            TopicArn=events)["Subscriptions"]), 10, "the confirmation")
        daemon.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", svc["ServiceId"],
                   "--connection-notification-arn", events, "--connection-events", "Connect")
        consumer_endpoint(daemon, svc)
        asked = time.time()
        got = wait(lambda: receivers[1].notifications(), 15, "the Connect event")
        assert got - asked < 1.0, f"connection event took {got - asked:.2f}s behind 50 tarpits"
    finally:
        for r in receivers:
            r.stop()
        tarpit.stop()


def refused(daemon, topic, url, account="outsider", cli=False):
    """Subscribe's refusal (boto3, or the AWS CLI with cli): its message."""
    if cli:
        e = daemon.aws_error("sns", "subscribe", "--topic-arn", topic, "--protocol", url.split(":")[0],
                             "--notification-endpoint", url, account=account)
        assert e.code == "InvalidParameter", e
        return e.message
    with pytest.raises(ClientError) as e:
        daemon.client("sns", account=account).subscribe(TopicArn=topic, Protocol=url.split(":")[0], Endpoint=url)
    assert e.value.response["Error"]["Code"] == "InvalidParameter", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return e.value.response["Error"]["Message"]


def test_subscriptions_to_the_host_the_daemon_and_other_tenants_are_refused(daemon):
    topic = daemon.aws("sns", "create-topic", "--name", "probe", account="outsider")["TopicArn"]
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.30.0.0/16", account="consumer")["Vpc"]["VpcId"]
    try:
        assert refused(daemon, topic, "http://169.254.169.254/latest/meta-data/", cli=True).endswith(
            "Invalid parameter: Endpoint Reason: linkplane does not send to this endpoint: "
            "169.254.169.254 is link-local (169.254.0.0/16)")
        assert "link-local" in refused(daemon, topic, "http://[::ffff:169.254.169.254]/")
        assert "link-local" in refused(daemon, topic, "http://[fe80::1]/")
        assert "multicast" in refused(daemon, topic, "http://224.0.0.251/")
        assert "own listeners" in refused(daemon, topic, f"http://127.0.0.1:{daemon.port}/?Action=Publish")
        # localhost may resolve to ::1 first (loopback, not allowed here) or to 127.0.0.1 (the API).
        msg = refused(daemon, topic, f"http://localhost:{daemon.port}/")
        assert "own listeners" in msg or "::1 is loopback" in msg, msg
        assert "inside a VPC's CIDR block (10.30.0.0/16)" in refused(daemon, topic, "http://10.30.1.10:8080/hook")
        assert "unspecified" in refused(daemon, topic, "http://0.0.0.0:8080/")
        # Nothing was created, so nothing will ever be sent.
        assert daemon.aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic,
                          account="outsider")["Subscriptions"] == []
    finally:
        daemon.aws("ec2", "delete-vpc", "--vpc-id", vpc, account="consumer")


def test_loopback_is_refused_unless_allowed_also_for_an_accepted_subscriber():
    listener = Listener()
    d = start('[sns]\nsubscriber_networks = ["127.0.0.0/8"]\n')
    try:
        topic = d.aws("sns", "create-topic", "--name", "t", account="outsider")["TopicArn"]
        url = f"http://127.0.0.1:{listener.port}/hook"
        d.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "http", "--notification-endpoint", url,
              account="outsider")
        wait(lambda: listener.connections >= 1, 10, "the confirmation (answered 500: stays owed)")
        d.stop()
        # The same state, now with a config that allows no loopback.
        with open(d.config) as f:
            text = f.read()
        with open(d.config, "w") as f:
            f.write(text.replace('subscriber_networks = ["127.0.0.0/8"]', "subscriber_networks = []"))
        seen = listener.connections
        d.start(port=d.port)
        other = Listener()
        try:
            msg = refused(d, topic, f"http://127.0.0.1:{other.port}/hook")
            assert "127.0.0.1 is loopback (127.0.0.0/8) and not in [sns] subscriber_networks" in msg
            assert "loopback" in refused(d, topic, f"http://localhost:{other.port}/hook")
            # The owed confirmation's retries (1 s, 2 s) are checked at connect time: not sent.
            wait(lambda: "not sent: 127.0.0.1 is loopback" in d.log(), 10, "the refused retry in the log")
            assert listener.connections == seen
            assert other.connections == 0
        finally:
            other.stop()
    finally:
        d.stop()
        listener.stop()
        shutil.rmtree(d.state_dir, ignore_errors=True)


def test_config_with_secrets_readable_by_others_is_refused():
    state_dir, config = write_config(ACCOUNTS)
    try:
        os.chmod(config, 0o644)
        d = Daemon(state_dir=state_dir, config=config)
        with pytest.raises(RuntimeError, match="did not start"):
            d.start()
        assert d.proc.wait(10) != 0
        log = d.log()
        assert f"{config} holds secret keys" in log and f"chmod 600 {config}" in log, log
        os.chmod(config, 0o600)
        d.start()
        d.stop()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def test_the_log_holds_no_secret_key_and_no_signature(daemon):
    signatures = []

    def capture(request, **_):
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        if "Signature=" in auth:
            signatures.append(auth.split("Signature=")[1])

    for name in ACCOUNTS:
        _, key, secret = ALL_ACCOUNTS[name]
        for service in ("sts", "ec2", "sns"):
            c = boto3.client(service, region_name=REGION, endpoint_url=daemon.url, aws_access_key_id=key,
                             aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
            c.meta.events.register("before-send", capture)
            if service == "sts":
                c.get_caller_identity()
            elif service == "ec2":
                c.describe_vpcs()
            else:
                c.list_topics()
    # A wrong secret too: its signature must not be echoed anywhere either.
    _, key, _ = ALL_ACCOUNTS["outsider"]
    bad = boto3.client("sts", region_name=REGION, endpoint_url=daemon.url, aws_access_key_id=key,
                       aws_secret_access_key="not-the-secret", config=Config(retries={"max_attempts": 1}))
    bad.meta.events.register("before-send", capture)
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        bad.get_caller_identity()
    assert len(signatures) == 3 * 3 + 1
    log = daemon.log()
    assert log, "the daemon logged nothing at debug level"
    for name in ACCOUNTS:
        assert ALL_ACCOUNTS[name][2] not in log
    for sig in signatures:
        assert sig not in log
    assert "Signature=" not in log and "secret_access_key" not in log
