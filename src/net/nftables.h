// nftables through libnftables' JSON API (nft_run_cmd_from_buffer), run inside a
// network namespace. Free functions, any thread.
#pragma once

#include <string>

#include "common/status.h"

namespace lp::net {

// Runs a JSON nftables command batch ({"nftables": [...]}) in namespace ns ("" =
// the caller's). Atomic: the kernel applies the whole batch or none of it.
Status nftRunJson(const std::string& ns, const std::string& json);
// Runs a command and returns its JSON output (e.g. "list tables").
Result<std::string> nftQueryJson(const std::string& ns, const std::string& command);

}  // namespace lp::net
