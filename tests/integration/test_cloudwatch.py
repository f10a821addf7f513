"""CloudWatch for endpoints, end to end: bytes of a known size go through an
interface endpoint (the data plane test's topology), and the unmodified AWS CLI
(`aws cloudwatch get-metric-statistics`, `list-metrics`) and boto3
(get_metric_data) show them in AWS/PrivateLinkEndpoints to the consumer and in
AWS/PrivateLinkServices to the provider, per endpoint and per subnet/zone; a third
account sees none of it; the figures survive a restart. The same figures, and the
daemon's own, on the operators' Prometheus page (GET /metrics). Needs root."""
import datetime
import os
import re
import time
import urllib.request

import pytest

import lp
from lp import Daemon, serving, write_config
from test_dataplane import PORT, build, client, create_endpoint, scripts, servers, wait_for, wait_state  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

ENDPOINTS = "AWS/PrivateLinkEndpoints"
SERVICES = "AWS/PrivateLinkServices"


@pytest.fixture
def daemon():
    # Counters read every second, so the test waits seconds, not the default 10.
    state_dir, path = write_config(accounts=("provider", "consumer", "outsider"),
                                   body='dns_listen = ""\n[metrics]\nsample_seconds = 1\n'
                                        'prometheus_listen = "127.0.0.1:0"\n')
    yield from serving(Daemon(state_dir=state_dir, config=path).start())


def scrape(daemon):
    url = re.search(r"linkplane metrics on (http://\S+)", daemon.log()).group(1)
    with urllib.request.urlopen(url, timeout=5) as r:
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return r.read().decode()


def sample(page, name, **labels):
    """The value of the one sample of name whose labels include these."""
    found = []
    for line in page.splitlines():
        m = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            found.append(float(m.group(3)))
    assert len(found) == 1, (name, labels, found)
    return found[0]


def within_headers(got, payload):
    """The payload, plus no more than TCP/IP headers could add (under 6% at a 1448-byte MSS)."""
    return payload <= got <= payload + max(4096, payload * 0.06)


def settled(read):
    """read() once two readings a sampling period apart agree."""
    return lp.settled(read, 1.5, 6)


def utc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def window():
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2)


def endpoint_dims(t, subnet=None):
    dims = [f"Name=Endpoint Type,Value=Interface", f"Name=Service Name,Value={t.service_name}",
            f"Name=VPC Endpoint Id,Value={t.endpoint}", f"Name=VPC Id,Value={t.cvpc}"]
    if subnet:
        dims.append(f"Name=Subnet Id,Value={subnet}")
    return dims


def stat_sum(daemon, ns, metric, dims, account, stat="Sum"):
    start, end = window()
    out = daemon.aws("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", metric,
                     "--dimensions", *dims, "--start-time", utc(start), "--end-time", utc(end), "--period", "60",
                     "--statistics", stat, account=account)
    return sum(d[stat] for d in out["Datapoints"]), out


