// sdfd/notify.h: tell the service manager about state changes (the sd_notify
// protocol).
//
// The protocol (man 3 sd_notify): if NOTIFY_SOCKET is set, send one AF_UNIX
// datagram of newline-separated KEY=VALUE assignments to it. The address is a
// path, or an abstract name when it starts with '@', or (systemd v253) an
// AF_VSOCK address "vsock:CID:PORT", "vsock-stream:", "vsock-dgram:" or
// "vsock-seqpacket:" (see sdfd/internal/notify_address.h). File descriptors
// ride along as SCM_RIGHTS (FDSTORE=1 with FDNAME=, man 5 systemd.service
// FileDescriptorStoreMax=). When sending on behalf of another PID, credentials
// go as SCM_CREDENTIALS, exactly as sd_pid_notify_with_fds() does. Common
// states: READY=1, RELOADING=1 + MONOTONIC_USEC=, STOPPING=1, STATUS=...,
// WATCHDOG=1, WATCHDOG=trigger, EXTEND_TIMEOUT_USEC=, ERRNO=, MAINPID=,
// FDSTORE=1, FDSTOREREMOVE=1.
//
// The rules of sd_pid_notify_with_fds() in systemd v257 (unchanged through
// v259), kept here:
//   * More than 253 fds (SCM_MAX_FD) is E2BIG, before NOTIFY_SOCKET is even
//     read (v252 left it to the kernel: EINVAL).
//   * NOTIFY_SOCKET starting with '/' or '@' must be at least 2 bytes
//     (EINVAL) and fit sun_path with a NUL (a long path is ENAMETOOLONG, a
//     long abstract name EINVAL); an abstract address is sent without a
//     trailing NUL. Anything else must be a vsock address, or it is EPROTO
//     (v252: EINVAL).
//   * One datagram on a fresh SOCK_DGRAM|SOCK_CLOEXEC socket whose send
//     buffer is raised to 8 MiB (best effort), sent with MSG_NOSIGNAL. For
//     vsock: the type asked for, else SOCK_DGRAM falling back to
//     SOCK_SEQPACKET and SOCK_STREAM when the transport lacks datagrams;
//     bound to a port below 1024 when privileged; connected, and after the
//     message shut down for writing and read until the receiver's EOF.
//   * SCM_CREDENTIALS go along only when the kernel's own would be wrong:
//     another pid was given, or real and effective uid/gid differ. If the
//     kernel refuses them (no CAP_SYS_ADMIN), the datagram is sent again
//     without them.
//   * With unset_environment, NOTIFY_SOCKET is removed whatever the outcome.
// sdfd/differential_test.cc captures both libraries' datagrams and compares
// payload, fds and credentials, against libsystemd 252 and 257 (it lists
// where 252 answers differently). Two deliberate differences, both about
// messages PID 1 would not act on as the sender meant: an empty state is an
// error (libsystemd rejects only NULL), and so is a message with FDSTORE=1
// or FDSTOREREMOVE=1 whose FDNAME= fails sdfd::FdNameIsValid (PID 1 would
// log and store the fd under a default name); nothing is sent then. Errors
// carry the errno as payload "errno", like sdfd/listen_fds.h.
//
// Not running under a service manager (no NOTIFY_SOCKET) is not an error:
// the functions return false ("nothing sent") and do nothing.
//
// A datagram send to a manager that is not reading blocks once its queue
// holds net.unix.max_dgram_qlen datagrams (10 on some systems). An event
// loop sets NotifyOptions::non_blocking: the send then fails at once with
// errno EAGAIN (NotifyWouldBlock() says so), and the caller tries later.
//
// Example:
//   absl::StatusOr<bool> sent = sdfd::Notify("READY=1\nSTATUS=Serving");
//   if (!sent.ok()) return 1;  // e.g. sendmsg: ECONNREFUSED
//   if (!*sent) return 0;      // no NOTIFY_SOCKET: no service manager
//
//   sdfd::NotifyOptions options;
//   options.non_blocking = true;  // an event loop must not wait for PID 1
//   sent = sdfd::PidNotifyWithFds("WATCHDOG=1", {}, options);
//   if (!sent.ok() && sdfd::NotifyWouldBlock(sent.status())) {
//     // PID 1's queue is full: nothing was sent, try again later.
//   }
#ifndef SDFD_NOTIFY_H_
#define SDFD_NOTIFY_H_

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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
  // non_blocking sends with MSG_DONTWAIT: when the manager's queue is full,
  // the call returns an UnavailableError with errno EAGAIN at once instead
  // of waiting until the manager reads. Nothing was sent then. libsystemd
  // has no such option; its sends always may block. It covers the send on
  // the unix datagram socket systemd's NOTIFY_SOCKET is; with a vsock
  // NOTIFY_SOCKET, connecting and waiting for the manager's end of stream
  // may still block.
  bool non_blocking = false;
};

