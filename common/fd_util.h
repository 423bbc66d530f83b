// common/fd_util.h: file-descriptor chores foobard and foobar both need,
// written once: non-blocking mode and the process's fd limit.
//
// Example:
//   const int fd = 3;  // a socket systemd passed (sdfd/listen_fds.h)
//   absl::Status s = foobar::SetNonBlocking(fd);
//   if (!s.ok()) return 1;  // EBADF (sdfd::ErrnoOf): fd is not open
//   absl::StatusOr<foobar::FdLimit> limit = foobar::RaiseFdLimit();
//   if (!limit.ok()) return 1;  // the limit is unchanged
//   if (limit->soft < 10000) {
//     // Fewer clients than hoped: say so.
//   }
#ifndef COMMON_FD_UTIL_H_
#define COMMON_FD_UTIL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace foobar {

// SetNonBlocking adds O_NONBLOCK to `fd`'s file status flags (fcntl(2)
// F_GETFL/F_SETFL); other flags are kept. The flag belongs to the open file
// description: every fd dup'ed from it, in any process, sees it too. `fd` is
// borrowed. Errors carry fcntl's errno (sdfd::ErrnoOf): EBADF when `fd` is
// not open.
absl::Status SetNonBlocking(int fd);

// FdLimit is RLIMIT_NOFILE: soft (what open() is held to) and hard (how far
// an unprivileged process may raise the soft one). RLIM_INFINITY is
// UINT64_MAX.
struct FdLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// RaiseFdLimit raises RLIMIT_NOFILE's soft limit to the hard one
// (getrlimit(2)/setrlimit(2)) and returns the limit now in force. Every
// client is an fd, and the usual soft limit (1024) caps a server far below
// its hard limit (systemd gives services 524288 since v240). Errors carry
// the failing call's errno; the limit is then unchanged.
absl::StatusOr<FdLimit> RaiseFdLimit();

}  // namespace foobar

#endif  // COMMON_FD_UTIL_H_
