"""Issue 19 (3, 4): per-account throttling with AWS's error codes, and the audit log
read through CloudTrail LookupEvents and `linkplane audit`. Three accounts: the
provider and consumer go about their business; the outsider is the adversary that
floods, signs badly and looks for the others' events. Real daemon, real AWS CLI and
boto3 (including the SDK's own retry)."""

import glob
import json
import os
import shutil
import subprocess
import threading
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from lp import ALL_ACCOUNTS, LINKPLANE, REGION, AWS, Daemon, serving, write_config

# Small buckets so a test can empty them in a few calls; the provider and consumer
# stay well inside them.
CONFIG = """dataplane = false
dns_listen = ""
[throttle]
mutating_rate = 1
mutating_burst = 20
read_rate = 4
read_burst = 30
# Refusals not paced here: these tests' clients ({"max_attempts": 1}: legacy mode, one
# retry) would never see a refusal, since a paced retry is read once a token exists, and
# drain() would run its 400 calls a second apart. Pacing has its own daemon below.
refusal_hold_max_ms = 0
"""
PACED_CONFIG = CONFIG.replace("refusal_hold_max_ms = 0", "refusal_hold_max_ms = 1000")
GONE_VPC = "vpc-0000000000000000a"


@pytest.fixture(scope="module")
def daemon():
    state_dir, config = write_config(accounts=("provider", "consumer", "outsider"), body=CONFIG)
    yield from serving(Daemon(state_dir=state_dir, config=config).start())


def client(d, service, account, **retries):
    _, key, secret = ALL_ACCOUNTS[account]
    return boto3.client(service, endpoint_url=d.url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=botocore.config.Config(retries=retries or {"max_attempts": 1}))


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def drain(call, code, limit=400):
    """Makes call until it fails with code (the bucket is empty); bounded."""
    for _ in range(limit):
        try:
            call()
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == code:
                return e.response
    raise AssertionError(f"never throttled after {limit} calls")


def refused(call, drain_call, want, tries=20):
    """Runs call() while another thread keeps the bucket empty with drain_call (an EC2
    call: RequestLimitExceeded when empty); call returns (code, HTTP status) when
    refused, None or another code when a token got through (a refill raced it: try
    again). Returns call's (code, status) once it is want."""
    for _ in range(tries):
        drain(drain_call, "RequestLimitExceeded")
        stop = threading.Event()

        def keep_empty():
            while not stop.is_set():
                try:
                    drain_call()
                except botocore.exceptions.ClientError:
                    pass

        t = threading.Thread(target=keep_empty)
        t.start()
        try:
            result = call()
        finally:
            stop.set()
            t.join()
        if result and result[0] == want:
            return result
    raise AssertionError(f"{want} never seen in {tries} tries")


def api_error(fn):
    """(code, status) of a ClientError from fn(), or None when it succeeded."""
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def cli(d, account, *args, **env):
    e = dict(d.env(account), **env)
    return subprocess.run([AWS, "--endpoint-url", d.url, "--output", "json", *args], env=e, capture_output=True,
                          text=True, timeout=60)


