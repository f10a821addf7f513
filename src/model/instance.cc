#include "model/instance.h"

#include <array>

namespace lp::model {

namespace {

struct StateRow {
  InstanceState state;
  std::string_view name;
  int code;
};
constexpr std::array<StateRow, 6> kStates = {{
    {InstanceState::kPending, "pending", 0},
    {InstanceState::kRunning, "running", 16},
    {InstanceState::kShuttingDown, "shutting-down", 32},
    {InstanceState::kTerminated, "terminated", 48},
    {InstanceState::kStopping, "stopping", 64},
    {InstanceState::kStopped, "stopped", 80},
}};

}  // namespace

std::string_view instanceStateName(InstanceState s) { return kStates[static_cast<size_t>(s)].name; }
int instanceStateCode(InstanceState s) { return kStates[static_cast<size_t>(s)].code; }

std::optional<InstanceState> parseInstanceState(std::string_view name) {
  for (const auto& r : kStates)
    if (r.name == name) return r.state;
  return std::nullopt;
}

std::optional<InstanceState> nextState(InstanceState now, InstanceAction action) {
  using S = InstanceState;
  switch (action) {
    case InstanceAction::kTerminate:
      if (now == S::kTerminated || now == S::kShuttingDown) return now;
      return S::kShuttingDown;
    case InstanceAction::kStop:
      if (now == S::kRunning) return S::kStopping;
      if (now == S::kStopping || now == S::kStopped) return now;
      return std::nullopt;  // pending, shutting-down, terminated
    case InstanceAction::kStart:
      if (now == S::kStopped) return S::kPending;
      if (now == S::kPending || now == S::kRunning) return now;
      return std::nullopt;  // stopping, shutting-down, terminated
  }
  return std::nullopt;
}

bool isTransitional(InstanceState s) {
  return s == InstanceState::kPending || s == InstanceState::kStopping || s == InstanceState::kShuttingDown;
}

bool canTakeTraffic(InstanceState s) { return s == InstanceState::kPending || s == InstanceState::kRunning; }

const std::vector<Image>& imageCatalog() {
  // Ids are linkplane's own (AMI ids differ per region on AWS anyway); names, owner
  // and descriptions follow Debian's published images.
  static const std::vector<Image> kImages = {
      {"ami-0d3b1e2c4a5f60712", "debian-12-amd64-20241201-1948", "Debian 12 (20241201-1948)", "x86_64",
       "2024-12-01T20:28:01.000Z", "136693071363"},
      {"ami-0a7c5e3f1b2d40935", "debian-12-arm64-20241201-1948", "Debian 12 (20241201-1948)", "arm64",
       "2024-12-01T20:28:03.000Z", "136693071363"},
      {"ami-0e6f4d2b9c8a71024", "debian-12-amd64-20240717-1811", "Debian 12 (20240717-1811)", "x86_64",
       "2024-07-17T18:49:12.000Z", "136693071363"},
      {"ami-0b5a3c1d7e9f20846", "debian-11-amd64-20241202-1949", "Debian 11 (20241202-1949)", "x86_64",
       "2024-12-02T20:30:44.000Z", "136693071363"},
  };
  return kImages;
}

const Image* findImage(std::string_view id) {
  for (const auto& i : imageCatalog())
    if (i.id == id) return &i;
  return nullptr;
}

const std::vector<InstanceTypeInfo>& instanceTypeCatalog() {
  // AWS's figures for each type (DescribeInstanceTypes in us-east-1). t2 earns CPU
  // credits in standard mode by default, t3/t3a/t4g in unlimited mode.
  static const std::vector<InstanceTypeInfo> kTypes = {
      {"m1.small", 1, 1, 1, 1740, "Low", 2, 4, "x86_64", 0, false, ""},
      {"t2.nano", 1, 1, 1, 512, "Low to Moderate", 2, 2, "x86_64", 3.3, true, "standard"},
      {"t2.micro", 1, 1, 1, 1024, "Low to Moderate", 2, 2, "x86_64", 2.5, true, "standard"},
      {"t2.small", 1, 1, 1, 2048, "Low to Moderate", 3, 4, "x86_64", 2.5, true, "standard"},
      {"t2.medium", 2, 2, 1, 4096, "Low to Moderate", 3, 6, "x86_64", 2.3, true, "standard"},
      {"t3.nano", 2, 1, 2, 512, "Up to 5 Gigabit", 2, 2, "x86_64", 2.5, true, "unlimited"},
      {"t3.micro", 2, 1, 2, 1024, "Up to 5 Gigabit", 2, 2, "x86_64", 2.5, true, "unlimited"},
      {"t3.small", 2, 1, 2, 2048, "Up to 5 Gigabit", 3, 4, "x86_64", 2.5, true, "unlimited"},
      {"t3.medium", 2, 1, 2, 4096, "Up to 5 Gigabit", 3, 6, "x86_64", 2.5, true, "unlimited"},
      {"t3.large", 2, 1, 2, 8192, "Up to 5 Gigabit", 3, 12, "x86_64", 2.5, true, "unlimited"},
      {"t3a.micro", 2, 1, 2, 1024, "Up to 5 Gigabit", 2, 2, "x86_64", 2.2, true, "unlimited"},
      {"t4g.micro", 2, 2, 1, 1024, "Up to 5 Gigabit", 2, 2, "arm64", 2.5, true, "unlimited"},
      {"t4g.small", 2, 2, 1, 2048, "Up to 5 Gigabit", 3, 4, "arm64", 2.5, true, "unlimited"},
      {"m5.large", 2, 1, 2, 8192, "Up to 10 Gigabit", 3, 10, "x86_64", 3.1, false, ""},
      {"m5.xlarge", 4, 2, 2, 16384, "Up to 10 Gigabit", 4, 15, "x86_64", 3.1, false, ""},
      {"c5.large", 2, 1, 2, 4096, "Up to 10 Gigabit", 3, 10, "x86_64", 3.4, false, ""},
      {"r5.large", 2, 1, 2, 16384, "Up to 10 Gigabit", 3, 10, "x86_64", 3.1, false, ""},
      {"m6g.medium", 1, 1, 1, 4096, "Up to 10 Gigabit", 2, 4, "arm64", 2.5, false, ""},
  };
  return kTypes;
}

const InstanceTypeInfo* findInstanceType(std::string_view name) {
  for (const auto& t : instanceTypeCatalog())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace lp::model
