"""linkplane as a service: the readiness protocol on a real unix datagram socket (as
systemd listens), SIGHUP reloading what it can and naming what needs a restart,
`linkplane status`, log levels the journal reads, and config typos refused at start."""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from lp import LINKPLANE, AwsError, Daemon, free_port, serving, write_config


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


@pytest.fixture
def notify_socket():
    path = tempfile.mktemp(prefix="lp-notify-", dir="/tmp")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(20)
    yield path, s
    s.close()
    os.unlink(path)


def test_ready_when_serving_reloading_on_sighup_and_stopping(notify_socket):
    path, sock = notify_socket
    state_dir, cfg = write_config()
    d = Daemon(state_dir=state_dir, config=cfg, env=dict(os.environ, NOTIFY_SOCKET=path)).start()
    for _ in serving(d):
        ready = sock.recv(4096).decode()
        lines = ready.split("\n")
        assert "READY=1" in lines
        assert f"MAINPID={d.proc.pid}" in lines
        assert f"STATUS=serving on {d.url}" in lines
        # READY=1 means requests are answered.
        assert d.aws("sts", "get-caller-identity")["Account"] == "111111111111"
        d.proc.send_signal(signal.SIGHUP)
        assert sock.recv(4096).decode() == "RELOADING=1"
        assert sock.recv(4096).decode().split("\n")[0] == "READY=1"
        d.proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"


def test_sighup_applies_the_log_level_and_limits_and_names_what_needs_a_restart():
    body = 'dataplane = false\ndns_listen = ""\n[limits]\nvpcs_per_account = 1\n'
    state_dir, cfg = write_config(body=body)
    d = Daemon(state_dir=state_dir, config=cfg).start()
    for _ in serving(d):
        d.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")
        assert d.aws_error("ec2", "create-vpc", "--cidr-block", "10.1.0.0/16").code == "VpcLimitExceeded"

        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("vpcs_per_account = 1", "vpcs_per_account = 3")
                        .replace('dns_listen = ""', 'dns_listen = ""\nlog_level = "debug"\ndns_upstream = "127.0.0.1:53"'))
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload: applied log_level: info -> debug" in d.log()), d.log()
        log = d.log()
        assert "reload: applied limits.vpcs_per_account: 1 -> 3" in log
        assert "needs a restart, still running with the old value: dns_upstream:  -> 127.0.0.1:53" in log
        # A limit is live (test_reload.py has accounts and backends): the quota is 3 now.
        d.aws("ec2", "create-vpc", "--cidr-block", "10.1.0.0/16")

        # A broken file is refused and the running configuration kept.
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:  # the harness's config already has an [sns] table
            f.write(text.replace("[sns]\n", "[sns]\nca_fle = \"x\"\n"))
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "still running with the previous configuration" in d.log()), d.log()
        assert "unknown key 'sns.ca_fle' (did you mean 'sns.ca_file'?)" in d.log()
        assert d.proc.poll() is None
        assert d.aws("sts", "get-caller-identity")["Account"] == "111111111111"


def status(*args):
    return subprocess.run([LINKPLANE, "status", *args], capture_output=True, text=True, timeout=30)


def test_status_reports_up_version_uptime_state_and_unconverged_endpoints():
    state_dir, cfg = write_config()
    d = Daemon(state_dir=state_dir, config=cfg).start()
    for _ in serving(d):
        vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
        p = status("--config", cfg, "--state-dir", state_dir)
        assert p.returncode == 0, p.stderr
        version = subprocess.run([LINKPLANE, "version"], capture_output=True, text=True).stdout.split()[1]
        assert p.stdout.startswith(f"linkplane: up, version {version}, pid {d.proc.pid}, uptime "), p.stdout
        assert f"state:       {state_dir}, " in p.stdout
        assert "schema version 3" in p.stdout
        assert "endpoints not converged: 0" in p.stdout
        j = json.loads(status("--state-dir", state_dir, "--json").stdout)
        assert j["up"] is True and j["version"] == version and j["listen"] == d.url
        assert j["state_bytes"] > 0 and j["revision"] >= 1
        assert j["reconciler"]["queued_keys"] >= 0
        assert vpc
        # Only the daemon's user may read it.
        assert os.stat(os.path.join(state_dir, "linkplane.sock")).st_mode & 0o077 == 0
    p = status("--state-dir", state_dir)
    assert p.returncode == 3
    assert "not running" in p.stdout


