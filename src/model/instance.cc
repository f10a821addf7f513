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

}  // namespace lp::model
