#include "daemon/state_directory.h"

#include <fmt/format.h>
#include <sys/stat.h>

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

}  // namespace lp::daemon
