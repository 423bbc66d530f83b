#include "client/target.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace foobar::client {
namespace {

// Sockaddr holds the address connect() takes for a spec.
struct Sockaddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

absl::StatusOr<Sockaddr> ToSockaddr(const sdfd::SocketSpec& spec) {
  Sockaddr addr;
  if (spec.family == AF_UNIX) {
    auto* un = reinterpret_cast<sockaddr_un*>(&addr.storage);
    un->sun_family = AF_UNIX;
    // An abstract name is written "@name"; the kernel wants a leading NUL
    // and counts the name's bytes exactly (no terminating NUL).
    const bool abstract = !spec.path.empty() && spec.path[0] == '@';
    if (spec.path.size() >= sizeof(un->sun_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("socket path too long for sockaddr_un: ", spec.path));
    }
    std::memcpy(un->sun_path, spec.path.data(), spec.path.size());
    if (abstract) un->sun_path[0] = '\0';
    addr.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                         spec.path.size() + (abstract ? 0 : 1));
    return addr;
  }
  if (spec.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(spec.port);
    if (inet_pton(AF_INET, spec.host.c_str(), &in->sin_addr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("inet_pton(AF_INET, ", spec.host, "): not an address"));
    }
    addr.length = sizeof(sockaddr_in);
    return addr;
  }
  if (spec.family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(spec.port);
    if (inet_pton(AF_INET6, spec.host.c_str(), &in6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("inet_pton(AF_INET6, ", spec.host, "): not an address"));
    }
    addr.length = sizeof(sockaddr_in6);
    return addr;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported address family in ", spec.text));
}

timeval SendTimeoutValue(absl::Duration timeout) {
  // SO_SNDTIMEO of zero means "wait forever", which is what an infinite
  // timeout asks for.
  if (timeout == absl::InfiniteDuration()) return timeval{0, 0};
  timeval tv = absl::ToTimeval(timeout);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
  return tv;
}

absl::Status SetSendTimeout(int fd, absl::Duration timeout,
                            const sdfd::SocketSpec& spec) {
  const timeval tv = SendTimeoutValue(timeout);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("setsockopt(", spec.text, ", SO_SNDTIMEO)"));
  }
  return absl::OkStatus();
}

// GroupName returns the name of group `gid`, or "" when it has none.
std::string GroupName(gid_t gid) {
  std::vector<char> buffer(16384);
  group entry;
  group* result = nullptr;
  if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &result) != 0 ||
      result == nullptr) {
    return "";
  }
  return result->gr_name;
}

std::string PermissionHint(const sdfd::SocketSpec& spec) {
  if (spec.path.empty() || spec.path[0] == '@') return "";
  struct stat st;
  if (stat(spec.path.c_str(), &st) != 0) {
    // connect() and stat() both walk the path: when stat() is refused too,
    // a directory on the way is not searchable, not the socket itself.
    return " (a directory on the way to the socket is not accessible to you;"
           " ask an administrator to check its permissions)";
  }
  const std::string group = GroupName(st.st_gid);
  if (group.empty()) {
    return absl::StrFormat(
        " (the socket belongs to group id %u, which has no name; ask an "
        "administrator for access)",
        st.st_gid);
  }
  return absl::StrFormat(
      " (the socket belongs to group %s; try: sudo adduser $USER %s, then log "
      "in again)",
      group, group);
}

}  // namespace

std::string DisplayName(const sdfd::SocketSpec& spec) {
  if (spec.family == AF_UNIX) return spec.path;
  if (spec.family == AF_INET6) {
    return absl::StrCat("[", spec.host, "]:", spec.port);
  }
  return absl::StrCat(spec.host, ":", spec.port);
}