def audit_lines(d, *args):
    p = subprocess.run([LINKPLANE, "audit", "--state-dir", d.state_dir, *args], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_flooding_account_gets_aws_throttling_codes_while_others_work(daemon):
    ec2 = client(daemon, "ec2", "outsider")
    flood = lambda: ec2.delete_vpc(VpcId=GONE_VPC)  # noqa: E731
    vpcs_before = len(ec2.describe_vpcs()["Vpcs"])
    # Mutating calls: EC2 says RequestLimitExceeded with HTTP 503, as AWS does.
    r = drain(flood, "RequestLimitExceeded")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 503
    # The bucket is per account, across services: the Query services say Throttling, 400.
    sns, elb = client(daemon, "sns", "outsider"), client(daemon, "elbv2", "outsider")
    assert refused(lambda: api_error(lambda: sns.create_topic(Name="flood")), flood,
                   "Throttling") == ("Throttling", 400)
    assert refused(lambda: api_error(lambda: elb.create_target_group(
        Name="flood", Protocol="TCP", Port=80, VpcId=GONE_VPC, TargetType="ip")), flood,
                   "Throttling") == ("Throttling", 400)
    # A throttled create changed nothing. (A try that a refill raced creates its VPC:
    # counted, so only those exist afterwards.)
    created = []

    def create_vpc():
        result = api_error(lambda: created.append(ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]))
        return result

    assert refused(create_vpc, flood, "RequestLimitExceeded") == ("RequestLimitExceeded", 503)
    # The AWS CLI with retries off shows the code.
    def aws_cli():
        p = cli(daemon, "outsider", "ec2", "delete-vpc", "--vpc-id", GONE_VPC, AWS_MAX_ATTEMPTS="1",
                AWS_RETRY_MODE="standard")
        assert p.returncode != 0
        return ("RequestLimitExceeded", 0) if "(RequestLimitExceeded)" in p.stderr else None
    refused(aws_cli, flood, "RequestLimitExceeded")
    # Reads have their own bucket, and other accounts their own pairs.
    assert len(ec2.describe_vpcs()["Vpcs"]) == vpcs_before + len(created)
    consumer = client(daemon, "ec2", "consumer")
    vpc = consumer.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    consumer.delete_vpc(VpcId=vpc)
    assert client(daemon, "sns", "provider").create_topic(Name="calm")["TopicArn"]
    # boto3's standard retry mode backs off and gets through once the bucket refills.
    drain(flood, "RequestLimitExceeded")
    patient = client(daemon, "ec2", "outsider", mode="standard", max_attempts=10)
    made = patient.create_vpc(CidrBlock="10.9.0.0/16")
    assert made["ResponseMetadata"]["RetryAttempts"] >= 1
    patient.delete_vpc(VpcId=made["Vpc"]["VpcId"])


@pytest.fixture
def paced():
    state_dir, config = write_config(accounts=("provider", "consumer", "outsider"), body=PACED_CONFIG)
    yield from serving(Daemon(state_dir=state_dir, config=config).start())


def test_a_refused_connection_is_paced_and_no_other_connection_waits_for_it(paced):
    """A connection whose calls are refused for throttling has its next request read only
    when the bucket could grant a token (doubling per refusal in a row, at most
    refusal_hold_max_ms, 1 s by default): a client sending as fast as it can on one
    keep-alive connection gets a few answers a second, not hundreds. The hold is that
    connection's only: another account, and a forger's connection naming the flooder's
    key, change nothing for anyone else."""
    # No retry at all: the module's clients ({"max_attempts": 1}, legacy mode) retry once,
    # and a paced retry is read when a token exists, so it never shows the refusal.
    flooder = client(paced, "ec2", "outsider", total_max_attempts=1)  # one keep-alive connection
    flood = lambda: flooder.delete_vpc(VpcId=GONE_VPC)  # noqa: E731
    drain(flood, "RequestLimitExceeded")
    # A forger knows the outsider's key id, not its secret: refused as throttled before
    # the signature is looked at (the outsider is over its limit), on its own connection.
    _, key, _ = ALL_ACCOUNTS["outsider"]
    forger = boto3.client("ec2", endpoint_url=paced.url, region_name=REGION, aws_access_key_id=key,
                          aws_secret_access_key="not-the-secret",
                          config=botocore.config.Config(retries={"total_max_attempts": 1}))
    stop = threading.Event()
    forged = []

    def forge():
        while not stop.is_set():
            forged.append(api_error(lambda: forger.delete_vpc(VpcId=GONE_VPC)))

    consumer = client(paced, "ec2", "consumer")
    consumer_took = []
    t = threading.Thread(target=forge)
    t.start()
    try:
        answers, start = 0, time.monotonic()
        while time.monotonic() - start < 3:
            api_error(flood)
            answers += 1
            before = time.monotonic()
            consumer.describe_vpcs()
            consumer_took.append(time.monotonic() - before)
    finally:
        stop.set()
        t.join()
    # Unpaced, one connection gets hundreds of refusals in 3 s (each takes a
    # millisecond); paced at mutating_rate = 1, about one answer per second.
    assert 2 <= answers <= 8, answers
    # The other account's calls, made between the flooder's, never waited for its holds.
    assert max(consumer_took) < 0.5, consumer_took
    # (Its answers are AuthFailure whenever the outsider has a token: those are not paced.)
    assert ("RequestLimitExceeded", 503) in forged, forged
    # The flooder's own new connection (boto3, standard retries) is not held by its
    # refused connection nor the forger's: it gets through once a token exists.
    patient = client(paced, "ec2", "outsider", mode="standard", max_attempts=10)
    before = time.monotonic()
    made = patient.create_vpc(CidrBlock="10.9.0.0/16")
    assert time.monotonic() - before < 10
    patient.delete_vpc(VpcId=made["Vpc"]["VpcId"])


