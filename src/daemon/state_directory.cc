#include "daemon/state_directory.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lp::daemon {

Result<std::string> prepareStateDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  auto failed = [&](const std::string& what) {
    return Status("InternalError", "cannot create state directory " + dir + ": " + what);
  };
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return failed(std::strerror(errno));
    fs::path path(dir);
    if (!path.has_filename()) path = path.parent_path();  // "state/"
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (ec) return failed(ec.message());
    if (::mkdir(path.c_str(), 0700) == 0) {
      // mkdir's mode is masked by the umask: 0277 would leave it unwritable.
      if (::chmod(path.c_str(), 0700) != 0) return failed(std::strerror(errno));
    } else if (errno != EEXIST) {  // EEXIST: made meanwhile by someone else, checked below
      return failed(std::strerror(errno));
    }
    if (::stat(dir.c_str(), &st) != 0) return failed(std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return Status("InternalError", "state directory " + dir + " is not a directory");
  if ((st.st_mode & 077) == 0) return std::string();
  return fmt::format(
      "state directory {} is accessible by group or others (mode {:04o}); it holds the local CA's and the SNS "
      "signing keys: run chmod 700 {}",
      dir, st.st_mode & 07777, dir);
}

Result<int> lockStateDirectory(const std::string& dir) {
  const std::string path = dir + "/linkplane.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status("InternalError", "cannot open " + path + ": " + std::strerror(errno));
  // flock(2), not a POSIX record lock: a record lock goes when the process closes
  // any descriptor of the file (a status read of it would drop it). The one child
  // the daemon forks without exec, the nftables helper, closes what it inherits
  // first thing (nft_runner.cc, helperMain), so it does not keep the lock alive.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return Status("InternalError", "cannot lock " + path + ": " + std::strerror(err));
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status("InternalError", fmt::format("state directory {} is in use by another linkplane{}: stop it, or give "
                                               "this one another --state-dir",
                                               dir, pid.empty() ? "" : " (pid " + pid + ")"));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return Status("InternalError", "cannot write " + path + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace lp::daemon
