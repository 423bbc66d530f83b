// client/io.h: small blocking-I/O helpers shared by the client's modes.
//
// Example:
//   absl::Status s = foobar::client::WriteAll(STDOUT_FILENO, "hi\n", "stdout");
//   if (!s.ok()) return 1;  // "write(stdout): No space left on device"
//   int ms = foobar::client::PollMillis(absl::Microseconds(10));  // 1, not 0
#ifndef CLIENT_IO_H_
#define CLIENT_IO_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace foobar::client {

// WriteAll writes all of `data` to `fd` (named `name` in errors), retrying
// short writes and EINTR, and waiting with poll() when `fd` is non-blocking.
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view name);

// PollMillis converts a timeout to poll()'s argument: -1 for infinite,
// rounded up so that a short timeout never becomes a busy 0.
int PollMillis(absl::Duration timeout);

}  // namespace foobar::client

#endif  // CLIENT_IO_H_
