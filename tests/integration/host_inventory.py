"""What a linkplane daemon has made on this host, read from the host itself: its
namespaces (the state directory's netns-owned ledger against /run/netns), and, inside
each namespace, the IPv4 addresses per interface, the listening TCP sockets, the
nftables tables `inet lp-sg` and `bridge lp-sg`; plus bulk probes run inside namespaces: TCP connects to
endpoint addresses and DNS queries to the VPC resolver.

Everything that must run inside a namespace runs in one helper process (this file
run as a script) that setns(2)es from namespace to namespace: a socket keeps the
namespace it was made in, so thousands of connects or queries over hundreds of
namespaces cost one process, not one `ip netns exec` each. The helper is
single-threaded, which setns needs.

Used by tests/integration/test_scale_crash.py (host == store, object by object) and
bench/scale/scale.py (the "converged" probe). Needs root. Talks only to addresses
inside the namespaces it is given."""

import ctypes
import errno
import json
import os
import random
import selectors
import socket
import struct
import subprocess
import sys
import time

NETNS_DIR = "/run/netns"
PY = "/usr/bin/python3"
CLONE_NEWNET = 0x40000000


# ---------------------------------------------------------------------------
# Host side: namespaces and the ledger (no setns needed).

def host_namespaces(prefix="lp-"):
    """Named network namespaces on the host whose names start with prefix."""
    try:
        return {n for n in os.listdir(NETNS_DIR) if n.startswith(prefix)}
    except FileNotFoundError:
        return set()


def ledger(state_dir):
    """The namespaces the daemon of state_dir says it made (its netns-owned ledger)."""
    try:
        with open(os.path.join(state_dir, "netns-owned")) as f:
            return {line.strip() for line in f if line.startswith("lp-")}
    except FileNotFoundError:
        return set()


def daemon_namespaces(state_dir):
    """Namespaces that exist and that the daemon of state_dir owns."""
    return ledger(state_dir) & host_namespaces()


