// linkplane: command-line entry point (serve, exec, ca, usage, audit, demo, version).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/log.h"
#include "daemon/audit_command.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "daemon/manpage.h"
#include "daemon/sd_notify.h"
#include "daemon/status_socket.h"
#include "store/state_admin.h"
#include "net/exec.h"
#include "net/instance_process.h"
#include "net/nft_runner.h"

#ifndef LP_VERSION
#define LP_VERSION "0.0.0"
#endif

namespace {

// Exit statuses of serve (README "Command line").
constexpr int kExitCannotStart = 1;
constexpr int kExitBadConfig = 2;
constexpr int kExitStateTooNew = 3;
// linkplane status, as LSB and systemctl have it.
constexpr int kExitNotRunning = 3;

// Beyond this many descriptors the kernel's per-process tables cost more than the
// data plane needs (10,000 endpoints hold about 40,000 listening sockets).
constexpr rlim_t kMaxOpenFiles = 1 << 20;

// Each forwarded connection holds six descriptors (two sockets, two pipes) and each
// endpoint a listener per port, so the usual soft limit of 1024 would stop the data
// plane near 170 connections. The soft limit goes up to the hard one, as nginx and
// HAProxy do, and as root the hard one first goes up to fs.nr_open (at most
// kMaxOpenFiles). Descriptor numbers past 1023 are safe here: the only library that
// uses select(), libnftables, runs in its own process (net/nft_runner.h).
void raiseOpenFileLimit() {
  rlimit was{};
  if (getrlimit(RLIMIT_NOFILE, &was) != 0) return;
  rlim_t hard = was.rlim_max;
  rlim_t nrOpen = 0;
  if (std::ifstream in("/proc/sys/fs/nr_open"); geteuid() == 0 && in >> nrOpen) {
    rlim_t want = std::min(nrOpen, kMaxOpenFiles);
    if (want > hard) {
      rlimit up{want, want};
      if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
        LP_LOG_INFO("open-file limit raised from {} to {} (hard limit was {})", was.rlim_cur, want, hard);
        return;
      }
      LP_LOG_WARN("open-file hard limit stays at {}: {}", hard, strerror(errno));
    }
  }
  if (was.rlim_cur >= hard) return;
  rlimit soft{hard, hard};
  if (setrlimit(RLIMIT_NOFILE, &soft) == 0) {
    LP_LOG_INFO("open-file limit raised from {} to {} (hard limit was {})", was.rlim_cur, hard, hard);
  } else {
    LP_LOG_WARN("open-file limit stays at {}: {}", was.rlim_cur, strerror(errno));
  }
}

// The config as `serve` runs it: the file (or the built-in default) with the
// command line's overrides.
lp::Result<lp::daemon::Config> effectiveConfig(const std::string& configPath, const std::string& stateDir,
                                               const std::string& listen) {
  lp::daemon::Config config = lp::daemon::defaultConfig();
  if (!configPath.empty()) {
    auto loaded = lp::daemon::loadConfig(configPath);
    if (!loaded.ok()) return loaded.status();
    config = std::move(loaded.value());
  }
  if (!stateDir.empty()) config.stateDir = stateDir;
  if (!listen.empty()) {
    if (auto l = lp::daemon::parseListen(listen); !l.ok()) return l.status();
    config.listen = listen;
  }
  return config;
}

