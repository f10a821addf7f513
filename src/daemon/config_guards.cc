#include "daemon/config_guards.h"

#include <algorithm>
#include <tuple>

namespace lp::daemon {

Status readGuardSections(const toml::table& t, const std::string& path, Config& c) {
  if (auto* th = t["throttle"].as_table()) {
    auto& cfg = c.throttle;
    if (auto v = (*th)["enabled"].value<bool>()) cfg.enabled = *v;
    if (auto v = (*th)["mutating_rate"].value<double>()) cfg.mutatingRate = *v;
    if (auto v = (*th)["mutating_burst"].value<double>()) cfg.mutatingBurst = *v;
    if (auto v = (*th)["read_rate"].value<double>()) cfg.readRate = *v;
    if (auto v = (*th)["read_burst"].value<double>()) cfg.readBurst = *v;
    if (auto v = (*th)["max_in_flight_per_account"].value<int64_t>()) {
      if (*v < 0 || *v > 10000)
        return Status("InvalidConfig", path + ": throttle.max_in_flight_per_account must be 0 (half the API "
                                              "threads) to 10000");
      cfg.maxInFlight = static_cast<int>(*v);
    }
    // A burst under 1 would refuse every call; a rate of 0 would never refill.
    for (auto [name, rate, burst] : {std::tuple{"mutating", cfg.mutatingRate, cfg.mutatingBurst},
                                     std::tuple{"read", cfg.readRate, cfg.readBurst}}) {
      if (!(rate > 0 && rate <= 1e6) || !(burst >= 1 && burst <= 1e7))
        return Status("InvalidConfig", path + ": throttle." + name +
                                           "_rate must be above 0 (calls per second, up to "
                                           "1000000) and throttle." +
                                           name + "_burst 1 to 10000000");
    }
  }
  if (auto* a = t["audit"].as_table()) {
    if (auto v = (*a)["max_file_bytes"].value<int64_t>()) c.auditMaxFileBytes = *v;
    if (auto v = (*a)["max_files"].value<int64_t>())
      c.auditMaxFiles = static_cast<int>(std::clamp<int64_t>(*v, -1, 100000));
    if (auto v = (*a)["refused_per_second"].value<int64_t>())
      c.auditRefusedPerSecond = static_cast<int>(std::clamp<int64_t>(*v, -1, 10'000'000));
    if (c.auditMaxFileBytes < 4096)
      return Status("InvalidConfig", path + ": audit.max_file_bytes must be at least 4096");
    if (c.auditMaxFiles < 1 || c.auditMaxFiles > 1000)
      return Status("InvalidConfig", path + ": audit.max_files must be 1 to 1000");
    if (c.auditRefusedPerSecond < 0 || c.auditRefusedPerSecond > 100000)
      return Status("InvalidConfig", path + ": audit.refused_per_second must be 0 to 100000");
  }
  return Status();
}

}  // namespace lp::daemon
