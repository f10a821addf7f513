// NsCache: descriptors of named network namespaces, for one thread that makes
// sockets in them with net::socketInNamespaceFd. A namespace deleted and made
// again under the same name is noticed (inode compare) and reopened.
//
// Owned by one thread; not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace lp::dataplane {

class NsCache {
 public:
  // batch: sockets made per namespace switch. The loops make one per connection and
  // want many ahead; the update thread makes one listener per loop and namespace,
  // and 16 ahead in each of 1,000 namespaces held 14,000 idle sockets.
  explicit NsCache(int batch = 16);
  ~NsCache();
  NsCache(const NsCache&) = delete;
  NsCache& operator=(const NsCache&) = delete;

  // A socket(AF_INET, type) made in namespace ns ("" = this thread's own). Sockets
  // are made a batch at a time (one pair of setns calls per batch): a socket
  // keeps its namespace, so it may wait unused until a connection needs it.
  Result<int> socket(const std::string& ns, int type);
  // Forgets namespaces not used since the last sweep.
  void sweep();

 private:
  struct Ns {
    int fd = -1;
    unsigned long ino = 0;
    bool used = false;
    int spareType = 0;
    std::vector<int> spare;  // sockets made ahead, all of spareType
  };
  void drop(Ns& n);
  int batch_;
  int home_ = -1;
  std::map<std::string, Ns> open_;
};

}  // namespace lp::dataplane
