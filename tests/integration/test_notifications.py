"""VPC endpoint connection notifications end to end with the real AWS CLI: the
seed's "Creating and Managing a Notification" section (create, describe, modify,
delete), the topic policy that must let vpce.amazonaws.com publish, and the
events themselves (Connect, Accept, Reject, Delete) arriving at HTTP receivers
subscribed to a provider's topic (service notification) and a consumer's topic
(endpoint notification), an https subscriber whose CA the daemon is told to
trust ([sns] ca_file) and one it does not trust, and kill -9 between the state
change and the delivery and while events flow. The data plane is off: these pin
the control plane and delivery."""

import json
import shutil
import time

import pytest

from lp import Daemon, serving, write_config
from test_sns import Receiver, TlsFiles, subscribe_confirmed

PROVIDER, CONSUMER = "111111111111", "222222222222"


def start_daemon(tables=""):
    """A daemon on a new state directory; TABLES is config text after the top-level keys."""
    state_dir, config = write_config(("provider", "consumer"),
                                     'zone_ids = ["use1-az1", "use1-az2"]\ndataplane = false\ndns_listen = ""\n' + tables)
    try:
        return Daemon(state_dir=state_dir, config=config).start()
    except Exception:  # it refused its config: nothing else will remove the directory
        shutil.rmtree(state_dir, ignore_errors=True)
        raise


@pytest.fixture
def daemon():
    yield from serving(start_daemon())


@pytest.fixture
def receivers():
    rs = [Receiver().start(), Receiver().start()]
    yield rs
    for r in rs:
        r.stop()


def vpce_policy(arn, extra=()):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "vpce.amazonaws.com"}, "Action": "SNS:Publish", "Resource": arn},
        *extra]})


def notification_topic(daemon, name, account):
    """A topic whose policy carries the seed's statement."""
    arn = daemon.aws("sns", "create-topic", "--name", name, account=account)["TopicArn"]
    daemon.aws("sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "Policy",
               "--attribute-value", vpce_policy(arn), account=account)
    return arn


def publish_service(daemon, acceptance=True):
    """Provider: NLB behind an endpoint service the consumer may use."""
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.10.0.0/16")["Vpc"]["VpcId"]
    sub = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.10.1.0/24",
                     "--availability-zone-id", "use1-az1")["Subnet"]["SubnetId"]
    lb = daemon.aws("elbv2", "create-load-balancer", "--name", "svc", "--type", "network", "--scheme", "internal",
                    "--subnets", sub)["LoadBalancers"][0]["LoadBalancerArn"]
    flag = "--acceptance-required" if acceptance else "--no-acceptance-required"
    svc = daemon.aws("ec2", "create-vpc-endpoint-service-configuration", "--network-load-balancer-arns", lb,
                     flag)
    if "ServiceConfiguration" not in svc:
        pytest.skip("endpoint services are not served")
    svc = svc["ServiceConfiguration"]
    daemon.aws("ec2", "modify-vpc-endpoint-service-permissions", "--service-id", svc["ServiceId"],
               "--add-allowed-principals", f"arn:aws:iam::{CONSUMER}:root")
    return svc


def consumer_endpoint(daemon, svc):
    vpc = daemon.aws("ec2", "create-vpc", "--cidr-block", "10.20.0.0/16", account="consumer")["Vpc"]["VpcId"]
    sub = daemon.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.20.1.0/24",
                     "--availability-zone-id", "use1-az1", account="consumer")["Subnet"]["SubnetId"]
    return daemon.aws("ec2", "create-vpc-endpoint", "--vpc-id", vpc, "--vpc-endpoint-type", "Interface",
                      "--service-name", svc["ServiceName"], "--subnet-ids", sub,
                      account="consumer")["VpcEndpoint"]


def events_of(receiver):
    return [json.loads(m["Message"]) for m in receiver.notifications()]


