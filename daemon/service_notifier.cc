// daemon/service_notifier.cc: see service_notifier.h.
#include "daemon/service_notifier.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "sdfd/notify.h"

namespace foobard {
namespace {

using foobar::kNanosPerMilli;
using foobar::kNanosPerSecond;

// STATUS= is sent at most this often: systemd parses every message.
constexpr int64_t kStatusPeriod = kNanosPerSecond;
// kNotifyRetry is how long a notification the manager's full queue refused
// waits before the next try (a datagram socket gives no readiness for the
// peer's queue, so this is a timer). Meanwhile newer STATUS= and WATCHDOG=1
// replace the waiting ones.
constexpr int64_t kNotifyRetry = 50 * kNanosPerMilli;

bool SameCounts(const ServiceCounts& a, const ServiceCounts& b) {
  return a.connections == b.connections && a.bytes_echoed == b.bytes_echoed;
}

}  // namespace

// The retry and status timers only wake the loop: Flush() and
// UpdateCounts(), called before every wait, act once they are due.
ServiceNotifier::ServiceNotifier(EventLoop* loop, const Logger* log)
    : loop_(loop),
      log_(log),
      retry_(loop, [] {}),
      status_timer_(loop, [] {}),
      watchdog_timer_(loop, [this] {
        // Pinged from the loop itself: a stuck loop stops the pings and
        // systemd restarts the service.
        Watchdog();
        watchdog_timer_.ArmAt(loop_->now() + watchdog_period_);
      }) {
  const char* notify_socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = notify_socket != nullptr && notify_socket[0] != '\0';
}

void ServiceNotifier::StartWatchdog(absl::Duration interval) {
  watchdog_period_ = absl::ToInt64Nanoseconds(interval) / 2;
  if (watchdog_period_ <= 0) return;
  Watchdog();
  watchdog_timer_.ArmAt(foobar::MonotonicNanos() + watchdog_period_);
}

void ServiceNotifier::UpdateCounts(const ServiceCounts& counts, bool force) {
  if (!enabled_) return;
  counts_ = counts;
  const bool changed = !status_sent_ || !SameCounts(counts, status_counts_);
  const int64_t now = foobar::MonotonicNanos();
  if (force || (changed && now >= next_status_)) {
    status_counts_ = counts;
    status_sent_ = true;
    next_status_ = now + kStatusPeriod;
    status_ = true;
    status_timer_.Disarm();
  } else if (changed && !status_timer_.armed()) {
    status_timer_.ArmAt(next_status_);
  }
}

void ServiceNotifier::Flush() {
  if (retry_.armed()) return;
  Send();
}

void ServiceNotifier::FlushLastTime() {
  retry_.Disarm();
  Send();
  retry_.Disarm();
}

void ServiceNotifier::Send() {
  if (!ready_ && !stopping_ && !watchdog_ && !status_) return;
  // One datagram with everything due, READY=1 before STOPPING=1 as they
  // happened; STATUS= carries the counts as of now, not as of when the
  // first try failed.
  std::string state;
  if (ready_) state += "READY=1\n";
  if (stopping_) state += "STOPPING=1\n";
  if (watchdog_) state += "WATCHDOG=1\n";
  if (status_) {
    absl::StrAppend(&state, "STATUS=", counts_.connections, " connections, ",
                    counts_.accepted, " accepted, ", counts_.bytes_echoed,
                    " bytes echoed\n");
  }
  state.pop_back();  // the last '\n'
  sdfd::NotifyOptions options;
  options.non_blocking = true;
  absl::StatusOr<bool> sent = sdfd::PidNotifyWithFds(state, {}, options);
  if (!sent.ok() && sdfd::NotifyWouldBlock(sent.status())) {
    // The manager is busy and its queue is full: try again soon rather
    // than wait here with every client.
    retry_.ArmAt(foobar::MonotonicNanos() + kNotifyRetry);
    return;
  }
  if (!sent.ok()) {
    log_->Warning(absl::StrCat("sd_notify: ", sent.status().message()));
  }
  // Sent, or failed for good (the manager is gone): either way not retried.
  ready_ = stopping_ = watchdog_ = status_ = false;
}

}  // namespace foobard
