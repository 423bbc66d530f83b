// sdfd/errno_status.cc: see errno_status.h.
#include "sdfd/errno_status.h"

#include <cerrno>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sdfd {

absl::Status WithErrno(absl::Status status, int errno_value) {
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrCat(errno_value)));
  return status;
}

absl::Status ErrnoError(int errno_value, absl::string_view message) {
  return WithErrno(absl::ErrnoToStatus(errno_value, message), errno_value);
}

absl::Status InvalidArgumentWithErrno(int errno_value,
                                      absl::string_view message) {
  // ErrnoToStatus formats "message: strerror" thread-safely; only its code is
  // replaced.
  absl::Status formatted = absl::ErrnoToStatus(errno_value, message);
  return WithErrno(absl::InvalidArgumentError(formatted.message()),
                   errno_value);
}

int ErrnoOf(const absl::Status& status) {
  if (status.ok()) return 0;
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayloadUrl);
  if (!payload.has_value()) return 0;
  int errno_value = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &errno_value)) return 0;
  return errno_value;
}

int NegativeErrnoOf(const absl::Status& status) {
  if (status.ok()) return 0;
  int errno_value = ErrnoOf(status);
  return errno_value > 0 ? -errno_value : -EIO;
}

}  // namespace sdfd
