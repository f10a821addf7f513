#include "net/conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/netns.h"
#include "net/nfnetlink.h"
#include "net/tcp_reset.h"

namespace lp::net {

namespace {

using nfnl::eachAttr;
using nfnl::Message;
using nfnl::readBe16;
using nfnl::readBe32;

void putTuple(Message& m, uint16_t type, const ConntrackTuple& t) {
  size_t tuple = m.begin(type);
  size_t ip = m.begin(CTA_TUPLE_IP);
  m.be32(CTA_IP_V4_SRC, t.src);
  m.be32(CTA_IP_V4_DST, t.dst);
  m.end(ip);
  size_t proto = m.begin(CTA_TUPLE_PROTO);
  m.u8(CTA_PROTO_NUM, t.proto);
  m.be16(CTA_PROTO_SRC_PORT, t.sport);
  m.be16(CTA_PROTO_DST_PORT, t.dport);
  m.end(proto);
  m.end(tuple);
}

ConntrackTuple parseTuple(const char* data, size_t len) {
  ConntrackTuple t;
  eachAttr(data, len, [&](uint16_t type, const char* p, size_t n) {
    if (type == CTA_TUPLE_IP) {
      eachAttr(p, n, [&](uint16_t ty, const char* q, size_t m) {
        if (ty == CTA_IP_V4_SRC && m >= 4) t.src = readBe32(q);
        if (ty == CTA_IP_V4_DST && m >= 4) t.dst = readBe32(q);
      });
    } else if (type == CTA_TUPLE_PROTO) {
      eachAttr(p, n, [&](uint16_t ty, const char* q, size_t m) {
        if (ty == CTA_PROTO_NUM && m >= 1) t.proto = static_cast<uint8_t>(*q);
        if (ty == CTA_PROTO_SRC_PORT && m >= 2) t.sport = readBe16(q);
        if (ty == CTA_PROTO_DST_PORT && m >= 2) t.dport = readBe16(q);
      });
    }
  });
  return t;
}

ConntrackEntry parseEntry(const char* data, size_t len) {
  ConntrackEntry e;
  eachAttr(data, len, [&](uint16_t type, const char* p, size_t n) {
    if (type == CTA_TUPLE_ORIG) e.original = parseTuple(p, n);
    if (type == CTA_TUPLE_REPLY) e.reply = parseTuple(p, n);
    if (type == CTA_MARK && n >= 4) e.mark = readBe32(p);
    if (type == CTA_PROTOINFO) {
      eachAttr(p, n, [&](uint16_t ty, const char* q, size_t m) {
        if (ty != CTA_PROTOINFO_TCP) return;
        eachAttr(q, m, [&](uint16_t t2, const char* r, size_t k) {
          if (t2 == CTA_PROTOINFO_TCP_STATE && k >= 1) e.tcpState = static_cast<uint8_t>(*r);
        });
      });
    }
  });
  return e;
}

}  // namespace

Result<std::vector<ConntrackEntry>> conntrackDump(const std::string& ns, uint32_t mark, uint32_t mask) {
  LP_ASSIGN_OR_RETURN(int raw, nfnl::socketIn(ns));
  nfnl::Fd fd(raw);
  Message m(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, 1, AF_INET);
  m.be32(CTA_MARK, mark);
  m.be32(CTA_MARK_MASK, mask);
  std::vector<ConntrackEntry> out;
  LP_RETURN_IF_ERROR(nfnl::transact(fd.get(), m.finish(), "conntrack", [&](const char* p, size_t n) {
    ConntrackEntry e = parseEntry(p, n);
    // Filtered by the kernel; checked again for kernels that ignore the filter.
    if ((e.mark & mask) == (mark & mask)) out.push_back(e);
  }));
  return out;
}

Status conntrackDelete(const std::string& ns, const ConntrackTuple& original) {
  LP_ASSIGN_OR_RETURN(int raw, nfnl::socketIn(ns));
  nfnl::Fd fd(raw);
  Message m(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, 1, AF_INET);
  putTuple(m, CTA_TUPLE_ORIG, original);
  Status st = nfnl::transact(fd.get(), m.finish(), "conntrack", [](const char*, size_t) {});
  if (st.code() == "NotFound") return Status::Ok();
  return st;
}

Result<size_t> conntrackDeleteMarked(const std::string& ns, uint32_t mark, uint32_t mask) {
  LP_ASSIGN_OR_RETURN(auto entries, conntrackDump(ns, mark, mask));
  size_t n = 0;
  for (const auto& e : entries) {
    LP_RETURN_IF_ERROR(conntrackDelete(ns, e.original));
    ++n;
  }
  return n;
}

Status tcpKill(const std::string& ns, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
  int fd = -1;
  auto make = [&]() -> Status {
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IPPROTO_RAW: we write the IP header
    if (fd < 0) return Status("InternalError", std::string("raw socket: ") + std::strerror(errno));
    return Status::Ok();
  };
  LP_RETURN_IF_ERROR(ns.empty() ? make() : runInNamespace(ns, make));
  nfnl::Fd guard(fd);
  // SYN, any sequence number.
  uint32_t seq = 0x4c500000u ^ static_cast<uint32_t>(sport) << 8 ^ dport;
  Status st = sendTcpSegment(fd, TcpSegment{src, dst, sport, dport, seq, 0, 0x02});
  if (!st.ok()) return Status(st.code(), "tcp kill: " + st.message());
  return Status::Ok();
}

uint64_t parseConntrackStatDrops(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return 0;
  std::istringstream head(line);
  std::vector<std::string> columns;
  for (std::string c; head >> c;) columns.push_back(c);
  auto at = std::find(columns.begin(), columns.end(), "drop");
  if (at == columns.end()) return 0;
  size_t column = static_cast<size_t>(at - columns.begin());
  uint64_t total = 0;
  while (std::getline(in, line)) {  // one line per CPU, hexadecimal
    std::istringstream row(line);
    std::string v;
    for (size_t i = 0; i <= column && row >> v; ++i) {
    }
    if (!v.empty()) total += std::strtoull(v.c_str(), nullptr, 16);
  }
  return total;
}

Result<uint64_t> conntrackTableFullDrops(const std::string& ns) {
  std::string text;
  // /proc/thread-self/net shows the namespace of the reading thread.
  LP_RETURN_IF_ERROR(runInNamespace(ns, [&]() -> Status {
    std::ifstream f("/proc/thread-self/net/stat/nf_conntrack");
    if (!f) return Status("InternalError", "no /proc/net/stat/nf_conntrack (conntrack not loaded)");
    std::ostringstream all;
    all << f.rdbuf();
    text = all.str();
    return Status::Ok();
  }));
  return parseConntrackStatDrops(text);
}

}  // namespace lp::net
