#include "control/context.h"

namespace lp::control {

ControlContext::ControlContext(store::Store& s, const Clock& c, Random& r, model::RegionConfig region, Limits limits)
    : store(s),
      clock(c),
      random(r),
      zones_{region.name, region.zoneIds, {}, {}},
      settings_(std::make_shared<const Settings>(Settings{std::move(region), limits})) {}

std::shared_ptr<const Settings> ControlContext::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void ControlContext::replaceSettings(Settings next) {
  next.region.name = zones_.name;
  next.region.zoneIds = zones_.zoneIds;
  auto published = std::make_shared<const Settings>(std::move(next));  // built before the lock
  std::lock_guard lock(mu_);
  settings_.swap(published);
  // The previous snapshot is released here or by its last reader.
}

}  // namespace lp::control
