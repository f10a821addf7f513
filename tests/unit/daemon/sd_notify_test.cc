// The readiness protocol against a real unix datagram socket, as systemd listens on
// it: what arrives is exactly one datagram per call with the daemon's lines.
#include "daemon/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace lp::daemon {
namespace {

class NotifySocket : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  // Binds a datagram socket at `name` ('@' = abstract) and points NOTIFY_SOCKET at it.
  void listen(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      path_ = name;
      ::unlink(name.c_str());
      ++len;
    }
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  std::string receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing: ") + std::strerror(errno) + ">" : std::string(buf, static_cast<size_t>(n));
  }
  int fd_ = -1;
  std::string path_;
};

TEST_F(NotifySocket, ReadyAndStoppingArriveAsDatagramsOnAPathSocket) {
  listen("/tmp/lp-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(sdNotify("READY=1\nSTATUS=listening on http://127.0.0.1:4566").ok());
  ASSERT_TRUE(sdNotify("STOPPING=1").ok());
  EXPECT_EQ(receive(), "READY=1\nSTATUS=listening on http://127.0.0.1:4566");
  EXPECT_EQ(receive(), "STOPPING=1");
}

TEST_F(NotifySocket, AbstractSocketNamedWithAt) {
  listen("@lp-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(sdNotify("READY=1").ok());
  EXPECT_EQ(receive(), "READY=1");
}

TEST_F(NotifySocket, WithoutNotifySocketNothingIsSentAndNothingFails) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sdNotify("READY=1").ok());
}

TEST_F(NotifySocket, ASocketNobodyListensOnIsAnError) {
  setenv("NOTIFY_SOCKET", "/tmp/lp-notify-test-nobody", 1);
  Status st = sdNotify("READY=1");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/tmp/lp-notify-test-nobody"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace lp::daemon
