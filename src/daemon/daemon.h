// Daemon: wires the store, control plane, API server (and, as they land, the
// reconciler, data plane, DNS and notifier) together, and stops them in reverse
// order. The single place that knows every part. Used from main's thread only.
#pragma once

#include <memory>

#include "daemon/config.h"

namespace lp::daemon {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();
  // Opens the state and starts serving; prints the listening line. A state written by
  // a newer linkplane fails with code "StateTooNew".
  Status start();
  void stop();
  // SIGHUP: takes from `file` what can change while running (log level, accounts
  // and their keys, limits, service backends), and logs that and what waits for a
  // restart.
  void reload(const Config& file);
  // The document `linkplane status` prints (JSON): version, uptime, state size,
  // what the reconciler has not converged.
  std::string statusJson() const;

  // Where the status socket of a daemon with this state directory listens.
  static std::string statusSocketPath(const std::string& stateDir);

 private:
  // The local CA, the workloads' CA bundle and the HTTPS API listener; points
  // linkplane's own services in the catalog at it.
  Status startHttps();
  void startPrometheus();
  struct Parts;
  Config config_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace lp::daemon
