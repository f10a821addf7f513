#include "daemon/config_schema.h"

#include <algorithm>
#include <numeric>

namespace lp::daemon {

namespace {

enum class Type {
  kString,
  kInt,
  kNumber,
  kBool,
  kStringArray,
  kNumberArray,
  kTable,
  kTableArray,
  kBoolOrTable,
  kStringMap
};

struct Key {
  std::string_view name;
  Type type;
  const std::vector<Key>* children = nullptr;  // kTable, kTableArray, kBoolOrTable
};

const std::vector<Key> kDataplaneKeys = {
    {"enabled", Type::kBool},
    {"endpoint_bandwidth_gbps", Type::kNumber},
    {"workers", Type::kInt},
    {"path", Type::kString},
    {"idle_timeout_seconds", Type::kInt},
    {"max_connections_per_interface", Type::kInt},
    {"bpf_connection_table", Type::kInt},
};
const std::vector<Key> kSnsKeys = {{"ca_file", Type::kString}, {"subscriber_networks", Type::kStringArray}};
const std::vector<Key> kAccountKeys = {
    {"id", Type::kString},
    {"name", Type::kString},
    {"access_key_id", Type::kString},
    {"secret_access_key", Type::kString},
};
const std::vector<Key> kLimitKeys = {
    {"vpcs_per_account", Type::kInt},
    {"subnets_per_vpc", Type::kInt},
    {"security_groups_per_vpc", Type::kInt},
    {"rules_per_security_group", Type::kInt},
    {"network_interfaces_per_account", Type::kInt},
    {"interface_endpoints_per_vpc", Type::kInt},
    {"load_balancers_per_account", Type::kInt},
    {"target_groups_per_account", Type::kInt},
    {"targets_per_target_group", Type::kInt},
    {"listeners_per_load_balancer", Type::kInt},
    {"route_tables_per_vpc", Type::kInt},
    {"network_acls_per_vpc", Type::kInt},
    {"network_acl_entries_per_direction", Type::kInt},
    {"security_groups_per_interface", Type::kInt},
    {"instances_per_account", Type::kInt},
    {"cidr_blocks_per_vpc", Type::kInt},
};
const std::vector<Key> kMetricsKeys = {
    {"sample_seconds", Type::kInt},
    {"prometheus_listen", Type::kString},
    {"retention_days", Type::kInt},
    {"max_points", Type::kInt},
};
const std::vector<Key> kPricingKeys = {
    {"endpoint_zone_hour_usd", Type::kNumber},
    {"data_tiers_gb", Type::kNumberArray},
    {"data_tiers_usd_per_gb", Type::kNumberArray},
};
const std::vector<Key> kThrottleKeys = {
    {"enabled", Type::kBool},
    {"mutating_rate", Type::kNumber},
    {"mutating_burst", Type::kNumber},
    {"read_rate", Type::kNumber},
    {"read_burst", Type::kNumber},
    {"max_in_flight_per_account", Type::kInt},
    {"refusal_hold_max_ms", Type::kInt},
};
const std::vector<Key> kAuditKeys = {
    {"max_file_bytes", Type::kInt},
    {"max_files", Type::kInt},
    {"refused_per_second", Type::kInt},
};
const std::vector<Key> kConsoleKeys = {
    {"signin_free_failures", Type::kInt},
    {"signin_first_delay_seconds", Type::kInt},
    {"signin_max_delay_seconds", Type::kInt},
    {"signin_forget_seconds", Type::kInt},
    {"signin_max_entries", Type::kInt},
};
// An [aws_service_backends] entry that is an https:// upstream rather than "HOST:PORT".
const std::vector<Key> kHttpsBackendKeys = {
    {"url", Type::kString}, {"ca_file", Type::kString}, {"server_name", Type::kString}};
const std::vector<Key> kRootKeys = {
    {"region", Type::kString},
    {"zone_ids", Type::kStringArray},
    {"listen", Type::kString},
    {"state_dir", Type::kString},
    {"log_level", Type::kString},
    {"api_threads", Type::kInt},
    {"dataplane", Type::kBoolOrTable, &kDataplaneKeys},
    {"dns_listen", Type::kString},
    {"dns_upstream", Type::kString},
    {"sns", Type::kTable, &kSnsKeys},
    {"accounts", Type::kTableArray, &kAccountKeys},
    {"limits", Type::kTable, &kLimitKeys},
    {"aws_service_backends", Type::kStringMap, &kHttpsBackendKeys},
    {"tls_listen", Type::kString},
    {"metrics", Type::kTable, &kMetricsKeys},
    {"pricing", Type::kTable, &kPricingKeys},
    {"throttle", Type::kTable, &kThrottleKeys},
    {"audit", Type::kTable, &kAuditKeys},
    {"console", Type::kTable, &kConsoleKeys},
};

const char* describe(Type t) {
  switch (t) {
    case Type::kString: return "a string";
    case Type::kInt: return "an integer";
    case Type::kNumber: return "a number";
    case Type::kBool: return "true or false";
    case Type::kStringArray: return "an array of strings";
    case Type::kNumberArray: return "an array of numbers";
    case Type::kTable: return "a table";
    case Type::kTableArray: return "an array of tables ([[...]])";
    case Type::kBoolOrTable: return "true, false or a table";
    case Type::kStringMap: return "a table of strings";
  }
  return "?";
}

bool matches(Type t, const toml::node& n) {
  switch (t) {
    case Type::kString: return n.is_string();
    case Type::kInt: return n.is_integer();
    case Type::kNumber: return n.is_integer() || n.is_floating_point();
    case Type::kBool: return n.is_boolean();
    case Type::kStringArray:  // is_homogeneous() is false for an empty array, which is a list of no strings
      return n.is_array() && (n.as_array()->empty() || n.as_array()->is_homogeneous(toml::node_type::string));
    case Type::kNumberArray:
      return n.is_array() && std::all_of(n.as_array()->begin(), n.as_array()->end(), [](const toml::node& x) {
               return x.is_integer() || x.is_floating_point();
             });
    case Type::kTable:
    case Type::kStringMap: return n.is_table();
    case Type::kTableArray: return n.is_array_of_tables();
    case Type::kBoolOrTable: return n.is_boolean() || n.is_table();
  }
  return false;
}

Status checkTable(const toml::table& table, const std::vector<Key>& schema, const std::string& prefix,
                  const std::string& file) {
  for (const auto& [k, node] : table) {
    std::string_view name = k.str();
    std::string dotted = prefix + std::string(name);
    auto key = std::find_if(schema.begin(), schema.end(), [&](const Key& s) { return s.name == name; });
    if (key == schema.end()) {
      std::vector<std::string_view> known;
      for (const auto& s : schema) known.push_back(s.name);
      // The key's own line: for a [table] that is the header, not its first value.
      // Appended: `":" + std::to_string(...)` made GCC 12 at -O3 report a -Wrestrict
      // overlap that cannot happen (GCC PR 105651) in Release builds.
      std::string line;
      if (k.source().begin.line) line.append(":").append(std::to_string(k.source().begin.line));
      std::string msg = file + line + ": unknown key '" + dotted + "'";
      if (auto near = nearestKey(name, known); !near.empty()) msg += " (did you mean '" + prefix + near + "'?)";
      return Status("InvalidConfig", msg);
    }
    if (!matches(key->type, node))
      return Status("InvalidConfig", whereInFile(file, &node) + ": " + dotted + " must be " + describe(key->type));
    if (key->type == Type::kStringMap) {
      // Strings, or (where the key has children) tables of those keys.
      for (const auto& [sub, v] : *node.as_table()) {
        const std::string subKey = dotted + "." + std::string(sub.str());
        if (key->children && v.is_table()) {
          LP_RETURN_IF_ERROR(checkTable(*v.as_table(), *key->children, subKey + ".", file));
          continue;
        }
        if (!v.is_string())
          return Status("InvalidConfig", whereInFile(file, &v) + ": " + subKey + " must be a string" +
                                             (key->children ? " or a table" : ""));
      }
      continue;
    }
    if (!key->children) continue;
    if (const auto* t = node.as_table()) LP_RETURN_IF_ERROR(checkTable(*t, *key->children, dotted + ".", file));
    if (const auto* a = node.as_array()) {
      for (const auto& elem : *a)
        LP_RETURN_IF_ERROR(checkTable(*elem.as_table(), *key->children, dotted + ".", file));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string whereInFile(const std::string& file, const toml::node* node) {
  if (!node || node->source().begin.line == 0) return file;
  // Appended, like the unknown-key line (GCC PR 105651).
  std::string out = file;
  out.append(":").append(std::to_string(node->source().begin.line));
  return out;
}

std::string whereInFile(const std::string& file, const toml::table& root, std::string_view dotted) {
  return whereInFile(file, root.at_path(dotted).node());
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string nearestKey(std::string_view key, const std::vector<std::string_view>& known) {
  size_t limit = std::clamp<size_t>(key.size() / 3, 1, 3);
  std::string_view best;
  size_t bestDistance = limit + 1;
  for (auto k : known) {
    size_t d = editDistance(key, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return std::string(best);
}

std::vector<std::string> knownConfigKeys() {
  std::vector<std::string> out;
  for (const auto& key : kRootKeys) {
    std::string name(key.name);
    out.push_back(name);
    if (!key.children) continue;
    std::string prefix = name + (key.type == Type::kStringMap ? ".*." : ".");
    for (const auto& child : *key.children) out.push_back(prefix + std::string(child.name));
  }
  return out;
}

Status checkConfigKeys(const toml::table& root, const std::string& file) {
  return checkTable(root, kRootKeys, "", file);
}

}  // namespace lp::daemon