def wait_events(receiver, n, timeout=30):
    receiver.wait_for(lambda: len(receiver.notifications()) >= n, timeout=timeout, what=f"{n} notifications")
    return events_of(receiver)


def test_topic_policy_must_let_vpce_publish(daemon):
    probe = daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications", check=False)
    if getattr(probe, "code", "") == "InvalidAction":
        pytest.skip("connection notifications are not served")
    svc = publish_service(daemon)
    sid = svc["ServiceId"]
    plain = daemon.aws("sns", "create-topic", "--name", "plain")["TopicArn"]

    def create(arn, *extra, account="provider", service=sid):
        return daemon.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", service,
                          "--connection-notification-arn", arn, "--connection-events", "Connect", "Accept",
                          *extra, account=account, check=False)

    # The default policy does not name vpce.amazonaws.com.
    e = create(plain)
    assert e.code == "InvalidConnectionNotification" and "vpce.amazonaws.com" in e.message
    # Neither does a policy for an account, for another action, or for another topic.
    for policy in [
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROVIDER}:root"}, "Action": "SNS:Publish"}]},
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "vpce.amazonaws.com"}, "Action": "SNS:Subscribe"}]},
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "vpce.amazonaws.com"}, "Action": "sns:publish",
                        "Resource": "arn:aws:sns:us-east-1:111111111111:other"}]},
        json.loads(vpce_policy(plain, [{"Effect": "Deny", "Principal": "*", "Action": "SNS:*"}])),
    ]:
        daemon.aws("sns", "set-topic-attributes", "--topic-arn", plain, "--attribute-name", "Policy",
                   "--attribute-value", json.dumps(policy))
        assert create(plain).code == "InvalidConnectionNotification", policy
    # A topic that does not exist, or in another region.
    assert create(plain + "-missing").code == "InvalidConnectionNotification"
    assert create(plain.replace("us-east-1", "eu-west-1")).code == "InvalidConnectionNotification"
    assert daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications")["ConnectionNotificationSet"] == []

    # The seed's statement (action case and wildcards as IAM reads them).
    daemon.aws("sns", "set-topic-attributes", "--topic-arn", plain, "--attribute-name", "Policy",
               "--attribute-value", json.dumps({"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Principal": {"Service": ["vpce.amazonaws.com"]}, "Action": ["sns:*"],
                    "Resource": "arn:aws:sns:*:*:plain"}]}))
    n = create(plain, "--client-token", "tok-1")["ConnectionNotification"]
    assert n["ConnectionNotificationId"].startswith("vpce-nfn-")
    assert (n["ServiceId"], n["ConnectionNotificationArn"], n["ConnectionNotificationType"],
            n["ConnectionNotificationState"], n["ConnectionEvents"]) == (sid, plain, "Topic", "Enabled",
                                                                         ["Connect", "Accept"])
    # ClientToken: the same request gives the same notification; another request is refused.
    assert create(plain, "--client-token", "tok-1")["ConnectionNotification"] == n
    e = daemon.aws_error("ec2", "create-vpc-endpoint-connection-notification", "--service-id", sid,
                         "--connection-notification-arn", plain, "--connection-events", "Delete",
                         "--client-token", "tok-1")
    assert e.code == "IdempotentParameterMismatch"

    # Bad events, another account's service, no target: refused, nothing created.
    assert daemon.aws_error("ec2", "create-vpc-endpoint-connection-notification", "--service-id", sid,
                            "--connection-notification-arn", plain,
                            "--connection-events", "Explode").code == "InvalidParameterValue"
    assert create(plain, account="consumer").code == "InvalidVpcEndpointServiceId.NotFound"
    assert create(plain, service="vpce-svc-0123456789abcdef0").code == "InvalidVpcEndpointServiceId.NotFound"
    assert daemon.aws_error("ec2", "create-vpc-endpoint-connection-notification", "--connection-notification-arn",
                            plain, "--connection-events", "Accept").code == "MissingParameter"
    listed = daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications")["ConnectionNotificationSet"]
    assert listed == [n]
    assert daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications",
                      account="consumer")["ConnectionNotificationSet"] == []

    # Describe: by id, filters, paging.
    nid = n["ConnectionNotificationId"]
    second = notification_topic(daemon, "second", "provider")
    n2 = create(second)["ConnectionNotification"]
    by_id = daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications", "--connection-notification-id", nid)
    assert by_id["ConnectionNotificationSet"] == [n]
    e = daemon.aws_error("ec2", "describe-vpc-endpoint-connection-notifications", "--connection-notification-id",
                         "vpce-nfn-0123456789abcdef0")
    assert e.code == "InvalidConnectionNotification"
    for name, value, want in [("connection-notification-arn", second, [n2]), ("service-id", sid, [n, n2]),
                              ("connection-notification-state", "Enabled", [n, n2]),
                              ("connection-notification-type", "Topic", [n, n2]), ("vpc-endpoint-id", "vpce-*", []),
                              ("connection-notification-id", nid, [n])]:
        got = daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications", "--filters",
                         f"Name={name},Values={value}")["ConnectionNotificationSet"]
        assert sorted(got, key=lambda x: x["ConnectionNotificationId"]) == sorted(
            want, key=lambda x: x["ConnectionNotificationId"]), name
    assert daemon.aws_error("ec2", "describe-vpc-endpoint-connection-notifications", "--filters",
                            "Name=colour,Values=x").code == "InvalidParameterValue"
    ec2 = daemon.client("ec2")
    page = ec2.describe_vpc_endpoint_connection_notifications(MaxResults=1)
    rest = ec2.describe_vpc_endpoint_connection_notifications(MaxResults=1, NextToken=page["NextToken"])
    assert len(page["ConnectionNotificationSet"]) == 1 and len(rest["ConnectionNotificationSet"]) == 1
    assert "NextToken" not in rest
    assert {page["ConnectionNotificationSet"][0]["ConnectionNotificationId"],
            rest["ConnectionNotificationSet"][0]["ConnectionNotificationId"]} == {nid, n2["ConnectionNotificationId"]}

    # Modify (the seed's example), then refuse a topic without the statement.
    out = daemon.aws("ec2", "modify-vpc-endpoint-connection-notification", "--connection-notification-id", nid,
                     "--connection-events", "Accept", "--connection-notification-arn", second)
    assert out["ReturnValue"] is True
    got = daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications", "--connection-notification-id",
                     nid)["ConnectionNotificationSet"][0]
    assert (got["ConnectionEvents"], got["ConnectionNotificationArn"]) == (["Accept"], second)
    bare = daemon.aws("sns", "create-topic", "--name", "bare")["TopicArn"]
    e = daemon.aws_error("ec2", "modify-vpc-endpoint-connection-notification", "--connection-notification-id", nid,
                         "--connection-notification-arn", bare)
    assert e.code == "InvalidConnectionNotification"
    # Another account's notification is not there for it.
    assert daemon.aws_error("ec2", "modify-vpc-endpoint-connection-notification", "--connection-notification-id", nid,
                            "--connection-events", "Reject", account="consumer").code == "InvalidConnectionNotification"
    assert daemon.aws_error("ec2", "modify-vpc-endpoint-connection-notification", "--connection-notification-id",
                            nid).code == "MissingParameter"

    # Delete: per-item errors in a 200.
    out = daemon.aws("ec2", "delete-vpc-endpoint-connection-notifications", "--connection-notification-ids", nid,
                     "vpce-nfn-0123456789abcdef0")
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        ("vpce-nfn-0123456789abcdef0", "InvalidConnectionNotification")]
    assert daemon.aws("ec2", "describe-vpc-endpoint-connection-notifications")["ConnectionNotificationSet"] == [n2]
    out = daemon.aws("ec2", "delete-vpc-endpoint-connection-notifications", "--connection-notification-ids",
                     n2["ConnectionNotificationId"], account="consumer")
    assert [u["Error"]["Code"] for u in out["Unsuccessful"]] == ["InvalidConnectionNotification"]


