// The manual page, linkplane(1), rendered from the command line's own definition
// (CLI11 descriptions of every command and option) and the sections below, which
// --help prints as its footer: one text, two forms. Built into the package by
// running `linkplane man` at build time.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace lp::daemon {

struct HelpSection {
  std::string title;  // "EXIT STATUS"
  std::string body;   // paragraphs separated by blank lines; "  " indented lines are items
};

// FILES, SIGNALS, EXIT STATUS, SEE ALSO: shared by --help's footer and the man page.
const std::vector<HelpSection>& helpSections();
// The footer text --help prints.
std::string helpFooter();
// roff for man(1).
std::string manPage(const CLI::App& app, const std::string& version);

}  // namespace lp::daemon
