"""New connections per second: the direct path against hand-built copies of the kernel fast
path's topology, each with one change, in the same run (no daemon: the namespaces, bridges,
links and nftables rules are made here the way linkplane makes them, so a candidate change
is measured before any product code is written for it).

Each fast copy: client workload -> consumer VPC namespace (bridge with an isolated port and
proxy ARP, security-group tables, `ip lp-fast` with one link) -> veth link -> provider VPC
namespace (the same, the target translation and the node address) -> target workload; both
VPCs use 10.0.1.0/24. The direct path is bench.py's (client -> router -> server).

VARIANTS (comma-separated, default "base,routed"):
  base     as linkplane lays it out (src/dataplane/fastpath_plan.cc, reconciler/filter_plan.cc)
  routed   the two workloads' veths taken off their bridges: a /32 route and proxy ARP on
           the veth (its MAC = the bridge's, so the workload's ARP entry stays right), the
           bridge table's address check done as `iifname . ip saddr` in inet prerouting
  nosg     base without the security-group tables (what they cost)
  min      base with only the translation rules in both namespaces (no security groups,
           counters, cap, limits or one-way checks): the floor of rule changes
  routed-min  min with both workloads' veths routed (no bridges)
  direct-ct   the direct path with conntrack in its router (one `ct state` rule)
  direct-nat  the direct path with conntrack NAT in its router (DNAT to the server, SNAT
           to the router): what one namespace of conntrack NAT costs, nothing else
  bpfnat   no conntrack: fastpath_bpfnat_proto.c translates in tc programs for one fixed
           client and target (stateless, a cost bound, not a data plane) and moves each
           packet with bpf_redirect_peer past both VPC namespaces' stacks
  bpfnat-syn  bpfnat, but each SYN crosses both namespaces' stacks (untracked), so the
           consumer's groups and the target's see every new connection before it is
           translated (on the link's egress) and forwarded; the rest as bpfnat
  bpfstate    bpfnat-syn with state: fastpath_bpfstate_proto.c makes a connection entry
           (two LRU hash maps, the client's port kept unless taken) for each SYN on the
           link's egress and translates every other packet from the entries
  peer     translation in the provider namespace only (DNAT to the target, SNAT to the
           node, replies routed back to the link by connection mark); in the consumer
           namespace tc programs (fastpath_peer_proto.c) move the endpoint's packets with
           bpf_redirect_peer: client veth -> provider end of the link, and back, so the
           consumer namespace's bridge, IP stack and netfilter see none of them
  peersyn  peer, but the SYN crosses the consumer namespace's stack (routed to the link,
           untracked), so its security groups see every new connection
  peer-routed  peer, and the target's veth taken off the provider bridge as in routed
  peer-routed-min  peer-routed with only the translation rules (no security groups,
           counters, cap or limits): the floor of conntrack NAT in one namespace

ROUNDS rounds of DURATION-second wrk runs (`Connection: close`, WRK_CONNS connections), the
order rotating; per run connections/s and CPU per connection (wrk, the server's nginx and
ksoftirqd), then per round each variant's ratio against direct, and per variant the medians.
Needs root, wrk, nginx; the bpf* and peer* variants also clang-14 and tc (iproute2 with
libbpf), bpf* unshare and nsenter.

  DURATION=3 ROUNDS=4 VARIANTS=base,routed nice -n 19 /usr/bin/python3 bench/dataplane/fastpath_variants.py
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import conns  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "4"))
VARIANTS = [v for v in os.environ.get("VARIANTS", "base,routed").split(",") if v]
TAG = bench.TAG[-3:]


def nft(ns, text):
    p = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=text, text=True, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"nft in {ns}: {p.stderr}\n{text}")


def sysctl(ns, key, value):
    bench.sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"{key}={value}")


FAST_TABLE = """
add table ip lp-fast
add ct timeout ip lp-fast idle { protocol tcp; l3proto ip; policy = { established: 350 }; }
add map ip lp-fast c-in { type mark : counter; }
add map ip lp-fast c-out { type mark : counter; }
add map ip lp-fast c-new { type mark : counter; }
add map ip lp-fast c-rst { type mark : counter; }
add map ip lp-fast c-drop { type mark : counter; }
add map ip lp-fast bw { type mark : limit; }
add set ip lp-fast conns-50000 { type ipv4_addr; flags dynamic; size 65536; }
add map ip lp-fast src-of { type mark : ipv4_addr; }
add map ip lp-fast eps { type ipv4_addr : verdict; }
add map ip lp-fast plinks { type ipv4_addr : verdict; }
add map ip lp-fast lim { type ipv4_addr : verdict; }
add chain ip lp-fast fp-pre { type nat hook prerouting priority dstnat; policy accept; }
add chain ip lp-fast fp-post { type nat hook postrouting priority srcnat; policy accept; }
add chain ip lp-fast fp-fwd { type filter hook forward priority 10; policy accept; }
add chain ip lp-fast fp-in { type filter hook input priority 10; policy accept; }
add chain ip lp-fast fp-lim { type filter hook prerouting priority -110; policy accept; }
add rule ip lp-fast fp-pre tcp flags & (syn|ack) == syn ip daddr vmap @eps
add rule ip lp-fast fp-pre iifname "lp-fp*" ip daddr vmap @plinks
add rule ip lp-fast fp-post ct mark & 0xffff0000 == 0x4c500000 snat ip to ct mark map @src-of
add rule ip lp-fast fp-fwd iifname "lp-fc*" ct state new drop
add rule ip lp-fast fp-fwd oifname "lp-fp*" ct state new drop
add rule ip lp-fast fp-fwd iifname "lp-fp*" ct mark & 0xffff0000 != 0x4c500000 drop
add rule ip lp-fast fp-fwd ct mark & 0xffff0000 != 0x4c500000 accept
add rule ip lp-fast fp-fwd limit name ct mark map @bw counter name ct mark map @c-drop drop
add rule ip lp-fast fp-fwd ct state new counter name ct mark map @c-new
add rule ip lp-fast fp-fwd tcp flags rst counter name ct mark map @c-rst
add rule ip lp-fast fp-fwd ct direction original counter name ct mark map @c-in
add rule ip lp-fast fp-fwd ct direction reply counter name ct mark map @c-out
add rule ip lp-fast fp-lim tcp flags & (syn|ack) == syn ct state new ip daddr vmap @lim
add rule ip lp-fast fp-in iifname "lp-fc*" drop
add rule ip lp-fast fp-in iifname "lp-fp*" drop
"""

CONSUMER_LINK = """
add counter ip lp-fast in-1
add element ip lp-fast c-in { 0x4c500001 : "in-1" }
add counter ip lp-fast out-1
add element ip lp-fast c-out { 0x4c500001 : "out-1" }
add counter ip lp-fast new-1
add element ip lp-fast c-new { 0x4c500001 : "new-1" }
add counter ip lp-fast rst-1
add element ip lp-fast c-rst { 0x4c500001 : "rst-1" }
add counter ip lp-fast drop-1
add element ip lp-fast c-drop { 0x4c500001 : "drop-1" }
add element ip lp-fast src-of { 0x4c500001 : 169.254.0.2 }
add chain ip lp-fast c-1
add rule ip lp-fast c-1 tcp dport { 80 } ct mark set 0x4c500001 ct timeout set "idle" dnat to 169.254.0.3
add counter ip lp-fast full-1
add chain ip lp-fast l-1
add rule ip lp-fast l-1 add @conns-50000 { ip daddr ct count over 50000 } counter name "full-1" reject with tcp reset
add element ip lp-fast lim { 10.0.1.50 : jump l-1 }
add element ip lp-fast eps { 10.0.1.50 : jump c-1 }
"""

PROVIDER_LINK = """
add chain ip lp-fast p-1
add rule ip lp-fast p-1 ip daddr 169.254.0.3 tcp dport 80 ct mark set 0x4c500001 ct timeout set "idle" dnat ip to jhash ip saddr . tcp sport mod 1 map { 0 : 10.0.1.20 . 8080 }
add element ip lp-fast src-of { 0x4c500001 : 10.0.1.5 }
add element ip lp-fast plinks { 169.254.0.3 : jump p-1 }
"""


def sg_tables(port, workload_ip, routed, endpoint_ip=None):
    """filter_plan.cc's layout for one workload (and one endpoint interface, consumer side)."""
    out = ""
    if not routed:
        out += f"""
add table bridge lp-sg
add chain bridge lp-sg prerouting {{ type filter hook prerouting priority -200; policy accept; }}
add chain bridge lp-sg port-{port}
add rule bridge lp-sg port-{port} ip saddr != {workload_ip} drop
add rule bridge lp-sg port-{port} arp saddr ip != {workload_ip} drop
add rule bridge lp-sg prerouting iifname vmap {{ "{port}" : jump port-{port} }}
"""
    out += """
add table inet lp-sg
add chain inet lp-sg prerouting { type filter hook prerouting priority -150; policy accept; }
add chain inet lp-sg output { type filter hook output priority -150; policy accept; }
add chain inet lp-sg postrouting { type filter hook postrouting priority 150; policy accept; }
"""
    if routed:
        out += f'add rule inet lp-sg prerouting iifname "{port}" ip saddr != {workload_ip} drop\n'
    ingress = {workload_ip: "in-w"}
    out += f"""
add rule inet lp-sg prerouting ct state {{ established, related }} accept
add rule inet lp-sg output ct state {{ established, related }} accept
add chain inet lp-sg eg-w
add rule inet lp-sg eg-w return
add chain inet lp-sg in-w
add rule inet lp-sg in-w ip saddr 10.0.0.0/16 tcp dport 8080 accept
add rule inet lp-sg in-w drop
"""
    if endpoint_ip:
        out += """
add counter inet lp-sg drop-eni
add chain inet lp-sg in-eni
add rule inet lp-sg in-eni meta l4proto != tcp counter name drop-eni drop
add rule inet lp-sg in-eni ip saddr 10.0.0.0/16 tcp dport 80 accept
add rule inet lp-sg in-eni counter name drop-eni drop
"""
        ingress[endpoint_ip] = "in-eni"
    vm = ", ".join(f"{a} : jump {c}" for a, c in ingress.items())
    out += f"add rule inet lp-sg prerouting ip saddr vmap {{ {workload_ip} : jump eg-w }}\n"
    out += f"add rule inet lp-sg prerouting ip daddr vmap {{ {vm} }}\n"
    out += f"add rule inet lp-sg output ip daddr vmap {{ {workload_ip} : jump in-w }}\n"
    out += f"add rule inet lp-sg postrouting ct status dnat ct state new ip daddr vmap {{ {workload_ip} : jump in-w }}\n"
    return out


