#include "common/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace lp {

namespace {

// The syslog priority prefix ("<3>" for errors) that journald reads off a stream
// (sd-daemon(3)), so `journalctl -p warning` filters by level.
class SyslogPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    auto i = static_cast<size_t>(msg.level);
    const char* p = i < std::size(kPriority) ? kPriority[i] : "<6>";
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriority>(); }
};

// Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to its
// "device:inode", which a redirected stderr no longer matches.
bool stderrIsJournal() {
  const char* v = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!v || fstat(STDERR_FILENO, &st) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(v, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == st.st_dev && ino == st.st_ino;
}

}  // namespace

void initLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("linkplane");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  if (stderrIsJournal()) {
    // The journal stamps each line itself.
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<SyslogPriority>('*').set_pattern("%*%l %v");
    spdlog::set_formatter(std::move(f));
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
}

}  // namespace lp
