// The example config the package installs as /etc/linkplane/linkplane.toml says it
// documents every key with its built-in default: it names every key of the schema
// (set, or commented out), loads, and the values it sets are the defaults.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "daemon/config.h"
#include "daemon/config_schema.h"
#include "daemon/reload.h"

namespace lp::daemon {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file's text by table: "" for the lines before the first header, then one entry
// per [name] / [[name]] header, commented out ("# [[accounts]]") or not.
std::map<std::string, std::string> sections(const std::string& text) {
  static const std::regex kHeader(R"(^#?\s*\[\[?([a-z_]+)\]\]?\s*$)");
  std::map<std::string, std::string> out;
  std::string current;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      current = m[1];
      out[current];
      continue;
    }
    out[current] += line + "\n";
  }
  return out;
}

// `name = ` at the start of a line (after "# " when commented out) or inside an
// inline table ("{ url = ..., ca_file = ...").
bool namesKey(const std::string& text, const std::string& name) {
  std::regex re("(^#? ?|[{,] )" + name + " = ", std::regex::multiline);
  return std::regex_search(text, re);
}

TEST(ExampleConfig, NamesEveryKeyOfTheSchema) {
  auto bySection = sections(readFile(LP_EXAMPLE_CONFIG));
  ASSERT_GT(bySection.size(), 5u);
  for (const auto& key : knownConfigKeys()) {
    auto dot = key.find('.');
    if (dot == std::string::npos) {
      // A top-level key, or a table that has its own header.
      EXPECT_TRUE(namesKey(bySection[""], key) || bySection.count(key)) << key << " is not in the example config";
      continue;
    }
    std::string table = key.substr(0, dot), name = key.substr(key.rfind('.') + 1);
    ASSERT_TRUE(bySection.count(table)) << "no [" << table << "] in the example config";
    EXPECT_TRUE(namesKey(bySection[table], name)) << key << " is not in the example config";
  }
}

TEST(ExampleConfig, LoadsAndSetsOnlyTheBuiltInDefaults) {
  char tmpl[] = "/tmp/lp-example-config-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl, empty = dir + "/empty.toml", example = dir + "/linkplane.toml";
  std::ofstream(empty) << "";
  std::filesystem::copy_file(LP_EXAMPLE_CONFIG, example);
  for (const auto& f : {empty, example})
    std::filesystem::permissions(f, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto defaults = loadConfig(empty);
  auto loaded = loadConfig(example);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(defaults.ok()) << defaults.status().toString();
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  // What a reload would report between the two is every key whose value differs.
  auto c = diffConfig(*defaults, *loaded);
  EXPECT_TRUE(c.applied.empty()) << ::testing::PrintToString(c.applied);
  EXPECT_TRUE(c.needsRestart.empty()) << ::testing::PrintToString(c.needsRestart);
  // [pricing] is read by `linkplane usage`, not compared by a reload.
  EXPECT_EQ(loaded->prices.perEndpointZoneHour, defaults->prices.perEndpointZoneHour);
  ASSERT_EQ(loaded->prices.dataTiers.size(), defaults->prices.dataTiers.size());
  for (size_t i = 0; i < loaded->prices.dataTiers.size(); ++i) {
    EXPECT_EQ(loaded->prices.dataTiers[i].upToGb, defaults->prices.dataTiers[i].upToGb) << i;
    EXPECT_EQ(loaded->prices.dataTiers[i].perGb, defaults->prices.dataTiers[i].perGb) << i;
  }
}

}  // namespace
}  // namespace lp::daemon
