#include "net/bpf/bpffs.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "net/bpf/bpf_fastpath.h"

namespace lp::net::bpf {

namespace {

// Whether dir holds nothing; errno when it cannot be read.
Result<bool> emptyDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return bpfError(BpfError::kPin, "open " + dir + ": " + std::strerror(errno));
  bool empty = true;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  closedir(d);
  return empty;
}

}  // namespace

bool isBpffs(const std::string& path) {
  struct statfs fs;
  return statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}

Status ensureBpffs(const std::string& mountPoint) {
  if (isBpffs(mountPoint)) return Status::Ok();
  struct stat st;
  if (stat(mountPoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return bpfError(BpfError::kPin, mountPoint + " is not a directory to mount a bpffs on");
  LP_ASSIGN_OR_RETURN(bool empty, emptyDirectory(mountPoint));
  if (!empty) return bpfError(BpfError::kPin, mountPoint + " is not a bpffs and not empty: not mounting one over it");
  if (mount("bpf", mountPoint.c_str(), "bpf", 0, "mode=0700") != 0)
    return bpfError(BpfError::kPin, "mount bpffs on " + mountPoint + ": " + std::strerror(errno));
  LP_LOG_INFO("bpf fast path: mounted a bpffs on {}", mountPoint);
  return Status::Ok();
}

std::string parentDirectory(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto slash = d.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return d.substr(0, slash);
}

}  // namespace lp::net::bpf
