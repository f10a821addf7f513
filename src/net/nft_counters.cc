#include "net/nft_counters.h"

#include <linux/netfilter/nf_tables.h>

#include "net/nfnetlink.h"

namespace lp::net {

namespace {

Result<uint64_t> tableHandle(int fd, uint8_t family, const std::string& table, uint32_t seq) {
  nfnl::Message m(NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_ACK, seq, family);
  m.str(NFTA_TABLE_NAME, table);
  uint64_t handle = 0;
  LP_RETURN_IF_ERROR(nfnl::transact(fd, m.finish(), "nftables table", [&](const char* p, size_t n) {
    nfnl::eachAttr(p, n, [&](uint16_t type, const char* q, size_t len) {
      if (type == NFTA_TABLE_HANDLE && len >= 8) handle = nfnl::readBe64(q);
    });
  }));
  if (handle == 0) return Status("InternalError", "nftables table " + table + ": no handle in the answer");
  return handle;
}

}  // namespace

Result<NftTableCounters> nftCounters(const std::string& ns, uint8_t family, const std::string& table) {
  LP_ASSIGN_OR_RETURN(int raw, nfnl::socketIn(ns));
  nfnl::Fd fd(raw);
  NftTableCounters out;
  LP_ASSIGN_OR_RETURN(out.tableHandle, tableHandle(fd.get(), family, table, 1));

  nfnl::Message m(NFNL_SUBSYS_NFTABLES, NFT_MSG_GETOBJ, NLM_F_REQUEST | NLM_F_DUMP, 2, family);
  m.str(NFTA_OBJ_TABLE, table);  // the kernel filters the dump by table and type
  m.be32(NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER);
  LP_RETURN_IF_ERROR(nfnl::transact(fd.get(), m.finish(), "nftables counters", [&](const char* p, size_t n) {
    std::string name, owner;
    uint32_t type = 0;
    NftCounter c;
    nfnl::eachAttr(p, n, [&](uint16_t attr, const char* q, size_t len) {
      if (attr == NFTA_OBJ_NAME || attr == NFTA_OBJ_TABLE) {
        std::string s(q, strnlen(q, len));
        (attr == NFTA_OBJ_NAME ? name : owner) = std::move(s);
      } else if (attr == NFTA_OBJ_TYPE && len >= 4) {
        type = nfnl::readBe32(q);
      } else if (attr == NFTA_OBJ_DATA) {
        nfnl::eachAttr(q, len, [&](uint16_t a, const char* r, size_t k) {
          if (a == NFTA_COUNTER_BYTES && k >= 8) c.bytes = nfnl::readBe64(r);
          if (a == NFTA_COUNTER_PACKETS && k >= 8) c.packets = nfnl::readBe64(r);
        });
      }
    });
    // Checked again for kernels that ignore the filter.
    if (type == NFT_OBJECT_COUNTER && owner == table && !name.empty()) out.counters[name] = c;
  }));

  LP_ASSIGN_OR_RETURN(uint64_t after, tableHandle(fd.get(), family, table, 3));
  if (after != out.tableHandle) return Status("Unavailable", "nftables table " + table + " was made anew while read");
  return out;
}

}  // namespace lp::net
