// Notifier: the worker that turns queued SNS messages into HTTP(S) deliveries.
// Each pass (1) fans the outbox out into one delivery row per confirmed
// subscription, (2) posts every due delivery, oldest first and in order per
// subscriber (a failing subscriber's later messages wait behind its first), and
// (3) deletes a delivery only after a 2xx, or schedules its retry with
// exponential backoff. All state is in the store, so a restart (or kill -9)
// resumes where it was: at-least-once delivery.
//
// Owned by the daemon; started after the store and the API server (it needs the
// API's address for the SubscribeURL and SigningCertURL) and stopped before
// them. One worker thread; runOnce() is for tests and must not race with it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/background_loop.h"
#include "common/time.h"
#include "model/sns.h"
#include "notify/http_poster.h"
#include "notify/outbox_store.h"
#include "notify/signing.h"

namespace lp::notify {

struct NotifierOptions {
  std::string stateDir;  // holds the signing key
  // The daemon's API as subscribers reach it ("http://127.0.0.1:4566").
  std::string publicBaseUrl;
  model::SnsRetryPolicy retry;
  // PEM file of the CAs that https subscribers' certificates must chain to
  // ([sns] ca_file); "" = the system trust store.
  std::string caFile;
  // How long the worker sleeps at a time between changes (bounds stop() latency).
  std::chrono::milliseconds idleWait{200};
  int fanOutBatch = 100;
};

class Notifier {
 public:
  Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
           std::unique_ptr<HttpPoster> http);
  ~Notifier();
  // Loads (or creates) the signing key in opts.stateDir, publishes its
  // certificate for the API to serve, and delivers with libcurl.
  static Result<std::unique_ptr<Notifier>> create(OutboxStore& outbox, const Clock& clock, NotifierOptions opts);

  void start();
  void stop();

  // One pass; returns the wall time (ms since epoch) of the next delivery that is
  // waiting for its retry, if any.
  std::optional<int64_t> runOnce();

 private:
  // Delivers d; true when the subscriber took it.
  bool deliver(const model::SnsDelivery& d);

  OutboxStore& outbox_;
  const Clock& clock_;
  NotifierOptions opts_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<HttpPoster> http_;
  std::atomic<bool> stopping_{false};
  uint64_t seen_ = 0;  // loop thread only
  BackgroundLoop loop_;
};

}  // namespace lp::notify
