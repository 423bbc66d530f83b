// sdfd/internal/env_parse.h: the pure parsing half of the LISTEN_* and
// WATCHDOG_* protocols, with libsystemd's exact number rules.
//
// ListenFds() and WatchdogInterval() read the environment and act on the fds;
// everything they decide from the variables' text lives here, so the fuzzer
// (tests/fuzz) can compare this parsing with libsystemd without touching fds
// it does not own.
//
// Number rules are those of src/basic/parse-util.c (v252 to v259): leading
// " \t\n\r" skipped, base from the C prefix (0x hex, 0 octal) plus Python's
// 0b/0o, strtol/strtoul range errors as ERANGE, trailing garbage as EINVAL,
// a leading '-' on an unsigned value as ERANGE. strtol() is C23's, as in
// libsystemd 257 built against glibc 2.38+: "0b" binary prefixes count after
// blanks and a sign too ("+0b1" is 1; libsystemd 252 said EINVAL).
//
//   absl::StatusOr<ListenEnv> env =
//       ParseListenEnv(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
//                      getenv("LISTEN_FDNAMES"), getpid());
//   if (!env.ok()) return env.status();  // LISTEN_FDS="abc": Invalid argument
#ifndef SDFD_INTERNAL_ENV_PARSE_H_
#define SDFD_INTERNAL_ENV_PARSE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sdfd::internal {

// SafeAtoi is systemd's safe_atoi(): 0 on success, -EINVAL or -ERANGE.
int SafeAtoi(const char* text, int* value);
// SafeAtou is systemd's safe_atou(): an unsigned int, 0 on success, -EINVAL
// or -ERANGE.
int SafeAtou(const char* text, unsigned* value);
// SafeAtou64 is systemd's safe_atou64(): 0 on success, -EINVAL or -ERANGE.
int SafeAtou64(const char* text, uint64_t* value);
// ParsePid is systemd's parse_pid(): a positive pid_t, else -EINVAL/-ERANGE.
int ParsePid(const char* text, pid_t* pid);

// SplitFdNames splits LISTEN_FDNAMES as strv_split_full(..., ":",
// EXTRACT_DONT_COALESCE_SEPARATORS) does in libsystemd v252: on every ':',
// keeping empty names ("" is one empty name, "a::b" three names), with a
// backslash taking the next character literally ("a\\:b" is one name "a:b").
// A trailing lone backslash is an error (EINVAL).
absl::StatusOr<std::vector<std::string>> SplitFdNames(absl::string_view text);

// ListenEnv is what the LISTEN_* variables say. n_fds == 0 means "not for
// us" (no LISTEN_PID, another PID, or no LISTEN_FDS).
struct ListenEnv {
  int n_fds = 0;
  bool have_names = false;         // LISTEN_FDNAMES was set
  std::vector<std::string> names;  // its split value when have_names
};

// ParseListenEnv parses the variables (nullptr = unset) for process `self`.
// Errors carry the errno sd_listen_fds_with_names() returns:
// LISTEN_FDNAMES ending in a lone backslash (EINVAL, even when the fds are
// for another process, as libsystemd splits first), LISTEN_PID or
// LISTEN_FDS not a number (EINVAL) or out of range (ERANGE), LISTEN_FDS <= 0
// or > INT_MAX - 3 (EINVAL). The name count is not checked here, because
// libsystemd checks it only after marking the fds CLOEXEC: see
// CheckFdNameCount.
//
// LISTEN_PIDFDID (systemd v259) is read as v259's sd_listen_fds() reads it,
// after LISTEN_PID matched and before LISTEN_FDS: a uint64 (EINVAL/ERANGE
// otherwise) that must equal `self_pidfdid`, the inode id of this process's
// pidfd (pidfd_open(getpid()), then fstat), or the fds are "not for us". When
// the kernel gives pidfds no unique inode ids (`self_pidfdid` is nullopt) a
// parsed value is ignored.
absl::StatusOr<ListenEnv> ParseListenEnv(
    const char* listen_pid, const char* listen_fds, const char* listen_fdnames,
    pid_t self, const char* listen_pidfdid = nullptr,
    std::optional<uint64_t> self_pidfdid = std::nullopt);

// CheckFdNameCount fails (EINVAL) when LISTEN_FDNAMES was set and its name
// count differs from LISTEN_FDS.
absl::Status CheckFdNameCount(const ListenEnv& env);

// FdNames returns the names for env's fds: the split LISTEN_FDNAMES, or
// "unknown" for each fd when it was unset (as libsystemd reports it).
std::vector<std::string> FdNames(const ListenEnv& env);

// ParseWatchdogEnv parses WATCHDOG_USEC and WATCHDOG_PID (nullptr = unset)
// as sd_watchdog_enabled() does: the interval in µs, 0 when not enabled for
// `self` (no WATCHDOG_USEC, or WATCHDOG_PID names another process). Errors
// carry EINVAL/ERANGE: malformed values, and WATCHDOG_USEC 0 or infinity
// (UINT64_MAX).
absl::StatusOr<uint64_t> ParseWatchdogEnv(const char* watchdog_usec,
                                          const char* watchdog_pid, pid_t self);

}  // namespace sdfd::internal

#endif  // SDFD_INTERNAL_ENV_PARSE_H_
