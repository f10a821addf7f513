// StatusSocket: the daemon's local status endpoint for `linkplane status`. A unix
// stream socket (mode 0600, so only the daemon's user and root read it) at a path in
// the state directory; each connection gets one JSON document from `render` and is
// closed. Not the API port: nothing here is signed, and it is not reachable from
// outside the host.
//
// Owned by the daemon; listen()/serve()/stop() from its thread; render runs on the
// socket's own thread.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "common/status.h"

namespace lp::daemon {

class StatusSocket {
 public:
  StatusSocket(std::string path, std::function<std::string()> render);
  ~StatusSocket();
  StatusSocket(const StatusSocket&) = delete;
  StatusSocket& operator=(const StatusSocket&) = delete;

  // Binds and listens: from here a client's connect succeeds, and it waits in the
  // backlog for serve(). The daemon listens before its API does, so a client that saw
  // the API answer finds the daemon up.
  Status listen();
  // Answers the connections (the waiting ones first) on the socket's own thread; after
  // a listen() that succeeded, once what `render` reads is set.
  void serve();
  void stop();

 private:
  void run();

  std::string path_;
  std::function<std::string()> render_;
  int listenFd_ = -1;
  int wakeFd_ = -1;  // eventfd: stop() wakes the poll
  std::thread thread_;
};

// Connects to the socket at `path` and returns the document it sends.
Result<std::string> readStatusSocket(const std::string& path);

}  // namespace lp::daemon
