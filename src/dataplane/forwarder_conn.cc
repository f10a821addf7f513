// Conn (forwarder_loop.h): one forwarded connection. Finishes the non-blocking
// connect, sends the PROXY v2 header, moves bytes both ways with splice() through
// a pipe per direction under the endpoint's token bucket, propagates half-close
// and reset, and counts. Touched only by the thread of the loop that owns it.
#include <fcntl.h>
#include <sys/socket.h>

#include "dataplane/forwarder_loop.h"
#include "dataplane/proxy_protocol.h"

namespace lp::dataplane::forwarder_internal {

bool Conn::init(int pipeBytes) {
  auto a = loop_.takePipe(pipeBytes);
  if (a.first < 0) return false;
  auto b = loop_.takePipe(pipeBytes);
  if (b.first < 0) {
    loop_.givePipe(a);
    return false;
  }
  up_ = {cfd_, tfd_, a.first, a.second, 0, &clientIn_, &targetOut_};
  down_ = {tfd_, cfd_, b.first, b.second, 0, &targetIn_, &clientOut_};
  loop_.add(cfd_, &clientSide_);
  loop_.add(tfd_, &targetSide_);
  return true;
}

void Conn::onEvent(bool isTarget, uint32_t events) {
  if (dead) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) (isTarget ? targetIn_ : clientIn_) = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) (isTarget ? targetOut_ : clientOut_) = true;
  if (connecting_) {
    if (isTarget && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) finishConnect();
    return;
  }
  run();
}

void Conn::finishConnect() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(tfd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return reset();
  connecting_ = false;
  if (proxy_) {
    sockaddr_in peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    getpeername(cfd_, reinterpret_cast<sockaddr*>(&peer), &pl);
    getsockname(cfd_, reinterpret_cast<sockaddr*>(&local), &ll);
    std::string h = encodeProxyV2(peer, local, rt_->spec.endpointId);
    // A fresh connection's send buffer takes a few dozen bytes at once.
    if (send(tfd_, h.data(), h.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(h.size())) return reset();
  }
  run();
}

Pump Conn::pump(Direction& d, bool up, int& budget) {
  const auto& opts = loop_.opts();
  const size_t room = static_cast<size_t>(opts.pipeBytes);
  for (;;) {
    bool moved = false;
    if (d.pending > 0 && *d.dstReady) {
      ssize_t n = splice(d.pipeR, nullptr, d.dst, nullptr, d.pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.pending -= static_cast<size_t>(n);
        auto& e = up ? rt_->endpoint->bytesIn : rt_->endpoint->bytesOut;
        auto& i = up ? rt_->iface->bytesIn : rt_->iface->bytesOut;
        e.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        i.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        loop_.noteActivity();
        moved = true;
      } else if (n < 0 && errno == EAGAIN) {
        *d.dstReady = false;
      } else {
        return Pump::kError;
      }
    }
    if (d.eof) {
      if (d.pending == 0 && !d.shut) {
        shutdown(d.dst, SHUT_WR);
        d.shut = true;
      }
      if (!moved) return Pump::kBlocked;
      continue;
    }
    // Keep reading while the destination is slow, as long as the pipe has room:
    // the source's receive window stays open and the pipe is the buffer.
    if (*d.srcReady && d.pending < room) {
      if (budget-- <= 0) return Pump::kBudget;
      size_t want = room - d.pending;
      int64_t now = 0;
      if (rt_->bucket) {
        now = monoNanos();
        want = rt_->bucket->take(want, now);
        if (want == 0) {
          loop_.throttle(this, now + std::max<int64_t>(rt_->bucket->waitNanos(16384, now), 100'000));
          if (!moved) return Pump::kThrottled;
          continue;  // what is in the pipe may still go out
        }
      }
      ssize_t n = splice(d.src, nullptr, d.pipeW, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      int err = errno;
      if (rt_->bucket && static_cast<size_t>(std::max<ssize_t>(n, 0)) < want) {
        rt_->bucket->refund(want - static_cast<size_t>(std::max<ssize_t>(n, 0)));
      }
      if (n > 0) {
        d.pending += static_cast<size_t>(n);
        moved = true;
      } else if (n == 0) {
        d.eof = true;
        moved = true;
      } else if (err != EAGAIN) {
        return Pump::kError;
      } else if (d.pending == 0) {
        // With data in the pipe, EAGAIN may mean the pipe is full (its slots hold
        // partial pages) rather than the socket empty: only an empty pipe proves
        // the source drained. A wrong guess costs one failed splice later.
        *d.srcReady = false;
      }
    }
    if (!moved) return Pump::kBlocked;
  }
}

void Conn::run() {
  if (dead || connecting_) return;
  int budget = 16;
  Pump a = pump(up_, true, budget);
  Pump b = a == Pump::kError ? Pump::kError : pump(down_, false, budget);
  if (a == Pump::kError || b == Pump::kError) return reset();
  if (up_.done() && down_.done()) return closeGracefully();
  if (a == Pump::kBudget || b == Pump::kBudget) loop_.again(this);
}

void Conn::recyclePipes() {
  for (Direction* d : {&up_, &down_}) {
    if (d->pipeR >= 0 && d->pending == 0) {
      loop_.givePipe({d->pipeR, d->pipeW});
      d->pipeR = d->pipeW = -1;
    }
  }
}

void Conn::release(bool wasReset) {
  recyclePipes();
  rt_->endpoint->active.fetch_sub(1, std::memory_order_relaxed);
  rt_->iface->active.fetch_sub(1, std::memory_order_relaxed);
  loop_.noteActivity();
  if (wasReset) {
    rt_->endpoint->resets.fetch_add(1, std::memory_order_relaxed);
    rt_->iface->resets.fetch_add(1, std::memory_order_relaxed);
  }
  loop_.bury(this);
}

void Conn::reset() {
  if (dead) return;
  resetFd(cfd_);
  resetFd(tfd_);
  release(true);
}

void Conn::closeGracefully() {
  if (dead) return;
  close(cfd_);
  close(tfd_);
  release(false);
}

}  // namespace lp::dataplane::forwarder_internal
