// Logging through spdlog; every module logs through these macros so the daemon
// decides the sink and level in one place (daemon/main.cc).
#pragma once

#include <spdlog/spdlog.h>

namespace lp {
void initLogging(const std::string& level);
}  // namespace lp

#define LP_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LP_LOG_INFO(...) spdlog::info(__VA_ARGS__)
#define LP_LOG_WARN(...) spdlog::warn(__VA_ARGS__)
#define LP_LOG_ERROR(...) spdlog::error(__VA_ARGS__)
