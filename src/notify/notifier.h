// Notifier: the worker that turns queued SNS messages into HTTP(S) deliveries.
// Each pass (1) fans the outbox out into one delivery row per confirmed
// subscription, (2) starts the due deliveries the DeliveryScheduler picks (in
// order per subscriber, one in flight per subscriber, a bounded number per
// account and in all) on the DeliveryWorkers, and (3) as each ends deletes the
// delivery after a 2xx, or schedules its retry with exponential backoff. A
// subscriber that never answers holds one worker for the 15 s timeout and never
// holds up another subscriber or account. All state is in the store, so a
// restart (or kill -9) resumes where it was: at-least-once delivery.
//
// Owned by the daemon; started after the store and the API server (it needs the
// API's address for the SubscribeURL and SigningCertURL) and stopped before
// them. One loop thread that plans, DeliveryLimits::total workers that post and
// record the outcome; mu_ keeps the plan and the outcomes apart. Built with a
// single HttpPoster instead of a factory, posts run on the caller of runOnce()
// (unit tests); runOnce() must not race with start().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/background_loop.h"
#include "common/time.h"
#include "model/sns.h"
#include "notify/delivery_scheduler.h"
#include "notify/delivery_workers.h"
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
  DeliveryLimits limits;
  // Checked on every address a delivery connects to; none = no check (tests).
  AddressCheck addressCheck;
};

class Notifier {
 public:
  Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
           std::unique_ptr<HttpPoster> http);
  // Posts on opts.limits.total workers, each with a poster from makePoster.
  Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
           const DeliveryWorkers::PosterFactory& makePoster);
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
  // One planning round: starts what the scheduler picks; how many it started.
  size_t startDue(std::optional<int64_t>& nextDue);
  // Posts d (on a worker, or inline) and records the outcome.
  void deliver(HttpPoster& http, const model::SnsDelivery& d);
  BackgroundLoop::Hooks loopHooks();

  OutboxStore& outbox_;
  const Clock& clock_;
  NotifierOptions opts_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<HttpPoster> http_;         // inline mode only
  DeliveryWorkers::PosterFactory makePoster_;  // pool mode only
  std::unique_ptr<DeliveryWorkers> workers_;  // pool mode, between start() and stop()
  std::atomic<bool> stopping_{false};
  std::mutex mu_;                 // guards inFlight_, and orders plans against outcomes
  InFlightDeliveries inFlight_;
  uint64_t seen_ = 0;  // loop thread only
  BackgroundLoop loop_;
};

}  // namespace lp::notify