@contextlib.contextmanager
def serve_unwatched(cfg, state_dir):
    """`linkplane serve` started without waiting for its "listening" line (the harness's
    Daemon waits for it, after the start is over); stopped with SIGTERM, exit 0."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="lp-test-log-", dir="/tmp")
    proc = subprocess.Popen([LINKPLANE, "serve", "--config", cfg, "--state-dir", state_dir,
                             "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        yield proc, port, lambda: open(log.name).read()
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
        log.close()
    assert rc == 0, f"daemon exited {rc} on SIGTERM"


def test_status_answers_from_the_moment_the_api_accepts():
    """Issue 20: `linkplane status` said "not running" just after the API first answered,
    as the status socket was bound after the API listener. The first moment the API port
    accepts a connection, the status socket does too and answers with that API's URL."""
    state_dir, cfg = write_config()
    try:
        with serve_unwatched(cfg, state_dir) as (proc, port, log):
            deadline = time.monotonic() + 20
            while True:  # no sleep: the first moment it accepts
                assert proc.poll() is None and time.monotonic() < deadline, log()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=5).close()
                    break
                except ConnectionRefusedError:
                    pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(os.path.join(state_dir, "linkplane.sock"))
            doc = b""
            while chunk := s.recv(65536):
                doc += chunk
            s.close()
            assert json.loads(doc)["listen"] == f"http://127.0.0.1:{port}"
            p = status("--state-dir", state_dir)
            assert p.returncode == 0 and p.stdout.startswith("linkplane: up, "), p.stdout + p.stderr
    finally:
        shutil.rmtree(state_dir)


def test_a_state_directory_the_daemon_makes_is_private_and_an_open_one_is_named():
    """Issue 20: the state directory holds the local CA's key; the daemon made it 0755."""
    base = tempfile.mkdtemp(prefix="lp-test-")
    _, cfg = write_config()
    state_dir = os.path.join(base, "var", "lib", "linkplane")
    try:
        with serve_unwatched(cfg, state_dir) as (proc, port, log):
            assert wait_for(lambda: os.path.exists(os.path.join(state_dir, "linkplane.sock"))), log()
            assert os.stat(state_dir).st_mode & 0o777 == 0o700
            assert os.stat(os.path.join(state_dir, "ca.key")).st_mode & 0o077 == 0
            assert "state directory" not in log()
        # An existing one is the admin's (or systemd's StateDirectoryMode=): kept, but named.
        os.chmod(state_dir, 0o755)
        with serve_unwatched(cfg, state_dir) as (proc, port, log):
            assert wait_for(lambda: f"state directory {state_dir} is accessible by group or others "
                                    f"(mode 0755)" in log()), log()
            assert f"run chmod 700 {state_dir}" in log()
            assert os.stat(state_dir).st_mode & 0o777 == 0o755
    finally:
        shutil.rmtree(base)
        shutil.rmtree(os.path.dirname(cfg))


