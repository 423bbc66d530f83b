#include "sdfd/socket_info.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"

namespace sdfd {
namespace {

// GetIntOption reads one int socket option; `what` names it in errors.
absl::StatusOr<int> GetIntOption(int fd, int option, const char* what) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) < 0) {
    return ErrnoError(errno, absl::StrCat("getsockopt(", fd, ", ", what, ")"));
  }
  if (length != sizeof(value)) {
    return ErrnoError(EINVAL,
                      absl::StrCat("getsockopt(", fd, ", ", what, ") length"));
  }
  return value;
}

// IsSocketInternal is libsystemd's is_socket_internal(): a socket of `type`
// (0 = any) that is listening or not (`listening` < 0 = either).
absl::StatusOr<bool> IsSocketInternal(int fd, int type, int listening) {
  if (fd < 0) {
    return ErrnoError(EBADF, absl::StrCat("fd ", fd));
  }
  if (type < 0) {
    return ErrnoError(EINVAL, absl::StrCat("socket type ", type));
  }
  struct stat st;
  if (::fstat(fd, &st) < 0) {
    return ErrnoError(errno, absl::StrCat("fstat(", fd, ")"));
  }
  if (!S_ISSOCK(st.st_mode)) return false;
  if (type != 0) {
    absl::StatusOr<int> other = GetIntOption(fd, SO_TYPE, "SO_TYPE");
    if (!other.ok()) return other.status();
    if (*other != type) return false;
  }
  if (listening >= 0) {
    absl::StatusOr<int> accepting =
        GetIntOption(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN");
    if (!accepting.ok()) return accepting.status();
    if ((*accepting != 0) != (listening != 0)) return false;
  }
  return true;
}

// LocalAddress is getsockname() with the length check libsystemd makes.
absl::Status LocalAddress(int fd, sockaddr_storage* address,
                          socklen_t* length) {
  std::memset(address, 0, sizeof(*address));
  *length = sizeof(*address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(address), length) < 0) {
    return ErrnoError(errno, absl::StrCat("getsockname(", fd, ")"));
  }
  if (*length < sizeof(sa_family_t)) {
    return ErrnoError(EINVAL,
                      absl::StrCat("getsockname(", fd, ") returned no family"));
  }
  return absl::OkStatus();
}

const char* TypeName(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "datagram";
    case SOCK_SEQPACKET:
      return "seqpacket";
    default:
      return "other";
  }
}

}  // namespace

absl::StatusOr<SocketInfo> InspectSocket(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) {
    return ErrnoError(errno, absl::StrCat("fstat(", fd, ")"));
  }
  SocketInfo info;
  if (!S_ISSOCK(st.st_mode)) return info;

  absl::StatusOr<int> family = GetIntOption(fd, SO_DOMAIN, "SO_DOMAIN");
  if (!family.ok()) return family.status();
  absl::StatusOr<int> type = GetIntOption(fd, SO_TYPE, "SO_TYPE");
  if (!type.ok()) return type.status();
  absl::StatusOr<int> accepting =
      GetIntOption(fd, SO_ACCEPTCONN, "SO_ACCEPTCONN");
  if (!accepting.ok()) return accepting.status();
  sockaddr_storage address;
  socklen_t length = 0;
  if (absl::Status s = LocalAddress(fd, &address, &length); !s.ok()) return s;

  info.is_socket = true;
  info.family = *family;
  info.type = *type;
  info.listening = *accepting != 0;
  if (address.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&address);
    const size_t path_length = length > offsetof(sockaddr_un, sun_path)
                                   ? length - offsetof(sockaddr_un, sun_path)
                                   : 0;
    if (path_length > 0 && un->sun_path[0] == '\0') {
      // Abstract: the name is exactly the remaining bytes, not
      // NUL-terminated; '@' is how systemd and ss(8) print it.
      info.unix_path =
          absl::StrCat("@", std::string(un->sun_path + 1, path_length - 1));
    } else if (path_length > 0) {
      info.unix_path.assign(un->sun_path, strnlen(un->sun_path, path_length));
    }
  } else if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    info.address = text;
    info.port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    info.address = text;
    info.port = ntohs(in6->sin6_port);
  }
  return info;
}

std::string Describe(const SocketInfo& info) {
  if (!info.is_socket) return "not a socket";
  std::string where;
  switch (info.family) {
    case AF_UNIX:
      where = absl::StrCat(
          "unix:", info.unix_path.empty() ? "(unnamed)" : info.unix_path);
      break;
    case AF_INET:
    case AF_INET6: {
      const char* scheme = info.type == SOCK_DGRAM ? "udp:" : "tcp:";
      where = info.family == AF_INET6
                  ? absl::StrCat(scheme, "[", info.address, "]:", info.port)
                  : absl::StrCat(scheme, info.address, ":", info.port);
      break;
    }
    default:
      where = absl::StrCat("family ", info.family);
  }
  return absl::StrCat(where, " (", TypeName(info.type),
                      info.listening ? ", listening" : "", ")");
}

