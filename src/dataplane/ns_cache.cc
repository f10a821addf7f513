#include "dataplane/ns_cache.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/netns.h"

namespace lp::dataplane {

NsCache::NsCache() {
  auto h = net::openThreadNamespace();
  if (h) home_ = *h;
}

NsCache::~NsCache() {
  for (auto& [_, n] : open_) close(n.fd);
  if (home_ >= 0) close(home_);
}

Result<int> NsCache::socket(const std::string& ns, int type) {
  if (ns.empty()) {
    int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (s < 0) return Status("InternalError", std::string("socket: ") + std::strerror(errno));
    return s;
  }
  if (home_ < 0) return Status("InternalError", "no descriptor of the thread's namespace");
  struct stat now {};
  if (stat((std::string(net::kNetnsDir) + "/" + ns).c_str(), &now) != 0) {
    return Status("InvalidNamespace.NotFound", "no network namespace " + ns);
  }
  auto it = open_.find(ns);
  if (it != open_.end() && it->second.ino != now.st_ino) {
    close(it->second.fd);
    open_.erase(it);
    it = open_.end();
  }
  if (it == open_.end()) {
    LP_ASSIGN_OR_RETURN(int fd, net::openNamespace(ns));
    struct stat st {};
    fstat(fd, &st);
    it = open_.emplace(ns, Ns{fd, static_cast<unsigned long>(st.st_ino), false}).first;
  }
  it->second.used = true;
  return net::socketInNamespaceFd(it->second.fd, home_, AF_INET, type);
}

void NsCache::sweep() {
  for (auto it = open_.begin(); it != open_.end();) {
    if (!it->second.used) {
      close(it->second.fd);
      it = open_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

}  // namespace lp::dataplane
