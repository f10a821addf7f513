#include "control/context.h"

namespace lp::control {

ControlContext::ControlContext(store::Store& s, const Clock& c, Random& r, model::RegionConfig region, Limits limits)
    : store(s),
      clock(c),
      random(r),
      zones_{region.name, region.zoneIds, {}, {}},
      settings_(std::make_shared<const Settings>(Settings{std::move(region), limits})) {}

void ControlContext::replaceSettings(Settings next) {
  auto now = settings();
  next.region.name = now->region.name;
  next.region.zoneIds = now->region.zoneIds;
  settings_.store(std::make_shared<const Settings>(std::move(next)), std::memory_order_release);
}

}  // namespace lp::control
