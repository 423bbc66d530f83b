#include "client/io.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"

namespace foobar::client {

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view name) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // Someone handed us a non-blocking descriptor (a shared pipe or
      // terminal); wait for room instead of spinning.
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) {
        return sdfd::ErrnoError(errno, absl::StrCat("poll(", name, ")"));
      }
      continue;
    }
    return sdfd::ErrnoError(errno, absl::StrCat("write(", name, ")"));
  }
  return absl::OkStatus();
}

int PollMillis(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return -1;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  if (ms > std::numeric_limits<int>::max()) return -1;
  return ms < 1 ? 1 : static_cast<int>(ms);
}

}  // namespace foobar::client
