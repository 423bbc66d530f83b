// common/fd_util.cc: see fd_util.h.
#include "common/fd_util.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"

namespace foobar {

absl::Status SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) {
    return sdfd::ErrnoError(errno, absl::StrCat("fcntl(", fd, ", F_GETFL)"));
  }
  if ((flags & O_NONBLOCK) != 0) return absl::OkStatus();
  if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return sdfd::ErrnoError(
        errno, absl::StrCat("fcntl(", fd, ", F_SETFL, O_NONBLOCK)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<FdLimit> RaiseFdLimit() {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return sdfd::ErrnoError(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = raised.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      return sdfd::ErrnoError(errno, absl::StrCat("setrlimit(RLIMIT_NOFILE, ",
                                                  raised.rlim_max, ")"));
    }
    limit = raised;
  }
  return FdLimit{static_cast<uint64_t>(limit.rlim_cur),
                 static_cast<uint64_t>(limit.rlim_max)};
}

}  // namespace foobar
