#include "notify/notifier.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/log.h"
#include "metrics/prometheus.h"

namespace lp::notify {

namespace {

int64_t wallMs(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(c.now().time_since_epoch()).count();
}

}  // namespace

Notifier::Notifier(OutboxStore& outbox, const Clock& clock, NotifierOptions opts, std::unique_ptr<SigningKey> key,
                   std::unique_ptr<HttpPoster> http)
    : outbox_(outbox),
      clock_(clock),
      opts_(std::move(opts)),
      key_(std::move(key)),
      http_(std::move(http)),
      loop_({[this] {
               // A pass on every change of the outbox, and when a retry is due.
               seen_ = outbox_.version();
               auto next = runOnce();
               if (!next) return std::chrono::milliseconds(std::chrono::hours(1));
               return std::chrono::milliseconds(std::max<int64_t>(0, *next - wallMs(clock_)));
             },
             [this](std::chrono::milliseconds t) {
               outbox_.waitForChange(seen_, t);
               return outbox_.version() != seen_;
             }},
            opts_.idleWait) {}

Notifier::~Notifier() { stop(); }

Result<std::unique_ptr<Notifier>> Notifier::create(OutboxStore& outbox, const Clock& clock, NotifierOptions opts) {
  LP_ASSIGN_OR_RETURN(auto key, SigningKey::loadOrCreate(opts.stateDir));
  LP_RETURN_IF_ERROR(outbox.publishSigningCert(key->certName(), key->certPem()));
  auto http = std::make_unique<CurlHttpPoster>(std::chrono::seconds(3), std::chrono::seconds(15), opts.caFile);
  return std::make_unique<Notifier>(outbox, clock, std::move(opts), std::move(key), std::move(http));
}

void Notifier::start() {
  stopping_ = false;
  loop_.start();
}

void Notifier::stop() {
  stopping_ = true;
  loop_.stop();
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

  // Per subscriber, in the order the messages were accepted.
  std::vector<std::string> order;
  std::map<std::string, std::vector<model::SnsDelivery>> bySubscription;
  for (auto& d : outbox_.pendingDeliveries()) {
    auto& q = bySubscription[d.subscriptionArn];
    if (q.empty()) order.push_back(d.subscriptionArn);
    q.push_back(std::move(d));
  }
  std::optional<int64_t> nextDue;
  auto later = [&](int64_t t) { nextDue = nextDue ? std::min(*nextDue, t) : t; };
  for (const auto& arn : order) {
    for (const auto& d : bySubscription[arn]) {
      if (stopping_) return nextDue;
      if (d.nextAttemptMs > wallMs(clock_)) {
        later(d.nextAttemptMs);
        break;
      }
      if (!deliver(d)) {
        later(wallMs(clock_) + opts_.retry.delayAfter(d.attempts + 1));
        break;
      }
    }
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

bool Notifier::deliver(const model::SnsDelivery& d) {
  auto msg = renderMessage(d, opts_.publicBaseUrl, *key_);
  HttpPostResult r;
  if (msg.ok()) {
    r = http_->post(d.endpoint, msg->headers, msg->body);
  } else {
    r.error = msg.status().message();
  }
  if (r.ok()) {
    countDelivery(d.type, "delivered");
    if (Status st = outbox_.deliverySucceeded(d.id.str()); !st.ok())
      LP_LOG_WARN("notifier: cannot record delivery {}: {}", d.id.str(), st.toString());
    return true;
  }
  LP_LOG_INFO("notifier: {} {} to {} failed (attempt {}): {}", d.type, d.messageId, d.endpoint, d.attempts + 1,
              r.error);
  auto st = outbox_.deliveryFailed(d.id.str(), r.error, opts_.retry);
  if (!st.ok())
    LP_LOG_WARN("notifier: cannot record failed delivery {}: {}", d.id.str(), st.status().toString());
  countDelivery(d.type, st.ok() && *st ? "abandoned" : "retry");
  return false;
}

}  // namespace lp::notify
