// The state directory holds the local CA's key: made 0700, an open one named with a
// warning. Real directories under /tmp.
#include "daemon/state_directory.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace lp::daemon {
namespace {

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class StateDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lp-state-dir-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
  }
  void TearDown() override {
    ::umask(oldUmask_);
    std::filesystem::remove_all(base_);
  }
  std::string base_;
  mode_t oldUmask_ = ::umask(022);
};

// Issue 20: the daemon made its state directory 0755, readable by every user.
TEST_F(StateDirectory, OneTheDaemonMakesIsPrivateAndItsParentsAreNot) {
  const std::string dir = base_ + "/var/lib/linkplane";
  auto warning = prepareStateDirectory(dir);
  ASSERT_TRUE(warning.ok()) << warning.status().toString();
  EXPECT_EQ(*warning, "");
  EXPECT_EQ(modeOf(dir), 0700);
  EXPECT_EQ(modeOf(base_ + "/var/lib"), 0755);
}

TEST_F(StateDirectory, PrivateWhateverTheUmaskAndWithATrailingSlash) {
  for (mode_t mask : {mode_t{0}, mode_t{0277}}) {
    ::umask(mask);
    const std::string dir = base_ + "/state-" + std::to_string(mask) + "/";
    auto warning = prepareStateDirectory(dir);
    ASSERT_TRUE(warning.ok()) << warning.status().toString();
    EXPECT_EQ(modeOf(dir), 0700) << "umask " << mask;
  }
}

TEST_F(StateDirectory, AnExistingOpenOneIsUsedAsItIsWithAWarningNamingTheFix) {
  const std::string dir = base_ + "/open";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ::chmod(dir.c_str(), 0750);
  auto warning = prepareStateDirectory(dir);
  ASSERT_TRUE(warning.ok());
  EXPECT_EQ(*warning, "state directory " + dir +
                          " is accessible by group or others (mode 0750); it holds the local CA's and the SNS "
                          "signing keys: run chmod 700 " +
                          dir);
  EXPECT_EQ(modeOf(dir), 0750);  // the admin's choice, not changed behind their back

  ::chmod(dir.c_str(), 0700);
  warning = prepareStateDirectory(dir);
  ASSERT_TRUE(warning.ok());
  EXPECT_EQ(*warning, "");
}

TEST_F(StateDirectory, AFileInItsPlaceIsAnError) {
  const std::string path = base_ + "/file";
  std::ofstream(path) << "x";
  auto r = prepareStateDirectory(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "state directory " + path + " is not a directory");
  auto under = prepareStateDirectory(path + "/state");
  ASSERT_FALSE(under.ok());
  EXPECT_NE(under.status().message().find("cannot create state directory " + path + "/state: "), std::string::npos)
      << under.status().message();
}

// Two daemons on one state directory would build and tear down the same namespaces:
// the second is refused with the first's pid; the lock goes with its holder.
TEST_F(StateDirectory, ASecondProcessIsRefusedWhileTheFirstHoldsTheLock) {
  // Each child tries the lock and answers by its exit code: 0 taken, 1 refused
  // naming our pid, 2 anything else.
  auto tryInChild = [&] {
    pid_t pid = fork();
    if (pid == 0) {
      auto r = lockStateDirectory(base_);
      if (r.ok()) _exit(0);
      bool named = r.status().message() == "state directory " + base_ + " is in use by another linkplane (pid " +
                                                std::to_string(getppid()) + "): stop it, or give this one another "
                                                "--state-dir";
      _exit(named ? 1 : 2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(tryInChild(), 0);  // nobody holds it
  auto fd = lockStateDirectory(base_);
  ASSERT_TRUE(fd.ok()) << fd.status().toString();
  std::string written;
  std::getline(std::ifstream(base_ + "/linkplane.lock"), written);
  EXPECT_EQ(written, std::to_string(getpid()));
  EXPECT_EQ(modeOf(base_ + "/linkplane.lock"), 0600u);
  EXPECT_EQ(tryInChild(), 1);
  EXPECT_FALSE(lockStateDirectory(base_).ok());  // nor twice in one process
  ::close(*fd);
  EXPECT_EQ(tryInChild(), 0);  // released with its descriptor
}

}  // namespace
}  // namespace lp::daemon
