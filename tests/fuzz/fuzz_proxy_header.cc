// libFuzzer target: arbitrary bytes as the start of a connection to the HTTPS API
// listener, into parseProxyV2(). It must never read past the bytes given, and a
// header it accepts must fit in them.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/http/proxy_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  lp::api::ProxyHeader h;
  size_t used = 0;
  if (lp::api::parseProxyV2(in, h, used) == lp::api::ProxyParse::kOk && (used > size || used < 16)) abort();
  return 0;
}
