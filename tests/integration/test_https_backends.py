"""An AWS service of the catalog whose backend is an https:// upstream
([aws_service_backends] kms = { url = "https://...", ca_file = "..." }), as a user
sees it: inside a consumer workload, with an endpoint to kms and private DNS on,
`curl https://kms.us-east-1.amazonaws.com/` (no -k, no CA flag) gets the upstream's
answer: the daemon's TLS relay shows the client a certificate from the local CA
(which workloads trust) and reaches the upstream, an HTTPS server in a namespace of
its own with its own test CA, over a second TLS session verified against ca_file.
With a ca_file of another CA, or a server_name the certificate does not carry, the
client's connection fails, the log says why and /metrics counts it; SIGHUP switches
between them (the relay reads ca_file again). Needs root."""
import datetime
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from lp import Daemon, free_port, serving, write_config
from test_aws_services import inside
from test_dataplane import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

TAG = f"{os.getpid() % 100000}"
NS = f"lp-up{TAG}"
VETH_HOST, VETH_NS = f"lpu{TAG}h", f"lpu{TAG}n"
NET = 10 + os.getpid() % 200  # 10.253.NET.0/30
HOST_IP, UPSTREAM_IP = f"10.253.{NET}.1", f"10.253.{NET}.2"
PORT = 8443


def make_ca(dirname, name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    path = os.path.join(dirname, name + ".pem")
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert, key


def issue(dirname, ca_cert, ca_key, ip):
    """A server certificate for the IP address, signed by the CA: (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "upstream")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = os.path.join(dirname, "upstream.pem"), os.path.join(dirname, "upstream.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


# The upstream: answers every GET with what it saw, over TLS with its own certificate.
SERVER = r"""
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("upstream saw %s %s\n" % (self.path, self.headers.get("Host"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = http.server.ThreadingHTTPServer((sys.argv[3], int(sys.argv[4])), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
"""


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


@pytest.fixture(scope="module")
def upstream():
    """The HTTPS upstream in namespace NS, reached from the host over a veth pair;
    yields (the right CA's path, a wrong CA's path)."""
    tmp = tempfile.mkdtemp(prefix="lp-test-pki-")
    proc = None
    try:
        right, ca_cert, ca_key = make_ca(tmp, "upstream-ca")
        wrong, _, _ = make_ca(tmp, "other-ca")
        cert, key = issue(tmp, ca_cert, ca_key, UPSTREAM_IP)
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS, "netns", NS)
        sh("ip", "addr", "add", f"{HOST_IP}/30", "dev", VETH_HOST)
        sh("ip", "link", "set", VETH_HOST, "up")
        sh("ip", "-n", NS, "addr", "add", f"{UPSTREAM_IP}/30", "dev", VETH_NS)
        sh("ip", "-n", NS, "link", "set", VETH_NS, "up")
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        proc = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", SERVER, cert, key, UPSTREAM_IP,
                                 str(PORT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        yield right, wrong
    finally:
        if proc:
            proc.kill()
            proc.wait()
        subprocess.run(["ip", "link", "del", VETH_HOST], capture_output=True)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def backend(ca, server_name=None):
    extra = f', server_name = "{server_name}"' if server_name else ""
    return f'kms = {{ url = "https://{UPSTREAM_IP}:{PORT}", ca_file = "{ca}"{extra} }}'


@pytest.fixture(scope="module")
def daemon(upstream):
    right, _ = upstream
    body = (f'dns_listen = ""\n[metrics]\nprometheus_listen = "127.0.0.1:{free_port()}"\n'
            f'[aws_service_backends]\n{backend(right)}\n')
    state_dir, path = write_config(body=body)
    d = Daemon(state_dir=state_dir, config=path)
    yield from serving(d.start())


def reload_to(d, line, marker):
    with open(d.config) as f:
        text = f.read()
    text = re.sub(r"^kms = .*$", line, text, flags=re.M)
    with open(d.config, "w") as f:
        f.write(text)
    before = len(d.log())
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 15
    while marker not in d.log()[before:] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker in d.log()[before:], d.log()[before:]


def relay_count(d, outcome):
    url = re.search(r"linkplane metrics on (\S+)", d.log()).group(1)
    page = urllib.request.urlopen(url, timeout=5).read().decode()
    m = re.search(r'^linkplane_tls_relay_connections_total\{service="kms",outcome="%s"\} (\d+)' % outcome, page,
                  re.M)
    return int(m.group(1)) if m else 0


def test_curl_in_a_workload_reaches_an_https_upstream_verified_against_its_ca(daemon, upstream):
    right, wrong = upstream
    aws = lambda *a: daemon.aws(*a, account="consumer")  # noqa: E731
    vpc = aws("ec2", "create-vpc", "--cidr-block", "10.173.0.0/16")["Vpc"]["VpcId"]
    aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", '{"Value":true}')
    sub = aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.173.1.0/24", "--availability-zone-id",
              "use1-az1")["Subnet"]["SubnetId"]
    workload = aws("ec2", "create-network-interface", "--subnet-id", sub)["NetworkInterface"]["NetworkInterfaceId"]
    e = aws("ec2", "create-vpc-endpoint", "--vpc-endpoint-type", "Interface", "--vpc-id", vpc, "--service-name",
            "com.amazonaws.us-east-1.kms", "--subnet-ids", sub, "--private-dns-enabled")["VpcEndpoint"]
    vpce = e["VpcEndpointId"]
    daemon.wait_endpoint_state(vpce, "available", timeout=20)

    def curl():
        return inside(workload, "/usr/bin/curl", "-sS", "--max-time", "15", "https://kms.us-east-1.amazonaws.com/x")

    # The default name, the system trust store: the upstream answers through the relay.
    r = curl()
    assert r.returncode == 0, r.stderr
    assert r.stdout == "upstream saw /x kms.us-east-1.amazonaws.com\n"
    # Attributed to the endpoint, with the client's address in its VPC.
    line = rf"tls relay kms: 10\.173\.1\.\d+:\d+ via {vpce} to https://{UPSTREAM_IP}:{PORT}: \d+ bytes up"
    assert wait_for(lambda: re.search(line, daemon.log()), 5), daemon.log()[-2000:]
    assert relay_count(daemon, "relayed") >= 1

    # Another CA: the upstream's certificate does not verify; the client gets no answer.
    reload_to(daemon, backend(wrong), "reload: applied aws_service_backends (https)")
    r = curl()
    assert r.returncode != 0 and "upstream saw" not in r.stdout, r.stdout
    assert re.search(rf"tls relay kms: connection from 10\.173\.1\.\d+:\d+ via {vpce} closed: upstream "
                     rf"https://{UPSTREAM_IP}:{PORT} refused: upstream TLS handshake: certificate verify failed: "
                     r"unable to get local issuer certificate", daemon.log()), daemon.log()[-2000:]
    assert relay_count(daemon, "upstream_verify_failed") == 1

    # The right CA, but a name the certificate does not carry: refused as well.
    reload_to(daemon, backend(right, "kms.internal.example"), "reload: applied aws_service_backends (https)")
    r = curl()
    assert r.returncode != 0 and "upstream saw" not in r.stdout, r.stdout
    assert "certificate verify failed: hostname mismatch" in daemon.log()
    assert relay_count(daemon, "upstream_verify_failed") == 2

    # Back to the right CA and name: the same endpoint works again, no change through the API.
    reload_to(daemon, backend(right), "reload: applied aws_service_backends (https)")
    r = curl()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("upstream saw /x")
