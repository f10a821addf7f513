// The keys a configuration file may hold and the type of each. A key the daemon does
// not know is refused rather than ignored: `dataplne = false` (a typo) used to start
// the data plane as root without a word. Pure functions; no I/O.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lp::daemon {

// Refuses the first key of `root` that is not in the schema, or that holds a value of
// the wrong type: "FILE:LINE: unknown key 'dataplne' (did you mean 'dataplane'?)".
// `file` names the file in the message.
Status checkConfigKeys(const toml::table& root, const std::string& file);

// Every key the schema knows, dotted ("limits.vpcs_per_account"), tables included
// ("limits"); the keys inside one entry of a table of named entries are written with
// '*' for the name ("aws_service_backends.*.url"). For tests that keep the example
// config, the docs and the reload in step with the schema.
std::vector<std::string> knownConfigKeys();

// Where a value error points: "FILE:LINE" of `node` (a value, or a table's header),
// or "FILE" alone when it is null or has no position (a default the file does not set),
// so a value out of range names its line as an unknown key does.
std::string whereInFile(const std::string& file, const toml::node* node);
// The same for the key at `dotted` ("dataplane.workers") under `root`.
std::string whereInFile(const std::string& file, const toml::table& root, std::string_view dotted);

// Levenshtein distance (insert, delete, substitute one character each cost 1).
size_t editDistance(std::string_view a, std::string_view b);

// The known key nearest to `key` when it looks like a typo of it (within a third of
// its length, at least 1 and at most 3 edits); "" otherwise.
std::string nearestKey(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace lp::daemon
