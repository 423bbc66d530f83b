#include "sdfd/socket_spec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"

namespace sdfd {
namespace {

constexpr char kForms[] =
    "expected unix:/path, unix:@name, unix-seqpacket:..., unix-dgram:..., "
    "tcp:HOST:PORT or udp:HOST:PORT (HOST an IPv4 address, [IPv6] or "
    "localhost)";

absl::Status BadSpec(absl::string_view text, absl::string_view why) {
  return InvalidArgumentWithErrno(
      EINVAL, absl::StrCat("socket spec \"", text, "\": ", why, "; ", kForms));
}

// Address is a sockaddr ready for bind()/connect().
struct Address {
  sockaddr_storage storage = {};
  socklen_t length = 0;
  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
};

Address ToAddress(const SocketSpec& spec) {
  Address address;
  if (spec.family == AF_UNIX) {
    auto* un = reinterpret_cast<sockaddr_un*>(&address.storage);
    un->sun_family = AF_UNIX;
    if (spec.path[0] == '@') {
      // Abstract names are not NUL-terminated: the length says where they
      // end, exactly as systemd binds them.
      std::memcpy(un->sun_path + 1, spec.path.data() + 1, spec.path.size() - 1);
      address.length = offsetof(sockaddr_un, sun_path) + spec.path.size();
    } else {
      std::memcpy(un->sun_path, spec.path.c_str(), spec.path.size() + 1);
      address.length = offsetof(sockaddr_un, sun_path) + spec.path.size() + 1;
    }
  } else if (spec.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&address.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(spec.port);
    ::inet_pton(AF_INET, spec.host.c_str(), &in->sin_addr);
    address.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(spec.port);
    ::inet_pton(AF_INET6, spec.host.c_str(), &in6->sin6_addr);
    address.length = sizeof(sockaddr_in6);
  }
  return address;
}

// IsStaleUnixSocket says whether `path` is a socket file that nobody
// listens on: a connect() to it is refused. Anything else (a live socket, a
// regular file, no permission) is not stale and must never be deleted.
bool IsStaleUnixSocket(const SocketSpec& spec, const Address& address) {
  struct stat st;
  if (::lstat(spec.path.c_str(), &st) < 0 || !S_ISSOCK(st.st_mode)) {
    return false;
  }
  UniqueFd probe(::socket(AF_UNIX, spec.type | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  return ::connect(probe.get(), address.get(), address.length) < 0 &&
         errno == ECONNREFUSED;
}

// SetSendTimeout sets SO_SNDTIMEO on `fd`; {0, 0} means no timeout.
absl::Status SetSendTimeout(const UniqueFd& fd, const SocketSpec& spec,
                            timeval value) {
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &value, sizeof(value)) <
      0) {
    return ErrnoError(errno,
                      absl::StrCat("setsockopt(", spec.text, ", SO_SNDTIMEO)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SocketSpec> ParseSocketSpec(absl::string_view text) {
  SocketSpec spec;
  spec.text = std::string(text);
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    return BadSpec(text, "no scheme");
  }
  const absl::string_view scheme = text.substr(0, colon);
  const absl::string_view rest = text.substr(colon + 1);

  if (scheme == "unix" || scheme == "unix-seqpacket" ||
      scheme == "unix-dgram") {
    spec.family = AF_UNIX;
    spec.type = scheme == "unix"             ? SOCK_STREAM
                : scheme == "unix-seqpacket" ? SOCK_SEQPACKET
                                             : SOCK_DGRAM;
    if (rest.size() < 2 || (rest[0] != '/' && rest[0] != '@')) {
      return BadSpec(text, "a unix address is an absolute path or @name");
    }
    if (rest.find('\0') != absl::string_view::npos) {
      return BadSpec(text, "a unix address cannot contain NUL");
    }
    // sun_path holds 108 bytes; a path needs its NUL, and an abstract name
    // its leading NUL, so 107 characters either way.
    if (rest.size() > sizeof(sockaddr_un::sun_path) - 1) {
      return BadSpec(text, "a unix address is at most 107 bytes");
    }
    spec.path = std::string(rest);
    return spec;
  }

  if (scheme != "tcp" && scheme != "udp") {
    return BadSpec(text, absl::StrCat("unknown scheme \"", scheme, "\""));
  }
  spec.type = scheme == "tcp" ? SOCK_STREAM : SOCK_DGRAM;
  const size_t port_colon = rest.rfind(':');
  if (port_colon == absl::string_view::npos) {
    return BadSpec(text, "missing :PORT");
  }
  absl::string_view host = rest.substr(0, port_colon);
  const absl::string_view port_text = rest.substr(port_colon + 1);
  uint32_t port = 0;
  if (port_text.empty() ||
      port_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return BadSpec(text, "PORT must be a number from 0 to 65535");
  }
  spec.port = static_cast<uint16_t>(port);
  if (host == "localhost") host = "127.0.0.1";
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
    in6_addr unused;
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &unused) != 1) {
      return BadSpec(text, "not a numeric IPv6 address inside [ ]");
    }
    spec.family = AF_INET6;
  } else {
    in_addr unused;
    if (::inet_pton(AF_INET, std::string(host).c_str(), &unused) != 1) {
      return BadSpec(text, "HOST must be a numeric IPv4 address or [IPv6]");
    }
    spec.family = AF_INET;
  }
  spec.host = std::string(host);
  return spec;
}

absl::StatusOr<UniqueFd> Listen(const SocketSpec& spec, int backlog) {
  UniqueFd fd(
      ::socket(spec.family, spec.type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return ErrnoError(errno, absl::StrCat("socket(", spec.text, ")"));
  }
  if (spec.family != AF_UNIX) {
    // A restarted daemon must be able to bind while old connections sit in
    // TIME_WAIT.
    int one = 1;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
        0) {
      return ErrnoError(
          errno, absl::StrCat("setsockopt(", spec.text, ", SO_REUSEADDR)"));
    }
  }
  const Address address = ToAddress(spec);
  if (::bind(fd.get(), address.get(), address.length) < 0) {
    int bind_errno = errno;
    const bool retry = bind_errno == EADDRINUSE && spec.family == AF_UNIX &&
                       spec.path[0] == '/' && IsStaleUnixSocket(spec, address);
    if (!retry) {
      return ErrnoError(bind_errno, absl::StrCat("bind(", spec.text, ")"));
    }
    if (::unlink(spec.path.c_str()) < 0 && errno != ENOENT) {
      return ErrnoError(errno,
                        absl::StrCat("unlink(stale socket ", spec.path, ")"));
    }
    if (::bind(fd.get(), address.get(), address.length) < 0) {
      return ErrnoError(errno, absl::StrCat("bind(", spec.text, ")"));
    }
  }
  if (spec.type != SOCK_DGRAM && ::listen(fd.get(), backlog) < 0) {
    return ErrnoError(errno, absl::StrCat("listen(", spec.text, ")"));
  }
  return fd;
}

absl::StatusOr<UniqueFd> Connect(const SocketSpec& spec,
                                 absl::Duration timeout) {
  UniqueFd fd(::socket(spec.family, spec.type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoError(errno, absl::StrCat("socket(", spec.text, ")"));
  }
  // A blocking connect() waits for the server as long as the socket's send
  // timeout allows (SO_SNDTIMEO, man 7 socket); a new socket has none.
  const bool bounded = timeout != absl::InfiniteDuration();
  if (bounded) {
    absl::Status status = SetSendTimeout(
        fd, spec, absl::ToTimeval(std::max(timeout, absl::Microseconds(1))));
    if (!status.ok()) return status;
  }
  const Address address = ToAddress(spec);
  // No retry on EINTR: the connection then completes in the background and a
  // second connect() would fail with EALREADY.
  if (::connect(fd.get(), address.get(), address.length) < 0) {
    const int error = errno;
    // When the timeout runs out, a unix connect() fails with EAGAIN (the
    // backlog stayed full) and a TCP one with EINPROGRESS (no handshake yet).
    if (bounded && (error == EAGAIN || error == EINPROGRESS)) {
      return WithErrno(absl::DeadlineExceededError(absl::StrCat(
                           "connect(", spec.text, "): timed out after ",
                           absl::FormatDuration(timeout))),
                       ETIMEDOUT);
    }
    return ErrnoError(error, absl::StrCat("connect(", spec.text, ")"));
  }
  // Later sends are the caller's business: leave no timeout behind.
  if (bounded) {
    absl::Status status = SetSendTimeout(fd, spec, timeval{0, 0});
    if (!status.ok()) return status;
  }
  return fd;
}

}  // namespace sdfd
