#include "daemon/config_guards.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "daemon/config_schema.h"

namespace lp::daemon {

Status readGuardSections(const toml::table& t, const std::string& path, Config& c) {
  auto at = [&](std::string_view dotted) { return whereInFile(path, t, dotted); };
  if (auto* th = t["throttle"].as_table()) {
    auto& cfg = c.throttle;
    if (auto v = (*th)["enabled"].value<bool>()) cfg.enabled = *v;
    if (auto v = (*th)["mutating_rate"].value<double>()) cfg.mutatingRate = *v;
    if (auto v = (*th)["mutating_burst"].value<double>()) cfg.mutatingBurst = *v;
    if (auto v = (*th)["read_rate"].value<double>()) cfg.readRate = *v;
    if (auto v = (*th)["read_burst"].value<double>()) cfg.readBurst = *v;
    if (auto v = (*th)["max_in_flight_per_account"].value<int64_t>()) {
      if (*v < 0 || *v > 10000)
        return Status("InvalidConfig", at("throttle.max_in_flight_per_account") +
                                           ": throttle.max_in_flight_per_account must be 0 (three quarters of "
                                           "the API threads) to 10000");
      cfg.maxInFlight = static_cast<int>(*v);
    }
    if (auto v = (*th)["refusal_hold_max_ms"].value<int64_t>()) {
      if (*v < 0 || *v > 10000)
        return Status("InvalidConfig", path + ": throttle.refusal_hold_max_ms must be 0 (refusals not paced) to "
                                              "10000");
      cfg.refusalHoldMaxMs = static_cast<int>(*v);
    }
    // A burst under 1 would refuse every call; a rate of 0 would never refill.
    for (auto [name, rate, burst] : {std::tuple{"mutating", cfg.mutatingRate, cfg.mutatingBurst},
                                     std::tuple{"read", cfg.readRate, cfg.readBurst}}) {
      const std::string key = std::string("throttle.") + name + (rate > 0 && rate <= 1e6 ? "_burst" : "_rate");
      if (!(rate > 0 && rate <= 1e6) || !(burst >= 1 && burst <= 1e7))
        return Status("InvalidConfig", at(key) + ": throttle." + name +
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
      return Status("InvalidConfig", at("audit.max_file_bytes") + ": audit.max_file_bytes must be at least 4096");
    if (c.auditMaxFiles < 1 || c.auditMaxFiles > 1000)
      return Status("InvalidConfig", at("audit.max_files") + ": audit.max_files must be 1 to 1000");
    if (c.auditRefusedPerSecond < 0 || c.auditRefusedPerSecond > 100000)
      return Status("InvalidConfig", at("audit.refused_per_second") + ": audit.refused_per_second must be 0 to 100000");
  }
  if (auto* con = t["console"].as_table()) {
    // Each key with its range; out of range is refused rather than clamped, so a
    // typo cannot turn the backoff off.
    auto& l = c.consoleSignIn;
    struct Bound {
      const char* key;
      int64_t lo, hi, current;
    };
    const Bound bounds[] = {
        {"signin_free_failures", 1, 1000, l.free},
        {"signin_first_delay_seconds", 1, 3600, l.firstDelay.count()},
        {"signin_max_delay_seconds", 1, 86400, l.maxDelay.count()},
        {"signin_forget_seconds", 60, 7 * 86400, l.forget.count()},
        {"signin_max_entries", 100, 10'000'000, static_cast<int64_t>(l.maxEntries)},
    };
    int64_t v[5];
    for (size_t i = 0; i < 5; ++i) {
      v[i] = (*con)[bounds[i].key].value<int64_t>().value_or(bounds[i].current);
      if (v[i] < bounds[i].lo || v[i] > bounds[i].hi)
        return Status("InvalidConfig",
                      fmt::format("{}: console.{} must be {} to {}", whereInFile(path, (*con).get(bounds[i].key)),
                                  bounds[i].key, bounds[i].lo, bounds[i].hi));
    }
    if (v[2] < v[1])
      return Status("InvalidConfig", at("console.signin_max_delay_seconds") +
                                         ": console.signin_max_delay_seconds must be at least "
                                         "console.signin_first_delay_seconds");
    l.free = static_cast<int>(v[0]);
    l.firstDelay = std::chrono::seconds(v[1]);
    l.maxDelay = std::chrono::seconds(v[2]);
    l.forget = std::chrono::seconds(v[3]);
    l.maxEntries = static_cast<size_t>(v[4]);
  }
  return Status();
}

}  // namespace lp::daemon
