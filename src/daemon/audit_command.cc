#include "daemon/audit_command.h"

#include <iostream>
#include <optional>
#include <tuple>

#include "audit/audit_log.h"
#include "audit/audit_query.h"
#include "common/strings.h"

namespace lp::daemon {

namespace {

std::optional<WallTime> timeArg(const std::string& s, WallTime now) {
  if (auto t = parseIso8601(s)) return t;
  if (s.size() < 2) return std::nullopt;
  auto n = parseInt(s.substr(0, s.size() - 1));
  if (!n || *n < 0 || *n > 100'000'000) return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  return now - std::chrono::seconds(*n * unit);
}

}  // namespace

int auditCommand(const std::string& stateDir, const std::string& account, const std::string& since,
                 const std::string& until) {
  audit::AuditQuery q;
  auto now = std::chrono::system_clock::now();
  if (!account.empty()) q.account = account;
  for (auto [arg, name, dst] : {std::tuple{&since, "--since", &q.start}, std::tuple{&until, "--until", &q.end}}) {
    if (arg->empty()) continue;
    auto t = timeArg(*arg, now);
    if (!t) {
      std::cerr << "linkplane: " << name << " takes a time (2026-12-05T10:00:00Z) or an age (90s, 15m, 2h, 7d), not '"
                << *arg << "'\n";
      return 2;
    }
    *dst = *t;
  }
  std::string dir = stateDir + "/audit";
  if (audit::auditFiles(dir).empty()) {
    std::cerr << "linkplane: no audit log in " << dir << "\n";
    return 2;
  }
  auto st = audit::scanAuditDir(dir, [&](audit::AuditRecord&& r) {
    if (audit::matches(r, q)) std::cout << audit::toJsonLine(r) << "\n";
  });
  if (!st.ok()) {
    std::cerr << "linkplane: " << st.message() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace lp::daemon
