"""SNS topics end to end with the real AWS CLI (`aws sns`) and boto3: topics and
their attributes, http subscriptions confirmed by a small receiver on 127.0.0.1
through the SubscribeURL (a plain GET, no SigV4, as on AWS), messages delivered
in SNS's format (headers, JSON fields, signature verified with the certificate
served at SigningCertURL), errors and isolation between accounts, paging, a
receiver that is down for a while, and kill -9 between Publish and delivery."""

import base64
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import threading
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from lp import Daemon, free_port

PROVIDER = "111111111111"


class Receiver:
    """An HTTP subscriber on 127.0.0.1: records every POST (headers, parsed body),
    answers 200 and, when confirm is set, confirms subscriptions by GETting their
    SubscribeURL. stop()/start() take it down and bring it back on the same port.
    With tls (an ssl.SSLContext for a server, see TlsFiles) it serves https; change
    tls between stop() and start() to present another certificate. With delay it
    takes that many seconds before answering (and recording) each POST."""

    def __init__(self, port=None, confirm=True, tls=None):
        self.port = port or free_port()
        self.confirm = confirm
        self.tls = tls
        self.delay = 0
        self.posts = []
        self.confirm_results = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hook"

    def start(self):
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n).decode()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                time.sleep(recv.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with recv.lock:
                    recv.posts.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "body": body})
                if recv.confirm and isinstance(body, dict) and body.get("Type") == "SubscriptionConfirmation":
                    threading.Thread(target=recv._confirm, args=(body["SubscribeURL"],), daemon=True).start()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls:
            # The handshake runs in accept(); one that fails (a client that does not
            # trust the certificate) is an OSError the server ignores: nothing recorded.
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def _confirm(self, url):
        with urllib.request.urlopen(url, timeout=10) as r:
            self.confirm_results.append((r.status, r.read().decode()))

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def of_type(self, t):
        with self.lock:
            return [p for p in self.posts if isinstance(p["body"], dict) and p["body"].get("Type") == t]

    def wait_for(self, pred, timeout=30, what="messages"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; got {self.posts}")

    def notifications(self):
        return [p["body"] for p in self.of_type("Notification")]


class TlsFiles:
    """A throw-away CA (ca.pem) in DIRECTORY and a server certificate it issued for
    IP 127.0.0.1 (server.pem, server.key); context is an ssl.SSLContext serving it."""

    def __init__(self, directory, name="linkplane test CA"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        os.makedirs(directory, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)

        def build(subject, issuer, key, signer, extensions):
            b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                 .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(minutes=5))
                 .not_valid_after(now + datetime.timedelta(days=1)))
            for ext, critical in extensions:
                b = b.add_extension(ext, critical=critical)
            return b.sign(signer, hashes.SHA256())

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = build(name, name, ca_key, ca_key, [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                           data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                           encipher_only=False, decipher_only=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)])
        key = ec.generate_private_key(ec.SECP256R1())
        cert = build("127.0.0.1", name, key, ca_key, [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)])
        self.ca = os.path.join(directory, "ca.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")
        with open(self.ca, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(self.cert, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, self.key)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def make_topic(daemon, name, account="provider"):
    return daemon.aws("sns", "create-topic", "--name", name, account=account)["TopicArn"]


def subscribe_confirmed(daemon, arn, receiver, account="provider"):
    """Subscribes the receiver (http or https, as its URL) and waits until it
    confirmed; returns the ARN."""
    protocol = receiver.url.split(":", 1)[0]
    out = daemon.aws("sns", "subscribe", "--topic-arn", arn, "--protocol", protocol, "--notification-endpoint",
                     receiver.url, account=account)
    assert out["SubscriptionArn"] == "pending confirmation"

    def confirmed():
        subs = daemon.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn, account=account)["Subscriptions"]
        return [s["SubscriptionArn"] for s in subs if s["Endpoint"] == receiver.url and s["SubscriptionArn"] != "PendingConfirmation"]

    receiver.wait_for(lambda: len(receiver.confirm_results) > 0, what="the confirmation")
    deadline = time.time() + 10
    while time.time() < deadline:
        arns = confirmed()
        if arns:
            return arns[0]
        time.sleep(0.1)
    raise AssertionError("subscription not confirmed")


