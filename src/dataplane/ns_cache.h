// NsCache: descriptors of named network namespaces, for one thread that makes
// sockets in them with net::socketInNamespaceFd. A namespace deleted and made
// again under the same name is noticed (inode compare) and reopened.
//
// Owned by one thread; not thread-safe.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace lp::dataplane {

class NsCache {
 public:
  NsCache();
  ~NsCache();
  NsCache(const NsCache&) = delete;
  NsCache& operator=(const NsCache&) = delete;

  // A socket(AF_INET, type) made in namespace ns ("" = this thread's own).
  Result<int> socket(const std::string& ns, int type);
  // Forgets namespaces not used since the last sweep.
  void sweep();

 private:
  struct Ns {
    int fd = -1;
    unsigned long ino = 0;
    bool used = false;
  };
  int home_ = -1;
  std::map<std::string, Ns> open_;
};

}  // namespace lp::dataplane