def test_provider_and_consumer_receive_connect_accept_reject_delete(daemon, receivers):
    provider_rx, consumer_rx = receivers
    svc = publish_service(daemon)
    ptopic = notification_topic(daemon, "provider-events", "provider")
    ctopic = notification_topic(daemon, "consumer-events", "consumer")
    subscribe_confirmed(daemon, ptopic, provider_rx)
    subscribe_confirmed(daemon, ctopic, consumer_rx, account="consumer")
    daemon.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", svc["ServiceId"],
               "--connection-notification-arn", ptopic, "--connection-events", "Connect", "Accept", "Reject", "Delete")

    e = consumer_endpoint(daemon, svc)
    eid = e["VpcEndpointId"]
    assert e["State"] == "pendingAcceptance"
    # The consumer's notification names its endpoint (it exists only after the Connect).
    daemon.aws("ec2", "create-vpc-endpoint-connection-notification", "--vpc-endpoint-id", eid,
               "--connection-notification-arn", ctopic, "--connection-events", "Accept", "Reject", "Delete",
               "Connect", account="consumer")
    assert daemon.aws_error("ec2", "create-vpc-endpoint-connection-notification", "--vpc-endpoint-id", eid,
                            "--connection-notification-arn", ctopic, "--connection-events",
                            "Accept").code == "InvalidVpcEndpointId.NotFound"

    daemon.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids", eid)
    daemon.aws("ec2", "reject-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids", eid)
    daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", eid, account="consumer")

    pev = wait_events(provider_rx, 4)
    cev = wait_events(consumer_rx, 3)
    time.sleep(1)
    assert [x["eventType"] for x in events_of(provider_rx)] == ["Connect", "Accept", "Reject", "Delete"]
    assert [x["eventType"] for x in events_of(consumer_rx)] == ["Accept", "Reject", "Delete"]
    for x in pev + cev:
        assert (x["vpcEndpointId"], x["serviceId"], x["serviceName"]) == (eid, svc["ServiceId"], svc["ServiceName"])
        assert (x["vpcEndpointOwner"], x["serviceOwner"]) == (CONSUMER, PROVIDER)
        assert x["eventTime"].endswith("Z") and x["connectionNotificationId"].startswith("vpce-nfn-")
    assert pev[0]["vpcEndpointState"] == "pendingAcceptance"
    assert [x["vpcEndpointState"] for x in cev][-1] in ("deleting", "deleted")
    # Delivered in SNS's format, from the right topics.
    for rx, topic in ((provider_rx, ptopic), (consumer_rx, ctopic)):
        for m in rx.of_type("Notification"):
            assert m["headers"]["x-amz-sns-topic-arn"] == topic and m["body"]["TopicArn"] == topic
            assert m["body"]["Subject"] == "VPC Endpoint Connection Notification"



