#include "api/document.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace lp::api {

namespace {

// CloudWatch's Query answers: 3.0 for a whole number, shortest form otherwise.
std::string numberText(double v) {
  if (std::isfinite(v) && std::fabs(v) < 1e15 && v == std::trunc(v)) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

// WallTime counts nanoseconds in 64 bits (to 2262); parseIso8601 refuses years
// past 2261, so an epoch outside [0, 2261] is passed on as a number the
// handler's ISO 8601 check rejects.
constexpr double kLastEpochSecond = 9'214'646'400.0;  // 2262-01-01T00:00:00Z

std::string isoTime(double epochSeconds) {
  if (!(epochSeconds >= 0 && epochSeconds < kLastEpochSecond)) return fmt::format("{}", epochSeconds);
  auto ms = static_cast<int64_t>(std::llround(epochSeconds * 1000));
  return iso8601Millis(WallTime(std::chrono::milliseconds(ms)));
}

std::string queryTime(double epochSeconds) {
  auto s = isoTime(epochSeconds);  // 2026-12-05T07:00:00.000Z -> CloudWatch's 2026-12-05T07:00:00Z
  if (s.size() == 24 && s.substr(19, 4) == ".000") s = s.substr(0, 19) + "Z";
  return s;
}

std::string scalarText(const Doc& d) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, int64_t>)
          return std::to_string(v);
        else if constexpr (std::is_same_v<T, double>)
          return numberText(v);
        else if constexpr (std::is_same_v<T, std::string>)
          return v;
        else if constexpr (std::is_same_v<T, Doc::Blob>)
          return base64Encode(v.bytes);
        else if constexpr (std::is_same_v<T, Doc::Timestamp>)
          return queryTime(v.epochSeconds);
        else
          return "";
      },
      d.value);
}

void writeXmlElement(XmlWriter& out, std::string_view name, const Doc& d) {
  if (const auto* l = std::get_if<Doc::List>(&d.value)) {
    if (l->empty()) return out.empty(name);
    auto s = out.scope(name);
    for (const Doc& item : *l) writeXmlElement(out, "member", item);
    return;
  }
  if (d.isMap()) {
    auto s = out.scope(name);
    writeQueryXml(out, d);
    return;
  }
  if (d.isNull()) return;
  out.leaf(name, scalarText(d));
}

constexpr int kMaxDepth = 32;

Status flatten(const Doc& d, const std::string& key, const std::set<std::string, std::less<>>& timestamps,
               std::string_view memberName, Params& out, int depth) {
  if (depth > kMaxDepth) return Status("SerializationException", "The request nests deeper than 32 levels.");
  if (const auto* m = std::get_if<Doc::Map>(&d.value)) {
    for (const auto& [name, v] : *m) {
      if (name.empty() || name.find('.') != std::string::npos)
        return Status("SerializationException", fmt::format("'{}' is not a member name.", name.substr(0, 64)));
      LP_RETURN_IF_ERROR(flatten(v, key.empty() ? name : key + "." + name, timestamps, name, out, depth + 1));
    }
    return Status::Ok();
  }
  if (const auto* l = std::get_if<Doc::List>(&d.value)) {
    if (l->empty()) out.set(key, "");  // Query's way of sending an empty list
    for (size_t i = 0; i < l->size(); ++i)
      LP_RETURN_IF_ERROR(
          flatten((*l)[i], fmt::format("{}.member.{}", key, i + 1), timestamps, memberName, out, depth + 1));
    return Status::Ok();
  }
  if (d.isNull()) return Status::Ok();  // a null member is an absent one
  bool timestampMember = timestamps.count(memberName) != 0;
  if (timestampMember) {
    if (const auto* i = std::get_if<int64_t>(&d.value)) {
      out.set(key, isoTime(static_cast<double>(*i)));
      return Status::Ok();
    }
    if (const auto* f = std::get_if<double>(&d.value)) {
      out.set(key, isoTime(*f));
      return Status::Ok();
    }
  }
  if (const auto* t = std::get_if<Doc::Timestamp>(&d.value)) {
    out.set(key, isoTime(t->epochSeconds));
    return Status::Ok();
  }
  if (const auto* f = std::get_if<double>(&d.value)) {
    out.set(key, fmt::format("{}", *f));
    return Status::Ok();
  }
  out.set(key, scalarText(d));
  return Status::Ok();
}

Doc fromJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean:
      return Doc(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Doc(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Doc(static_cast<double>(u));
      return Doc(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Doc(j.get<double>());
    case nlohmann::json::value_t::string:
      return Doc(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Doc::List l;
      for (const auto& item : j) l.push_back(fromJson(item));
      return Doc(std::move(l));
    }
    case nlohmann::json::value_t::object: {
      Doc::Map m;
      for (const auto& [k, v] : j.items()) m.emplace_back(k, fromJson(v));
      return Doc(std::move(m));
    }
    default:
      return Doc();
  }
}

nlohmann::json toJsonValue(const Doc& d) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return nullptr;
        else if constexpr (std::is_same_v<T, Doc::Blob>)
          return base64Encode(v.bytes);
        else if constexpr (std::is_same_v<T, Doc::Timestamp>)
          return v.epochSeconds;
        else if constexpr (std::is_same_v<T, Doc::List>) {
          nlohmann::json a = nlohmann::json::array();
          for (const Doc& item : v) a.push_back(toJsonValue(item));
          return a;
        } else if constexpr (std::is_same_v<T, Doc::Map>) {
          nlohmann::json o = nlohmann::json::object();
          for (const auto& [k, m] : v)
            if (!m.isNull()) o[k] = toJsonValue(m);
          return o;
        } else {
          return v;
        }
      },
      d.value);
}

}  // namespace

Doc Doc::time(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return Doc(Timestamp{static_cast<double>(ms) / 1000.0});
}

Doc& Doc::add(std::string name, Doc v) {
  if (!isMap()) value = Map{};
  auto& m = std::get<Map>(value);
  m.emplace_back(std::move(name), std::move(v));
  return m.back().second;
}

Doc& Doc::push(Doc v) {
  if (!isList()) value = List{};
  auto& l = std::get<List>(value);
  l.push_back(std::move(v));
  return l.back();
}

const Doc* Doc::member(std::string_view name) const {
  if (const auto* m = std::get_if<Map>(&value))
    for (const auto& [k, v] : *m)
      if (k == name) return &v;
  return nullptr;
}

bool Doc::operator==(const Doc& o) const { return value == o.value; }

void writeQueryXml(XmlWriter& out, const Doc& members) {
  if (const auto* m = std::get_if<Doc::Map>(&members.value))
    for (const auto& [name, v] : *m) writeXmlElement(out, name, v);
}

Result<Params> flattenToParams(const Doc& body, const std::set<std::string, std::less<>>& timestampMembers) {
  if (!body.isMap()) return Status("SerializationException", "The request body must be a structure.");
  Params p;
  LP_RETURN_IF_ERROR(flatten(body, "", timestampMembers, "", p, 0));
  return p;
}

Result<Doc> parseJsonDocument(std::string_view body) {
  if (body.empty()) return Doc::map();
  // nlohmann's parser recurses per nesting level; 64 levels is far more than any
  // CloudWatch input and keeps a hostile body from exhausting the stack.
  int depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (char c : body) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  if (deepest > 64) return Status("SerializationException", "The request nests deeper than 64 levels.");
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status("SerializationException", "The request body is not valid JSON.");
  return fromJson(j);
}

std::string toJson(const Doc& d) {
  return toJsonValue(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lp::api
