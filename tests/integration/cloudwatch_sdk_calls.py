"""Run by test_cloudwatch_protocols.py with a given python (its botocore decides what
it can speak): the CloudWatch calls a user makes, with boto3, in one protocol, as
one account; prints what came back as JSON on stdout.

    python3 cloudwatch_sdk_calls.py PROTOCOL  < request.json

PROTOCOL: query | json | smithy-rpc-v2-cbor. botocore picks the first protocol of
the model it supports; there is no client option for it, so the loaded model's
metadata is changed before the client is made (for json, also the JSON version
and target prefix, which models that predate CloudWatch's JSON protocol lack).
request.json: {"url", "key", "secret", "region", "window": [start, end] (epoch s),
"endpoint_dims", "service_dims", "unknown_action"}.
"""
import copy
import datetime
import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ENDPOINTS = "AWS/PrivateLinkEndpoints"
SERVICES = "AWS/PrivateLinkServices"
TARGET = "GraniteServiceVersion20100801"


def client(req, protocol):
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    load = loader.load_service_model

    def patched(service_name, type_name, api_version=None):
        model = load(service_name, type_name, api_version)
        if service_name == "cloudwatch" and type_name == "service-2":
            model = copy.deepcopy(model)
            md = model["metadata"]
            md["protocol"] = protocol
            md["protocols"] = [protocol]
            md.setdefault("jsonVersion", "1.0")
            md.setdefault("targetPrefix", TARGET)
        return model

    loader.load_service_model = patched
    return boto3.session.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=req["url"], region_name=req["region"], aws_access_key_id=req["key"],
        aws_secret_access_key=req["secret"], config=Config(retries={"max_attempts": 1}))


def error_of(call):
    try:
        call()
    except ClientError as e:
        headers = e.response["ResponseMetadata"].get("HTTPHeaders", {})
        return {"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "query_error": headers.get("x-amzn-query-error", "")}
    return None


def raw(req, protocol, action):
    """A signed request for an operation the SDK does not model; what came back."""
    if protocol == "json":
        url, body = req["url"] + "/", b"{}"
        headers = {"X-Amz-Target": f"{TARGET}.{action}", "Content-Type": "application/x-amz-json-1.0"}
    else:
        url, body = f"{req['url']}/service/{TARGET}/operation/{action}", b"\xa0"  # {} in CBOR
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}
    r = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(req["key"], req["secret"]), "monitoring", req["region"]).add_auth(r)
    p = r.prepare()
    try:
        with urllib.request.urlopen(urllib.request.Request(p.url, data=body, headers=dict(p.headers), method="POST"),
                                    timeout=10) as resp:
            status, rh, rb = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        status, rh, rb = e.code, dict(e.headers), e.read()
    rh = {k.lower(): v for k, v in rh.items()}
    return {"status": status, "content_type": rh.get("content-type", ""), "smithy": rh.get("smithy-protocol", ""),
            "body": rb.decode("latin-1")}


def main():
    protocol = sys.argv[1]
    req = json.load(sys.stdin)
    cw = client(req, protocol)
    start, end = (datetime.datetime.fromtimestamp(t, datetime.timezone.utc) for t in req["window"])
    edims = [{"Name": n, "Value": v} for n, v in req["endpoint_dims"]]
    sdims = [{"Name": n, "Value": v} for n, v in req["service_dims"]]
    out = {"botocore": botocore.__version__}

    def gms(ns, name, dims, stat="Sum", period=60):
        r = cw.get_metric_statistics(Namespace=ns, MetricName=name, Dimensions=dims, StartTime=start, EndTime=end,
                                     Period=period, Statistics=[stat])
        for d in r["Datapoints"]:
            assert isinstance(d["Timestamp"], datetime.datetime), d
        return {"label": r["Label"], "values": [d[stat] for d in r["Datapoints"]],
                "units": sorted({d["Unit"] for d in r["Datapoints"]})}

    out["bytes"] = gms(ENDPOINTS, "BytesProcessed", edims)
    out["new_connections"] = gms(ENDPOINTS, "NewConnections", edims)
    out["service_bytes"] = gms(SERVICES, "BytesProcessed", sdims)
    out["endpoints_count"] = gms(SERVICES, "EndpointsCount", sdims, stat="Maximum")
    r = cw.get_metric_data(StartTime=start, EndTime=end, ScanBy="TimestampAscending", MetricDataQueries=[
        {"Id": "bytes", "MetricStat": {"Metric": {"Namespace": ENDPOINTS, "MetricName": "BytesProcessed",
                                                  "Dimensions": edims}, "Period": 60, "Stat": "Sum"}},
        {"Id": "conns", "Label": "connections", "MetricStat": {
            "Metric": {"Namespace": ENDPOINTS, "MetricName": "NewConnections", "Dimensions": edims},
            "Period": 300, "Stat": "Sum"}}])
    out["metric_data"] = [{"id": m["Id"], "label": m["Label"], "status": m["StatusCode"], "values": m["Values"],
                           "timestamps": [t.timestamp() for t in m["Timestamps"]]} for m in r["MetricDataResults"]]
    listed = cw.list_metrics(Namespace=ENDPOINTS)["Metrics"]
    listed += cw.list_metrics(Namespace=SERVICES)["Metrics"]
    out["listed"] = sorted({(m["Namespace"], m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"])))
                            for m in listed})
    out["bad_period"] = error_of(lambda: cw.get_metric_statistics(
        Namespace=ENDPOINTS, MetricName="BytesProcessed", Dimensions=edims, StartTime=start, EndTime=end, Period=45,
        Statistics=["Sum"]))
    out["expression"] = error_of(lambda: cw.get_metric_data(
        StartTime=start, EndTime=end, MetricDataQueries=[{"Id": "e", "Expression": "m1*2"}]))
    out["unknown_action"] = raw(req, protocol, "DeleteEverything") if protocol != "query" else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