def test_auto_accepted_endpoint_sends_connect_then_accept(daemon, receivers):
    rx = receivers[0]
    svc = publish_service(daemon, acceptance=False)
    topic = notification_topic(daemon, "auto-events", "provider")
    subscribe_confirmed(daemon, topic, rx)
    nid = daemon.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", svc["ServiceId"],
                     "--connection-notification-arn", topic, "--connection-events", "Connect",
                     "Accept")["ConnectionNotification"]["ConnectionNotificationId"]
    e = consumer_endpoint(daemon, svc)
    got = wait_events(rx, 2)
    assert [(x["eventType"], x["vpcEndpointId"]) for x in got] == [("Connect", e["VpcEndpointId"]),
                                                                    ("Accept", e["VpcEndpointId"])]
    # Events the notification does not ask for, and a deleted notification, send nothing.
    daemon.aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", e["VpcEndpointId"], account="consumer")
    daemon.aws("ec2", "delete-vpc-endpoint-connection-notifications", "--connection-notification-ids", nid)
    consumer_endpoint(daemon, svc)
    time.sleep(1.5)
    assert len(rx.notifications()) == 2


def test_kill_9_between_state_change_and_delivery_loses_nothing(receivers):
    rx = receivers[0]
    d = start_daemon()
    try:
        svc = publish_service(d)
        topic = notification_topic(d, "durable-events", "provider")
        subscribe_confirmed(d, topic, rx)
        d.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", svc["ServiceId"],
              "--connection-notification-arn", topic, "--connection-events", "Connect", "Accept", "Reject", "Delete")
        rx.stop()  # the subscriber is down: the events wait in the store
        eid = consumer_endpoint(d, svc)["VpcEndpointId"]
        d.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids", eid)
        d.kill()
        d.start(port=d.port)
        d.aws("ec2", "reject-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids", eid)
        d.kill()  # right after the acknowledged change
        d.start(port=d.port)
        rx.start()
        got = wait_events(rx, 3, timeout=60)
        assert [x["eventType"] for x in got][:3] == ["Connect", "Accept", "Reject"]
        assert all(x["vpcEndpointId"] == eid for x in got)
    finally:
        d.kill()
        shutil.rmtree(d.state_dir, ignore_errors=True)


