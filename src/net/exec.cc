#include "net/exec.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "net/netns.h"

namespace lp::net {

Result<int> execInNamespace(const std::string& ns, const std::vector<std::string>& argv, const std::string& etcNetns) {
  if (argv.empty()) return Status("InvalidParameterValue", "no command to run");
  if (!namespaceExists(ns)) return Status("InvalidNamespace.NotFound", "no network namespace " + ns);
  LP_ASSIGN_OR_RETURN(int fd, openNamespace(ns));
  std::string resolv = etcNetns + "/" + ns + "/resolv.conf";
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return Status("InternalError", std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    if (setns(fd, CLONE_NEWNET) != 0) {
      perror("linkplane exec: setns");
      _exit(127);
    }
    struct stat st {};
    if (stat(resolv.c_str(), &st) == 0) {
      if (unshare(CLONE_NEWNS) != 0 || mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0 ||
          mount(resolv.c_str(), "/etc/resolv.conf", "none", MS_BIND, nullptr) != 0) {
        perror("linkplane exec: resolv.conf");
        _exit(127);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fprintf(stderr, "linkplane exec: %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status("InternalError", std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace lp::net