def string_to_sign(m):
    keys = (["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
            if m["Type"] == "SubscriptionConfirmation"
            else ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"])
    return "".join(f"{k}\n{m[k]}\n" for k in keys if k in m).encode()


def verify_signature(m):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    with urllib.request.urlopen(m["SigningCertURL"], timeout=10) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    algo = hashes.SHA256() if m["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(m["Signature"]), string_to_sign(m), padding.PKCS1v15(), algo)


def test_topics_with_the_cli(daemon):
    arn = daemon.aws("sns", "create-topic", "--name", "orders", "--attributes", "DisplayName=Orders",
                     "--tags", "Key=team,Value=web")["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{PROVIDER}:orders"
    # Idempotent by name.
    assert make_topic(daemon, "orders") == arn
    attrs = daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert attrs["TopicArn"] == arn and attrs["Owner"] == PROVIDER and attrs["DisplayName"] == "Orders"
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"], attrs["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    assert "http" in json.loads(attrs["EffectiveDeliveryPolicy"])

    daemon.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "DisplayName",
               "--attribute-value", "Orders 2")
    vpce_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "vpce.amazonaws.com"},
                                                            "Action": "SNS:Publish", "Resource": arn}]}
    daemon.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "Policy",
               "--attribute-value", json.dumps(vpce_policy))
    attrs = daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert attrs["DisplayName"] == "Orders 2" and json.loads(attrs["Policy"]) == vpce_policy

    # A policy that is not a policy changes nothing.
    for bad in ["not json", "{}", json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "*"}]})]:
        e = daemon.aws_error("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "Policy",
                             "--attribute-value", bad)
        assert e.code == "InvalidParameter"
    assert json.loads(daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]["Policy"]) == vpce_policy
    assert daemon.aws_error("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "Colour",
                            "--attribute-value", "x").code == "InvalidParameter"

    for bad_name in ["has space", "x" * 257, "dot.fifo", "semi;colon"]:
        assert daemon.aws_error("sns", "create-topic", "--name", bad_name).code == "InvalidParameter"

    assert [t["TopicArn"] for t in daemon.aws("sns", "list-topics")["Topics"]] == [arn]
    daemon.aws("sns", "delete-topic", "--topic-arn", arn)
    assert daemon.aws("sns", "list-topics")["Topics"] == []
    # Deleting again is not an error (as in SNS); reading it is.
    daemon.aws("sns", "delete-topic", "--topic-arn", arn)
    e = daemon.aws_error("sns", "get-topic-attributes", "--topic-arn", arn)
    assert e.code == "NotFound"


def test_topics_are_per_account(daemon):
    arn = make_topic(daemon, "private")
    other = make_topic(daemon, "private", account="consumer")
    assert other == "arn:aws:sns:us-east-1:222222222222:private"
    assert [t["TopicArn"] for t in daemon.aws("sns", "list-topics", account="consumer")["Topics"]] == [other]
    for args in (["get-topic-attributes", "--topic-arn", arn],
                 ["publish", "--topic-arn", arn, "--message", "x"],
                 ["subscribe", "--topic-arn", arn, "--protocol", "http", "--notification-endpoint", "http://127.0.0.1:9/"],
                 ["list-subscriptions-by-topic", "--topic-arn", arn],
                 ["set-topic-attributes", "--topic-arn", arn, "--attribute-name", "DisplayName", "--attribute-value", "x"],
                 ["delete-topic", "--topic-arn", arn]):
        assert daemon.aws_error("sns", *args, account="consumer").code == "AuthorizationError", args
    # Still there, untouched.
    assert daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]["DisplayName"] == ""
    sns = daemon.client("sns", account="consumer")
    with pytest.raises(sns.exceptions.AuthorizationErrorException):
        sns.get_topic_attributes(TopicArn=arn)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:222222222222:nope")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.get_topic_attributes(TopicArn="arn:aws:sns:eu-west-1:222222222222:private")


def test_list_topics_pages_of_100(daemon):
    sns = daemon.client("sns")
    made = sorted(sns.create_topic(Name=f"t{i:03d}")["TopicArn"] for i in range(205))
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    third = sns.list_topics(NextToken=second["NextToken"])
    assert len(second["Topics"]) == 100 and len(third["Topics"]) == 5 and "NextToken" not in third
    assert [t["TopicArn"] for t in first["Topics"] + second["Topics"] + third["Topics"]] == made
    # The CLI follows the tokens itself.
    assert len(daemon.aws("sns", "list-topics")["Topics"]) == 205
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.list_topics(NextToken="garbage!")


