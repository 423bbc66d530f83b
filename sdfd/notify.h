// sdfd/notify.h: tell the service manager about state changes (the sd_notify
// protocol).
//
// The protocol (man 3 sd_notify): if NOTIFY_SOCKET is set, send one AF_UNIX
// datagram of newline-separated KEY=VALUE assignments to it. The address is a
// path, or an abstract name when it starts with '@'. File descriptors ride
// along as SCM_RIGHTS (FDSTORE=1 with FDNAME=, man 5 systemd.service
// FileDescriptorStoreMax=). When sending on behalf of another PID, credentials
// go as SCM_CREDENTIALS, exactly as sd_pid_notify_with_fds() does. Common
// states: READY=1, RELOADING=1 + MONOTONIC_USEC=, STOPPING=1, STATUS=...,
// WATCHDOG=1, WATCHDOG=trigger, EXTEND_TIMEOUT_USEC=, ERRNO=, MAINPID=,
// FDSTORE=1, FDSTOREREMOVE=1.
//
// Not running under a service manager (no NOTIFY_SOCKET) is not an error:
// the functions return false ("nothing sent") and do nothing.
//
//   absl::StatusOr<bool> sent = sdfd::Notify("READY=1\nSTATUS=Serving");
//   if (!sent.ok()) LogWarning(sent.status());  // e.g. sendmsg: ECONNREFUSED
#ifndef SDFD_NOTIFY_H_
#define SDFD_NOTIFY_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sdfd {

// NotifyOptions tunes PidNotifyWithFds().
struct NotifyOptions {
  // pid, when non-zero and not getpid(), sends on behalf of that process
  // (SCM_CREDENTIALS with this pid), as sd_pid_notify() does.
  pid_t pid = 0;
  // unset_environment removes NOTIFY_SOCKET after sending, so no later call
  // (or child) sends again.
  bool unset_environment = false;
};

// PidNotifyWithFds is sd_pid_notify_with_fds(): it sends `state` with `fds`
// (SCM_RIGHTS) to NOTIFY_SOCKET. It returns true when sent, false when
// NOTIFY_SOCKET is unset, and an error naming the call and errno otherwise.
// An empty `state` is InvalidArgumentError.
absl::StatusOr<bool> PidNotifyWithFds(absl::string_view state,
                                      absl::Span<const int> fds,
                                      const NotifyOptions& options = {});

// Notify is sd_notify(0, state).
absl::StatusOr<bool> Notify(absl::string_view state);

}  // namespace sdfd

#endif  // SDFD_NOTIFY_H_
