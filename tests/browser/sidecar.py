"""The browser tests' link to the same harness as the end-to-end tests: starts the real
daemon through tests/integration/lp.py (a config with the provider, consumer and
outsider accounts), prints {"url": ..., "tlsUrl": ...} on one line, then answers one JSON request per
line on stdin with boto3 as the named account:

  {"account": "consumer", "service": "ec2", "method": "describe_vpc_endpoints", "params": {...}}
  -> {"result": {...}} or {"error": {"code": ..., "message": ...}}

With LP_SIDECAR_DATAPLANE=1 (root) the data plane is on and {"setup": "traffic",
"bytes": N} builds an endpoint and sends N bytes through it (see Traffic).

On end of input it stops the daemon and exits non-zero if the daemon did not stop
cleanly, so the Node test sees a daemon crash as a failure."""

import json
import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from botocore.exceptions import ClientError  # noqa: E402

from lp import ALL_ACCOUNTS, Daemon, write_config  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Traffic:
    """With the data plane on (LP_SIDECAR_DATAPLANE=1, root): test_dataplane's topology
    (a provider NLB with a target workload, an endpoint service, a consumer workload and
    its endpoint, available) and BYTES echoed through the endpoint. Servers stopped and
    scripts removed by close()."""

    def __init__(self):
        self.servers = None
        self.scripts = None

    def run(self, daemon, n):
        import test_dataplane as dp
        self.scripts = tempfile.mkdtemp(prefix="lp-browser-scripts-")
        for name, text in (("server.py", dp.SERVER), ("client.py", dp.CLIENT)):
            with open(os.path.join(self.scripts, name), "w") as f:
                f.write(text)
        self.servers = dp.Servers(self.scripts)
        t = dp.build(daemon, self.servers, cidr_p="10.180.0.0/16", cidr_c="10.181.0.0/16")
        dp.create_endpoint(daemon, t)
        dp.wait_state(daemon, t.endpoint, "available", timeout=30)
        total, sent, got = dp.client(self.scripts, t.workload, "echo", t.endpoint_ip, dp.PORT, n).split()
        assert int(total) == n and sent == got, (total, sent, got)
        return {"endpoint": t.endpoint, "serviceId": t.service_id, "serviceName": t.service_name, "vpc": t.cvpc,
                "subnet": t.csub, "bytes": 2 * n + 5}

    def close(self):
        if self.servers:
            self.servers.stop_all()
        if self.scripts:
            shutil.rmtree(self.scripts, ignore_errors=True)


def main():
    tls_port = free_port()  # the HTTPS listener: the console's cookie is Secure there
    dataplane = os.environ.get("LP_SIDECAR_DATAPLANE") == "1"
    body = (f'zone_ids = ["use1-az1", "use1-az2", "use1-az3"]\ndns_listen = ""\ntls_listen = "127.0.0.1:{tls_port}"\n' +
            # The data plane's counters sampled every second, so charts fill in seconds.
            ('[metrics]\nsample_seconds = 1\n' if dataplane else 'dataplane = false\n'))
    state_dir, config = write_config(("provider", "consumer", "outsider"), body)
    daemon = Daemon(state_dir=state_dir, config=config).start()
    traffic = Traffic()
    clients = {}
    accounts = {name: {"id": a[0], "key": a[1], "secret": a[2]} for name, a in ALL_ACCOUNTS.items()}
    print(json.dumps({"url": daemon.url, "tlsUrl": f"https://127.0.0.1:{tls_port}", "log": daemon.log_path,
                      "accounts": accounts}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            if req.get("setup") == "traffic":
                try:
                    print(json.dumps({"result": traffic.run(daemon, int(req["bytes"]))}), flush=True)
                except Exception as e:  # noqa: BLE001 - reported to the test as its failure
                    print(json.dumps({"error": {"code": type(e).__name__, "message": str(e)}}), flush=True)
                continue
            key = (req["account"], req["service"])
            if key not in clients:
                clients[key] = daemon.client(req["service"], account=req["account"])
            try:
                out = getattr(clients[key], req["method"])(**req.get("params", {}))
                out.pop("ResponseMetadata", None)
                print(json.dumps({"result": out}, default=str), flush=True)
            except ClientError as e:
                err = e.response.get("Error", {})
                print(json.dumps({"error": {"code": err.get("Code"), "message": err.get("Message")}}), flush=True)
            except Exception as e:  # a bad request from the test itself
                print(json.dumps({"error": {"code": type(e).__name__, "message": str(e)}}), flush=True)
    finally:
        traffic.close()
        rc = daemon.stop()
        if rc != 0:
            sys.stderr.write(open(daemon.log_path).read()[-4000:])
        shutil.rmtree(state_dir, ignore_errors=True)
    sys.exit(0 if rc == 0 else 1)


if __name__ == "__main__":
    main()
