// Small string helpers shared by every module. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lp {

std::string toHex(std::string_view bytes);
std::string toLower(std::string_view s);
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool startsWith(std::string_view s, std::string_view prefix);
bool endsWith(std::string_view s, std::string_view suffix);
// Decodes application/x-www-form-urlencoded text ('+' is space, %XX bytes).
// nullopt on a malformed escape.
std::optional<std::string> formUrlDecode(std::string_view s);
// Parses a whole decimal integer; nullopt on anything else.
std::optional<int64_t> parseInt(std::string_view s);
std::string xmlEscape(std::string_view s);
// Matches EC2 filter wildcards: '*' any run, '?' one character.
bool wildcardMatch(std::string_view pattern, std::string_view text);
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace lp