def test_subscribe_confirm_and_publish(daemon, receiver):
    arn = make_topic(daemon, "events")
    sub_arn = subscribe_confirmed(daemon, arn, receiver)
    assert sub_arn.startswith(arn + ":")

    conf = receiver.of_type("SubscriptionConfirmation")
    assert len(conf) == 1
    h, m = conf[0]["headers"], conf[0]["body"]
    assert h["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert h["x-amz-sns-message-id"] == m["MessageId"] and h["x-amz-sns-topic-arn"] == arn
    assert h["content-type"] == "text/plain; charset=UTF-8"
    assert m["TopicArn"] == arn and m["Token"] and m["SignatureVersion"] == "1"
    assert m["SubscribeURL"].startswith(daemon.url + "/?Action=ConfirmSubscription&TopicArn=")
    assert m["SigningCertURL"].startswith(daemon.url + "/SimpleNotificationService-")
    verify_signature(m)
    status, body = receiver.confirm_results[0]
    assert status == 200 and f"<SubscriptionArn>{sub_arn}</SubscriptionArn>" in body

    attrs = daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"]) == ("1", "0")

    out = daemon.aws("sns", "publish", "--topic-arn", arn, "--subject", "Hello", "--message", "first message",
                     "--message-attributes", '{"colour": {"DataType": "String", "StringValue": "blue"}}')
    receiver.wait_for(lambda: len(receiver.of_type("Notification")) == 1)
    n = receiver.of_type("Notification")[0]
    h, m = n["headers"], n["body"]
    assert h["x-amz-sns-message-type"] == "Notification" and h["x-amz-sns-message-id"] == out["MessageId"]
    assert h["x-amz-sns-topic-arn"] == arn and h["x-amz-sns-subscription-arn"] == sub_arn
    assert (m["Type"], m["MessageId"], m["TopicArn"], m["Subject"], m["Message"]) == (
        "Notification", out["MessageId"], arn, "Hello", "first message")
    assert m["MessageAttributes"] == {"colour": {"Type": "String", "Value": "blue"}}
    assert m["UnsubscribeURL"].startswith(daemon.url + "/?Action=Unsubscribe&SubscriptionArn=")
    assert m["Timestamp"].endswith("Z")
    verify_signature(m)

    # SignatureVersion 2 (SHA256) on request.
    daemon.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "SignatureVersion",
               "--attribute-value", "2")
    daemon.aws("sns", "publish", "--topic-arn", arn, "--message", "second")
    receiver.wait_for(lambda: len(receiver.of_type("Notification")) == 2)
    m2 = receiver.of_type("Notification")[1]["body"]
    assert m2["SignatureVersion"] == "2" and "Subject" not in m2
    verify_signature(m2)

    # Unsubscribed: nothing more arrives, the topic counts it.
    daemon.aws("sns", "unsubscribe", "--subscription-arn", sub_arn)
    daemon.aws("sns", "publish", "--topic-arn", arn, "--message", "after")
    time.sleep(1.5)
    assert len(receiver.of_type("Notification")) == 2
    attrs = daemon.aws("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsDeleted"]) == ("0", "1")
    assert daemon.aws_error("sns", "unsubscribe", "--subscription-arn", sub_arn).code == "NotFound"


