#include "daemon/manpage.h"

#include <sstream>

namespace lp::daemon {

namespace {

// Escapes text for roff: backslashes, and a leading '.' or '\'' that would read as a request.
std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

const std::vector<HelpSection>& helpSections() {
  static const std::vector<HelpSection> kSections = {
      {"FILES",
       "  /etc/linkplane/linkplane.toml   the configuration (every key documented in it)\n"
       "  /var/lib/linkplane/linkplane.db the state (SQLite); back it up with `linkplane backup`\n"
       "  /var/lib/linkplane/linkplane.sock  the status socket `linkplane status` reads"},
      {"SIGNALS",
       "  SIGTERM, SIGINT  stop cleanly, removing the namespaces and nftables made\n"
       "  SIGHUP           reload the config: log_level, [[accounts]] and their keys, [limits]\n"
       "                   and [aws_service_backends] apply at once; the log names each change\n"
       "                   and every other changed key as needing a restart"},
      {"EXIT STATUS",
       "  serve: 0 stopped by a signal; 1 cannot start; 2 bad config file or listen address;\n"
       "         3 the state was written by a newer linkplane (nothing is changed)\n"
       "  status: 0 up; 3 not running\n"
       "  exec: the command's status; 127 it cannot be started; 2 no such workload"},
      {"SEE ALSO", "  systemctl(1), journalctl(1), aws(1); README.md and docs/install.md in the source"},
  };
  return kSections;
}

std::string helpFooter() {
  std::string out;
  for (const auto& s : helpSections()) out += "\n" + s.title + "\n" + s.body + "\n";
  return out;
}

std::string manPage(const CLI::App& app, const std::string& version) {
  std::ostringstream m;
  std::string desc = app.get_description();
  if (auto colon = desc.find(": "); colon != std::string::npos) desc = desc.substr(colon + 2);
  m << ".TH LINKPLANE 1 \"\" \"linkplane " << version << "\" \"User Commands\"\n";
  m << ".SH NAME\nlinkplane \\- " << roff(desc) << "\n";
  auto subs = app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
  m << ".SH SYNOPSIS\n";
  for (const auto* sub : subs) {
    m << ".B linkplane " << roff(sub->get_name()) << "\n";
    for (const auto* o : sub->get_options()) {
      if (o == sub->get_help_ptr()) continue;
      std::string name = o->get_positional() ? o->get_name() : o->get_name();
      std::string arg = o->get_type_name();
      bool flag = o->get_expected_min() == 0;
      std::string shown = o->get_positional() ? "\\fI" + roff(o->get_name()) + "\\fR"
                                              : "\\fB" + roff(name) + "\\fR" + (flag ? "" : " \\fI" + roff(arg) + "\\fR");
      if (o->get_positional() && o->get_expected_max() > 1) shown += " ...";
      m << (o->get_required() ? shown : "[" + shown + "]") << "\n";
    }
    m << ".br\n";
  }
  m << ".SH COMMANDS\n";
  for (const auto* sub : subs) {
    m << ".TP\n.B " << roff(sub->get_name()) << "\n" << roff(sub->get_description()) << "\n";
    for (const auto* o : sub->get_options()) {
      if (o == sub->get_help_ptr()) continue;
      m << ".RS\n.TP\n\\fB" << roff(o->get_name()) << "\\fR\n" << roff(o->get_description()) << "\n.RE\n";
    }
  }
  for (const auto& s : helpSections()) {
    m << ".SH " << s.title << "\n";
    bool inList = false;
    for (const auto& l : lines(s.body)) {
      if (l.rfind("  ", 0) == 0) {
        if (!inList) m << ".nf\n";
        inList = true;
        m << roff(l.substr(2)) << "\n";
      } else {
        if (inList) m << ".fi\n";
        inList = false;
        m << roff(l) << "\n";
      }
    }
    if (inList) m << ".fi\n";
  }
  return m.str();
}

}  // namespace lp::daemon
