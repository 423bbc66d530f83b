#include "sdfd/watchdog.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "sdfd/internal/env_parse.h"

namespace sdfd {

absl::StatusOr<absl::Duration> WatchdogInterval(bool unset_environment) {
  const char* usec_env = std::getenv("WATCHDOG_USEC");
  const char* pid_env = std::getenv("WATCHDOG_PID");
  // Copies, because the cleanup below may unset the variables first.
  const std::string usec_text = usec_env != nullptr ? usec_env : "";
  const std::string pid_text = pid_env != nullptr ? pid_env : "";
  absl::Cleanup unset = [unset_environment] {
    if (!unset_environment) return;
    // sd_watchdog_enabled() ends up removing both in every case; unsetenv()
    // only fails for a malformed name.
    (void)::unsetenv("WATCHDOG_USEC");
    (void)::unsetenv("WATCHDOG_PID");
  };

  absl::StatusOr<uint64_t> usec = internal::ParseWatchdogEnv(
      usec_env != nullptr ? usec_text.c_str() : nullptr,
      pid_env != nullptr ? pid_text.c_str() : nullptr, ::getpid());
  if (!usec.ok()) return usec.status();
  // absl::Microseconds() takes an int64_t, and WATCHDOG_USEC may be any
  // uint64_t below infinity; seconds plus the remainder is exact.
  return absl::Seconds(static_cast<int64_t>(*usec / 1000000)) +
         absl::Microseconds(static_cast<int64_t>(*usec % 1000000));
}

}  // namespace sdfd