def vpc_namespace(ns, bridge, lo_addrs):
    bench.sh("ip", "netns", "add", ns)
    bench.cleanups.append(lambda: bench.sh("ip", "netns", "del", ns, check=False))
    bench.sh("ip", "-n", ns, "link", "set", "lo", "up")
    for a in lo_addrs:
        bench.sh("ip", "-n", ns, "addr", "add", a, "dev", "lo")
    sysctl(ns, "net.ipv4.ip_forward", "1")
    sysctl(ns, "net.ipv4.conf.all.send_redirects", "0")
    sysctl(ns, "net.ipv4.conf.default.send_redirects", "0")
    sysctl(ns, "net.ipv4.ip_local_port_range", "10000 32767")
    bench.sh("ip", "-n", ns, "link", "add", bridge, "type", "bridge")
    bench.sh("ip", "-n", ns, "addr", "add", "10.0.1.1/24", "dev", bridge)
    bench.sh("ip", "-n", ns, "link", "set", bridge, "up")
    for k, v in (("proxy_arp", "1"), ("proxy_arp_pvlan", "1"), ("send_redirects", "0")):
        sysctl(ns, f"net.ipv4.conf.{bridge}.{k}", v)
    sysctl(ns, f"net.ipv4.neigh.{bridge}.proxy_delay", "0")


