// Holds thousands of open descriptors for a test, as the daemon does at scale,
// so that every descriptor the code under test opens next is numbered far past
// FD_SETSIZE (1024): a library that hands one to select() then aborts the
// process. Raises the soft open-file limit as needed and puts everything back
// when it goes out of scope. Not thread-safe (one per test).
#ifndef LINKPLANE_TESTS_UNIT_TEST_DESCRIPTORS_H_
#define LINKPLANE_TESTS_UNIT_TEST_DESCRIPTORS_H_

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

namespace lp::testenv {

class ManyOpenDescriptors {
 public:
  explicit ManyOpenDescriptors(int count) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit more = saved_;
    rlim_t want = static_cast<rlim_t>(count) + 1024;
    if (more.rlim_cur < want) more.rlim_cur = want < more.rlim_max ? want : more.rlim_max;
    setrlimit(RLIMIT_NOFILE, &more);
    // Each open takes the lowest free number, so `count` of them also fill every
    // gap below 1024. O_CLOEXEC: commands the test runs (nft, ip) must not inherit them.
    for (int i = 0; i < count; ++i) {
      int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fds_.push_back(fd);
    }
  }
  ~ManyOpenDescriptors() {
    for (int fd : fds_) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved_);
  }
  ManyOpenDescriptors(const ManyOpenDescriptors&) = delete;
  ManyOpenDescriptors& operator=(const ManyOpenDescriptors&) = delete;

  int held() const { return static_cast<int>(fds_.size()); }
  // The number the next descriptor would get (its own is closed again).
  static int nextDescriptor() {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    return fd;
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
};

}  // namespace lp::testenv

#endif  // LINKPLANE_TESTS_UNIT_TEST_DESCRIPTORS_H_
