#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace lp {

void initLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("linkplane");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace lp
