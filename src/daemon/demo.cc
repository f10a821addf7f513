#include "daemon/demo.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "daemon/config.h"
#include "daemon/demo_script.h"

namespace lp::daemon {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);
constexpr std::string_view kListening = "linkplane listening on ";

volatile sig_atomic_t g_scriptPid = 0;
volatile sig_atomic_t g_interrupted = 0;

// SIGINT/SIGTERM while the walkthrough runs: stop the script, then clean up as
// usual. (A terminal's Ctrl-C already reaches the script: same process group.)
void onSignal(int sig) {
  g_interrupted = sig;
  if (g_scriptPid > 0) kill(g_scriptPid, SIGTERM);
}

std::string selfPath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("linkplane") : p.string();
}

// Spawns argv with stdout to a pipe (returned in *stdoutFd, if given) and stderr
// to errPath (if not empty), in its own process group when newGroup.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
            int* stdoutFd, const std::string& errPath, bool newGroup) {
  int fds[2] = {-1, -1};
  if (stdoutFd && pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (newGroup) setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (stdoutFd) dup2(fds[1], STDOUT_FILENO);
    if (!errPath.empty()) {
      int fd = open(errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
    }
    for (auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (stdoutFd) {
    close(fds[1]);
    *stdoutFd = fds[0];
  }
  return pid;
}

// Reads the daemon's stdout until its listening line; returns the URL.
std::optional<std::string> waitForListening(int fd, pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string buf;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line.rfind(kListening, 0) == 0) return line.substr(kListening.size());
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (r > 0) {
      char chunk[512];
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n == 0) return std::nullopt;  // the daemon exited
      if (n > 0) buf.append(chunk, static_cast<size_t>(n));
    }
    if (g_interrupted) return std::nullopt;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return std::nullopt;
  }
  return std::nullopt;
}

// SIGTERM, then SIGKILL after kStopTimeout. Returns the daemon's exit code (-1
// when it had to be killed or died of a signal).
int stopDaemon(pid_t pid) {
  kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 && errno != EINTR) return -1;
    usleep(50 * 1000);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return -1;
}

void printLogTail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  size_t from = lines.size() > 30 ? lines.size() - 30 : 0;
  if (from < lines.size()) std::cerr << "--- daemon log (last lines) ---\n";
  for (size_t i = from; i < lines.size(); ++i) std::cerr << lines[i] << "\n";
}

// What a user needs to look around after the walkthrough: the console and the keys.
void printConsoleAccess(const std::string& url, const Config& config) {
  std::cout << "\nThe VPC console: " << url << "/console/\n"
            << "Sign in with an account's access key ID and secret access key:\n";
  for (const auto& a : config.region.accounts)
    std::cout << "  " << a.name << " (" << a.id << "): " << a.accessKeyId << "  " << a.secretAccessKey << "\n";
  std::cout << "The AWS CLI works too: aws --endpoint-url " << url << " ...\n"
            << "The daemon keeps running until you press Ctrl-C." << std::endl;
}

// Until SIGINT/SIGTERM or the daemon exits on its own.
void waitWhileUserLooks(pid_t daemon) {
  while (!g_interrupted) {
    int status;
    if (waitpid(daemon, &status, WNOHANG) == daemon) return;
    usleep(200 * 1000);
  }
}

}  // namespace

int runDemo(bool keep) {
  const Config config = defaultConfig();
  if (config.region.accounts.size() < 2) {
    std::cerr << "linkplane demo: the default configuration needs two accounts\n";
    return 1;
  }
  char tmpl[] = "/tmp/linkplane-demo-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::cerr << "linkplane demo: mkdtemp: " << std::strerror(errno) << "\n";
    return 1;
  }
  const std::string dir = tmpl;
  const std::string stateDir = dir + "/state";
  const std::string logPath = dir + "/daemon.log";
  const std::string scriptPath = dir + "/demo.sh";
  const bool root = geteuid() == 0;

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int rc = 1;
  std::vector<std::string> serveArgs = {selfPath(), "serve", "--state-dir", stateDir, "--listen", "127.0.0.1:0"};
  if (!root) {
    // Without root there are no namespaces to make: control plane only.
    // 0600 like every config (the daemon refuses secrets open to others), and
    // the demo's subscribers live on loopback.
    int fd = open((dir + "/config.toml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const std::string text = "dataplane = false\n\n[sns]\nsubscriber_networks = [\"127.0.0.0/8\"]\n";
    if (fd >= 0) {
      (void)!write(fd, text.data(), text.size());
      close(fd);
    }
    serveArgs.push_back("--config");
    serveArgs.push_back(dir + "/config.toml");
  }
  int out = -1;
  pid_t daemon = spawn(serveArgs, {}, &out, logPath, true);
  if (daemon < 0) {
    std::cerr << "linkplane demo: cannot start the daemon: " << std::strerror(errno) << "\n";
  } else if (auto url = waitForListening(out, daemon); !url) {
    std::cerr << "linkplane demo: the daemon did not start\n";
    printLogTail(logPath);
  } else {
    std::ofstream(scriptPath) << kDemoScript;
    const auto& p = config.region.accounts[0];
    const auto& c = config.region.accounts[1];
    std::vector<std::pair<std::string, std::string>> env = {
        {"ENDPOINT", *url},
        {"LINKPLANE", selfPath()},
        {"DATAPLANE", root ? "1" : "0"},
        {"PROVIDER_ACCOUNT", p.id},
        {"PROVIDER_KEY", p.accessKeyId},
        {"PROVIDER_SECRET", p.secretAccessKey},
        {"CONSUMER_ACCOUNT", c.id},
        {"CONSUMER_KEY", c.accessKeyId},
        {"CONSUMER_SECRET", c.secretAccessKey},
        {"AWS_DEFAULT_REGION", config.region.name},
    };
    std::cout << std::flush;
    pid_t script = spawn({"/bin/bash", scriptPath}, env, nullptr, "", false);
    if (script < 0) {
      std::cerr << "linkplane demo: cannot run bash: " << std::strerror(errno) << "\n";
    } else {
      g_scriptPid = script;
      if (g_interrupted) kill(script, SIGTERM);
      int status = 0;
      while (waitpid(script, &status, 0) < 0 && errno == EINTR) {
      }
      g_scriptPid = 0;
      rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      if (rc != 0) printLogTail(logPath);
      if (keep && !g_interrupted) {
        printConsoleAccess(*url, config);
        waitWhileUserLooks(daemon);
        // Ctrl-C while looking is how the user ends a kept demo, not a failure.
        if (g_interrupted && rc == 0) g_interrupted = 0;
      } else if (rc == 0) {
        std::cout << "\nTo look at it all in the VPC console afterwards, run `linkplane demo --keep`." << std::endl;
      }
    }
  }
  if (out >= 0) close(out);
  if (daemon > 0) {
    int drc = stopDaemon(daemon);
    if (drc != 0) {
      std::cerr << "linkplane demo: the daemon did not stop cleanly (exit " << drc << ")\n";
      if (rc == 0) rc = 1;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (g_interrupted && rc == 0) rc = 130;
  return rc;
}

}  // namespace lp::daemon
