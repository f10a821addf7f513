// DeliveryWorkers: a fixed pool of threads, each with its own HttpPoster (a
// libcurl handle is single-threaded), that run posts handed to them. Bounded:
// the scheduler never hands out more than DeliveryLimits::total at once, and the
// pool has that many threads, so a job never waits for a thread.
//
// Owned by the Notifier; submit() from the notifier's loop thread; jobs run on
// the workers. The destructor cancels posts in progress (see CurlHttpPoster::
// setCancel) and joins; jobs not yet run are dropped (their deliveries are still
// in the store and go out after a restart).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "notify/http_poster.h"

namespace lp::notify {

class DeliveryWorkers {
 public:
  using Job = std::function<void(HttpPoster&)>;
  // makePoster gets the flag that cancels its posts when the pool stops.
  using PosterFactory = std::function<std::unique_ptr<HttpPoster>(const std::atomic<bool>& cancel)>;
  DeliveryWorkers(int threads, const PosterFactory& makePoster);
  ~DeliveryWorkers();
  DeliveryWorkers(const DeliveryWorkers&) = delete;
  DeliveryWorkers& operator=(const DeliveryWorkers&) = delete;

  void submit(Job job);

 private:
  void run(HttpPoster& poster);

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<std::unique_ptr<HttpPoster>> posters_;
  std::vector<std::thread> threads_;
};

}  // namespace lp::notify
