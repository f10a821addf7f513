"""CloudWatch in every protocol an SDK speaks, end to end: bytes of a known size go
through an interface endpoint, then the same GetMetricStatistics, GetMetricData and
ListMetrics answers come back in the Query protocol (/usr/bin/aws, boto3 1.26), in
awsJson1_0 (boto3 with the model's protocol set to json) and in Smithy RPC v2 CBOR
(the default of botocore 1.36+ and of the AWS SDK for JavaScript v3's
@aws-sdk/client-cloudwatch, tests/sdk/js/cloudwatch_protocols.mjs). Errors in each:
a bad Period (InvalidParameterValue), a math expression, an unknown operation, and
another account sees nothing. EndpointsCount for the service's owner. Needs root."""
import datetime
import json
import os
import shutil
import subprocess
import sys

import pytest

from lp import ALL_ACCOUNTS, REGION, Daemon, serving, write_config
from test_cloudwatch import ENDPOINTS, SERVICES, endpoint_dims, settled, stat_sum, within_headers
from test_dataplane import PORT, build, client, create_endpoint, scripts, servers, wait_for, wait_state  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.abspath(os.path.join(HERE, "..", "sdk", "js"))


@pytest.fixture(scope="module")
def daemon():
    state_dir, path = write_config(accounts=("provider", "consumer", "outsider"),
                                   body='dns_listen = ""\n[metrics]\nsample_seconds = 1\n'
                                        'prometheus_listen = ""\n')
    yield from serving(Daemon(state_dir=state_dir, config=path).start())


def newer_python():
    """A python3 whose botocore speaks smithy-rpc-v2-cbor (the first on PATH, if it
    is not the Debian one), or None."""
    exe = shutil.which("python3")
    if not exe or os.path.realpath(exe) == os.path.realpath("/usr/bin/python3"):
        return None
    p = subprocess.run([exe, "-c", "import botocore.session as s; m = s.get_session().get_service_model("
                        "'cloudwatch'); print(m.metadata.get('protocol'))"], capture_output=True, text=True)
    return exe if p.returncode == 0 and p.stdout.strip() == "smithy-rpc-v2-cbor" else None