def workload(vpc_ns, bridge, ns, port, ip, routed):
    bench.sh("ip", "netns", "add", ns)
    bench.cleanups.append(lambda: bench.sh("ip", "netns", "del", ns, check=False))
    bench.sh("ip", "-n", ns, "link", "set", "lo", "up")
    bench.sh("ip", "link", "add", port, "netns", vpc_ns, "type", "veth", "peer", "name", "eth0", "netns", ns)
    bench.sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
    bench.sh("ip", "-n", ns, "link", "set", "eth0", "up")
    bench.sh("ip", "-n", ns, "route", "add", "default", "via", "10.0.1.1")
    if routed:
        mac = bench.sh("ip", "netns", "exec", vpc_ns, "cat", f"/sys/class/net/{bridge}/address").strip()
        bench.sh("ip", "-n", vpc_ns, "link", "set", port, "address", mac)
        bench.sh("ip", "-n", vpc_ns, "link", "set", port, "up")
        bench.sh("ip", "-n", vpc_ns, "route", "add", f"{ip}/32", "dev", port)
        sysctl(vpc_ns, f"net.ipv4.conf.{port}.proxy_arp", "1")
        sysctl(vpc_ns, f"net.ipv4.neigh.{port}.proxy_delay", "0")
        sysctl(vpc_ns, f"net.ipv4.conf.{port}.send_redirects", "0")
    else:
        bench.sh("ip", "-n", vpc_ns, "link", "set", port, "master", bridge)
        bench.sh("ip", "-n", vpc_ns, "link", "set", port, "type", "bridge_slave", "isolated", "on")
        bench.sh("ip", "-n", vpc_ns, "link", "set", port, "up")