int serve(const std::string& configPath, const std::string& stateDir, const std::string& listen) {
  // Forked first, while this process has one thread and a handful of descriptors.
  lp::Status nftHelper = lp::net::NftRunner::shared().start();
  auto loaded = effectiveConfig(configPath, stateDir, listen);
  if (!loaded.ok()) {
    std::cerr << "linkplane: " << loaded.status().message() << "\n";
    return kExitBadConfig;
  }
  lp::daemon::Config config = std::move(loaded.value());
  lp::initLogging(config.logLevel);
  if (!nftHelper.ok()) LP_LOG_WARN("{} (retried on first use)", nftHelper.toString());
  raiseOpenFileLimit();

  // Signals are taken synchronously by this thread; every thread started later
  // inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  lp::daemon::Daemon d(std::move(config));
  if (auto st = d.start(); !st.ok()) {
    std::cerr << "linkplane: " << st.message() << "\n";
    return st.code() == "StateTooNew" ? kExitStateTooNew : kExitCannotStart;
  }
  int sig = 0;
  while (true) {
    sigwait(&set, &sig);
    if (sig != SIGHUP) break;
    if (configPath.empty()) {
      LP_LOG_INFO("SIGHUP: no --config file to reload; nothing changed");
      continue;
    }
    auto next = effectiveConfig(configPath, stateDir, listen);
    if (!next.ok()) {
      LP_LOG_ERROR("SIGHUP: {}; still running with the previous configuration", next.status().message());
      continue;
    }
    LP_LOG_INFO("SIGHUP: reloading {}", configPath);
    d.reload(next.value());
  }
  LP_LOG_INFO("signal {}: stopping", sig);
  (void)lp::daemon::sdNotify("STOPPING=1");
  d.stop();
  return 0;
}

int backup(const std::string& configPath, const std::string& stateDir, const std::string& file) {
  auto config = effectiveConfig(configPath, stateDir, "");
  if (!config.ok()) {
    std::cerr << "linkplane: " << config.status().message() << "\n";
    return kExitBadConfig;
  }
  auto info = lp::store::backupSqliteStore(config->stateDir, file);
  if (!info.ok()) {
    std::cerr << "linkplane: " << info.status().message() << "\n";
    return kExitCannotStart;
  }
  std::cout << "linkplane: backed up " << config->stateDir << " to " << file << ": revision " << info->revision
            << ", " << info->objects << " objects, schema version " << info->schemaVersion << ", " << info->bytes
            << " bytes\n";
  return 0;
}