def wait_log(d, text, timeout=30):
    deadline = time.time() + timeout
    while text not in d.log():
        assert time.time() < deadline, f"no {text!r} in the daemon log"
        time.sleep(0.1)


def test_https_subscriber_trusted_through_sns_ca_file(tmp_path):
    trusted, rogue = TlsFiles(tmp_path / "trusted"), TlsFiles(tmp_path / "rogue", name="a CA nobody trusts")
    # A CA file that is not there, or not certificates, stops the daemon at start.
    for bad in (tmp_path / "missing.pem", trusted.key):
        with pytest.raises(RuntimeError, match="sns.ca_file"):
            start_daemon(f'[sns]\nca_file = "{bad}"\n')
    d = start_daemon(f'[sns]\nca_file = "{trusted.ca}"\n')
    rx = Receiver(tls=trusted.context).start()
    untrusted = Receiver(tls=rogue.context).start()
    try:
        assert rx.url.startswith("https://127.0.0.1:")
        svc = publish_service(d)
        topic = notification_topic(d, "tls-events", "provider")
        sub_arn = subscribe_confirmed(d, topic, rx)
        assert [c["body"]["TopicArn"] for c in rx.of_type("SubscriptionConfirmation")] == [topic]
        subs = d.aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in subs] == [("https", rx.url, sub_arn)]
        d.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", svc["ServiceId"],
              "--connection-notification-arn", topic, "--connection-events", "Connect", "Accept")
        eid = consumer_endpoint(d, svc)["VpcEndpointId"]
        got = wait_events(rx, 1)
        assert [(x["eventType"], x["vpcEndpointId"]) for x in got] == [("Connect", eid)]
        n = rx.of_type("Notification")[0]
        assert n["headers"]["x-amz-sns-subscription-arn"] == sub_arn and n["body"]["TopicArn"] == topic

        # A receiver whose certificate does not chain to the CA file hears nothing,
        # not even its confirmation, which is retried and stays pending.
        d.aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "https", "--notification-endpoint",
              untrusted.url)
        wait_log(d, f"to {untrusted.url} failed (attempt 2)")
        assert "certificate" in [x for x in d.log().splitlines() if untrusted.url in x][-1]
        assert untrusted.posts == []
        subs = d.aws("sns", "list-subscriptions-by-topic", "--topic-arn", topic)["Subscriptions"]
        assert {s["Endpoint"]: s["SubscriptionArn"] for s in subs}[untrusted.url] == "PendingConfirmation"

        # The confirmed receiver comes back with an untrusted certificate: its Accept
        # is not delivered, and not given up, until its trusted certificate is back.
        rx.stop()
        rx.tls = rogue.context
        rx.start()
        d.aws("ec2", "accept-vpc-endpoint-connections", "--service-id", svc["ServiceId"], "--vpc-endpoint-ids", eid)
        wait_log(d, f"to {rx.url} failed (attempt 2)")
        assert len(rx.notifications()) == 1
        rx.stop()
        rx.tls = trusted.context
        rx.start()
        got = wait_events(rx, 2)
        assert [(x["eventType"], x["vpcEndpointId"]) for x in got] == [("Connect", eid), ("Accept", eid)]
        assert untrusted.posts == []
    finally:
        rx.stop()
        untrusted.stop()
        rc = d.stop()
        shutil.rmtree(d.state_dir, ignore_errors=True)
    assert rc == 0


