#include "net/bpf/bpffs.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

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

std::string pinDirectoryFor(const std::string& stateDir) {
  std::string path = std::filesystem::absolute(stateDir).lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/var/lib/linkplane") return kDefaultPinDir;
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: stable across builds, unlike std::hash
  for (unsigned char c : path) h = (h ^ c) * 0x100000001b3ull;
  char name[32];
  std::snprintf(name, sizeof name, "lp-%016llx", static_cast<unsigned long long>(h));
  return std::string(kDefaultBpffs) + "/" + name;
}

}  // namespace lp::net::bpf
