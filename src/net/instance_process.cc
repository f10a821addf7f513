#include "net/instance_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>

#include "net/exec.h"

namespace lp::net {

Result<int> spawnDetached(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::string& outputPath) {
  if (argv.empty()) return Status("InternalError", "nothing to run");
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, outputPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // None of the daemon's sockets (its API port, listeners) may stay open in a
  // program that outlives it.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // The daemon blocks and ignores signals for its own handling; an instance's
  // programs get the defaults, so TERM stops them.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status("InternalError", "cannot start " + argv[0] + ": " + std::strerror(rc));
  return static_cast<int>(pid);
}

std::optional<int> reapIfExited(int pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) return -1;  // not our child (any more)
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<int> processesInNamespace(const std::string& ns) {
  std::vector<int> out;
  struct stat want {};
  if (stat(("/run/netns/" + ns).c_str(), &want) != 0) return out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  int self = getpid();
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    struct stat have {};
    std::string path = std::string("/proc/") + e->d_name + "/ns/net";
    if (stat(path.c_str(), &have) == 0 && have.st_ino == want.st_ino && have.st_dev == want.st_dev)
      out.push_back(static_cast<int>(pid));
  }
  closedir(d);
  return out;
}

std::optional<std::string> findInstanceInterface(const std::string& instanceId, const std::string& etcNetns) {
  std::string root = namespaceFilesRoot(etcNetns);
  DIR* d = opendir(root.c_str());
  if (!d) return std::nullopt;
  std::optional<std::string> found;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("lp-eni-", 0) != 0) continue;
    std::ifstream in(root + "/" + name + "/instance");
    std::string id;
    if (in >> id && id == instanceId) {
      found = name.substr(3);
      break;
    }
  }
  closedir(d);
  return found;
}

void signalAll(const std::vector<int>& pids, int sig) {
  for (int pid : pids) (void)kill(pid, sig);
}

}  // namespace lp::net

