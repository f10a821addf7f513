// Params: the decoded form body of one request (EC2 and Query protocols), with
// accessors for the AWS list conventions: EC2 "Name.N" and Query "Name.member.N",
// nested "Name.N.Field", Query maps "Name.entry.N.key/value". Value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lp::api {

class Params {
 public:
  // Decodes application/x-www-form-urlencoded. MalformedQueryString on a bad escape.
  static Result<Params> parseForm(std::string_view body);

  const std::string* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::string get(std::string_view key) const;
  // A boolean parameter: "true"/"false" (any case). InvalidParameterValue otherwise.
  Result<std::optional<bool>> getBool(std::string_view key) const;
  Result<std::optional<int64_t>> getInt(std::string_view key) const;

  // EC2 lists: prefix.1, prefix.2, ... in numeric order.
  std::vector<std::string> list(std::string_view prefix) const;
  // Lists of structures: prefix.N.* as sub-Params with "prefix.N." stripped.
  std::vector<Params> structList(std::string_view prefix) const;
  // Keys below prefix. with the prefix stripped.
  Params sub(std::string_view prefix) const;
  // Query lists: prefix.member.N (and an empty "prefix=" means an empty list).
  std::vector<std::string> memberList(std::string_view prefix) const { return list(std::string(prefix) + ".member"); }
  std::vector<Params> memberStructList(std::string_view prefix) const {
    return structList(std::string(prefix) + ".member");
  }
  // Query maps: prefix.entry.N.key / .value.
  std::vector<std::pair<std::string, std::string>> entryMap(std::string_view prefix) const;

  const std::map<std::string, std::string, std::less<>>& all() const { return kv_; }
  void set(std::string key, std::string value) { kv_[std::move(key)] = std::move(value); }

 private:
  std::map<std::string, std::string, std::less<>> kv_;
};

}  // namespace lp::api
