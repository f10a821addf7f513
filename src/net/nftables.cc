#include "net/nftables.h"

#include <nftables/libnftables.h>

#include "net/netns.h"

namespace lp::net {

namespace {

// One context per call, made and used inside the namespace: its netlink socket
// belongs to the namespace it was opened in.
Status run(const std::string& cmd, bool json, std::string* output) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return Status("InternalError", "nft_ctx_new failed");
  if (json) nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, cmd.c_str());
  Status st;
  if (rc != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx);
    st = Status("InternalError", std::string("nftables: ") + (err ? err : "failed"));
  } else if (output) {
    const char* out = nft_ctx_get_output_buffer(ctx);
    *output = out ? out : "";
  }
  nft_ctx_free(ctx);
  return st;
}

}  // namespace

Status nftRunJson(const std::string& ns, const std::string& json) {
  auto fn = [&] { return run(json, true, nullptr); };
  return ns.empty() ? fn() : runInNamespace(ns, fn);
}

Result<std::string> nftQueryJson(const std::string& ns, const std::string& command) {
  std::string out;
  auto fn = [&] { return run(command, true, &out); };
  Status st = ns.empty() ? fn() : runInNamespace(ns, fn);
  if (!st.ok()) return st;
  return out;
}

}  // namespace lp::net