def test_read_bucket_throttles_describes_sts_and_cloudwatch(daemon):
    ec2 = client(daemon, "ec2", "outsider")
    assert drain(ec2.describe_vpcs, "RequestLimitExceeded")["ResponseMetadata"]["HTTPStatusCode"] == 503
    sts, cw = client(daemon, "sts", "outsider"), client(daemon, "cloudwatch", "outsider")
    assert refused(lambda: api_error(sts.get_caller_identity), ec2.describe_vpcs, "Throttling") == ("Throttling", 400)
    assert refused(lambda: api_error(cw.list_metrics), ec2.describe_vpcs, "Throttling") == ("Throttling", 400)
    assert client(daemon, "sts", "consumer").get_caller_identity()["Account"] == ALL_ACCOUNTS["consumer"][0]


def test_audit_log_records_creates_deletes_and_refused_auth(daemon):
    ec2 = client(daemon, "ec2", "consumer")
    made = ec2.create_vpc(CidrBlock="10.30.0.0/16")
    vpc = made["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    gone = ec2.delete_subnet(SubnetId=subnet)
    # Refused: the provider's key with a wrong secret, and a key nobody has.
    _, pkey, psecret = ALL_ACCOUNTS["provider"]
    forged = boto3.client("ec2", endpoint_url=daemon.url, region_name=REGION, aws_access_key_id=pkey,
                          aws_secret_access_key="not-the-secret",
                          config=botocore.config.Config(retries={"max_attempts": 1}))
    assert error_of(lambda: forged.create_vpc(CidrBlock="10.31.0.0/16"))[0] == "AuthFailure"
    stranger = boto3.client("sns", endpoint_url=daemon.url, region_name=REGION, aws_access_key_id="AKIANOBODYATALL0000",
                            aws_secret_access_key="x", config=botocore.config.Config(retries={"max_attempts": 1}))
    assert error_of(lambda: stranger.create_topic(Name="x"))[0] == "InvalidClientTokenId"

    consumer_id = ALL_ACCOUNTS["consumer"][0]
    mine = audit_lines(daemon, "--account", consumer_id)
    create = [r for r in mine if r["action"] == "CreateVpc" and vpc in r["resources"]]
    assert len(create) == 1, mine
    c = create[0]
    assert c["result"] == "Success" and c["httpStatus"] == 200 and c["service"] == "ec2"
    assert c["accessKeyId"] == ALL_ACCOUNTS["consumer"][1] and c["sourceIp"] == "127.0.0.1"
    assert c["requestId"] == made["ResponseMetadata"]["RequestId"]
    delete = [r for r in mine if r["action"] == "DeleteSubnet"]
    assert delete and subnet in delete[-1]["resources"]
    assert delete[-1]["requestId"] == gone["ResponseMetadata"]["RequestId"]
    assert not any(r["readOnly"] for r in mine)  # describes are not recorded
    assert all(r["account"] == consumer_id for r in mine)

    everyone = audit_lines(daemon)
    refused = [r for r in everyone if r["result"] == "AuthFailure" and r["accessKeyId"] == pkey]
    assert refused and refused[-1]["account"] == ALL_ACCOUNTS["provider"][0] and refused[-1]["action"] == "CreateVpc"
    assert any(r["result"] == "InvalidClientTokenId" and r["accessKeyId"] == "AKIANOBODYATALL0000"
               and r["account"] == "" and r["action"] == "CreateTopic" for r in everyone)
    # Throttled mutating calls are recorded too.
    outsider = client(daemon, "ec2", "outsider")
    drain(lambda: outsider.delete_vpc(VpcId=GONE_VPC), "RequestLimitExceeded")
    everyone = audit_lines(daemon)
    assert any(r["result"] == "RequestLimitExceeded" and r["account"] == ALL_ACCOUNTS["outsider"][0]
               for r in everyone)
    # No secret and no signature ever reaches the log.
    raw = "".join(open(f).read() for f in glob.glob(os.path.join(daemon.state_dir, "audit", "audit.jsonl*")))
    for _, _, secret in ALL_ACCOUNTS.values():
        assert secret not in raw
    assert "not-the-secret" not in raw and "Signature=" not in raw and "Credential=" not in raw
    # --since bounds the time.
    assert audit_lines(daemon, "--account", consumer_id, "--since", "2099-01-01T00:00:00Z") == []
    assert audit_lines(daemon, "--account", consumer_id, "--since", "10m")


def test_lookup_events_shows_each_account_only_its_own(daemon):
    ec2 = client(daemon, "ec2", "provider")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "team", "Value": "lookup"}])
    # The AWS CLI, filtered by resource name.
    p = cli(daemon, "provider", "cloudtrail", "lookup-events", "--lookup-attributes",
            f"AttributeKey=ResourceName,AttributeValue={vpc}")
    assert p.returncode == 0, p.stderr
    events = json.loads(p.stdout)["Events"]
    assert [e["EventName"] for e in events] == ["CreateTags", "CreateVpc"]  # newest first
    assert {"ResourceName": vpc, "ResourceType": "AWS::EC2::VPC"} in events[1]["Resources"]
    assert events[1]["Username"] == "provider" and events[1]["ReadOnly"] == "false"
    detail = json.loads(events[1]["CloudTrailEvent"])
    assert detail["userIdentity"]["accountId"] == ALL_ACCOUNTS["provider"][0]
    assert detail["eventSource"] == "ec2.amazonaws.com" and detail["sourceIPAddress"] == "127.0.0.1"
    # The adversary asking for the provider's resource, key or name sees nothing.
    spy = client(daemon, "cloudtrail", "outsider", mode="standard", max_attempts=10)  # its reads were drained
    for key, value in (("ResourceName", vpc), ("AccessKeyId", ALL_ACCOUNTS["provider"][1]), ("Username", "provider"),
                       ("EventId", events[0]["EventId"])):
        assert spy.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"] == []
    assert all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == ALL_ACCOUNTS["outsider"][0]
               for e in spy.lookup_events()["Events"])
    # Time range, event name, and pages that resume.
    ct = client(daemon, "cloudtrail", "provider")
    assert ct.lookup_events(StartTime=time.time() + 3600)["Events"] == []
    named = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTags"}],
                             StartTime=time.time() - 600, EndTime=time.time() + 60)["Events"]
    assert [e["EventName"] for e in named] == ["CreateTags"]
    pages, token = [], None
    for _ in range(50):
        kw = {"NextToken": token} if token else {}
        r = ct.lookup_events(MaxResults=1, **kw)
        pages += [e["EventId"] for e in r["Events"]]
        token = r.get("NextToken")
        if not token:
            break
    assert len(pages) == len(set(pages)) == len(ct.lookup_events()["Events"]) >= 2
    # CloudTrail's errors for bad input.
    with pytest.raises(ct.exceptions.InvalidLookupAttributesException):
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                           {"AttributeKey": "EventName", "AttributeValue": "b"}])
    with pytest.raises(ct.exceptions.InvalidTimeRangeException):
        ct.lookup_events(StartTime=time.time(), EndTime=time.time() - 60)


