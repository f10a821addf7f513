"""SIGHUP reloads what can change without a restart, as an operator sees it: an
account added to the config file works at once through the AWS CLI, a removed key is
refused (AuthFailure) and its console session ends, a changed limit is enforced,
the log level changes, and the log names each change; a key that needs a restart
(tls_listen) is named as such and the daemon keeps its old value. A broken file
changes nothing. With the data plane (root), a changed [aws_service_backends]
entry moves an existing endpoint's traffic to the new backend."""
import http.client
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

import pytest

from lp import ALL_ACCOUNTS, LINKPLANE, Daemon, free_port, serving, write_config


def wait_for(pred, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def rewrite(path, *pairs):
    with open(path) as f:
        text = f.read()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    with open(path, "w") as f:
        f.write(text)


def reload_and_wait(d, marker):
    """SIGHUP, then wait for MARKER to appear in the log after the signal."""
    before = len(d.log())
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: marker in d.log()[before:]), d.log()[before:]
    return d.log()[before:]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def console(d, method, path, body="", cookie=None):
    """One console request (the page's own origin). Returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    host = f"127.0.0.1:{d.port}"
    headers = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    out = (r.status, dict(r.getheaders()), r.read().decode())
    conn.close()
    return out


def test_sighup_applies_accounts_keys_limits_and_log_level():
    tls_old, tls_new = free_port(), free_port()
    body = (f'dataplane = false\ndns_listen = ""\ntls_listen = "127.0.0.1:{tls_old}"\n'
            '[limits]\nvpcs_per_account = 3\n')
    state_dir, cfg = write_config(accounts=("provider", "consumer"), body=body)
    d = Daemon(state_dir=state_dir, config=cfg).start()
    for _ in serving(d):
        # Before: provider and consumer work; the outsider's key is unknown.
        d.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")
        assert d.aws("sts", "get-caller-identity", account="consumer")["Account"] == "222222222222"
        assert d.aws_error("ec2", "describe-vpcs", account="outsider").code == "AuthFailure"
        _, key, secret = ALL_ACCOUNTS["consumer"]
        status, headers, _ = console(d, "POST", "/console/session", f"accessKeyId={key}&secretAccessKey={secret}")
        assert status == 200
        session = headers["Set-Cookie"].split(";")[0]
        assert console(d, "GET", "/console/session", cookie=session)[0] == 200
        assert accepts(tls_old)

        # The file gains the outsider, loses the consumer, lowers a limit, turns on
        # debug logging and moves the HTTPS listener (which needs a restart).
        outsider_id, outsider_key, outsider_secret = ALL_ACCOUNTS["outsider"]
        consumer_id, consumer_key, consumer_secret = ALL_ACCOUNTS["consumer"]
        with open(cfg) as f:
            text = f.read()
        consumer_block = text[text.index('[[accounts]]\nid = "222222222222"'):]
        consumer_block = consumer_block[:consumer_block.index("\n\n") + 2]
        rewrite(cfg, (consumer_block, ""),
                ("vpcs_per_account = 3", "vpcs_per_account = 1"),
                ('dns_listen = ""', 'dns_listen = ""\nlog_level = "debug"'),
                (f"127.0.0.1:{tls_old}", f"127.0.0.1:{tls_new}"),
                ("[limits]", f'[[accounts]]\nid = "{outsider_id}"\nname = "outsider"\n'
                             f'access_key_id = "{outsider_key}"\nsecret_access_key = "{outsider_secret}"\n\n[limits]'))
        log = reload_and_wait(d, "reload: applied log_level: info -> debug")
        assert wait_for(lambda: "tls_listen" in d.log()), d.log()
        log = d.log()
        assert "reload: applied limits.vpcs_per_account: 3 -> 1" in log
        assert f"reload: applied accounts: removed {consumer_id} (consumer, key {consumer_key})" in log
        assert f"reload: applied accounts: added {outsider_id} (outsider, key {outsider_key})" in log
        assert (f"reload: needs a restart, still running with the old value: "
                f"tls_listen: 127.0.0.1:{tls_old} -> 127.0.0.1:{tls_new}") in log
        assert "reload: ended 1 console session(s)" in log
        for secret_text in (outsider_secret, consumer_secret):
            assert secret_text not in log, "a secret reached the log"

        # After: the new key works, the removed one is refused, the new limit holds.
        assert d.aws("sts", "get-caller-identity", account="outsider")["Account"] == outsider_id
        assert d.aws("ec2", "describe-vpcs", account="outsider")["Vpcs"] == []
        assert d.aws_error("ec2", "describe-vpcs", account="consumer").code == "AuthFailure"
        assert d.aws_error("sts", "get-caller-identity", account="consumer").code == "InvalidClientTokenId"
        assert d.aws_error("ec2", "create-vpc", "--cidr-block", "10.1.0.0/16").code == "VpcLimitExceeded"
        assert d.aws("ec2", "create-vpc", "--cidr-block", "10.2.0.0/16", account="outsider")["Vpc"]["VpcId"]
        assert d.aws_error("ec2", "create-vpc", "--cidr-block", "10.3.0.0/16",
                           account="outsider").code == "VpcLimitExceeded"
        status, _, text = console(d, "GET", "/console/session", cookie=session)
        assert status == 401, text
        assert console(d, "POST", "/console/session", f"accessKeyId={key}&secretAccessKey={secret}")[0] == 401
        # What needs a restart kept its old value: HTTPS still on the old port.
        assert accepts(tls_old) and not accepts(tls_new)
        assert d.proc.poll() is None

        # A broken file (a duplicate access key) changes nothing and says why.
        rewrite(cfg, ("vpcs_per_account = 1", "vpcs_per_account = 5"),
                (f'access_key_id = "{outsider_key}"', f'access_key_id = "{ALL_ACCOUNTS["provider"][1]}"'))
        log = reload_and_wait(d, "still running with the previous configuration")
        assert "duplicate account id or access key" in log, log
        assert "reload: applied" not in log
        assert d.aws("sts", "get-caller-identity", account="outsider")["Account"] == outsider_id
        assert d.aws("sts", "get-caller-identity")["Account"] == "111111111111"
        assert d.aws_error("ec2", "create-vpc", "--cidr-block", "10.1.0.0/16").code == "VpcLimitExceeded"


class _Banner(socketserver.ThreadingTCPServer):
    """A TCP server on loopback that sends WORD to whoever connects."""
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, word):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.sendall(word.encode() + b"\n")
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


def inside(eni, *cmd, timeout=30):
    return subprocess.run([LINKPLANE, "exec", "--eni", eni, "--", *cmd], capture_output=True, text=True,
                          timeout=timeout)


READ = ("import socket,sys\n"
        "s = socket.create_connection((sys.argv[1], 443), timeout=5)\n"
        "print(s.recv(64).decode().strip())\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (data plane)")
def test_sighup_moves_an_aws_service_endpoint_to_its_new_backend():
    one, two = _Banner("one"), _Banner("two")
    body = f'dns_listen = ""\n[aws_service_backends]\nevents = "127.0.0.1:{one.port}"\n'
    state_dir, cfg = write_config(body=body)
    d = Daemon(state_dir=state_dir, config=cfg).start()
    try:
        for _ in serving(d):
            aws = lambda *a: d.aws(*a, account="consumer")  # noqa: E731
            vpc = aws("ec2", "create-vpc", "--cidr-block", "10.172.0.0/16")["Vpc"]["VpcId"]
            sub = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.172.1.0/24",
                      "--availability-zone-id", "use1-az1")["Subnet"]["SubnetId"]
            workload = aws("ec2", "create-network-interface", "--subnet-id", sub)["NetworkInterface"]
            e = aws("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc,
                    "--service-name", "com.amazonaws.us-east-1.events", "--subnet-ids", sub,
                    "--no-private-dns-enabled")["VpcEndpoint"]
            e = d.wait_endpoint_state(e["VpcEndpointId"], "available", timeout=20)
            ip = aws("ec2", "describe-network-interfaces", "--network-interface-ids",
                     *e["NetworkInterfaceIds"])["NetworkInterfaces"][0]["PrivateIpAddress"]

            def reads():
                r = inside(workload["NetworkInterfaceId"], "/usr/bin/python3", "-c", READ, ip)
                return r.stdout.strip() or r.stderr.strip()

            assert wait_for(lambda: reads() == "one", timeout=10), reads()
            rewrite(cfg, (f"events = \"127.0.0.1:{one.port}\"", f"events = \"127.0.0.1:{two.port}\""))
            log = reload_and_wait(d, "reload: applied aws_service_backends:")
            assert f"events=127.0.0.1:{one.port}" in log and f"events=127.0.0.1:{two.port}" in log
            # The same endpoint, no change through the API: its traffic goes to the new backend.
            assert wait_for(lambda: reads() == "two", timeout=15), reads()
    finally:
        one.shutdown()
        two.shutdown()