def remove_namespaces(state_dir, timeout=60):
    """Removes every namespace of state_dir's ledger still on the host (after a daemon
    died and cannot clean up). Only lp- names from the ledger: never anyone else's.
    Returns the names it could not remove."""
    left = []
    deadline = time.monotonic() + timeout
    for ns in sorted(daemon_namespaces(state_dir)):
        if time.monotonic() > deadline:
            left.append(ns)
            continue
        p = subprocess.run(["ip", "netns", "delete", ns], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            left.append(ns)
    return left


# ---------------------------------------------------------------------------
# Helper-process side: setns, netlink address dump, /proc/net/tcp, probes.

def _setns(ns):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {ns}: {os.strerror(e)}")
    finally:
        os.close(fd)


def _addresses():
    """IPv4 addresses of the current namespace: {label: ["a.b.c.d/len", ...]} (netlink
    RTM_GETADDR dump; the label is the interface name for every address we make)."""
    RTM_GETADDR, NLM_F_REQUEST, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR = 22, 1, 0x300, 3, 2
    IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    try:
        s.bind((0, 0))
        body = struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)
        s.send(struct.pack("=IHHII", 16 + len(body), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        out = {}
        done = False
        while not done:
            data = s.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, kind, _, _, _ = struct.unpack_from("=IHHII", data, off)
                if length < 16:
                    done = True
                    break
                if kind == NLMSG_DONE:
                    done = True
                elif kind == NLMSG_ERROR:
                    raise OSError("netlink error in address dump")
                elif kind == 20:  # RTM_NEWADDR
                    _, plen, _, _, _ = struct.unpack_from("=BBBBI", data, off + 16)
                    attrs, a_off, end = {}, off + 24, off + length
                    while a_off + 4 <= end:
                        alen, atype = struct.unpack_from("=HH", data, a_off)
                        if alen < 4:
                            break
                        attrs[atype] = data[a_off + 4:a_off + alen]
                        a_off += (alen + 3) & ~3
                    addr = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
                    label = attrs.get(IFA_LABEL, b"").rstrip(b"\0").decode()
                    if addr:
                        out.setdefault(label, []).append(f"{socket.inet_ntoa(addr)}/{plen}")
                off += (length + 3) & ~3
        return out
    finally:
        s.close()


def _listening_tcp():
    """(ip, port) of every listening IPv4 TCP socket in the current namespace."""
    out = set()
    with open("/proc/self/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[3] != "0A":  # TCP_LISTEN
                continue
            hexip, hexport = parts[1].split(":")
            ip = socket.inet_ntoa(struct.pack("<I", int(hexip, 16)))
            out.add((ip, int(hexport, 16)))
    return out


def _nft():
    """`nft -j list ruleset` of the current namespace, parsed (a child inherits it)."""
    p = subprocess.run(["nft", "-j", "list", "ruleset"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return {"error": p.stderr.strip()}
    return json.loads(p.stdout)


def _inventory(req):
    out = {}
    for ns in req["ns"]:
        try:
            _setns(ns)
            item = {"addrs": _addresses(), "listen": sorted(_listening_tcp())}
            if req.get("nft"):
                item["nft"] = _nft()
            out[ns] = item
        except OSError as e:
            out[ns] = {"error": str(e)}
    return out


def _dns_query(qid, name):
    q = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)


def _skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def _dns_answer(msg):
    """(rcode name, sorted A addresses) of a response."""
    _, flags, qd, an, _, _ = struct.unpack_from(">HHHHHH", msg, 0)
    rcode = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(flags & 0xF, f"RCODE{flags & 0xF}")
    off = 12
    for _ in range(qd):
        off = _skip_name(msg, off) + 4
    ips = []
    for _ in range(an):
        off = _skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack_from(">HHIH", msg, off)
        off += 10
        if rtype == 1 and rdlen == 4:
            ips.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return rcode, sorted(ips)


def _run_jobs(jobs, timeout, make, on_event, concurrency):
    """Runs jobs (each [ns, ...]) concurrency at a time, grouping by namespace so each
    batch setns()es once per namespace. make(job, index) -> (socket, events, state);
    on_event(job, state, sock, events) -> result or None (not finished). Every job
    ends within timeout of its start with a result ("timeout" at worst)."""
    results = [None] * len(jobs)
    order = sorted(range(len(jobs)), key=lambda i: jobs[i][0])
    sel = selectors.DefaultSelector()
    pending = {}  # fd -> (index, sock, state, deadline)
    pos = 0
    current_ns = None
    while pos < len(order) or pending:
        while pos < len(order) and len(pending) < concurrency:
            i = order[pos]
            pos += 1
            job = jobs[i]
            try:
                if job[0] != current_ns:
                    _setns(job[0])
                    current_ns = job[0]
                sock, events, state = make(job, i)
            except OSError as e:
                results[i] = f"error {e}"
                continue
            if sock is None:
                results[i] = state
                continue
            pending[sock.fileno()] = (i, sock, state, time.monotonic() + timeout)
            sel.register(sock, events)
        now = time.monotonic()
        wait = min((d for (_, _, _, d) in pending.values()), default=now) - now
        for key, ev in sel.select(max(0.0, min(wait, 0.2))):
            i, sock, state, deadline = pending[key.fd]
            r = on_event(jobs[i], state, sock, ev)
            if r is not None:
                results[i] = r
                sel.unregister(sock)
                sock.close()
                del pending[key.fd]
            elif state.get("events") and state["events"] != key.events:
                sel.modify(sock, state["events"])
        now = time.monotonic()
        for fd in [fd for fd, (_, _, _, d) in pending.items() if d < now]:
            i, sock, state, _ = pending.pop(fd)
            results[i] = state.get("on_timeout", "timeout")
            sel.unregister(sock)
            sock.close()
    sel.close()
    return results


def _tcp(req):
    """jobs: [ns, ip, port, banner]; result "open" (connected; with banner, the first
    line the far end sent, as "banner <text>"), "refused", "timeout", "error ..."."""

    def make(job, _):
        _, ip, port, _ = job
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((ip, int(port)))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            return None, 0, "refused" if rc == errno.ECONNREFUSED else f"error {os.strerror(rc)}"
        return s, selectors.EVENT_WRITE, {"phase": "connect", "buf": b""}

    def on_event(job, st, s, ev):
        if st["phase"] == "connect":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return "refused" if err == errno.ECONNREFUSED else f"error {os.strerror(err)}"
            if not job[3]:
                return "open"
            st["phase"], st["events"], st["on_timeout"] = "read", selectors.EVENT_READ, "open-silent"
            return None
        try:
            d = s.recv(256)
        except OSError as e:
            return f"open-reset {e.strerror}"
        if not d:
            return "open-eof" if not st["buf"] else "banner " + st["buf"].decode(errors="replace").strip()
        st["buf"] += d
        if b"\n" in st["buf"]:
            return "banner " + st["buf"].split(b"\n", 1)[0].decode(errors="replace")
        return None

    return _run_jobs(req["jobs"], req.get("timeout", 3), make, on_event, req.get("concurrency", 2000))


def _dns(req):
    """jobs: [ns, server, name]; result [rcode, [A addresses]] or ["timeout", []]. A query
    is sent again every timeout/3 until an answer or the timeout."""
    resend = req.get("timeout", 3) / 3

    def make(job, i):
        _, server, name = job
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        q = _dns_query((i * 7919 + random.randrange(1 << 15)) & 0xFFFF, name)
        s.connect((server, 53))
        try:
            s.send(q)
        except OSError:
            pass
        return s, selectors.EVENT_READ, {"q": q, "sent": time.monotonic(), "on_timeout": ["timeout", []]}

    def on_event(job, st, s, ev):
        try:
            msg = s.recv(4096)
        except ConnectionRefusedError:
            return ["refused", []]
        except OSError as e:
            return [f"error {e.strerror}", []]
        if msg[:2] != st["q"][:2]:
            return None
        return list(_dns_answer(msg))

    results = [None] * len(req["jobs"])
    jobs = req["jobs"]
    # Three rounds of timeout/3 for the ones still unanswered: a resolver socket made a
    # moment ago may have missed the first query.
    todo = list(range(len(jobs)))
    for _ in range(3):
        if not todo:
            break
        sub = [jobs[i] for i in todo]
        got = _run_jobs(sub, resend, make, on_event, req.get("concurrency", 2000))
        nxt = []
        for i, r in zip(todo, got):
            results[i] = r if isinstance(r, list) else [r, []]
            if r[0] == "timeout":
                nxt.append(i)
        todo = nxt
    return results


def _serve():
    """The helper: one JSON request per stdin line, one JSON answer per stdout line."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ops = {"inventory": _inventory, "tcp": _tcp, "dns": _dns}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            out = {"ok": ops[req["op"]](req)}
        except Exception as e:  # noqa: BLE001 - reported to the caller, never swallowed
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------------------
# Caller side.

class Prober:
    """A helper process that works inside namespaces. Use as a context manager."""

    def __init__(self):
        self.proc = subprocess.Popen([PY, os.path.abspath(__file__), "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _call(self, req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("host_inventory helper died")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError("host_inventory helper: " + out["error"])
        return out["ok"]

    def inventory(self, namespaces, nft=False):
        """ns -> {"addrs": {ifname: [a/len]}, "listen": {(ip, port)}, "nft": json?} (or
        {"error": ...} for a namespace that could not be entered)."""
        raw = self._call({"op": "inventory", "ns": sorted(namespaces), "nft": nft})
        for item in raw.values():
            if "listen" in item:
                item["listen"] = {(ip, port) for ip, port in item["listen"]}
        return raw

    def tcp(self, jobs, timeout=3, concurrency=2000):
        """jobs: [(ns, ip, port, banner?)] -> results in order (see _tcp)."""
        return self._call({"op": "tcp", "jobs": [list(j) for j in jobs], "timeout": timeout,
                           "concurrency": concurrency})

    def dns(self, jobs, timeout=3, concurrency=2000):
        """jobs: [(ns, resolver ip, name)] -> [(rcode, [ips])] in order."""
        return [tuple(r) for r in self._call({"op": "dns", "jobs": [list(j) for j in jobs], "timeout": timeout,
                                             "concurrency": concurrency})]


def bridge_addresses(item):
    """From one inventory entry: {bridge: {a/len}} for the daemon's subnet bridges."""
    return {k: set(v) for k, v in item.get("addrs", {}).items() if k.startswith("lp-br-")}


def sg_table(item):
    """From one inventory entry with nft: None if no `inet lp-sg` table, else
    {"chains": {name}, "jumps": {(chain, daddr or saddr, target)}} of that table
    (a jump from a rule matching one address, or from an address's vmap entry)."""
    rules = item.get("nft", {}).get("nftables", [])
    have = any("table" in r and r["table"]["family"] == "inet" and r["table"]["name"] == "lp-sg" for r in rules)
    if not have:
        return None
    chains, jumps = set(), set()
    for r in rules:
        if "chain" in r and r["chain"]["table"] == "lp-sg" and r["chain"]["family"] == "inet":
            chains.add(r["chain"]["name"])
        if "rule" in r and r["rule"]["table"] == "lp-sg" and r["rule"]["family"] == "inet":
            addr, target = None, None
            for e in r["rule"].get("expr", []):
                m = e.get("match")
                if m and isinstance(m.get("left"), dict) and "payload" in m["left"] and \
                        m["left"]["payload"].get("field") in ("daddr", "saddr") and isinstance(m["right"], str):
                    addr = m["right"]
                if "jump" in e:
                    target = e["jump"]["target"]
                v = e.get("vmap")
                if v and "payload" in v.get("key", {}):
                    for key, verdict in v["data"].get("set", []):
                        if isinstance(key, str) and "jump" in verdict:
                            jumps.add((r["rule"]["chain"], key, verdict["jump"]["target"]))
            if target:
                jumps.add((r["rule"]["chain"], addr, target))
    return {"chains": chains, "jumps": jumps}


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    _serve()
