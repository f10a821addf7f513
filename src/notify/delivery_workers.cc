#include "notify/delivery_workers.h"

namespace lp::notify {

DeliveryWorkers::DeliveryWorkers(int threads, const PosterFactory& makePoster) {
  for (int i = 0; i < threads; ++i) posters_.push_back(makePoster(stopping_));
  for (auto& p : posters_) threads_.emplace_back([this, poster = p.get()] { run(*poster); });
}

DeliveryWorkers::~DeliveryWorkers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void DeliveryWorkers::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void DeliveryWorkers::run(HttpPoster& poster) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(poster);
  }
}

}  // namespace lp::notify
