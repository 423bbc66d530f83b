// sdfd/errno_status.h: absl::Status values that keep the errno of
// the failing call, so results can be compared with libsystemd's.
//
// libsystemd reports failures as a negative errno (-EINVAL, -ERANGE, -EBADF).
// sdfd reports absl::Status, and attaches that same errno as a payload, so the
// differential tests and the fuzzer can check that both libraries failed for
// the same reason, and callers can branch on it without parsing messages.
//
// Example:
//   absl::Status s = sdfd::ErrnoError(EBADF, "fcntl(5, F_GETFD)");
//   // s.code() == absl::StatusCode::kFailedPrecondition
//   // s.message() == "fcntl(5, F_GETFD): Bad file descriptor"
//   // s.ToString() == "FAILED_PRECONDITION: fcntl(5, F_GETFD): Bad file
//   //                  descriptor [errno='9']"
//   if (sdfd::ErrnoOf(s) == EBADF) return 1;  // branch on errno, not text
//   if (sdfd::ErrnoOf(absl::OkStatus()) == 0) return 0;  // 0: no errno
#ifndef SDFD_ERRNO_STATUS_H_
#define SDFD_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sdfd {

// kErrnoPayloadUrl is the payload key under which the errno is stored, as
// decimal text. It is short on purpose: absl::Status's operator<< prints
// payloads, so a logged error reads "...: Invalid argument [errno='22']".
inline constexpr char kErrnoPayloadUrl[] = "errno";

// ErrnoError is absl::ErrnoToStatus(errno_value, message) ("message: strerror",
// code mapped from the errno) with the errno attached.
absl::Status ErrnoError(int errno_value, absl::string_view message);

// InvalidArgumentWithErrno is an InvalidArgumentError ("message: strerror")
// with the errno attached. Malformed protocol variables use it: the code says
// "bad input" whatever the errno (EINVAL, ERANGE) libsystemd would return.
absl::Status InvalidArgumentWithErrno(int errno_value,
                                      absl::string_view message);

// WithErrno returns `status` with `errno_value` attached, for errors whose
// code is not the one absl::ErrnoToStatus would pick (a timeout is
// DeadlineExceeded with ETIMEDOUT).
absl::Status WithErrno(absl::Status status, int errno_value);

// ErrnoOf returns the errno attached to `status`, or 0 when it is OK or has
// none.
int ErrnoOf(const absl::Status& status);

// NegativeErrnoOf maps `status` the way libsystemd reports errors: 0 when OK,
// otherwise -ErrnoOf(status) (or -EIO when no errno is attached, which the
// differential tests treat as a mismatch).
int NegativeErrnoOf(const absl::Status& status);

}  // namespace sdfd

#endif  // SDFD_ERRNO_STATUS_H_
