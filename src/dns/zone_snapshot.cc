#include "dns/zone_snapshot.h"

#include <algorithm>

namespace lp::dns {

namespace {

// True when name is zone or lies below it (at a label boundary).
bool within(std::string_view name, std::string_view zone) {
  if (name.size() == zone.size()) return name == zone;
  if (name.size() < zone.size() + 1) return false;
  return name.substr(name.size() - zone.size()) == zone && name[name.size() - zone.size() - 1] == '.';
}

// The longest zone of set that holds name, or nullptr.
const std::string* owningZone(const NameSet& set, std::string_view name) {
  const std::string* best = nullptr;
  for (const auto& z : set.zones) {
    if (within(name, z) && (!best || z.size() > best->size())) best = &z;
  }
  return best;
}

Lookup find(const NameSet& set, const std::string& zone, const std::string& name) {
  Lookup r;
  r.zone = zone;
  if (auto it = set.a.find(name); it != set.a.end()) {
    r.kind = Lookup::Kind::kFound;
    r.a = &it->second;
    return r;
  }
  // The apex, and names with names below them (empty non-terminals), exist without records.
  bool exists = name == zone || set.a.hasNamesBelow(name);
  r.kind = exists ? Lookup::Kind::kNoData : Lookup::Kind::kNxDomain;
  return r;
}

// Calls f(suffix) for every proper suffix of name that starts after a dot: the
// names `name` lies below.
template <class F>
void forEachParent(std::string_view name, F&& f) {
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    f(name.substr(dot + 1));
  }
}

}  // namespace

NameMap::Addresses& NameMap::operator[](const std::string& name) {
  bool inserted = false;
  Addresses& a = names_.get(name, &inserted);
  if (inserted) forEachParent(name, [&](std::string_view p) { ++below_.get(p); });
  return a;
}

size_t NameMap::erase(std::string_view name) {
  if (!names_.erase(name)) return 0;
  forEachParent(name, [&](std::string_view p) {
    if (--below_.get(p) == 0) below_.erase(p);
  });
  return 1;
}

std::string canonicalName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

Lookup lookup(const ZoneSnapshot& snap, const std::string& view, const std::string& name) {
  const NameSet* priv = nullptr;
  if (!view.empty()) {
    if (auto it = snap.views.find(view); it != snap.views.end()) priv = &it->second;
  }
  const std::string* pz = priv ? owningZone(*priv, name) : nullptr;
  const std::string* sz = owningZone(snap.shared, name);
  if (pz && (!sz || pz->size() >= sz->size())) return find(*priv, *pz, name);
  if (sz) return find(snap.shared, *sz, name);
  return Lookup{};
}

}  // namespace lp::dns
