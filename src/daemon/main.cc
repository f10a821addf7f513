// linkplane: command-line entry point (serve, exec, demo, version).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include "common/log.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "net/exec.h"

#ifndef LP_VERSION
#define LP_VERSION "0.0.0"
#endif

namespace {

// Each forwarded connection holds six descriptors (two sockets, two pipes), so the
// usual soft limit of 1024 would stop the data plane near 170 connections. The
// soft limit goes up to the hard one, as nginx and HAProxy do; nothing here uses
// select(), which cannot take descriptors past 1023.
void raiseOpenFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  rlim_t was = r.rlim_cur;
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) == 0) {
    LP_LOG_INFO("open-file limit raised from {} to {}", was, r.rlim_cur);
  } else {
    LP_LOG_WARN("open-file limit stays at {}: {}", was, strerror(errno));
  }
}

int serve(const std::string& configPath, const std::string& stateDir, const std::string& listen) {
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

  app.add_subcommand("demo", "Walk through the seed scenario against a throw-away daemon, narrated");
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
  if (app.got_subcommand("demo")) return lp::daemon::runDemo();
  return 1;
}
