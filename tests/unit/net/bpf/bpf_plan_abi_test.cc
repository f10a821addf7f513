// The BPF fast path's plan (dataplane/bpf_fastpath_plan.h) in plain C++ values
// against the kernel side's layouts and the loader's enums: what the plan may give
// out fits what the maps hold.
#include <gtest/gtest.h>

#include "dataplane/bpf_fastpath_plan.h"
#include "dataplane/fastpath_plan.h"
#include "net/bpf/bpf_fastpath.h"
#include "net/bpf/fastpath_abi.h"

namespace lp::dataplane {
namespace {

TEST(BpfPlanAbi, ThePlansLimitsAndEnumsMatchTheMaps) {
  EXPECT_EQ(kBpfMaxTargets, static_cast<size_t>(LP_FP_MAX_TARGETS));
  // Link ids index lp_links: the default size holds every id the plan gives out.
  EXPECT_LT(kMaxLinkId, net::bpf::FastpathLimits{}.links);
  lp_fp_endpoint_key ek{};
  ek.space = kBpfMaxSpace;
  EXPECT_EQ(ek.space, kBpfMaxSpace);
  lp_fp_targets t{};
  t.tier = static_cast<uint32_t>(BpfTier::kAny);
  EXPECT_EQ(t.tier, 5u);
  EXPECT_EQ(static_cast<int>(BpfProgram::kWorkloadIn), static_cast<int>(net::bpf::FastpathProgram::kWorkloadIn));
  EXPECT_EQ(static_cast<int>(BpfProgram::kLinkOut), static_cast<int>(net::bpf::FastpathProgram::kLinkOut));
  EXPECT_EQ(static_cast<int>(BpfProgram::kLinkIn), static_cast<int>(net::bpf::FastpathProgram::kLinkIn));
  EXPECT_EQ(static_cast<int>(BpfHook::kIngress), static_cast<int>(net::bpf::TcHook::kIngress));
  EXPECT_EQ(static_cast<int>(BpfHook::kEgress), static_cast<int>(net::bpf::TcHook::kEgress));
}

}  // namespace
}  // namespace lp::dataplane