# Only what translation needs: no counters, cap, limit or one-way checks.
MIN_TABLE = """
add table ip lp-fast
add ct timeout ip lp-fast idle { protocol tcp; l3proto ip; policy = { established: 350 }; }
add map ip lp-fast src-of { type mark : ipv4_addr; }
add map ip lp-fast plinks { type ipv4_addr : verdict; }
add chain ip lp-fast fp-pre { type nat hook prerouting priority dstnat; policy accept; }
add chain ip lp-fast fp-post { type nat hook postrouting priority srcnat; policy accept; }
add rule ip lp-fast fp-pre iifname "lp-fp*" ip daddr vmap @plinks
add rule ip lp-fast fp-post ct mark & 0xffff0000 == 0x4c500000 snat ip to ct mark map @src-of
"""

MIN_CONSUMER_LINK = """
add map ip lp-fast eps { type ipv4_addr : verdict; }
add rule ip lp-fast fp-pre tcp flags & (syn|ack) == syn ip daddr vmap @eps
add element ip lp-fast src-of { 0x4c500001 : 169.254.0.2 }
add chain ip lp-fast c-1
add rule ip lp-fast c-1 tcp dport { 80 } ct mark set 0x4c500001 ct timeout set "idle" dnat to 169.254.0.3
add element ip lp-fast eps { 10.0.1.50 : jump c-1 }
"""

