#include "common/descriptors.h"

#include <dirent.h>
#include <sys/resource.h>

namespace lp {

DescriptorUse descriptorUse() {
  DescriptorUse u;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) u.limit = static_cast<long>(rl.rlim_cur);
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') u.open++;
    }
    closedir(d);
    u.open--;  // the directory's own descriptor
  }
  return u;
}

}  // namespace lp
