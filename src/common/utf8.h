// UTF-8 checks for text that arrives from clients and goes on to XML, JSON (which
// throws on malformed bytes) or the store.
#pragma once

#include <string_view>

namespace lp {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool isValidUtf8(std::string_view s);

}  // namespace lp
