#include "notify/notifier.h"

#include <algorithm>

#include "common/log.h"
#include "metrics/prometheus.h"

namespace lp::notify {

namespace {

int64_t wallMs(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(c.now().time_since_epoch()).count();
}

// A safety net: with deliveries in flight the loop looks again at least this
// often, should an outcome fail to reach the store (which is what wakes it).
constexpr int64_t kInFlightRecheckMs = 1000;

// A subscriber's URL as the log shows it: a password in it (https://user:pw@host/)
// is the subscriber's secret, as SNS masks it.
std::string forLog(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto hostStart = scheme + 3;
  auto at = url.rfind('@', url.find_first_of("/?#", hostStart));
  if (at == std::string::npos || at < hostStart) return url;
  return url.substr(0, hostStart) + "****" + url.substr(at);
}

}  // namespace

BackgroundLoop::Hooks Notifier::loopHooks() {
  return {[this] {
            // A pass on every change of the outbox (an outcome recorded is one),
            // and when a retry is due.
            seen_ = outbox_.version();
            auto next = runOnce();
            {
              std::lock_guard lock(mu_);
              if (inFlight_.total() > 0) {
                int64_t recheck = wallMs(clock_) + kInFlightRecheckMs;
                next = next ? std::min(*next, recheck) : recheck;
              }
            }
            if (!next) return std::chrono::milliseconds(std::chrono::hours(1));
            return std::chrono::milliseconds(std::max<int64_t>(0, *next - wallMs(clock_)));
          },
          [this](std::chrono::milliseconds t) {
            outbox_.waitForChange(seen_, t);
            return outbox_.version() != seen_;
          }};
}

Notifier::Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
                   std::unique_ptr<HttpPoster> http)
    : outbox_(outbox),
      clock_(clock),
      opts_(std::move(opts)),
      key_(std::move(key)),
      http_(std::move(http)),
      loop_(loopHooks(), opts_.idleWait) {}

Notifier::Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
                   const DeliveryWorkers::PosterFactory& makePoster)
    : outbox_(outbox),
      clock_(clock),
      opts_(std::move(opts)),
      key_(std::move(key)),
      makePoster_(makePoster),
      loop_(loopHooks(), opts_.idleWait) {}

Notifier::~Notifier() { stop(); }

Result<std::unique_ptr<Notifier>> Notifier::create(OutboxStore& outbox, const Clock& clock, NotifierOptions opts) {
  LP_ASSIGN_OR_RETURN(auto key, SigningKey::loadOrCreate(opts.stateDir));
  LP_RETURN_IF_ERROR(outbox.publishSigningCert(key->certName(), key->certPem()));
  auto caFile = opts.caFile;
  auto check = opts.addressCheck;
  auto makePoster = [caFile, check](const std::atomic<bool>& cancel) {
    // SNS waits 15 s for a subscriber's answer.
    auto p = std::make_unique<CurlHttpPoster>(std::chrono::seconds(3), std::chrono::seconds(15), caFile);
    p->setAddressCheck(check);
    p->setCancel(&cancel);
    return std::unique_ptr<HttpPoster>(std::move(p));
  };
  return std::make_unique<Notifier>(outbox, clock, std::move(opts), std::move(key),
                                    DeliveryWorkers::PosterFactory(makePoster));
}

void Notifier::start() {
  stopping_ = false;
  if (makePoster_) workers_ = std::make_unique<DeliveryWorkers>(opts_.limits.total, makePoster_);
  loop_.start();
}

void Notifier::stop() {
  stopping_ = true;
  loop_.stop();
  // Cancels posts in progress and joins: nothing touches the store after this.
  workers_.reset();
  std::lock_guard lock(mu_);
  inFlight_ = InFlightDeliveries();
}

std::optional<int64_t> Notifier::runOnce() {
  for (int round = 0; round < 100 && !stopping_; ++round) {
    auto n = outbox_.fanOut(opts_.fanOutBatch);
    if (!n.ok()) {
      LP_LOG_WARN("notifier: fan-out failed: {}", n.status().toString());
      break;
    }
    if (*n < opts_.fanOutBatch) break;
  }
  std::optional<int64_t> nextDue;
  // With workers one round: outcomes wake the loop for the next. Inline, each
  // round's posts have ended when it returns, so go on until nothing is due
  // (a subscriber's queue drains in one call, as its order requires).
  for (int round = 0; round < 10000 && !stopping_; ++round) {
    nextDue.reset();
    if (startDue(nextDue) == 0 || workers_ || !http_) break;
  }
  return nextDue;
}

namespace {

// linkplane_sns_deliveries_total: every attempt, by kind of message and outcome
// (delivered; retry: failed, another attempt is scheduled; abandoned: failed, the
// retry policy gave up).
void countDelivery(const std::string& type, const char* outcome) {
  static auto& deliveries = metrics::prom::processRegistry().counter(
      "linkplane_sns_deliveries_total", "Notification delivery attempts by message type and outcome.",
      {"type", "outcome"});
  deliveries.add({type, outcome});
}

}  // namespace

size_t Notifier::startDue(std::optional<int64_t>& nextDue) {
  std::vector<model::SnsDelivery> toStart;
  {
    std::lock_guard lock(mu_);
    auto pending = outbox_.pendingDeliveries();
    auto plan = planDeliveries(pending, inFlight_, wallMs(clock_), opts_.limits);
    nextDue = plan.nextDueMs;
    for (size_t i : plan.start) {
      inFlight_.add(pending[i]);
      toStart.push_back(std::move(pending[i]));
    }
  }
  for (auto& d : toStart) {
    if (workers_) {
      workers_->submit([this, d = std::move(d)](HttpPoster& http) { deliver(http, d); });
    } else if (http_) {
      deliver(*http_, d);
    } else {
      std::lock_guard lock(mu_);  // stopped: the delivery stays owed in the store
      inFlight_.remove(d);
    }
  }
  return toStart.size();
}

void Notifier::deliver(HttpPoster& http, const model::SnsDelivery& d) {
  auto msg = renderMessage(d, opts_.publicBaseUrl, *key_);
  HttpPostResult r;
  if (msg.ok()) {
    r = http.post(d.endpoint, msg->headers, msg->body);
  } else {
    r.error = msg.status().message();
  }
  // The outcome is recorded and the subscriber freed under mu_, so a plan never
  // sees the delivery both owed (not yet recorded) and idle (freed): no double send.
  std::lock_guard lock(mu_);
  if (r.ok()) {
    countDelivery(d.type, "delivered");
    if (Status st = outbox_.deliverySucceeded(d.id.str()); !st.ok())
      LP_LOG_WARN("notifier: cannot record delivery {}: {}", d.id.str(), st.toString());
  } else if (stopping_) {
    // Cancelled by stop(): not the subscriber's failure; it stays owed as it was.
  } else {
    LP_LOG_INFO("notifier: {} {} to {} failed (attempt {}): {}", d.type, d.messageId, forLog(d.endpoint), d.attempts + 1,
                r.error);
    auto st = outbox_.deliveryFailed(d.id.str(), r.error, opts_.retry);
    if (!st.ok())
      LP_LOG_WARN("notifier: cannot record failed delivery {}: {}", d.id.str(), st.status().toString());
    countDelivery(d.type, st.ok() && *st ? "abandoned" : "retry");
  }
  inFlight_.remove(d);
}

}  // namespace lp::notify
