// sdfd/fd_store.h: what the service manager's fd store accepts (man 5
// systemd.service FileDescriptorStoreMax=, man 3 sd_pid_notify_with_fds).
//
// A service hands fds to PID 1 with FDSTORE=1 (see sdfd/notify.h) and gets
// them back in LISTEN_FDS on its next start. Two facts decide whether that
// works, and this file reads both:
//   * the store's size: since systemd v254, $FDSTORE (man 5 systemd.exec)
//     holds FileDescriptorStoreMax= when the store is enabled. Without the
//     variable nobody can tell: the store is off, or the manager is older
//     than v254 (Debian 12's 252 never sets it). FdStoreMax() says exactly
//     that, and never guesses;
//   * the names: FDNAME= must pass PID 1's fdname_is_valid(), or PID 1
//     stores the fd under a default name, logging only "Passed FDNAME= name
//     is invalid, ignoring.". PidNotifyWithFds() refuses such a message.
//
// Example:
//   absl::StatusOr<std::optional<unsigned>> max = sdfd::FdStoreMax();
//   if (!max.ok()) return 1;  // FDSTORE=abc: InvalidArgument, errno EINVAL
//   if (!max->has_value()) {
//     // No $FDSTORE: the store is off, or systemd is older than v254.
//   } else if (**max < 100) {
//     // The store cannot hold 100 fds: say so.
//   }
//   if (!sdfd::FdNameIsValid("conn:1")) return 2;  // ':' separates names
#ifndef SDFD_FD_STORE_H_
#define SDFD_FD_STORE_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sdfd {

// kFdNameMax is FDNAME_MAX in systemd's fd-util.h.
inline constexpr size_t kFdNameMax = 255;

// FdNameIsValid is fdname_is_valid() (systemd v252 through v259): at most
// 255 characters, each printable ASCII (0x20-0x7e) except ':', which
// separates names in LISTEN_FDNAMES. The empty name is valid. PID 1 also
// removes backslash escapes when it splits a message into lines, so a name
// holding '\' is stored without them.
bool FdNameIsValid(absl::string_view name);

// FdStoreMax reads $FDSTORE (systemd v254, man 5 systemd.exec), which the
// manager sets, together with NOTIFY_SOCKET, only when the unit's
// FileDescriptorStoreMax= is non-zero. It returns that maximum number of
// stored fds, or nullopt when the variable is absent: unknown, since the
// store may be disabled or the manager older than v254. The value is
// parsed with systemd's number rules for an unsigned int (see
// sdfd/listen_fds.h); a malformed or out-of-range value, and 0 (which
// systemd never sends, as it means "disabled"), are InvalidArgumentError
// with errno EINVAL or ERANGE as payload "errno". Nothing is unset.
absl::StatusOr<std::optional<unsigned>> FdStoreMax();

}  // namespace sdfd

#endif  // SDFD_FD_STORE_H_
