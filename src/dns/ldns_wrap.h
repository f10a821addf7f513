// The one way to include ldns from C++. ldns/common.h defines bool, true and
// false as macros (true -> 1) unless stdbool.h came first, which silently turns
// `true` into an int in every line after it (nlohmann::json then stores 1).
#pragma once

// clang-format off
#include <stdbool.h>
#include <ldns/ldns.h>
// clang-format on
