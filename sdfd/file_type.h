// sdfd/file_type.h: whether a passed fd is a FIFO, a special file or a POSIX
// message queue (man 3 sd_is_fifo).
//
// A .socket unit passes more than sockets: ListenFIFO= (a FIFO),
// ListenSpecial= (a character device or a file, e.g. /proc/kmsg) and
// ListenMessageQueue= (a POSIX message queue). These predicates answer
// exactly as sd_is_fifo(), sd_is_special() and sd_is_mq() of systemd v257
// (unchanged since v252 in every answer), which sdfd/differential_test.cc
// checks on every kind of fd. With a path they also say whether the fd is
// that very file. Socket fds are for sdfd/socket_info.h.
//
// Example:
//   const int fd = 3;  // the first fd systemd passed (sdfd/listen_fds.h)
//   absl::StatusOr<bool> fifo = sdfd::IsFifo(fd, "/run/foobar.fifo");
//   if (!fifo.ok()) return 1;  // EBADF: fd not open
//   if (!*fifo) return 2;      // not a FIFO, or another one
#ifndef SDFD_FILE_TYPE_H_
#define SDFD_FILE_TYPE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace sdfd {

// IsFifo is sd_is_fifo(fd, path): true when `fd` is a FIFO (a pipe counts)
// and, when `path` is given, the FIFO at that path. A path that does not
// exist (ENOENT, ENOTDIR) answers false. Errors carry libsystemd's errno as
// payload "errno": a negative fd (EBADF), fstat() or stat() failing (EBADF
// for a closed fd, EACCES, ...). `fd` stays the caller's.
absl::StatusOr<bool> IsFifo(int fd,
                            const std::optional<std::string>& path = {});

// IsSpecial is sd_is_special(fd, path): true when `fd` is a regular file or
// a character device and, when `path` is given, the same file (regular) or
// the same device number (character device) as `path`. Errors and a
// missing path as for IsFifo.
absl::StatusOr<bool> IsSpecial(int fd,
                               const std::optional<std::string>& path = {});

// IsMqueue is sd_is_mq(fd, path): true when `fd` is a POSIX message queue
// (mq_getattr() works on it) and, when `path` ("/name", as for mq_open) is
// given, the queue /dev/mqueue/name. Errors: fd negative or not open
// (EBADF), `path` not absolute (EINVAL, checked only for a queue), and
// fstat()/stat() failures, a missing /dev/mqueue entry included (ENOENT).
absl::StatusOr<bool> IsMqueue(int fd,
                              const std::optional<std::string>& path = {});

}  // namespace sdfd

#endif  // SDFD_FILE_TYPE_H_
