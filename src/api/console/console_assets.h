// The console's page, styles and scripts (src/api/console/web/), embedded in the
// binary at build time by embed_assets.cmake so the daemon serves them with nothing
// else installed. Immutable data; safe from any thread.
#pragma once

#include <span>
#include <string_view>

namespace lp::api::console {

struct ConsoleAsset {
  std::string_view path;  // relative to /console/, e.g. "app.js"
  std::string_view contentType;
  std::string_view bytes;
};

std::span<const ConsoleAsset> consoleAssets();

}  // namespace lp::api::console
