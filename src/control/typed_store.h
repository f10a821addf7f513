// Typed access to the Store for model resources (anything with kKind, id and
// JSON conversion). Used only inside control/. Same thread rules as the view or
// transaction it wraps.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "control/store_indexes.h"
#include "store/store.h"

namespace lp::control {

// Decoded objects, cached per resource type by id and keyed on the exact body:
// a loop over a kind (name checks, quotas) parses only what changed since the
// last loop, not every object every time. Any thread.
template <typename R>
std::shared_ptr<const R> decodeShared(const store::Object& o) {
  struct Entry {
    std::string body;
    std::shared_ptr<const R> value;
  };
  static constexpr size_t kMaxEntries = 200000;
  static std::shared_mutex mu;
  static std::unordered_map<std::string, Entry> cache;
  {
    std::shared_lock l(mu);
    if (auto it = cache.find(o.id); it != cache.end() && it->second.body == o.body) return it->second.value;
  }
  auto j = nlohmann::json::parse(o.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return nullptr;
  std::shared_ptr<const R> value;
  try {
    value = std::make_shared<const R>(j.get<R>());
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
  std::unique_lock l(mu);
  if (cache.size() >= kMaxEntries) cache.clear();  // bounded; refills with what is in use
  cache[o.id] = Entry{o.body, value};
  return value;
}

template <typename R>
std::optional<R> decode(const store::Object& o) {
  auto v = decodeShared<R>(o);
  if (!v) return std::nullopt;
  return *v;
}

class View {
 public:
  explicit View(const store::ReadView& v) : v_(v) {}

  template <typename R>
  std::optional<R> get(const std::string& id) const {
    auto o = v_.get(R::kKind, id);
    if (!o) return std::nullopt;
    return decode<R>(*o);
  }
  template <typename R, typename Id>
  std::optional<R> get(const Id& id) const {
    return get<R>(id.str());
  }

  template <typename R>
  std::vector<R> list() const {
    std::vector<R> out;
    v_.forEach(R::kKind, [&](const store::Object& o) {
      if (auto r = decode<R>(o)) out.push_back(std::move(*r));
      return true;
    });
    return out;
  }
  // All resources of a kind that pass pred.
  template <typename R, typename Pred>
  std::vector<R> listWhere(Pred pred) const {
    std::vector<R> out;
    forEachOf<R>([&](const R& r) {
      if (pred(r)) out.push_back(r);
      return true;
    });
    return out;
  }
  template <typename R, typename Pred>
  bool any(Pred pred) const {
    bool found = false;
    forEachOf<R>([&](const R& r) {
      found = pred(r);
      return !found;
    });
    return found;
  }
  // Visits every resource of a kind in id order without copying it; stop early
  // by returning false.
  template <typename R, typename Fn>
  void forEachOf(Fn fn) const {
    v_.forEach(R::kKind, [&](const store::Object& o) {
      auto r = decodeShared<R>(o);
      return !r || fn(*r);
    });
  }
  // Index queries (indexes are listed in control/store_indexes.h): they visit only
  // the resources holding value in the index, in id order, from fromId.
  template <typename R, typename Fn>
  void forEachIndexed(std::string_view index, std::string_view value, Fn fn, std::string_view fromId = {}) const {
    v_.forEachIndexed(
        R::kKind, index, value,
        [&](const store::Object& o) {
          auto r = decodeShared<R>(o);
          return !r || fn(*r);
        },
        fromId);
  }
  template <typename R, typename Pred>
  std::vector<R> listIndexed(std::string_view index, std::string_view value, Pred pred) const {
    std::vector<R> out;
    forEachIndexed<R>(index, value, [&](const R& r) {
      if (pred(r)) out.push_back(r);
      return true;
    });
    return out;
  }
  template <typename R>
  std::vector<R> listIndexed(std::string_view index, std::string_view value) const {
    return listIndexed<R>(index, value, [](const R&) { return true; });
  }
  template <typename R, typename Pred>
  bool anyIndexed(std::string_view index, std::string_view value, Pred pred) const {
    bool found = false;
    forEachIndexed<R>(index, value, [&](const R& r) {
      found = pred(r);
      return !found;
    });
    return found;
  }
  // How many resources hold value in the index, without reading them.
  template <typename R>
  int count(std::string_view index, std::string_view value) const {
    return static_cast<int>(v_.count(R::kKind, index, value));
  }
  // Visits the account's resources of a kind in id order from fromId: only those
  // named in ids when ids is not empty (unknown ids and others' are skipped).
  template <typename R, typename Fn>
  void forEachOwned(const std::string& account, const std::vector<std::string>& ids, std::string_view fromId,
                    Fn fn) const {
    if (ids.empty()) {
      forEachIndexed<R>(index::kOwner, account, fn, fromId);
      return;
    }
    std::vector<std::string> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (auto it = std::lower_bound(sorted.begin(), sorted.end(), fromId); it != sorted.end(); ++it) {
      auto r = get<R>(*it);
      if (r && r->ownerId == account && !fn(*r)) return;
    }
  }
  const store::ReadView& raw() const { return v_; }

 private:
  const store::ReadView& v_;
};

class Txn : public View {
 public:
  explicit Txn(store::WriteTxn& t) : View(t), t_(t) {}

  template <typename R>
  void put(const R& r) {
    t_.put(R::kKind, r.id.str(), nlohmann::json(r).dump());
  }
  template <typename R>
  void erase(const std::string& id) {
    t_.erase(R::kKind, id);
  }
  template <typename R, typename Id>
  void erase(const Id& id) {
    t_.erase(R::kKind, id.str());
  }
  store::WriteTxn& raw() { return t_; }
  uint64_t revision() const { return t_.revision(); }

 private:
  store::WriteTxn& t_;
};

}  // namespace lp::control
