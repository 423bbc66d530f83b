// sdfd/watchdog.h: whether the service manager expects watchdog pings, and
// how often (man 3 sd_watchdog_enabled, WatchdogSec= in man 5
// systemd.service).
//
// systemd sets WATCHDOG_USEC=<interval in µs> and WATCHDOG_PID=<pid> for the
// main process. A service must send WATCHDOG=1 (sdfd::Notify) more often than
// the interval; half of it is the usual period.
//
//   absl::StatusOr<absl::Duration> interval = sdfd::WatchdogInterval();
//   if (!interval.ok()) return interval.status();  // WATCHDOG_USEC=abc
//   if (*interval > absl::ZeroDuration()) ping_every = *interval / 2;
#ifndef SDFD_WATCHDOG_H_
#define SDFD_WATCHDOG_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sdfd {

// WatchdogInterval is sd_watchdog_enabled(): the interval when the watchdog
// is enabled for this process, ZeroDuration() when it is not (no
// WATCHDOG_USEC, or WATCHDOG_PID names another process), and
// InvalidArgumentError naming the variable when a value is malformed. With
// unset_environment, WATCHDOG_USEC and WATCHDOG_PID are removed afterwards.
absl::StatusOr<absl::Duration> WatchdogInterval(bool unset_environment = false);

}  // namespace sdfd

#endif  // SDFD_WATCHDOG_H_
