// How many descriptors this process holds and may hold. The host work (namespaces,
// resolvers, listeners) checks it before taking more, so a host that reaches the
// open-file limit refuses new VPCs with a clear error while the API, SQLite and the
// connections in flight keep the descriptors they need (issue 14).
//
// Behind a std::function where it is used, so tests inject any count.
#pragma once

#include <functional>

namespace lp {

struct DescriptorUse {
  long open = 0;   // descriptors open now
  long limit = 0;  // RLIMIT_NOFILE soft limit (0 = unknown)
};

// Counts /proc/self/fd (about 1 ms per 5,000 descriptors).
DescriptorUse descriptorUse();

using DescriptorUseFn = std::function<DescriptorUse()>;

// What is kept free for everything but new host work: a tenth of the limit, at
// least 64 (the API's connections, SQLite, the helper pipes, a burst of forwarded
// connections).
inline long descriptorReserve(long limit) { return limit / 10 > 64 ? limit / 10 : 64; }

}  // namespace lp