def test_audit_log_rotates_by_size():
    state_dir, config = write_config(body='dataplane = false\ndns_listen = ""\n[audit]\nmax_file_bytes = 4096\n'
                                          'max_files = 3\n')
    d = Daemon(state_dir=state_dir, config=config).start()
    try:
        ec2 = client(d, "ec2", "provider")
        vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        for i in range(40):
            ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"t{i}", "Value": uuid.uuid4().hex}])
        files = sorted(glob.glob(os.path.join(d.state_dir, "audit", "audit.jsonl*")))
        assert [os.path.basename(f) for f in files] == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
        assert all(os.path.getsize(f) <= 4096 for f in files)
        kept = audit_lines(d)
        # The oldest (the CreateVpc) rotated out; the newest are all there, in order.
        assert 5 < len(kept) < 41 and all(r["action"] == "CreateTags" for r in kept)
        assert [r["time"] for r in kept] == sorted(r["time"] for r in kept)
        assert vpc in kept[-1]["resources"] and kept[-1]["result"] == "Success"
        assert oct(os.stat(os.path.join(d.state_dir, "audit")).st_mode & 0o777) == "0o700"
    finally:
        rc = d.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    assert rc == 0


def test_an_account_at_its_cap_of_calls_in_flight_is_refused_and_the_others_are_not():
    """[throttle] max_in_flight_per_account: one account's calls beyond the cap are
    refused with RequestLimitExceeded (and change nothing) whatever its buckets hold,
    while another account's calls at the same moment all succeed."""
    state_dir, config = write_config(accounts=("provider", "consumer", "outsider"),
                                     body='dataplane = false\ndns_listen = ""\napi_threads = 8\n[throttle]\n'
                                          'mutating_burst = 100000.0\nread_burst = 100000.0\n'
                                          'max_in_flight_per_account = 1\n')
    d = Daemon(state_dir=state_dir, config=config).start()
    try:
        vpc = client(d, "ec2", "outsider").create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
        acked, refusals, other_errors, calm = {}, [], [], []
        lock = threading.Lock()
        deadline = time.monotonic() + 30

        def flood(k):
            # One tag key per client (EC2 allows 50 per resource), its value the call's
            # number: after the flood each key holds the last acknowledged value.
            ec2 = client(d, "ec2", "outsider")
            for i in range(40):
                if time.monotonic() > deadline:
                    return
                try:
                    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{k}", "Value": str(i)}])
                    with lock:
                        acked[f"k{k}"] = str(i)
                except botocore.exceptions.ClientError as e:
                    with lock:
                        (refusals if e.response["Error"]["Code"] == "RequestLimitExceeded" else other_errors).append(
                            (k, i, e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]))

        def bystander():
            ec2 = client(d, "ec2", "consumer")
            for _ in range(40):
                try:
                    ec2.describe_vpcs()
                    calm.append("ok")
                except botocore.exceptions.ClientError as e:
                    calm.append(e.response["Error"]["Code"])
        threads = [threading.Thread(target=flood, args=(k,)) for k in range(12)] + [threading.Thread(target=bystander)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        assert not other_errors, other_errors[:5]
        assert refusals, "12 clients writing at once never met the cap of one call in flight"
        assert all(status == 503 for _, _, _, status in refusals)
        assert acked, "no call of the flooding account got through"
        assert calm == ["ok"] * 40, f"the other account was refused: {sorted(set(calm))}"
        # Exactly the acknowledged writes happened; a refused one changed nothing.
        tags = client(d, "ec2", "outsider").describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == acked
    finally:
        rc = d.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    assert rc == 0
