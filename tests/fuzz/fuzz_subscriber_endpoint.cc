// libFuzzer target: arbitrary bytes as an SNS subscription endpoint (what any
// account sends to Subscribe) into SubscriberGate::refuseUrl (libcurl's URL
// parser, then model::IpAddress::parse of the host), and as a CIDR into
// model::IpNetwork::parse. Invariants: never a crash; an address or network
// that parses prints back to a string that parses (to the same network).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/subscriber_networks.h"
#include "notify/subscriber_gate.h"

namespace {

class NoDns : public lp::notify::Resolver {
 public:
  lp::Result<std::vector<lp::model::IpAddress>> resolve(const std::string&) const override {
    return std::vector<lp::model::IpAddress>{*lp::model::IpAddress::parse("169.254.169.254")};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  if (auto n = lp::model::IpNetwork::parse(in)) {
    auto again = lp::model::IpNetwork::parse(n->toString());
    if (!again || *again != *n) abort();
  }
  static lp::notify::SubscriberGate gate(
      {{*lp::model::IpNetwork::parse("0.0.0.0/0"), *lp::model::IpNetwork::parse("::/0")}, {}, {}},
      [] { return std::vector<lp::model::IpNetwork>{}; }, std::make_unique<NoDns>());
  // Every name resolves to the metadata service here: a URL with a host name is
  // always refused; the policy allows every other network, so only literals pass.
  (void)gate.refuseUrl(in);
  if (auto a = lp::model::IpAddress::parse(in)) {
    if (!lp::model::IpAddress::parse(a->toString())) abort();
  }
  return 0;
}
