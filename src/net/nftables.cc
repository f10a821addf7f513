#include "net/nftables.h"

#include "net/nft_runner.h"

namespace lp::net {

// Both go through the helper process (net/nft_runner.h): libnftables waits with
// select(), which aborts the daemon once its netlink socket is numbered >= 1024.

Status nftRunJson(const std::string& ns, const std::string& json) {
  auto out = NftRunner::shared().run(ns, json);
  return out.ok() ? Status::Ok() : out.status();
}

Result<std::string> nftQueryJson(const std::string& ns, const std::string& command) {
  return NftRunner::shared().run(ns, command);
}

}  // namespace lp::net
