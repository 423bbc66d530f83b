// sdfd/socket_spec.h: sockets named by a spec string, for daemons that are
// not socket-activated and for clients.
//
// Spec grammar (one socket per spec):
//   unix:/path            AF_UNIX stream         unix:@name   abstract
//   unix-seqpacket:/path  AF_UNIX seqpacket      (also @name)
//   unix-dgram:/path      AF_UNIX datagram       (also @name)
//   tcp:HOST:PORT         TCP, HOST an IPv4 address or [IPv6] (or localhost)
//   udp:HOST:PORT         UDP, same HOST rules
// A unix path must fit sockaddr_un (107 bytes). The forms mirror the
// ListenStream=, ListenSequentialPacket= and ListenDatagram= addresses of
// man 5 systemd.socket, so a daemon's --listen flag and its .socket unit
// name the same sockets; abstract names are bound without a trailing NUL,
// as systemd binds them. TCP/UDP listeners get SO_REUSEADDR so a restart is
// not blocked by connections in TIME_WAIT.
//
// Listen() removes a stale unix socket file before binding, but only when it
// is a socket nobody is listening on (a connect() attempt is refused); a live
// socket or any other kind of file is an error, never deleted.
//
// Example:
//   absl::StatusOr<sdfd::SocketSpec> spec =
//       sdfd::ParseSocketSpec("unix:/run/foobar.sk");
//   if (!spec.ok()) return 2;  // a usage error: names the spec and why
//   absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Listen(*spec, /*backlog=*/4096);
//   if (!fd.ok()) return 1;  // "bind(unix:/run/foobar.sk): Address already
//                            //  in use" when another server listens there
//
//   absl::StatusOr<sdfd::UniqueFd> conn =
//       sdfd::Connect(*spec, absl::Seconds(10));
//   if (!conn.ok() && sdfd::ErrnoOf(conn.status()) == ENOENT) {
//     return 1;  // no socket there: ECONNREFUSED, EACCES are told apart too
//   }
#ifndef SDFD_SOCKET_SPEC_H_
#define SDFD_SOCKET_SPEC_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sdfd/errno_status.h"
#include "sdfd/unique_fd.h"

namespace sdfd {

// SocketSpec is a parsed spec string.
struct SocketSpec {
  int family = AF_UNIX;    // AF_UNIX, AF_INET or AF_INET6
  int type = SOCK_STREAM;  // SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM
  std::string path;        // AF_UNIX: path, or "@name" for abstract
  std::string host;        // AF_INET/AF_INET6: numeric address, no brackets
  uint16_t port = 0;
  std::string text;  // the spec as written, for messages
};

// ParseSocketSpec parses one spec; InvalidArgumentError says what is wrong
// and shows the accepted forms.
absl::StatusOr<SocketSpec> ParseSocketSpec(absl::string_view text);

// Listen creates, binds and (for stream/seqpacket) listens on a CLOEXEC,
// non-blocking socket for `spec`.
absl::StatusOr<UniqueFd> Listen(const SocketSpec& spec, int backlog);

// Connect creates a CLOEXEC blocking socket for `spec` and connects it,
// waiting at most `timeout` for the server to accept (a unix socket whose
// backlog is full, a TCP handshake that does not complete). The returned
// socket has no send timeout left on it. The error carries the errno of the
// failing call (ErrnoOf, sdfd/errno_status.h), so a caller can tell ENOENT from
// EACCES from ECONNREFUSED; a timeout that ran out is DeadlineExceededError
// with ETIMEDOUT.
absl::StatusOr<UniqueFd> Connect(
    const SocketSpec& spec, absl::Duration timeout = absl::InfiniteDuration());

}  // namespace sdfd

#endif  // SDFD_SOCKET_SPEC_H_