// PidNotifyWithFds is sd_pid_notify_with_fds(): it sends `state` with `fds`
// (SCM_RIGHTS; the caller keeps owning them, the manager receives
// duplicates) to NOTIFY_SOCKET. It returns true when sent, false when
// NOTIFY_SOCKET is unset, and an error naming the call and errno otherwise.
// InvalidArgumentError: an empty `state` (EINVAL), more than 253 fds
// (E2BIG), an invalid FDNAME= with FDSTORE=1/FDSTOREREMOVE=1 (EINVAL), a
// malformed NOTIFY_SOCKET (EPROTO, EINVAL, ENAMETOOLONG, ERANGE). Failed
// system calls keep their errno (ECONNREFUSED, ENOENT, ...).
absl::StatusOr<bool> PidNotifyWithFds(absl::string_view state,
                                      absl::Span<const int> fds,
                                      const NotifyOptions& options = {});

// Notify is sd_notify(0, state).
absl::StatusOr<bool> Notify(absl::string_view state);

// NotifyReloading tells the manager that a configuration reload has begun:
// "RELOADING=1" and "MONOTONIC_USEC=" with CLOCK_MONOTONIC in decimal µs,
// in one datagram (systemd v253, man 3 sd_notify; man 5 systemd.service
// Type=notify-reload waits for exactly this, then READY=1). Returns and
// errors are those of Notify(), plus clock_gettime()'s errno.
absl::StatusOr<bool> NotifyReloading();

// NotifyWouldBlock says whether `status` (from a non_blocking send) means
// the manager's queue was full: nothing was sent, and a later try may work.
bool NotifyWouldBlock(const absl::Status& status);

// ---------------------------------------------------------------------------
// BARRIER=1 (sd_notify_barrier(3), systemd >= 246).
//
// NotifyBarrier is sd_notify_barrier(unset_environment, timeout): it sends
// "BARRIER=1" alone in its datagram (systemd 252 ignores anything sent with
// it) together with the write end of a fresh pipe, closes its own copy, and
// waits until the read end reports POLLHUP, i.e. until the service manager
// closed the write end. The manager processes notifications in order, so:
//
//   Contract: once it returns true, PID 1 has *processed* every message this
//   process sent before it (READY=1, FDSTORE=1, ...). It does NOT prove that
//   an FDSTORE=1 entry was *kept*: a full store (FileDescriptorStoreMax=) or
//   a disabled one (0) drops the fds and the barrier still returns. Since
//   systemd 254 the service's $FDSTORE says whether the store is enabled and
//   how big it is; under systemd 252 that cannot be known from the service.
//
// It blocks for up to `timeout` (absl::InfiniteDuration() waits for ever),
// sending included: a full manager queue is retried every 10 ms within it
// (libsystemd's send would block there without bound):
// call it where nothing else needs the thread, e.g. after serving stopped.
// Returns true once the barrier was passed, false (nothing sent, no wait)
// when NOTIFY_SOCKET is unset, DeadlineExceededError carrying ETIMEDOUT when
// the manager did not answer in time, and the failing call's errno
// otherwise. sdfd/differential_test.cc compares it with libsystemd's.
//
// Example:
//   absl::StatusOr<bool> passed = sdfd::NotifyBarrier(absl::Seconds(5));
//   if (!passed.ok()) return 1;  // ETIMEDOUT: PID 1 is busy
absl::StatusOr<bool> NotifyBarrier(absl::Duration timeout,
                                   bool unset_environment = false);

}  // namespace sdfd

#endif  // SDFD_NOTIFY_H_