def test_subscription_errors_and_the_token(daemon, receiver):
    arn = make_topic(daemon, "guarded")
    for proto, endpoint in [("email", "a@example.com"), ("sqs", "arn:aws:sqs:us-east-1:111111111111:q"),
                            ("http", "https://127.0.0.1/x"), ("https", "http://127.0.0.1/x"), ("http", "not a url")]:
        e = daemon.aws_error("sns", "subscribe", "--topic-arn", arn, "--protocol", proto, "--notification-endpoint", endpoint)
        assert e.code == "InvalidParameter", (proto, endpoint)
    assert daemon.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"] == []

    receiver.confirm = False
    out = daemon.aws("sns", "subscribe", "--topic-arn", arn, "--protocol", "http", "--notification-endpoint",
                     receiver.url, "--return-subscription-arn")
    sub_arn = out["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":")
    receiver.wait_for(lambda: receiver.of_type("SubscriptionConfirmation"))
    m = receiver.of_type("SubscriptionConfirmation")[0]["body"]

    # A wrong token confirms nothing, with or without SigV4.
    bad_url = m["SubscribeURL"].replace(m["Token"], "0" * len(m["Token"]))
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad_url, timeout=10)
    assert e.value.code == 400 and b"<Code>InvalidParameter</Code>" in e.value.read()
    e = daemon.aws_error("sns", "confirm-subscription", "--topic-arn", arn, "--token", "abc")
    assert e.code == "InvalidParameter"
    # Other actions are not open without SigV4.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{daemon.url}/?Action=ListTopics", timeout=10)
    assert e.value.code in (401, 403)
    subs = daemon.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]
    # Publishing reaches only confirmed subscribers.
    daemon.aws("sns", "publish", "--topic-arn", arn, "--message", "too early")
    time.sleep(1)
    assert receiver.of_type("Notification") == []

    # The token in the message confirms it through the API too (any account may).
    got = daemon.aws("sns", "confirm-subscription", "--topic-arn", arn, "--token", m["Token"], account="consumer")
    assert got["SubscriptionArn"] == sub_arn
    subs = daemon.aws("sns", "list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == [sub_arn]

    for args, code in [(["--message", ""], "InvalidParameter"),
                       (["--message", "x", "--subject", "line\nbreak"], "InvalidParameter"),
                       (["--message", "x", "--subject", "s" * 100], "InvalidParameter"),
                       (["--message", "{}", "--message-structure", "json"], "InvalidParameter"),
                       (["--message", "x", "--message-attributes", '{"a": {"DataType": "Colour", "StringValue": "v"}}'],
                        "InvalidParameterValue")]:
        e = daemon.aws_error("sns", "publish", "--topic-arn", arn, *args)
        assert e.code == code, args
    assert daemon.aws_error("sns", "publish", "--topic-arn", arn.replace("guarded", "missing"),
                            "--message", "x").code == "NotFound"
    time.sleep(1)
    assert receiver.of_type("Notification") == []

    # MessageStructure json: the http entry for http subscribers.
    daemon.aws("sns", "publish", "--topic-arn", arn, "--message-structure", "json",
               "--message", json.dumps({"default": "plain", "http": "for http"}))
    receiver.wait_for(lambda: receiver.of_type("Notification"))
    assert receiver.notifications()[0]["Message"] == "for http"


def test_subscriptions_page_of_100(daemon):
    sns = daemon.client("sns")
    arn = sns.create_topic(Name="many")["TopicArn"]
    for i in range(120):
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"http://127.0.0.1:9/{i}")
    first = sns.list_subscriptions_by_topic(TopicArn=arn)
    assert len(first["Subscriptions"]) == 100
    rest = sns.list_subscriptions_by_topic(TopicArn=arn, NextToken=first["NextToken"])
    assert len(rest["Subscriptions"]) == 20 and "NextToken" not in rest
    endpoints = {s["Endpoint"] for s in first["Subscriptions"] + rest["Subscriptions"]}
    assert len(endpoints) == 120
    # Subscribing the same endpoint again is the same subscription.
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/0")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "120"
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(ClientError) as e:
        sns.list_subscriptions_by_topic(TopicArn=arn)
    assert e.value.response["Error"]["Code"] == "NotFound"


def test_receiver_down_for_a_while_gets_every_message(daemon, receiver):
    arn = make_topic(daemon, "patient")
    subscribe_confirmed(daemon, arn, receiver)
    receiver.stop()
    sent = [daemon.aws("sns", "publish", "--topic-arn", arn, "--message", f"m{i}")["MessageId"] for i in range(5)]
    time.sleep(4)  # several failed attempts, backing off
    assert receiver.of_type("Notification") == []
    receiver.start()
    receiver.wait_for(lambda: len(receiver.notifications()) >= 5, timeout=60)
    got = receiver.notifications()
    assert [m["MessageId"] for m in got] == sent  # in order, each once
    assert [m["Message"] for m in got] == [f"m{i}" for i in range(5)]
    assert "failed (attempt" in daemon.log()


def test_kill_9_between_publish_and_delivery_loses_nothing(receiver):
    d = Daemon().start()
    try:
        arn = make_topic(d, "durable")
        subscribe_confirmed(d, arn, receiver)
        receiver.stop()
        sns = d.client("sns")
        sent = [sns.publish(TopicArn=arn, Message=f"k{i}")["MessageId"] for i in range(20)]
        d.kill()  # acknowledged, not delivered: in the outbox or the delivery queue
        d.start(port=d.port)
        receiver.start()
        receiver.wait_for(lambda: {m["MessageId"] for m in receiver.notifications()} >= set(sent), timeout=60)
        got = [m["MessageId"] for m in receiver.notifications()]
        assert set(got) == set(sent)
        # Kill again while the receiver is up and messages flow: at least once.
        more = [sns.publish(TopicArn=arn, Message=f"again{i}")["MessageId"] for i in range(20)]
        d.kill()
        d.start(port=d.port)
        receiver.wait_for(lambda: {m["MessageId"] for m in receiver.notifications()} >= set(more), timeout=60)
        # The signing key survived the restarts: every message verifies.
        for m in receiver.notifications()[-3:]:
            verify_signature(m)
    finally:
        d.kill()
        import shutil
        shutil.rmtree(d.state_dir, ignore_errors=True)