std::string humanDuration(int64_t s) {
  char buf[64];
  if (s >= 86400)
    snprintf(buf, sizeof buf, "%lldd %lldh %lldm", (long long)(s / 86400), (long long)(s % 86400 / 3600),
             (long long)(s % 3600 / 60));
  else if (s >= 3600)
    snprintf(buf, sizeof buf, "%lldh %lldm %llds", (long long)(s / 3600), (long long)(s % 3600 / 60), (long long)(s % 60));
  else
    snprintf(buf, sizeof buf, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

// Exit status as `systemctl status` has it: 0 running, 3 not running.
int status(const std::string& configPath, const std::string& stateDir, bool asJson) {
  auto config = effectiveConfig(configPath, stateDir, "");
  if (!config.ok()) {
    std::cerr << "linkplane: " << config.status().message() << "\n";
    return kExitBadConfig;
  }
  auto doc = lp::daemon::readStatusSocket(lp::daemon::Daemon::statusSocketPath(config->stateDir));
  if (!doc.ok() || doc->empty()) {
    if (asJson) {
      std::cout << nlohmann::json{{"up", false}, {"state_dir", config->stateDir}}.dump() << "\n";
    } else {
      std::cout << "linkplane: not running (state directory " << config->stateDir << ", "
                << (doc.ok() ? "no answer" : doc.status().message()) << ")\n";
    }
    return kExitNotRunning;
  }
  auto j = nlohmann::json::parse(*doc, nullptr, false);
  if (j.is_discarded()) {
    std::cerr << "linkplane: unreadable status from the daemon: " << *doc << "\n";
    return kExitCannotStart;
  }
  j["up"] = true;
  if (asJson) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "linkplane: up, version " << j.value("version", "?") << ", pid " << j.value("pid", 0) << ", uptime "
            << humanDuration(j.value("uptime_seconds", int64_t{0})) << "\n";
  std::cout << "  api:         " << j.value("listen", "") << "\n";
  std::cout << "  state:       " << j.value("state_dir", "") << ", " << j.value("state_bytes", uint64_t{0})
            << " bytes, schema version " << j.value("schema_version", 0) << ", revision " << j.value("revision", 0)
            << "\n";
  std::cout << "  data plane:  " << (j.value("dataplane", false) ? "on" : "off");
  if (j.contains("dataplane_path")) std::cout << ", path " << j.value("dataplane_path", "");
  std::cout << "\n";
  if (j.contains("bpf_fastpath")) {
    // The BPF fast path's links and what the programs counted on each (lp_link_stats).
    const auto& b = j["bpf_fastpath"];
    std::cout << "  bpf links:   " << b["links"].size() << ", endpoints on splice: " << b["refused"].size()
              << " refused, " << b["failed"].size() << " failed\n";
    for (const auto& l : b["links"])
      std::cout << "    link " << l.value("id", 0) << "  " << l.value("endpoint", "") << "  " << l.value("interface", "")
                << "  " << l.value("new_connections", uint64_t{0}) << " new, " << l.value("bytes_to_target", uint64_t{0})
                << " bytes to target, " << l.value("bytes_to_client", uint64_t{0}) << " to client, "
                << l.value("drops", uint64_t{0}) << " dropped\n";
    for (const auto& [id, why] : b["failed"].items())
      std::cout << "    " << id << " failed: " << why.get<std::string>() << "\n";
  }
  if (j.contains("reconciler"))
    std::cout << "  reconciler:  " << j["reconciler"].value("queued_keys", 0) << " keys queued, "
              << j["reconciler"].value("passes", 0) << " passes\n";
  size_t open = j.value("endpoints_not_converged", size_t{0});
  std::cout << "  endpoints not converged: " << open << "\n";
  for (const auto& e : j["endpoints_not_converged_first"]) {
    std::cout << "    " << e.value("id", "") << "  " << e.value("state", "") << "  " << e.value("vpc", "");
    if (e.contains("error")) std::cout << "  " << e.value("error", "");
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"linkplane: self-hosted AWS PrivateLink for Linux"};
  app.require_subcommand(1);
  app.footer(lp::daemon::helpFooter());

  std::string configPath, stateDir, listen;
  auto* serveCmd = app.add_subcommand("serve", "Run the daemon");
  serveCmd->add_option("--config", configPath, "TOML configuration file");
  serveCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  serveCmd->add_option("--listen", listen, "API address ADDR:PORT (default 127.0.0.1:4566)");

  std::string eni, instance;
  std::vector<std::string> command;
  auto* execCmd =
      app.add_subcommand("exec", "Run a command inside a workload interface's or a running instance's namespace");
  auto* eniOpt = execCmd->add_option("--eni", eni, "Network interface id (eni-...)");
  auto* instanceOpt = execCmd->add_option("--instance", instance, "Instance id (i-...), while it runs");
  eniOpt->excludes(instanceOpt);
  execCmd->add_option("--state-dir", stateDir, "State directory (unused; accepted for symmetry)");
  execCmd->add_option("command", command, "CMD [ARG...]")->required();

  std::string backupFile;
  auto* backupCmd = app.add_subcommand(
      "backup", "Write a consistent copy of the state to FILE, also while the daemon runs (SQLite online backup)");
  backupCmd->add_option("--config", configPath, "TOML configuration file naming the state directory");
  backupCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  backupCmd->add_option("file", backupFile, "FILE to write (replaced only once the copy is complete)")->required();

  bool statusJson = false;
  auto* statusCmd = app.add_subcommand(
      "status", "Whether the daemon is up, its version, uptime, state size and what it has not converged yet");
  statusCmd->add_option("--config", configPath, "TOML configuration file naming the state directory");
  statusCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  statusCmd->add_flag("--json", statusJson, "Print the daemon's status document as JSON");

  auto* caCmd = app.add_subcommand("ca", "Print the local CA certificate (PEM) that the HTTPS API's certificate "
                                          "chains to, made at the daemon's first start");
  caCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");

  std::string usageAccount, usageMonth, usageFormat = "table";
  auto* usageCmd = app.add_subcommand("usage", "What interface endpoints cost: endpoint-zone hours and data "
                                               "processed per account and month, priced from the config");
  usageCmd->add_option("--config", configPath, "TOML configuration file (for [pricing] and state_dir)");
  usageCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  usageCmd->add_option("--account", usageAccount, "Only this account (12 digits)");
  usageCmd->add_option("--month", usageMonth, "YYYY-MM (default: this month, UTC)");
  usageCmd->add_option("--format", usageFormat, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));

  std::string auditAccount, auditSince, auditUntil;
  auto* auditCmd = app.add_subcommand("audit", "The audit log: every mutating call and refused request, as JSON lines, "
                                               "oldest first");
  auditCmd->add_option("--config", configPath, "TOML configuration file (for state_dir)");
  auditCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  auditCmd->add_option("--account", auditAccount, "Only this account (12 digits)");
  auditCmd->add_option("--since", auditSince, "From this time (2026-12-05T10:00:00Z) or age (15m, 2h, 7d)");
  auditCmd->add_option("--until", auditUntil, "Up to this time or age");

  bool keep = false;
  auto* demoCmd = app.add_subcommand("demo", "Walk through the seed scenario against a throw-away daemon, narrated");
  demoCmd->add_flag("--keep", keep,
                    "Afterwards print the console's address and the demo accounts' keys and keep the daemon running "
                    "until Ctrl-C");
  app.add_subcommand("version", "Print the version");
  app.add_subcommand("man", "Print the manual page (roff), made from this help text")->group("");

  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("version")) {
    std::cout << "linkplane " << LP_VERSION << "\n";
    return 0;
  }
  if (app.got_subcommand("man")) {
    std::cout << lp::daemon::manPage(app, LP_VERSION);
    return 0;
  }
  if (app.got_subcommand("backup")) return backup(configPath, stateDir, backupFile);
  if (app.got_subcommand("status")) return status(configPath, stateDir, statusJson);
  if (app.got_subcommand("exec")) {
    if (eni.empty() && instance.empty()) {
      std::cerr << "linkplane: exec needs --eni ENI_ID or --instance INSTANCE_ID\n";
      return 2;
    }
    if (!instance.empty()) {
      auto found = lp::net::findInstanceInterface(instance);
      if (!found) {
        std::cerr << "linkplane: no running instance " << instance << " on this host\n";
        return 2;
      }
      eni = *found;
    }
    auto rc = lp::net::execInNamespace("lp-" + eni, command);
    if (!rc.ok()) {
      std::cerr << "linkplane: no workload interface " << eni << " on this host (" << rc.status().message() << ")\n";
      return 2;
    }
    return *rc;
  }
  if (app.got_subcommand("ca")) {
    std::string dir = stateDir.empty() ? lp::daemon::defaultConfig().stateDir : stateDir;
    std::ifstream in(dir + "/ca.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in || pem.str().empty()) {
      std::cerr << "linkplane: no local CA in " << dir << " (it is made when the daemon first starts there)\n";
      return 2;
    }
    std::cout << pem.str();
    return 0;
  }
  if (app.got_subcommand("usage")) {
    lp::daemon::Config config = lp::daemon::defaultConfig();
    if (!configPath.empty()) {
      auto loaded = lp::daemon::loadConfig(configPath);
      if (!loaded.ok()) {
        std::cerr << "linkplane: " << loaded.status().message() << "\n";
        return 2;
      }
      config = std::move(loaded.value());
    }
    std::string dir = stateDir.empty() ? config.stateDir : stateDir;
    std::string month = usageMonth.empty() ? lp::metrics::monthOf(std::chrono::system_clock::now()) : usageMonth;
    if (auto m = lp::metrics::monthHours(month); !m.ok()) {
      std::cerr << "linkplane: " << m.status().message() << "\n";
      return 2;
    }
    auto records = lp::metrics::UsageLedger::readFile(dir + "/usage.jsonl");
    std::cout << lp::metrics::formatUsage(lp::metrics::usageReport(records, config.prices, month, usageAccount),
                                          usageFormat);
    return 0;
  }
  if (app.got_subcommand("audit")) {
    auto config = effectiveConfig(configPath, stateDir, "");
    if (!config.ok()) {
      std::cerr << "linkplane: " << config.status().message() << "\n";
      return 2;
    }
    return lp::daemon::auditCommand(config->stateDir, auditAccount, auditSince, auditUntil);
  }
  if (app.got_subcommand("serve")) return serve(configPath, stateDir, listen);
  if (app.got_subcommand("demo")) return lp::daemon::runDemo(keep);
  return 1;
}
