// daemon/service_notifier.h: the one place foobard tells the service manager
// about itself (sd_notify): READY=1, STATUS=, WATCHDOG=1 and STOPPING=1.
//
// Nothing here waits for the manager. States are marked due, and Flush()
// sends everything due as one datagram with MSG_DONTWAIT. When a busy
// manager's queue is full (net.unix.max_dgram_qlen), the datagram is kept
// and retried kNotifyRetry later from a loop timer (a datagram socket gives
// no readiness for the peer's queue); meanwhile newer STATUS= and WATCHDOG=1
// replace the waiting ones. Without NOTIFY_SOCKET nothing is sent or
// formatted. The handoff's FDSTORE=1 and start-up's FDSTOREREMOVE=1 are not
// states but fd-store operations, in daemon/handoff.h.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<foobard::EventLoop>> loop =
//       foobard::EventLoop::Create({SIGTERM});
//   if (!loop.ok()) return 1;
//   foobard::Logger log(STDERR_FILENO, false);
//   foobard::ServiceNotifier notifier(loop->get(), &log);
//   notifier.StartWatchdog(absl::Seconds(10));  // WATCHDOG_USEC: pings at 5 s
//   notifier.Ready();
//   notifier.UpdateCounts(foobard::ServiceCounts{0, 0, 0});  // STATUS=
//   notifier.Flush();  // one datagram; a full queue: retried 50 ms later
//   // error path: a failed send is logged ("sd_notify: ..."), never fatal.
#ifndef DAEMON_SERVICE_NOTIFIER_H_
#define DAEMON_SERVICE_NOTIFIER_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "daemon/event_loop.h"
#include "daemon/logger.h"

namespace foobard {

// ServiceCounts is what STATUS= says.
struct ServiceCounts {
  size_t connections = 0;
  uint64_t accepted = 0;
  uint64_t bytes_echoed = 0;
};

// ServiceNotifier sends foobard's sd_notify states.
class ServiceNotifier {
 public:
  // ServiceNotifier reads NOTIFY_SOCKET once; `loop` and `log` are borrowed
  // and must outlive it.
  ServiceNotifier(EventLoop* loop, const Logger* log);
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // enabled: NOTIFY_SOCKET is set, so there is a manager to tell.
  bool enabled() const { return enabled_; }

  // Ready, Stopping and Watchdog mark READY=1, STOPPING=1, WATCHDOG=1 due.
  void Ready() { ready_ = enabled_; }
  void Stopping() { stopping_ = enabled_; }
  void Watchdog() { watchdog_ = enabled_; }

  // StartWatchdog pings WATCHDOG=1 every `interval` / 2 (WATCHDOG_USEC is
  // `interval`; 0: no watchdog), starting now. The pings come from a loop
  // timer: a stuck loop stops them and systemd restarts the service.
  void StartWatchdog(absl::Duration interval);

  // UpdateCounts gives the current counts: STATUS= goes when they changed
  // since the last one, at most once a second (systemd parses every
  // message), or at once with `force`.
  void UpdateCounts(const ServiceCounts& counts, bool force = false);

  // Flush sends everything due as one datagram, READY=1 before STOPPING=1
  // as they happened, STATUS= with the counts as of now. While a retry
  // waits (the queue was full), nothing is sent. A failure other than a
  // full queue is logged and not retried (the manager is gone).
  void Flush();
  // FlushLastTime is the try on the way out: it ignores a waiting retry and
  // does not schedule one (systemd learns of the exit from the process).
  void FlushLastTime();

 private:
  void Send();

  EventLoop* loop_;
  const Logger* log_;
  bool enabled_;
  bool ready_ = false;
  bool stopping_ = false;
  bool watchdog_ = false;
  bool status_ = false;
  ServiceCounts counts_;         // as of now
  ServiceCounts status_counts_;  // as of the last STATUS= marked due
  bool status_sent_ = false;     // a STATUS= was ever marked due
  int64_t next_status_ = 0;
  int64_t watchdog_period_ = 0;
  EventLoop::Timer retry_;
  EventLoop::Timer status_timer_;
  EventLoop::Timer watchdog_timer_;
};

}  // namespace foobard

#endif  // DAEMON_SERVICE_NOTIFIER_H_
