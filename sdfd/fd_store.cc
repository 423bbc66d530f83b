#include "sdfd/fd_store.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"
#include "sdfd/internal/env_parse.h"

namespace sdfd {

bool FdNameIsValid(absl::string_view name) {
  for (char c : name) {
    // fdname_is_valid() compares a (signed) char: bytes from 0x80 are
    // negative there, below ' ', and so refused like control characters.
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < ' ' || byte >= 127 || c == ':') return false;
  }
  return name.size() <= kFdNameMax;
}

absl::StatusOr<std::optional<unsigned>> FdStoreMax() {
  const char* value = std::getenv("FDSTORE");
  if (value == nullptr) return std::nullopt;
  const std::string shown =
      absl::StrCat("FDSTORE=\"", absl::CHexEscape(value), "\"");
  unsigned max = 0;
  if (int r = internal::SafeAtou(value, &max); r < 0) {
    return InvalidArgumentWithErrno(
        -r, absl::StrCat(shown, " is not a number of fds"));
  }
  // service_spawn() sets FDSTORE only when n_fd_store_max > 0.
  if (max == 0) {
    return InvalidArgumentWithErrno(
        EINVAL, absl::StrCat(shown, " names an empty fd store"));
  }
  return max;
}

}  // namespace sdfd
