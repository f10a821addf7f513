// Typed access to the Store for model resources (anything with kKind, id and
// JSON conversion). Used only inside control/. Same thread rules as the view or
// transaction it wraps.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace lp::control {

template <typename R>
std::optional<R> decode(const store::Object& o) {
  auto j = nlohmann::json::parse(o.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return j.get<R>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
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
  std::optional<R> get(const Id& id) const { return get<R>(id.str()); }

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
    v_.forEach(R::kKind, [&](const store::Object& o) {
      if (auto r = decode<R>(o); r && pred(*r)) out.push_back(std::move(*r));
      return true;
    });
    return out;
  }
  template <typename R, typename Pred>
  bool any(Pred pred) const {
    bool found = false;
    v_.forEach(R::kKind, [&](const store::Object& o) {
      if (auto r = decode<R>(o); r && pred(*r)) found = true;
      return !found;
    });
    return found;
  }
  const store::ReadView& raw() const { return v_; }

 private:
  const store::ReadView& v_;
};

class Txn : public View {
 public:
  explicit Txn(store::WriteTxn& t) : View(t), t_(t) {}

  template <typename R>
  void put(const R& r) { t_.put(R::kKind, r.id.str(), nlohmann::json(r).dump()); }
  template <typename R>
  void erase(const std::string& id) { t_.erase(R::kKind, id); }
  template <typename R, typename Id>
  void erase(const Id& id) { t_.erase(R::kKind, id.str()); }
  store::WriteTxn& raw() { return t_; }
  uint64_t revision() const { return t_.revision(); }

 private:
  store::WriteTxn& t_;
};

}  // namespace lp::control