def sdk_calls(python, protocol, daemon, t, account, window):
    _, key, secret = ALL_ACCOUNTS[account]
    req = {"url": daemon.url, "key": key, "secret": secret, "region": REGION,
           "window": [w.timestamp() for w in window],
           "endpoint_dims": [d[5:].split(",Value=", 1) for d in endpoint_dims(t)],
           "service_dims": [["Service Id", t.service_id]]}
    p = subprocess.run([python, os.path.join(HERE, "cloudwatch_sdk_calls.py"), protocol], input=json.dumps(req),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def js_calls(daemon, t, account, window):
    _, key, secret = ALL_ACCOUNTS[account]
    env = dict(os.environ, LP_URL=daemon.url, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_REGION=REGION, LP_WINDOW=json.dumps([w.timestamp() for w in window]),
               LP_ENDPOINT_DIMS=json.dumps([d[5:].split(",Value=", 1) for d in endpoint_dims(t)]),
               LP_SERVICE_ID=t.service_id)
    p = subprocess.run(["node", "cloudwatch_protocols.mjs"], cwd=JS, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def check(got, want_bytes, protocol, own=True):
    """One account's answers in one protocol: the figures, or (own=False) nothing."""
    if not own:
        assert got["bytes"]["values"] == [] and got["service_bytes"]["values"] == [], (protocol, got)
        assert all(m["values"] == [] for m in got["metric_data"]), (protocol, got)
        assert got["listed"] == [], (protocol, got)
        return
    assert sum(got["bytes"]["values"]) == want_bytes, (protocol, got["bytes"])
    assert got["bytes"]["label"] == "BytesProcessed" and got["bytes"]["units"] == ["Bytes"], protocol
    assert sum(got["new_connections"]["values"]) == 1, (protocol, got["new_connections"])
    data = {m["id"]: m for m in got["metric_data"]}
    assert data["bytes"]["status"] == "Complete" and sum(data["bytes"]["values"]) == want_bytes, (protocol, data)
    assert len(data["bytes"]["timestamps"]) == len(data["bytes"]["values"]), protocol
    assert data["bytes"]["timestamps"] == sorted(data["bytes"]["timestamps"]), protocol  # TimestampAscending
    assert all(ts % 60 == 0 for ts in data["bytes"]["timestamps"]), protocol
    assert data["conns"]["label"] == "connections" and sum(data["conns"]["values"]) == 1, (protocol, data)
    err = got["bad_period"]
    assert err and err["status"] == 400, (protocol, err)
    # Query-compatible: newer SDKs read the Query code from x-amzn-query-error;
    # older ones see the JSON error shape's name.
    assert err["code"] in ("InvalidParameterValue", "InvalidParameterValueException"), (protocol, err)
    if protocol != "query":
        assert err["query_error"] == "InvalidParameterValue;Sender", (protocol, err)
    assert got["expression"]["code"] in ("InvalidParameterValue", "InvalidParameterValueException"), protocol
    unknown = got["unknown_action"]
    if unknown:
        assert unknown["status"] in (400, 404) and "UnknownOperationException" in unknown["body"], (protocol, unknown)
        if protocol == "json":
            assert unknown["content_type"] == "application/x-amz-json-1.0", unknown
            assert json.loads(unknown["body"])["__type"] == "UnknownOperationException"
        else:
            assert unknown["content_type"] == "application/cbor" and unknown["smithy"] == "rpc-v2-cbor", unknown


def test_the_same_figures_in_query_json_and_cbor(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.176.0.0/16", cidr_c="10.177.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")
    n = 1 << 18
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    payload = 2 * n + 5
    consumer_sum = lambda: stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "consumer")[0]  # noqa: E731
    assert wait_for(lambda: within_headers(consumer_sum(), payload), 10, 0.5), consumer_sum()
    want = settled(consumer_sum)
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    window = (now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2))

    # The provider's EndpointsCount (Query, /usr/bin/aws): one endpoint connected, every minute.
    counts = daemon.aws("cloudwatch", "get-metric-statistics", "--namespace", SERVICES, "--metric-name",
                        "EndpointsCount", "--dimensions", f"Name=Service Id,Value={t.service_id}", "--start-time",
                        window[0].strftime("%Y-%m-%dT%H:%M:%SZ"), "--end-time",
                        window[1].strftime("%Y-%m-%dT%H:%M:%SZ"), "--period", "60", "--statistics", "Maximum",
                        account="provider")["Datapoints"]
    assert counts and all(d["Maximum"] == 1 and d["Unit"] == "Count" for d in counts), counts

    runs = [("query", sys.executable), ("json", sys.executable)]
    newer = newer_python()
    if newer:
        runs += [("smithy-rpc-v2-cbor", newer), ("json", newer), ("query", newer)]
    answered = set()
    for protocol, python in runs:
        consumer = sdk_calls(python, protocol, daemon, t, "consumer", window)
        check(consumer, want, protocol)
        provider = sdk_calls(python, protocol, daemon, t, "provider", window)
        assert sum(provider["service_bytes"]["values"]) == want, (protocol, provider["service_bytes"])
        assert provider["endpoints_count"]["values"] and set(provider["endpoints_count"]["values"]) == {1}, protocol
        assert provider["bytes"]["values"] == [], protocol  # the consumer's endpoint metrics are not the provider's
        check(sdk_calls(python, protocol, daemon, t, "outsider", window), want, protocol, own=False)
        # The same ListMetrics in every protocol.
        answered.add(json.dumps(consumer["listed"]))
    assert len(answered) == 1, answered

    # The JavaScript SDK v3 in its default awsJson1_0, in CBOR and in Query: the same figures.
    if not os.path.isdir(os.path.join(JS, "node_modules", "@aws-sdk", "client-cloudwatch")):
        pytest.fail("the JavaScript SDK is not installed: run scripts/install-deps.sh (npm ci in tests/sdk/js)")
    js = js_calls(daemon, t, "consumer", window)
    wire = {"json": "application/x-amz-json-1.0", "smithy-rpc-v2-cbor": "application/cbor",
            "query": "application/x-www-form-urlencoded"}
    assert set(js) == set(wire), js
    for protocol, got in js.items():
        assert got["content_types"] and all(c.startswith(wire[protocol]) for c in got["content_types"]), (protocol, got)
        assert sum(got["bytes"]) == want and sum(got["metric_data"]) == want, (protocol, got)
        assert got["timestamps_are_dates"] and got["listed"] > 0, (protocol, got)
        name, code, status = got["bad_period"]
        assert status == 400 and "InvalidParameterValue" in (name, code), (protocol, got)
    outsider = js_calls(daemon, t, "outsider", window)
    assert all(o["bytes"] == [] and o["listed"] == 0 for o in outsider.values()), outsider

    # The hour of usage under way survives a SIGKILL: it is checkpointed every 6
    # sampling rounds (6 s here), and `linkplane usage` reads the checkpoint.
    from lp import LINKPLANE
    import time

    def usage():
        p = subprocess.run([LINKPLANE, "usage", "--state-dir", daemon.state_dir, "--format", "json"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return {e["vpcEndpointId"]: e for e in json.loads(p.stdout)["endpoints"]}

    checkpoint = os.path.join(daemon.state_dir, "usage.jsonl.open")
    assert wait_for(lambda: os.path.exists(checkpoint) and t.endpoint in open(checkpoint).read(), 15, 0.5)
    time.sleep(7)  # one more checkpoint: the bytes of the last sampling rounds too
    daemon.kill()
    line = usage()[t.endpoint]
    assert line["endpointZoneHours"] >= 1, line
    assert within_headers(round(line["gigabytesProcessed"] * 1e9), payload), (line, payload)
    daemon.restart()  # the next start takes the checkpoint in; the figure stays
    assert usage()[t.endpoint]["gigabytesProcessed"] == line["gigabytesProcessed"]
