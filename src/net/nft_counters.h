// nftCounters: the named counters of one nftables table, read straight from the
// kernel over nfnetlink (one NFT_MSG_GETOBJ dump), not through libnftables.
//
// Why: the data plane reads every consumer namespace's counters in turn. Through
// libnftables (`list counters table ...` in the helper process, JSON out and
// parsed back) one namespace cost 7-15 ms, because libnftables fetches the
// table's whole cache first; at 1,000 VPCs the 20 reads of a 2 s round made an
// idle daemon use 4 % of a core and held the reconciler 150-600 ms per round
// (bench/scale). Here a read is a socket, one dump and its parse.
//
// Free function, any thread; no select(), so any descriptor number is fine.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace lp::net {

struct NftCounter {
  uint64_t bytes = 0, packets = 0;
  bool operator==(const NftCounter&) const = default;
};

struct NftTableCounters {
  // The table's handle: a table deleted and made again gets a new one (and its
  // counters start again from zero).
  uint64_t tableHandle = 0;
  std::map<std::string, NftCounter> counters;  // by name
};

// The counter objects of table `table` of family `family` (NFPROTO_IPV4 for
// `ip`, NFPROTO_INET for `inet`) in namespace ns ("" = the caller's). The table's
// handle is read before and after the counters: if the table was made anew in
// between, the call fails with code "Unavailable" (read again later). A missing
// table is code "NotFound".
Result<NftTableCounters> nftCounters(const std::string& ns, uint8_t family, const std::string& table);

}  // namespace lp::net
