// sdfd/watchdog.h: whether the service manager expects watchdog pings, and
// how often (man 3 sd_watchdog_enabled, WatchdogSec= in man 5
// systemd.service).
//
// systemd sets WATCHDOG_USEC=<interval in µs> and WATCHDOG_PID=<pid> for the
// main process. A service must send WATCHDOG=1 (sdfd::Notify) more often than
// the interval; half of it is the usual period. As in libsystemd 252 to 259,
// WATCHDOG_USEC is a uint64 (systemd's number rules, see listen_fds.h) that
// must be neither 0 nor infinity (UINT64_MAX), and WATCHDOG_PID, when set, a
// valid pid; the differential tests and the fuzzer compare both.
//
// Example:
//   absl::StatusOr<absl::Duration> interval = sdfd::WatchdogInterval();
//   if (!interval.ok()) return 2;  // WATCHDOG_USEC=abc: InvalidArgument
//   absl::Duration ping_every = absl::InfiniteDuration();  // no watchdog
//   if (*interval > absl::ZeroDuration()) ping_every = *interval / 2;
#ifndef SDFD_WATCHDOG_H_
#define SDFD_WATCHDOG_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sdfd {

// WatchdogInterval is sd_watchdog_enabled(): the interval when the watchdog
// is enabled for this process, ZeroDuration() when it is not (no
// WATCHDOG_USEC, or WATCHDOG_PID names another process), and
// InvalidArgumentError naming the variable when a value is malformed (with
// the errno libsystemd returns as payload "errno"). The interval is exact up
// to UINT64_MAX - 1 µs. With unset_environment, WATCHDOG_USEC and
// WATCHDOG_PID are removed afterwards, whatever the outcome.
absl::StatusOr<absl::Duration> WatchdogInterval(bool unset_environment = false);

}  // namespace sdfd

#endif  // SDFD_WATCHDOG_H_