def test_kill_9_again_and_again_while_connection_events_flow(receivers):
    """Five kill -9s at varied points of a stream of Connect/Accept/Reject/Delete
    events for ten endpoints, each followed by a restart on the same state: every
    event the API acknowledged reaches the live receiver at least once, and nothing
    else does. The receiver takes 50 ms per message, so kills land mid-delivery."""
    rx = receivers[0]
    d = start_daemon()
    try:
        svc = publish_service(d)
        sid = svc["ServiceId"]
        topic = notification_topic(d, "flowing-events", "provider")
        subscribe_confirmed(d, topic, rx)
        d.aws("ec2", "create-vpc-endpoint-connection-notification", "--service-id", sid,
              "--connection-notification-arn", topic, "--connection-events", "Connect", "Accept", "Reject", "Delete")
        rx.delay = 0.05
        vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.20.0.0/16", account="consumer")["Vpc"]["VpcId"]
        sub = d.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.20.1.0/24",
                    "--availability-zone-id", "use1-az1", account="consumer")["Subnet"]["SubnetId"]

        acked = []  # (event, endpoint id), appended once the API answered

        def clients():
            return d.client("ec2"), d.client("ec2", account="consumer")

        provider, consumer = clients()

        def create():
            e = consumer.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=vpc, ServiceName=svc["ServiceName"],
                                             SubnetIds=[sub])["VpcEndpoint"]["VpcEndpointId"]
            acked.append(("Connect", e))
            return e

        def decide(action, e):
            out = getattr(provider, f"{action.lower()}_vpc_endpoint_connections")(ServiceId=sid, VpcEndpointIds=[e])
            assert out["Unsuccessful"] == []
            acked.append((action, e))

        def delete(e):
            assert consumer.delete_vpc_endpoints(VpcEndpointIds=[e])["Unsuccessful"] == []
            acked.append(("Delete", e))

        # Step (round * 6 + i) kills after its call, after this many seconds.
        kills = {3: 0.0, 8: 0.03, 14: 0.1, 21: 0.25, 29: 0.5}
        started = time.time()
        step = 0
        for _ in range(5):
            ids = []
            for op in ("create", "create", "Accept", "Reject", "delete", "delete"):
                if op == "create":
                    ids.append(create())
                elif op == "delete":
                    delete(ids.pop(0))
                else:
                    decide(op, ids[0] if op == "Accept" else ids[1])
                if step in kills:
                    time.sleep(kills[step])
                    d.kill()
                    d.start(port=d.port)
                    provider, consumer = clients()
                step += 1
        assert len(acked) == 30 and len(set(acked)) == 30

        def received():
            return {(x["eventType"], x["vpcEndpointId"]) for x in events_of(rx)}

        deadline = time.time() + 60  # retries back off to 20 s at most
        while not received() >= set(acked) and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        assert sorted(set(acked) - received()) == [], "acknowledged, never delivered"
        assert sorted(received() - set(acked)) == [], "delivered, never acknowledged"
        assert all(x["serviceId"] == sid for x in events_of(rx))
        assert time.time() - started < 120
    finally:
        d.kill()
        shutil.rmtree(d.state_dir, ignore_errors=True)
