// linkplane: command-line entry point (serve, exec, demo, version).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>

#include "common/log.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "net/exec.h"
#include "net/nft_runner.h"

#ifndef LP_VERSION
#define LP_VERSION "0.0.0"
#endif

namespace {

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

int serve(const std::string& configPath, const std::string& stateDir, const std::string& listen) {
  // Forked first, while this process has one thread and a handful of descriptors.
  lp::Status nftHelper = lp::net::NftRunner::shared().start();
  lp::daemon::Config config = lp::daemon::defaultConfig();
  if (!configPath.empty()) {
    auto loaded = lp::daemon::loadConfig(configPath);
    if (!loaded.ok()) {
      std::cerr << "linkplane: " << loaded.status().message() << "\n";
      return 2;
    }
    config = std::move(loaded.value());
  }
  if (!stateDir.empty()) config.stateDir = stateDir;
  if (!listen.empty()) {
    if (auto l = lp::daemon::parseListen(listen); !l.ok()) {
      std::cerr << "linkplane: " << l.status().message() << "\n";
      return 2;
    }
    config.listen = listen;
  }
  lp::initLogging(config.logLevel);
  if (!nftHelper.ok()) LP_LOG_WARN("{} (retried on first use)", nftHelper.toString());
  raiseOpenFileLimit();

  // Signals are taken synchronously by this thread; every thread started later
  // inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  lp::daemon::Daemon d(std::move(config));
  if (auto st = d.start(); !st.ok()) {
    std::cerr << "linkplane: " << st.message() << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  LP_LOG_INFO("signal {}: stopping", sig);
  d.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"linkplane: self-hosted AWS PrivateLink for Linux"};
  app.require_subcommand(1);

  std::string configPath, stateDir, listen;
  auto* serveCmd = app.add_subcommand("serve", "Run the daemon");
  serveCmd->add_option("--config", configPath, "TOML configuration file");
  serveCmd->add_option("--state-dir", stateDir, "State directory (default /var/lib/linkplane)");
  serveCmd->add_option("--listen", listen, "API address ADDR:PORT (default 127.0.0.1:4566)");

  std::string eni;
  std::vector<std::string> command;
  auto* execCmd = app.add_subcommand("exec", "Run a command inside a workload interface's namespace");
  execCmd->add_option("--eni", eni, "Network interface id (eni-...)")->required();
  execCmd->add_option("--state-dir", stateDir, "State directory (unused; accepted for symmetry)");
  execCmd->add_option("command", command, "CMD [ARG...]")->required();

  bool keep = false;
  auto* demoCmd = app.add_subcommand("demo", "Walk through the seed scenario against a throw-away daemon, narrated");
  demoCmd->add_flag("--keep", keep,
                    "Afterwards print the console's address and the demo accounts' keys and keep the daemon running "
                    "until Ctrl-C");
  app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("version")) {
    std::cout << "linkplane " << LP_VERSION << "\n";
    return 0;
  }
  if (app.got_subcommand("exec")) {
    auto rc = lp::net::execInNamespace("lp-" + eni, command);
    if (!rc.ok()) {
      std::cerr << "linkplane: no workload interface " << eni << " on this host (" << rc.status().message() << ")\n";
      return 2;
    }
    return *rc;
  }
  if (app.got_subcommand("serve")) return serve(configPath, stateDir, listen);
  if (app.got_subcommand("demo")) return lp::daemon::runDemo(keep);
  return 1;
}
