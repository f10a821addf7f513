#include "dataplane/ns_cache.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/netns.h"

namespace lp::dataplane {

NsCache::NsCache(int batch) : batch_(std::max(1, batch)) {
  auto h = net::openThreadNamespace();
  if (h) home_ = *h;
}

NsCache::~NsCache() {
  for (auto& [_, n] : open_) drop(n);
  if (home_ >= 0) close(home_);
}

Result<int> NsCache::socket(const std::string& ns, int type) {
  if (ns.empty()) {
    int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (s < 0) return Status("InternalError", std::string("socket: ") + std::strerror(errno));
    return s;
  }
  if (home_ < 0) return Status("InternalError", "no descriptor of the thread's namespace");
  auto it = open_.find(ns);
  if (it != open_.end() && it->second.spareType == type && !it->second.spare.empty()) {
    it->second.used = true;
    int s = it->second.spare.back();
    it->second.spare.pop_back();
    return s;
  }
  // Refill: check the namespace is still the one named (made again = new inode).
  struct stat now {};
  if (stat((std::string(net::kNetnsDir) + "/" + ns).c_str(), &now) != 0) {
    if (it != open_.end()) {
      drop(it->second);
      open_.erase(it);
    }
    return Status("InvalidNamespace.NotFound", "no network namespace " + ns);
  }
  if (it != open_.end() && it->second.ino != now.st_ino) {
    drop(it->second);
    open_.erase(it);
    it = open_.end();
  }
  if (it == open_.end()) {
    LP_ASSIGN_OR_RETURN(int fd, net::openNamespace(ns));
    struct stat st {};
    fstat(fd, &st);
    it = open_.emplace(ns, Ns{fd, static_cast<unsigned long>(st.st_ino), false, 0, {}}).first;
  }
  Ns& n = it->second;
  n.used = true;
  for (int s : n.spare) close(s);
  n.spare.clear();
  n.spareType = type;
  LP_ASSIGN_OR_RETURN(auto batch, net::socketsInNamespaceFd(n.fd, home_, AF_INET, type, batch_));
  int s = batch.back();
  batch.pop_back();
  n.spare = std::move(batch);
  return s;
}

void NsCache::drop(Ns& n) {
  for (int s : n.spare) close(s);
  n.spare.clear();
  close(n.fd);
}

void NsCache::sweep() {
  for (auto it = open_.begin(); it != open_.end();) {
    if (!it->second.used) {
      drop(it->second);
      it = open_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

}  // namespace lp::dataplane
