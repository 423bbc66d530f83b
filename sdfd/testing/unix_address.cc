#include "sdfd/testing/unix_address.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sdfd::test {

absl::StatusOr<UnixAddress> MakeUnixAddress(const std::string& path) {
  UnixAddress address;
  address.un.sun_family = AF_UNIX;
  // A path needs its NUL; an abstract name has its leading NUL instead.
  if (path.empty() || path.size() + 1 > sizeof(address.un.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix path too long for sockaddr_un (or empty): ", path));
  }
  if (path[0] == '@') {
    std::memcpy(address.un.sun_path + 1, path.data() + 1, path.size() - 1);
    address.length = offsetof(sockaddr_un, sun_path) + path.size();
  } else {
    std::memcpy(address.un.sun_path, path.c_str(), path.size() + 1);
    address.length = offsetof(sockaddr_un, sun_path) + path.size() + 1;
  }
  return address;
}

absl::StatusOr<UniqueFd> BindUnix(int type, const std::string& path) {
  absl::StatusOr<UnixAddress> address = MakeUnixAddress(path);
  if (!address.ok()) return address.status();
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, "socket(AF_UNIX)");
  if (::bind(fd.get(), address->get(), address->length) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind(", path, ")"));
  }
  return fd;
}

}  // namespace sdfd::test