def test_bytes_through_an_endpoint_show_in_cloudwatch(daemon, servers, scripts):
    t = build(daemon, servers, cidr_p="10.160.0.0/16", cidr_c="10.161.0.0/16")
    create_endpoint(daemon, t)
    wait_state(daemon, t.endpoint, "available")

    n = 3 << 20  # echoed: n bytes in, n bytes out, plus the 5-byte "ECHO\n"
    total, sent, got = client(scripts, t.workload, "echo", t.endpoint_ip, PORT, n).split()
    assert int(total) == n and sent == got
    payload = 2 * n + 5

    # The consumer: per endpoint and per subnet, the bytes it moved, one new connection.
    # The splice path counts payload; the kernel fast path counts packets as the
    # network carries them, TCP/IP headers included (as an NLB's ProcessedBytes does):
    # the figure is the payload plus at most the headers, and every view agrees on it.
    consumer_sum = lambda: stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "consumer")[0]  # noqa: E731
    assert wait_for(lambda: within_headers(consumer_sum(), payload), 10, 0.5), consumer_sum()
    want = settled(consumer_sum)  # the closing packets counted too
    assert within_headers(want, payload), (want, payload)
    total, out = stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t, t.csub), "consumer")
    assert total == want
    assert out["Label"] == "BytesProcessed" and out["Datapoints"][0]["Unit"] == "Bytes"
    assert stat_sum(daemon, ENDPOINTS, "NewConnections", endpoint_dims(t), "consumer")[0] == 1
    # Another subnet of the VPC has nothing.
    assert stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t, "subnet-0000000000000000a"),
                    "consumer")[0] == 0

    # ListMetrics: AWS's names and dimension sets.
    listed = daemon.aws("cloudwatch", "list-metrics", "--namespace", ENDPOINTS, account="consumer")["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {"BytesProcessed", "NewConnections", "ActiveConnections", "RstPacketsReceived"} <= names
    dimsets = {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in listed}
    assert dimsets == {("Endpoint Type", "Service Name", "VPC Endpoint Id", "VPC Id"),
                       ("Endpoint Type", "Service Name", "Subnet Id", "VPC Endpoint Id", "VPC Id")}

    # The provider: per service, per load balancer and zone (the consumer's
    # endpoint is in use1-az1; the provider's name for that zone), per endpoint.
    sdims = [f"Name=Service Id,Value={t.service_id}"]
    assert stat_sum(daemon, SERVICES, "BytesProcessed", sdims, "provider")[0] == want
    assert stat_sum(daemon, SERVICES, "BytesProcessed", sdims + [f"Name=VPC Endpoint Id,Value={t.endpoint}"],
                    "provider")[0] == want
    az = [z["ZoneName"] for z in daemon.aws("ec2", "describe-availability-zones")["AvailabilityZones"]
          if z["ZoneId"] == "use1-az1"][0]
    lbdims = sdims + [f"Name=Load Balancer Arn,Value={t.lb}"]
    assert stat_sum(daemon, SERVICES, "BytesProcessed", lbdims + [f"Name=Az,Value={az}"], "provider")[0] == want
    other_az = [z["ZoneName"] for z in daemon.aws("ec2", "describe-availability-zones")["AvailabilityZones"]
                if z["ZoneId"] == "use1-az2"][0]
    assert stat_sum(daemon, SERVICES, "BytesProcessed", lbdims + [f"Name=Az,Value={other_az}"], "provider")[0] == 0

    # Nobody else: the provider does not see the consumer's endpoint metrics, the
    # consumer not the service's, a third account nothing.
    assert stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "provider")[0] == 0
    assert stat_sum(daemon, SERVICES, "BytesProcessed", sdims, "consumer")[0] == 0
    assert stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "outsider")[0] == 0
    assert daemon.aws("cloudwatch", "list-metrics", account="outsider")["Metrics"] == []

    # boto3's GetMetricData, the same figure.
    cw = daemon.client("cloudwatch", account="consumer")
    start, end = window()
    r = cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{
        "Id": "bytes", "MetricStat": {"Metric": {"Namespace": ENDPOINTS, "MetricName": "BytesProcessed",
                                                 "Dimensions": [{"Name": n.split(",")[0][5:],
                                                                 "Value": n.split("Value=", 1)[1]}
                                                                for n in endpoint_dims(t)]},
                                      "Period": 60, "Stat": "Sum"}}])
    res = r["MetricDataResults"][0]
    assert res["Id"] == "bytes" and res["StatusCode"] == "Complete"
    assert sum(res["Values"]) == want and len(res["Timestamps"]) == len(res["Values"])

    # The operators' page: the same bytes per endpoint interface and per service and
    # zone, and the daemon's own figures (API calls by action and code, commits, DNS).
    assert wait_for(lambda: "linkplane_endpoint_bytes_total{" in scrape(daemon), 10, 0.5)
    page = scrape(daemon)
    consumer_id = daemon.aws("sts", "get-caller-identity", account="consumer")["Account"]
    provider_id = daemon.aws("sts", "get-caller-identity", account="provider")["Account"]
    assert sample(page, "linkplane_endpoint_bytes_total", account=consumer_id, endpoint=t.endpoint,
                  subnet=t.csub, vpc=t.cvpc) == want
    assert sample(page, "linkplane_endpoint_new_connections_total", endpoint=t.endpoint) == 1
    assert sample(page, "linkplane_service_bytes_total", account=provider_id, service_id=t.service_id,
                  load_balancer=t.lb, zone=az) == want
    assert sample(page, "linkplane_api_requests_total", service="monitoring", action="GetMetricStatistics",
                  code="OK") >= 1
    assert sample(page, "linkplane_api_request_duration_seconds_count", service="ec2",
                  action="CreateVpcEndpoint") >= 1
    assert sample(page, "linkplane_store_commit_duration_seconds_count") >= 1
    assert sample(page, "linkplane_reconciler_queued_keys") >= 0
    assert sample(page, "linkplane_build_info") == 1

    # Bad input: a clear error.
    err = daemon.aws_error("cloudwatch", "get-metric-statistics", "--namespace", ENDPOINTS, "--metric-name",
                           "BytesProcessed", "--start-time", utc(start), "--end-time", utc(end), "--period", "45",
                           "--statistics", "Sum", account="consumer")
    assert err.code == "InvalidParameterValue"
    # ... and counted by its AWS code.
    daemon.aws_error("cloudwatch", "get-metric-statistics", "--namespace", ENDPOINTS, "--metric-name",
                     "BytesProcessed", "--start-time", utc(start), "--end-time", utc(end), "--period", "45",
                     "--statistics", "Sum", account="consumer")
    assert sample(scrape(daemon), "linkplane_api_requests_total", service="monitoring",
                  action="GetMetricStatistics", code="InvalidParameterValue") == 2
    with pytest.raises(Exception) as e:
        cw.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{"Id": "e", "Expression": "m1*2"}])
    assert "InvalidParameterValue" in str(e.value)

    # Durable: after a restart (the closing minute is written on a clean stop) the figure is still there.
    daemon.restart()
    assert stat_sum(daemon, ENDPOINTS, "BytesProcessed", endpoint_dims(t), "consumer")[0] == want