absl::StatusOr<bool> IsSocket(int fd, int family, int type, int listening) {
  if (fd < 0) {
    return ErrnoError(EBADF, absl::StrCat("fd ", fd));
  }
  if (family < 0) {
    return ErrnoError(EINVAL, absl::StrCat("family ", family));
  }
  absl::StatusOr<bool> r = IsSocketInternal(fd, type, listening);
  if (!r.ok() || !*r) return r;
  if (family > 0) {
    sockaddr_storage address;
    socklen_t length = 0;
    if (absl::Status s = LocalAddress(fd, &address, &length); !s.ok()) {
      return s;
    }
    return address.ss_family == family;
  }
  return true;
}

absl::StatusOr<bool> IsSocketInet(int fd, int family, int type, int listening,
                                  uint16_t port) {
  if (fd < 0) {
    return ErrnoError(EBADF, absl::StrCat("fd ", fd));
  }
  if (family != 0 && family != AF_INET && family != AF_INET6) {
    return ErrnoError(EINVAL, absl::StrCat("family ", family));
  }
  absl::StatusOr<bool> r = IsSocketInternal(fd, type, listening);
  if (!r.ok() || !*r) return r;
  sockaddr_storage address;
  socklen_t length = 0;
  if (absl::Status s = LocalAddress(fd, &address, &length); !s.ok()) return s;
  if (address.ss_family != AF_INET && address.ss_family != AF_INET6) {
    return false;
  }
  if (family != 0 && address.ss_family != family) return false;
  if (port > 0) {
    uint16_t bound = address.ss_family == AF_INET
                         ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port;
    return ntohs(bound) == port;
  }
  return true;
}

absl::StatusOr<bool> IsSocketUnix(int fd, int type, int listening,
                                  const std::string& path) {
  absl::StatusOr<bool> r = IsSocketInternal(fd, type, listening);
  if (!r.ok() || !*r) return r;
  sockaddr_storage address;
  socklen_t length = 0;
  if (absl::Status s = LocalAddress(fd, &address, &length); !s.ok()) return s;
  if (address.ss_family != AF_UNIX) return false;
  if (path.empty()) return true;
  const auto* un = reinterpret_cast<const sockaddr_un*>(&address);
  const size_t header = offsetof(sockaddr_un, sun_path);
  if (path[0] == '@') {
    // Abstract: sun_path is '\0' + name, and the address length is exact.
    const size_t name_length = path.size() - 1;
    return length == header + 1 + name_length && un->sun_path[0] == '\0' &&
           std::memcmp(un->sun_path + 1, path.data() + 1, name_length) == 0;
  }
  // A path socket: the kernel's copy includes the terminating NUL.
  return length >= header + path.size() + 1 &&
         std::memcmp(un->sun_path, path.c_str(), path.size() + 1) == 0;
}

absl::StatusOr<bool> IsSocketSockaddr(int fd, int type, const sockaddr* address,
                                      socklen_t length, int listening) {
  if (fd < 0) {
    return ErrnoError(EBADF, absl::StrCat("fd ", fd));
  }
  if (address == nullptr) {
    return ErrnoError(EINVAL, "no socket address to compare");
  }
  if (length < sizeof(sa_family_t)) {
    return ErrnoError(ENOBUFS,
                      absl::StrCat("socket address of ", length, " bytes"));
  }
  if (address->sa_family != AF_INET && address->sa_family != AF_INET6) {
    return ErrnoError(EPFNOSUPPORT,
                      absl::StrCat("address family ", address->sa_family));
  }
  absl::StatusOr<bool> r = IsSocketInternal(fd, type, listening);
  if (!r.ok() || !*r) return r;
  sockaddr_storage local;
  socklen_t local_length = 0;
  if (absl::Status s = LocalAddress(fd, &local, &local_length); !s.ok()) {
    return s;
  }
  if (local.ss_family != address->sa_family) return false;
  if (local.ss_family == AF_INET) {
    if (local_length < sizeof(sockaddr_in) || length < sizeof(sockaddr_in)) {
      return ErrnoError(EINVAL,
                        absl::StrCat("AF_INET address of ", length, " bytes"));
    }
    sockaddr_in want;
    std::memcpy(&want, address, sizeof(want));
    const auto* have = reinterpret_cast<const sockaddr_in*>(&local);
    if (want.sin_port != 0 && have->sin_port != want.sin_port) return false;
    return have->sin_addr.s_addr == want.sin_addr.s_addr;
  }
  if (local_length < sizeof(sockaddr_in6) || length < sizeof(sockaddr_in6)) {
    return ErrnoError(EINVAL,
                      absl::StrCat("AF_INET6 address of ", length, " bytes"));
  }
  sockaddr_in6 want;
  std::memcpy(&want, address, sizeof(want));
  const auto* have = reinterpret_cast<const sockaddr_in6*>(&local);
  if (want.sin6_port != 0 && have->sin6_port != want.sin6_port) return false;
  if (want.sin6_flowinfo != 0 && have->sin6_flowinfo != want.sin6_flowinfo) {
    return false;
  }
  if (want.sin6_scope_id != 0 && have->sin6_scope_id != want.sin6_scope_id) {
    return false;
  }
  return std::memcmp(&have->sin6_addr, &want.sin6_addr,
                     sizeof(want.sin6_addr)) == 0;
}

}  // namespace sdfd