PEER_PROVIDER = """
add chain ip lp-fast fp-mark { type filter hook prerouting priority mangle; policy accept; }
add rule ip lp-fast fp-mark ct direction reply ct mark & 0xffff0000 == 0x4c500000 meta mark set ct mark
add chain ip lp-fast p-1
add rule ip lp-fast p-1 ip daddr 10.0.1.50 tcp dport 80 ct mark set 0x4c500001 ct timeout set "idle" dnat ip to jhash ip saddr . tcp sport mod 1 map { 0 : 10.0.1.20 . 8080 }
add element ip lp-fast src-of { 0x4c500001 : 10.0.1.5 }
add element ip lp-fast plinks { 10.0.1.50 : jump p-1 }
"""


def read(ns, dev, what):
    return bench.sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/{what}").strip()


def attach_peer_programs(t, cv, pv, syn_by_stack, tmp):
    """fastpath_peer_proto.c compiled for this topology and attached: the client's veth
    (consumer side) ingress sends ENI:80 straight into the provider namespace, the link's
    consumer end sends the replies straight into the client's namespace."""
    def mac(ns, dev):
        return ",".join("0x" + x for x in read(ns, dev, "address").split(":"))
    port, link, peer = f"lp-vc{t}", f"lp-fc{t}", f"lp-fp{t}"
    bridge = f"lp-br-c{t}"
    client_mac = ",".join("0x" + x for x in bench.sh("ip", "netns", "exec", f"lp-fv{t}-cw", "cat",
                                                       "/sys/class/net/eth0/address").strip().split(":"))
    obj = os.path.join(tmp, f"peer-{t}.o")
    defs = ["-DENI=0x3201000a", "-DPORT=80", "-DCLIENT_IP=0x0a01000a",
            f"-DLPFC_IFINDEX={read(cv, link, 'ifindex')}", f"-DFP_MAC={mac(pv, peer)}", f"-DFC_MAC={mac(cv, link)}",
            f"-DCLIENT_IFINDEX={read(cv, port, 'ifindex')}", f"-DCLIENT_MAC={client_mac}",
            f"-DGW_MAC={mac(cv, bridge)}"] + (["-DSYN_BY_STACK"] if syn_by_stack else [])
    bench.sh("clang-14", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", *defs, "-c",
             os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastpath_peer_proto.c"), "-o", obj)
    for dev, sec in ((port, "tc/fwd"), (link, "tc/rev")):
        bench.sh("ip", "netns", "exec", cv, "tc", "qdisc", "add", "dev", dev, "clsact")
        bench.sh("ip", "netns", "exec", cv, "tc", "filter", "add", "dev", dev, "ingress", "bpf", "da", "obj", obj,
                 "sec", sec)


def direct_variant(variant, index, tmp):
    """bench.py's direct path (client -> router -> server) with conntrack in the router:
    direct-ct tracks connections (one `ct state` rule), direct-nat also translates them
    (the client connects to 10.231.9.9:80 on the router, DNAT to the server, SNAT to the
    router's address), one namespace of conntrack NAT and nothing else."""
    t = f"{TAG}{index}"
    c, r, s = (f"lp-fv{t}-d{x}" for x in "crs")
    for ns in (c, r, s):
        bench.sh("ip", "netns", "add", ns)
        bench.cleanups.append(lambda ns=ns: bench.sh("ip", "netns", "del", ns, check=False))
        bench.sh("ip", "-n", ns, "link", "set", "lo", "up")
    bench.sh("ip", "link", "add", f"lpfc{t}", "netns", c, "type", "veth", "peer", "name", f"lpfrc{t}", "netns", r)
    bench.sh("ip", "link", "add", f"lpfs{t}", "netns", s, "type", "veth", "peer", "name", f"lpfrs{t}", "netns", r)
    for ns, dev, addr in ((c, f"lpfc{t}", "10.231.1.10/24"), (r, f"lpfrc{t}", "10.231.1.1/24"),
                          (r, f"lpfrs{t}", "10.232.1.1/24"), (s, f"lpfs{t}", "10.232.1.10/24")):
        bench.sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        bench.sh("ip", "-n", ns, "link", "set", dev, "up")
    bench.sh("ip", "-n", c, "route", "add", "default", "via", "10.231.1.1")
    bench.sh("ip", "-n", s, "route", "add", "default", "via", "10.232.1.1")
    sysctl(r, "net.ipv4.ip_forward", "1")
    if variant == "direct-ct":
        nft(r, "add table ip lp-ct\nadd chain ip lp-ct forward { type filter hook forward priority 0; }\n"
               "add rule ip lp-ct forward ct state established,related accept\n")
        url = f"http://10.232.1.10:{bench.HTTP_PORT}/"
    else:
        bench.sh("ip", "-n", r, "addr", "add", "10.231.9.9/32", "dev", "lo")
        nft(r, "add table ip lp-ct\n"
               "add chain ip lp-ct pre { type nat hook prerouting priority dstnat; }\n"
               "add chain ip lp-ct post { type nat hook postrouting priority srcnat; }\n"
               f"add rule ip lp-ct pre ip daddr 10.231.9.9 tcp dport 80 dnat to 10.232.1.10:{bench.HTTP_PORT}\n"
               "add rule ip lp-ct post ct status dnat snat to 10.232.1.1\n")
        url = "http://10.231.9.9:80/"
    bench.start_servers(s, tmp)
    return {"client": c, "server": s, "url": url, "vpcs": (r,)}


def attach_bpfnat_programs(t, cv, pv, syn_by_stack, tmp, source="fastpath_bpfnat_proto.c"):
    """fastpath_bpfnat_proto.c compiled for this topology, on four ingress hooks (and,
    when the SYN crosses the stacks, the link's egress in the consumer namespace)."""
    def mac(ns, dev):
        return ",".join("0x" + x for x in read(ns, dev, "address").split(":"))
    obj = os.path.join(tmp, f"bpfnat-{t}.o")
    defs = ["-DENI=0x3201000a", "-DPORT=80", "-DCLIENT_IP=0x0a01000a", "-DTARGET_IP=0x1401000a",
            "-DNODE_IP=0x0501000a", f"-DTPORT={bench.HTTP_PORT}",
            f"-DLPFC_IFINDEX={read(cv, f'lp-fc{t}', 'ifindex')}", f"-DLPFP_IFINDEX={read(pv, f'lp-fp{t}', 'ifindex')}",
            f"-DCLIENT_IFINDEX={read(cv, f'lp-vc{t}', 'ifindex')}", f"-DTARGET_IFINDEX={read(pv, f'lp-vp{t}', 'ifindex')}",
            f"-DFP_MAC={mac(pv, f'lp-fp{t}')}", f"-DFC_MAC={mac(cv, f'lp-fc{t}')}",
            f"-DCLIENT_MAC={mac(f'lp-fv{t}-cw', 'eth0')}", f"-DGW_MAC={mac(cv, f'lp-br-c{t}')}",
            f"-DTARGET_MAC={mac(f'lp-fv{t}-pw', 'eth0')}", f"-DPGW_MAC={mac(pv, f'lp-br-p{t}')}"]
    defs += ["-DSYN_BY_STACK"] if syn_by_stack else []
    bench.sh("clang-14", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", *defs, "-c",
             os.path.join(os.path.dirname(os.path.abspath(__file__)), source), "-o", obj)
    hooks = [(cv, f"lp-vc{t}", "ingress", "tc/cfwd"), (pv, f"lp-fp{t}", "ingress", "tc/pfwd"),
             (pv, f"lp-vp{t}", "ingress", "tc/prev"), (cv, f"lp-fc{t}", "ingress", "tc/crev")]
    if syn_by_stack:
        hooks.append((cv, f"lp-fc{t}", "egress", "tc/cegress"))
    # All loads in one private mount namespace with its own bpffs, so maps pinned by
    # name are shared by the programs of both namespaces and nothing shows on the host.
    script = ["mount -t bpf bpf /sys/fs/bpf"]
    for ns, dev, where, sec in hooks:
        script.append(f"nsenter --net=/run/netns/{ns} tc qdisc replace dev {dev} clsact")
        script.append(f"nsenter --net=/run/netns/{ns} tc filter add dev {dev} {where} bpf da obj {obj} sec {sec}")
    bench.sh("unshare", "-m", "--propagation", "private", "sh", "-ec", " && ".join(script))


def fast_topology(variant, index, tmp):
    if variant.startswith("direct-"):
        return direct_variant(variant, index, tmp)
    t = f"{TAG}{index}"
    cw, cv, pv, pw = (f"lp-fv{t}-{x}" for x in ("cw", "cv", "pv", "pw"))
    routed = "routed" in variant
    peer = variant.startswith("peer")
    minimal = variant.endswith("-min")
    syn_by_stack = variant.startswith("peersyn") or variant in ("bpfnat-syn", "bpfstate")
    vpc_namespace(cv, f"lp-br-c{t}", [] if syn_by_stack else ["10.0.1.50/32"])
    vpc_namespace(pv, f"lp-br-p{t}", ["10.0.1.5/32"])
    workload(cv, f"lp-br-c{t}", cw, f"lp-vc{t}", "10.0.1.10", routed and not peer)
    workload(pv, f"lp-br-p{t}", pw, f"lp-vp{t}", "10.0.1.20", routed)
    bench.sh("ip", "link", "add", f"lp-fc{t}", "netns", cv, "type", "veth", "peer", "name", f"lp-fp{t}", "netns", pv)
    bench.sh("ip", "-n", cv, "addr", "add", "169.254.0.2/31", "dev", f"lp-fc{t}")
    bench.sh("ip", "-n", pv, "addr", "add", "169.254.0.3/31", "dev", f"lp-fp{t}")
    bench.sh("ip", "-n", cv, "link", "set", f"lp-fc{t}", "up")
    bench.sh("ip", "-n", pv, "link", "set", f"lp-fp{t}", "up")
    if variant != "nosg" and not minimal:
        nft(cv, sg_tables(f"lp-vc{t}", "10.0.1.10", routed and not peer, endpoint_ip="10.0.1.50"))
        nft(pv, sg_tables(f"lp-vp{t}", "10.0.1.20", routed))
    if variant.startswith("bpf"):
        if syn_by_stack:
            # The SYN: the consumer's groups, routed to the link, untracked; then the
            # provider's groups, from the node address (a local one: accept_local).
            bench.sh("ip", "-n", cv, "route", "add", "10.0.1.50/32", "via", "169.254.0.3", "dev", f"lp-fc{t}")
            nft(cv, "add table ip lp-raw\nadd chain ip lp-raw pre { type filter hook prerouting priority raw; }\n"
                    "add rule ip lp-raw pre ip daddr 10.0.1.50 tcp dport 80 notrack\n")
            nft(pv, "add table ip lp-raw\nadd chain ip lp-raw pre { type filter hook prerouting priority raw; }\n"
                    f"add rule ip lp-raw pre iifname lp-fp{t} notrack\n")
            sysctl(pv, f"net.ipv4.conf.lp-fp{t}.accept_local", "1")
        attach_bpfnat_programs(t, cv, pv, syn_by_stack, tmp, "fastpath_bpfstate_proto.c" if variant == "bpfstate"
                               else "fastpath_bpfnat_proto.c")
        url = "http://10.0.1.50:80/"
    elif peer:
        # Translation in the provider namespace only; replies routed back by mark.
        nft(pv, (MIN_TABLE if minimal else FAST_TABLE) + PEER_PROVIDER)
        bench.sh("ip", "-n", pv, "rule", "add", "fwmark", "0x4c500001", "lookup", "100")
        bench.sh("ip", "-n", pv, "route", "add", "default", "via", "169.254.0.2", "dev", f"lp-fp{t}", "table", "100")
        if variant.startswith("peersyn"):
            # The SYN crosses the consumer namespace's stack (its security groups), untracked.
            bench.sh("ip", "-n", cv, "route", "add", "10.0.1.50/32", "via", "169.254.0.3", "dev", f"lp-fc{t}")
            nft(cv, "add table ip lp-raw\nadd chain ip lp-raw pre { type filter hook prerouting priority raw; }\n"
                    "add rule ip lp-raw pre ip daddr 10.0.1.50 tcp dport 80 notrack\n")
        attach_peer_programs(t, cv, pv, variant.startswith("peersyn"), tmp)
        url = "http://10.0.1.50:80/"
    elif minimal:
        nft(cv, MIN_TABLE + MIN_CONSUMER_LINK)
        nft(pv, MIN_TABLE + PROVIDER_LINK)
        url = "http://10.0.1.50:80/"
    else:
        nft(cv, FAST_TABLE + CONSUMER_LINK)
        nft(pv, FAST_TABLE + PROVIDER_LINK)
        url = "http://10.0.1.50:80/"
    bench.start_servers(pw, tmp)
    return {"client": cw, "server": pw, "url": url, "vpcs": (cv, pv)}


def main():
    if os.geteuid() != 0:
        sys.exit("fastpath_variants.py: needs root")
    tmp = tempfile.mkdtemp(prefix="lp-bench-fv-")
    bench.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        c, ip, s = bench.direct_topology(tmp)
        runs = {"direct": (c, f"http://{ip}:{bench.HTTP_PORT}/", s)}
        for i, v in enumerate(VARIANTS):
            f = fast_topology(v, i, tmp)
            runs[v] = (f["client"], f["url"], f["server"])
        bench.wait_port(c, ip, bench.HTTP_PORT)
        for name, (ns, url, _) in runs.items():
            host, port = url.split("//")[1].rstrip("/").split(":")
            bench.wait_port(ns, host, int(port))
        names = list(runs)
        ratios = {v: [] for v in VARIANTS}
        cpu_ratios = {v: [] for v in VARIANTS}
        p99_ratios = {v: [] for v in VARIANTS}
        for r in range(ROUNDS):
            order = names[r % len(names):] + names[:r % len(names)]
            got, cpu, p99s = {}, {}, {}
            for name in order:
                ns, url, server_ns = runs[name]
                rps, p99, errors, used = conns.wrk_cpu(ns, url, server_ns)
                got[name], cpu[name] = rps, used / max(1.0, rps * conns.DURATION) * 1e6
                p99s[name] = float(p99[:-2]) if p99.endswith("ms") else float("nan")
                with open("/proc/loadavg") as f:
                    load = f.read().split()[0]
                print(f"round {r} {name:7} {rps:9.0f} conn/s {cpu[name]:6.0f} us CPU/conn p99 {p99:>8} load {load} "
                      f"{errors}", flush=True)
            for v in VARIANTS:
                ratios[v].append(got[v] / got["direct"])
                cpu_ratios[v].append(cpu[v] / cpu["direct"])
                p99_ratios[v].append(p99s[v] / p99s["direct"])
            print(f"round {r} " + "  ".join(f"{v}/direct {ratios[v][-1]:.2f} (CPU {cpu_ratios[v][-1]:.2f})"
                                            for v in VARIANTS), flush=True)
        for v in VARIANTS:
            a, b, c = sorted(ratios[v]), sorted(cpu_ratios[v]), sorted(p99_ratios[v])
            print(f"{v}/direct conn/s median {a[len(a) // 2]:.2f} rounds {[round(x, 2) for x in ratios[v]]}; "
                  f"CPU per connection median {b[len(b) // 2]:.2f} rounds {[round(x, 2) for x in cpu_ratios[v]]}; "
                  f"p99 median {c[len(c) // 2]:.2f}", flush=True)
    finally:
        for p in reversed(bench.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for fn in reversed(bench.cleanups):
            fn()


if __name__ == "__main__":
    main()
