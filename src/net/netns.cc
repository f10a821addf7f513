#include "net/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace lp::net {

namespace {

Status sysError(const std::string& what) { return Status("InternalError", what + ": " + std::strerror(errno)); }

std::string pathOf(const std::string& name) { return std::string(kNetnsDir) + "/" + name; }

bool validName(const std::string& name) {
  return !name.empty() && name.size() < 200 && name.find('/') == std::string::npos && name != "." && name != "..";
}

// As iproute2 does: /run/netns is a shared mount point, so namespace mounts made
// here propagate to other mount namespaces (and `ip netns exec` sees them).
Status prepareNetnsDir() {
  if (mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST) return sysError("mkdir /run/netns");
  if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return Status::Ok();
  if (errno != EINVAL) return sysError("mount --make-shared /run/netns");
  if (mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0) return sysError("bind /run/netns");
  if (mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0) return sysError("make-shared /run/netns");
  return Status::Ok();
}

}  // namespace

Status createNamespace(const std::string& name) {
  if (!validName(name)) return Status("InvalidParameterValue", "bad namespace name '" + name + "'");
  if (namespaceExists(name)) return Status::Ok();
  if (Status st = prepareNetnsDir(); !st.ok()) return st;
  std::string path = pathOf(name);
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return sysError("create " + path);
  close(fd);
  // unshare on a throwaway thread: the calling thread keeps its namespace, and the
  // new one lives on in the bind mount after the thread ends.
  Status result;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      result = sysError("unshare(CLONE_NEWNET)");
      return;
    }
    std::string self = "/proc/self/task/" + std::to_string(gettid()) + "/ns/net";
    if (mount(self.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) result = sysError("bind mount " + path);
  });
  t.join();
  if (!result.ok()) unlink(path.c_str());
  return result;
}

Status deleteNamespace(const std::string& name) {
  if (!validName(name)) return Status("InvalidParameterValue", "bad namespace name '" + name + "'");
  std::string path = pathOf(name);
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sysError("umount " + path);
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return sysError("unlink " + path);
  return Status::Ok();
}

bool namespaceExists(const std::string& name) {
  if (!validName(name)) return false;
  // A leftover empty file (crash between create and mount) is not a namespace.
  int fd = open(pathOf(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = fstat(fd, &st) == 0 && st.st_dev != 0;
  // A bind-mounted nsfs file lives on the nsfs device, not on the tmpfs of /run.
  struct stat dir {};
  if (ok && stat(kNetnsDir, &dir) == 0) ok = st.st_dev != dir.st_dev;
  close(fd);
  return ok;
}

std::vector<std::string> listNamespaces(const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<int> openNamespace(const std::string& name) {
  if (!validName(name)) return Status("InvalidParameterValue", "bad namespace name '" + name + "'");
  int fd = open(pathOf(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status("InvalidNamespace.NotFound", "no network namespace " + name);
  if (fd < 0) return sysError("open namespace " + name);
  return fd;
}

Status runInNamespace(const std::string& name, const std::function<Status()>& fn) {
  auto fd = openNamespace(name);
  if (!fd) return fd.status();
  Status result;
  std::thread t([&] {
    if (setns(*fd, CLONE_NEWNET) != 0) {
      result = sysError("setns " + name);
      return;
    }
    result = fn();
  });
  t.join();
  close(*fd);
  return result;
}

Result<int> socketInNamespace(const std::string& name, int domain, int type) {
  int sock = -1;
  Status st = runInNamespace(name, [&]() -> Status {
    sock = socket(domain, type | SOCK_CLOEXEC, 0);
    return sock < 0 ? sysError("socket") : Status::Ok();
  });
  if (!st.ok()) return st;
  return sock;
}

Result<std::vector<int>> socketsInNamespaceFd(int nsFd, int homeFd, int domain, int type, int count) {
  if (setns(nsFd, CLONE_NEWNET) != 0) return sysError("setns");
  std::vector<int> out;
  int err = 0;
  for (int i = 0; i < count; ++i) {
    int sock = socket(domain, type | SOCK_CLOEXEC, 0);
    if (sock < 0) {
      err = errno;
      break;
    }
    out.push_back(sock);
  }
  if (setns(homeFd, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "linkplane: cannot return to the thread's namespace: %s\n", std::strerror(errno));
    std::abort();
  }
  if (out.empty()) {
    errno = err;
    return sysError("socket");
  }
  return out;
}

Result<int> socketInNamespaceFd(int nsFd, int homeFd, int domain, int type) {
  LP_ASSIGN_OR_RETURN(auto v, socketsInNamespaceFd(nsFd, homeFd, domain, type, 1));
  return v.front();
}

Result<int> openThreadNamespace() {
  std::string self = "/proc/thread-self/ns/net";
  int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sysError("open " + self);
  return fd;
}

Status setSysctl(const std::string& ns, const std::string& key, const std::string& value) {
  return runInNamespace(ns, [&]() -> Status {
    std::string path = "/proc/sys/" + key;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return sysError("open " + path);
    ssize_t n = write(fd, value.data(), value.size());
    int err = errno;
    close(fd);
    errno = err;
    return n == static_cast<ssize_t>(value.size()) ? Status::Ok() : sysError("write " + path);
  });
}

Result<std::string> getSysctl(const std::string& ns, const std::string& key) {
  std::string value;
  Status st = runInNamespace(ns, [&]() -> Status {
    // /proc/sys/net shows the namespace of the opening thread.
    std::ifstream in("/proc/sys/" + key);
    if (!in) return sysError("open /proc/sys/" + key);
    std::getline(in, value);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return value;
}

}  // namespace lp::net
