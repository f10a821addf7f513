"""`linkplane usage` over a usage ledger: endpoint-zone hours and gigabytes per
endpoint and account for a month, priced with AWS's default rates or the
config's [pricing]; a bad month is refused. (The ledger itself is filled by the
daemon's sampler: tests/unit/metrics/usage_test.cc.) No root needed."""
import calendar
import datetime
import json
import os
import subprocess
import tempfile

from lp import LINKPLANE


def hour(y, m, d, h):
    return calendar.timegm(datetime.datetime(y, m, d, h).timetuple()) // 3600


def ledger(path):
    lines = []
    # vpce-a: available 10:50 to 14:00 in 2 zones (hours 10, 11, 12, 13) = 8 endpoint-zone hours, 2 GB.
    for h in range(10, 14):
        lines.append({"h": hour(2026, 12, 5, h), "e": "vpce-a", "a": "222222222222", "s": "com.amazonaws.us-east-1.ec2",
                      "z": 2, "b": 500_000_000})
    # Another account, and another month: neither counts below.
    lines.append({"h": hour(2026, 12, 5, 10), "e": "vpce-b", "a": "333333333333", "s": "svc", "z": 1, "b": 0})
    lines.append({"h": hour(2026, 11, 30, 23), "e": "vpce-a", "a": "222222222222", "s": "svc", "z": 2, "b": 9})
    with open(path, "w") as f:
        for l in lines:
            f.write(json.dumps(l) + "\n")
        f.write('{"h": 1, "e":')  # a torn last line is skipped


def usage(*args):
    return subprocess.run([LINKPLANE, "usage", *args], capture_output=True, text=True, timeout=30)


def test_usage_report_prices_endpoint_zone_hours_and_gigabytes():
    d = tempfile.mkdtemp(prefix="lp-test-usage-")
    try:
        ledger(os.path.join(d, "usage.jsonl"))
        r = usage("--state-dir", d, "--month", "2026-12", "--account", "222222222222", "--format", "json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        [e] = out["endpoints"]
        assert e["vpcEndpointId"] == "vpce-a" and e["endpointZoneHours"] == 8
        assert abs(e["gigabytesProcessed"] - 2.0) < 1e-9
        assert abs(e["hourlyCostUsd"] - 0.08) < 1e-9 and abs(e["dataProcessingCostUsd"] - 0.02) < 1e-9
        assert abs(e["totalUsd"] - 0.10) < 1e-9

        # The config's prices.
        cfg = os.path.join(d, "linkplane.toml")
        with open(cfg, "w") as f:
            f.write("[pricing]\nendpoint_zone_hour_usd = 0.02\ndata_tiers_gb = [1, 0]\n"
                    "data_tiers_usd_per_gb = [0.5, 0.1]\n")
        r = usage("--config", cfg, "--state-dir", d, "--month", "2026-12", "--format", "csv")
        assert r.returncode == 0, r.stderr
        rows = {l.split(",")[2]: l.split(",") for l in r.stdout.splitlines()[1:]}
        assert rows["vpce-a"][4] == "8" and rows["vpce-a"][6] == "0.1600"
        assert rows["vpce-a"][7] == "0.6000"  # 1 GB at 0.5 + 1 GB at 0.1
        assert rows["vpce-b"][1] == "333333333333" and rows["vpce-b"][4] == "1"

        assert "vpce-a" in usage("--state-dir", d, "--month", "2026-12").stdout  # the table
        bad = usage("--state-dir", d, "--month", "2026-13")
        assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
        with open(cfg, "w") as f:
            f.write("[pricing]\ndata_tiers_gb = [1, 0]\n")
        bad = usage("--config", cfg, "--state-dir", d)
        assert bad.returncode == 2 and "pricing" in bad.stderr
    finally:
        subprocess.run(["rm", "-rf", d])
