"""The browser tests' link to the same harness as the end-to-end tests: starts the real
daemon through tests/integration/lp.py (a config with the provider, consumer and
outsider accounts), prints {"url": ...} on one line, then answers one JSON request per
line on stdin with boto3 as the named account:

  {"account": "consumer", "service": "ec2", "method": "describe_vpc_endpoints", "params": {...}}
  -> {"result": {...}} or {"error": {"code": ..., "message": ...}}

On end of input it stops the daemon and exits non-zero if the daemon did not stop
cleanly, so the Node test sees a daemon crash as a failure."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from botocore.exceptions import ClientError  # noqa: E402

from lp import ALL_ACCOUNTS, Daemon, write_config  # noqa: E402


def main():
    state_dir, config = write_config(("provider", "consumer", "outsider"),
                                     'zone_ids = ["use1-az1", "use1-az2", "use1-az3"]\ndataplane = false\n'
                                     'dns_listen = ""\n')
    daemon = Daemon(state_dir=state_dir, config=config).start()
    clients = {}
    accounts = {name: {"id": a[0], "key": a[1], "secret": a[2]} for name, a in ALL_ACCOUNTS.items()}
    print(json.dumps({"url": daemon.url, "log": daemon.log_path, "accounts": accounts}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
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
        rc = daemon.stop()
        if rc != 0:
            sys.stderr.write(open(daemon.log_path).read()[-4000:])
        shutil.rmtree(state_dir, ignore_errors=True)
    sys.exit(0 if rc == 0 else 1)


if __name__ == "__main__":
    main()
