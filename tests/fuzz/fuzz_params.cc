// libFuzzer target: form decoding (Params::parseForm) and every list/structure/map
// accessor, with prefixes taken from the decoded keys themselves.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "api/params.h"

namespace {

void walk(const lp::api::Params& p, int depth) {
  std::set<std::string> prefixes = {"Filter", "Tag", "Value", "Attributes", "SubnetId", "TagSpecification"};
  for (auto& [k, v] : p.all()) {
    if (!p.has(k) || p.get(k) != v) abort();
    auto dot = k.find('.');
    prefixes.insert(k.substr(0, dot));
    if (dot != std::string::npos) prefixes.insert(k.substr(0, k.find('.', dot + 1)));
    (void)p.getBool(k);
    (void)p.getInt(k);
  }
  for (auto& pre : prefixes) {
    (void)p.list(pre);
    (void)p.memberList(pre);
    (void)p.entryMap(pre);
    auto sub = p.sub(pre);
    if (sub.all().size() > p.all().size()) abort();
    if (depth < 2) {
      for (auto& s : p.structList(pre)) walk(s, depth + 1);
      for (auto& s : p.memberStructList(pre)) walk(s, depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = lp::api::Params::parseForm(in);
  if (!p.ok()) {
    if (p.status().code() != "MalformedQueryString") abort();
    return 0;
  }
  walk(p.value(), 0);
  return 0;
}