def test_a_second_daemon_on_the_same_state_directory_is_refused_and_the_first_keeps_serving():
    """Two daemons on one state directory would each build and remove the same
    namespaces and write one store: the second is refused at start, naming the
    first's pid; after a kill -9 of the first, a new one starts at once."""
    state_dir, cfg = write_config()
    first = Daemon(state_dir=state_dir, config=cfg).start()
    try:
        vpc = first.aws("ec2", "create-vpc", "--cidr-block", "10.7.0.0/16")["Vpc"]["VpcId"]
        p = subprocess.run([LINKPLANE, "serve", "--state-dir", state_dir, "--config", cfg,
                            "--listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0
        assert f"state directory {state_dir} is in use by another linkplane (pid {first.proc.pid})" in p.stderr, \
            p.stderr
        # The first is untouched: it answers, and what it made is still there.
        assert [v["VpcId"] for v in first.aws("ec2", "describe-vpcs")["Vpcs"]] == [vpc]
        first.kill()
        second = Daemon(state_dir=state_dir, config=cfg).start()
        try:
            assert [v["VpcId"] for v in second.aws("ec2", "describe-vpcs")["Vpcs"]] == [vpc]
        finally:
            assert second.stop() == 0
    finally:
        first.kill()
        shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(os.path.dirname(cfg), ignore_errors=True)


def test_log_lines_carry_their_level_for_the_journal():
    state_dir, cfg = write_config()
    d = Daemon(state_dir=state_dir, config=cfg)
    open(d.log_path, "ab").close()
    st = os.stat(d.log_path)
    d.proc_env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    d.start()
    for _ in serving(d):
        d.proc.send_signal(signal.SIGHUP)  # an info line
        assert wait_for(lambda: "SIGHUP" in d.log())
        lines = [line for line in d.log().splitlines() if line]
        assert lines and all(line[:3] in ("<7>", "<6>", "<4>", "<3>", "<2>") for line in lines), lines
        assert any(line.startswith("<6>info ") for line in lines), lines


def test_unknown_config_key_is_refused_at_start_with_its_line_and_the_nearest_key():
    state_dir, cfg = write_config(body='dataplne = false\ndns_listen = ""\n')
    try:
        p = subprocess.run([LINKPLANE, "serve", "--config", cfg, "--state-dir", state_dir, "--listen",
                            f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2
        assert p.stderr.strip() == f"linkplane: {cfg}:3: unknown key 'dataplne' (did you mean 'dataplane'?)"
    finally:
        shutil.rmtree(state_dir)


UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging", "linkplane.service.in")


@pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and capabilities: needs root")
def test_the_units_capabilities_are_enough_for_the_data_plane():
    """The daemon under exactly the unit's CapabilityBoundingSet (and NoNewPrivileges),
    as systemd would start it, builds a VPC, a workload interface and its resolver."""
    import re
    unit = open(UNIT).read()
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    bounding = "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    # Without CAP_SYS_RESOURCE the daemon cannot raise the open-file hard limit itself:
    # the unit's LimitNOFILE= does (a test cannot, where its own hard limit is lower).
    assert int(re.search(r"^LimitNOFILE=(\d+)$", unit, re.M).group(1)) >= 1 << 20
    state_dir, cfg = write_config(body='dns_listen = ""\n')  # data plane on
    # As systemd starts it: the binary exec'd under the bounding set (same pid).
    wrapper = os.path.join(state_dir, "linkplane-capped")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec setpriv --bounding-set={bounding} --inh-caps=-all '
                f'--no-new-privs -- {os.path.abspath(LINKPLANE)} "$@"\n')
    os.chmod(wrapper, 0o755)
    import lp
    lp.LINKPLANE = wrapper
    try:
        d = Daemon(state_dir=state_dir, config=cfg).start()
    finally:
        lp.LINKPLANE = LINKPLANE
    for _ in serving(d):
        status = open(f"/proc/{d.proc.pid}/status").read()
        bnd = int(re.search(r"^CapBnd:\s+([0-9a-f]+)$", status, re.M).group(1), 16)
        assert bnd == sum(1 << n for n in (12, 21, 10)), hex(bnd)  # NET_ADMIN, SYS_ADMIN, NET_BIND_SERVICE
        vpc = d.aws("ec2", "create-vpc", "--cidr-block", "10.8.0.0/16")["Vpc"]["VpcId"]
        subnet = d.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.8.1.0/24",
                       "--availability-zone-id", "use1-az1")["Subnet"]["SubnetId"]
        eni = d.aws("ec2", "create-network-interface", "--subnet-id", subnet)["NetworkInterface"]
        eni_id = eni["NetworkInterfaceId"]

        def namespaces():
            out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            return {line.split()[0] for line in out.splitlines() if line.strip()}

        assert wait_for(lambda: {"lp-" + vpc, "lp-" + eni_id} <= namespaces(), 20), namespaces()
        # The VPC resolver answers on port 53 inside the workload's namespace.
        p = subprocess.run(["ip", "netns", "exec", "lp-" + eni_id, "dig", "+short", "+time=2", "+tries=3",
                            "@10.8.0.2", "ec2.us-east-1.amazonaws.com"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        # `linkplane status` names what has not converged, with the reason: an endpoint
        # to a service that has no backend on this host goes failed.
        e = d.aws("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc,
                  "--service-name", "com.amazonaws.us-east-1.kms", "--subnet-ids", subnet,
                  "--no-private-dns-enabled")["VpcEndpoint"]["VpcEndpointId"]
        d.wait_endpoint_state(e, "failed", account="provider", timeout=20)
        p = subprocess.run([LINKPLANE, "status", "--state-dir", state_dir], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert "endpoints not converged: 1\n" in p.stdout, p.stdout
        # The default path = "auto" took the BPF fast path with only the unit's capabilities.
        js = subprocess.run([LINKPLANE, "status", "--state-dir", state_dir, "--json"], capture_output=True, text=True,
                            timeout=30).stdout
        assert json.loads(js)["dataplane_path"] == "bpf", js
        assert re.search(rf"^    {e}  failed  {vpc}  No backend is configured for com.amazonaws.us-east-1.kms",
                         p.stdout, re.M), p.stdout
        refused = [line for line in d.log().lower().splitlines()
                   if ("permission" in line or "not permitted" in line) and "open-file hard limit" not in line]
        assert not refused, d.log()
