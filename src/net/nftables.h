// nftables through libnftables' JSON API (nft_run_cmd_from_buffer), run inside a
// network namespace by a helper process (net/nft_runner.h), never in the caller's:
// libnftables uses select(), which cannot take the daemon's descriptor numbers.
// Free functions, any thread (calls are serialized).
#pragma once

#include <string>

#include "common/status.h"

namespace lp::net {

// Runs a JSON nftables command batch ({"nftables": [...]}) in namespace ns ("" =
// the daemon's own). Atomic: the kernel applies the whole batch or none of it.
Status nftRunJson(const std::string& ns, const std::string& json);
// Runs a command and returns its JSON output (e.g. "list tables").
Result<std::string> nftQueryJson(const std::string& ns, const std::string& command);

}  // namespace lp::net