absl::Status ConnectError(const sdfd::SocketSpec& spec, int error) {
  const std::string prefix = absl::StrCat(
      "cannot connect to ", DisplayName(spec), ": ", std::strerror(error));
  const bool unix_socket = spec.family == AF_UNIX;
  std::string hint;
  switch (error) {
    case ENOENT:
      hint =
          " (is foobar.socket running? try: systemctl enable --now "
          "foobar.socket)";
      break;
    case EACCES:
    case EPERM:
      hint = PermissionHint(spec);
      break;
    case ECONNREFUSED:
      hint = unix_socket
                 ? " (the socket exists but no server is listening on it; "
                   "try: systemctl restart foobar.socket)"
                 : " (no server is listening on that port)";
      break;
    default:
      break;
  }
  return absl::Status(absl::ErrnoToStatusCode(error), prefix + hint);
}

absl::Status ConnectTimeoutError(const sdfd::SocketSpec& spec,
                                 absl::Duration timeout) {
  return absl::DeadlineExceededError(absl::StrCat(
      "cannot connect to ", DisplayName(spec), ": timed out after ",
      absl::FormatDuration(timeout),
      " (the server is not accepting connections; check: systemctl status "
      "foobar.service, or raise --timeout)"));
}

absl::Status EchoTimeoutError(absl::string_view target,
                              absl::Duration timeout) {
  return absl::DeadlineExceededError(absl::StrCat(
      "no echo from ", target, " within ", absl::FormatDuration(timeout),
      " (the server accepted the connection but does not answer; check: "
      "systemctl status foobar.service, or raise --timeout)"));
}

absl::Status TransferError(absl::string_view target, absl::string_view call,
                           int error) {
  std::string what;
  switch (error) {
    case ECONNRESET:
      what =
          absl::StrCat("connection to ", target, " was reset by the server (",
                       call, ": ", std::strerror(error),
                       "); check its log: journalctl -u foobar.service");
      break;
    case EPIPE:
      what = absl::StrCat("connection to ", target,
                          " was closed by the server while sending (", call,
                          ": ", std::strerror(error),
                          "); check its log: journalctl -u foobar.service");
      break;
    default:
      what = absl::StrCat(call, " on the connection to ", target, ": ",
                          std::strerror(error));
      break;
  }
  return absl::Status(absl::ErrnoToStatusCode(error), what);
}

absl::Status ServerClosedError(absl::string_view target) {
  return absl::UnavailableError(
      absl::StrCat("connection to ", target,
                   " was closed by the server; check its log: journalctl -u "
                   "foobar.service"));
}

absl::Status ClosedEarlyError(absl::string_view target, uint64_t received,
                              uint64_t expected) {
  return absl::UnavailableError(absl::StrCat(
      "connection to ", target,
      " was closed by the server before the echo was complete (", received,
      " of ", expected,
      " bytes came back); check its log: journalctl -u foobar.service"));
}

absl::StatusOr<sdfd::UniqueFd> ConnectWithTimeout(const sdfd::SocketSpec& spec,
                                                  absl::Duration timeout) {
  absl::StatusOr<Sockaddr> addr = ToSockaddr(spec);
  if (!addr.ok()) return addr.status();
  sdfd::UniqueFd fd(socket(spec.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("socket(", spec.text, ")"));
  }
  if (absl::Status s = SetSendTimeout(fd.get(), timeout, spec); !s.ok()) {
    return s;
  }
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->storage),
              addr->length) != 0) {
    const int error = errno;
    // The send timeout ran out: a unix connect() then fails with EAGAIN (the
    // backlog stayed full), a TCP one with EINPROGRESS (no handshake yet).
    if (error == EAGAIN || error == EINPROGRESS) {
      return ConnectTimeoutError(spec, timeout);
    }
    return ConnectError(spec, error);
  }
  // Later sends are paced by poll(), not by a socket timeout.
  if (absl::Status s = SetSendTimeout(fd.get(), absl::InfiniteDuration(), spec);
      !s.ok()) {
    return s;
  }
  if (spec.family != AF_UNIX) {
    const int one = 1;
    if (setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) !=
        0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("setsockopt(", spec.text, ", TCP_NODELAY)"));
    }
  }
  return fd;
}

}  // namespace foobar::client
