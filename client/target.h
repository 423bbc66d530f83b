// client/target.h: where foobar connects, and the one-line errors that tell
// the user what to do when that fails.
//
// Every user-facing failure of the client is built here, so the wording of
// the messages (which the integration tests assert exactly) lives in one
// place. Messages carry no "foobar: " prefix; main() adds it.
//
// Example:
//   absl::StatusOr<sdfd::SocketSpec> spec =
//       sdfd::ParseSocketSpec("unix:/run/foobar.sk");
//   if (!spec.ok()) return 2;
//   absl::StatusOr<sdfd::UniqueFd> fd =
//       foobar::client::ConnectWithTimeout(*spec, absl::Seconds(10));
//   if (!fd.ok()) return 1;  // fd.status().message() is, for ENOENT:
//   // "cannot connect to /run/foobar.sk: No such file or directory (is
//   //  foobar.socket running? try: systemctl enable --now foobar.socket)"
#ifndef CLIENT_TARGET_H_
#define CLIENT_TARGET_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sdfd/socket_spec.h"
#include "sdfd/unique_fd.h"

namespace foobar::client {

// DisplayName is how messages name `spec`: the unix path ("/run/foobar.sk",
// "@name") or "HOST:PORT" ("[::1]:7" for IPv6).
std::string DisplayName(const sdfd::SocketSpec& spec);

// ConnectWithTimeout connects a blocking CLOEXEC stream socket to `spec`,
// waiting at most `timeout` (absl::InfiniteDuration() waits forever) for the
// server to accept. A unix socket whose backlog is full makes connect() wait
// in the kernel until the server accepts; SO_SNDTIMEO bounds that wait (and
// a TCP handshake) without signals. TCP sockets get TCP_NODELAY: every
// message is a round trip, so Nagle's delay would only add latency.
// Errors are ConnectError().
absl::StatusOr<sdfd::UniqueFd> ConnectWithTimeout(const sdfd::SocketSpec& spec,
                                                  absl::Duration timeout);

// ConnectError explains a failed connect() with errno `error` in one line
// that says what to do: a missing socket points at foobar.socket, a
// permission problem names the socket's group and the adduser command.
absl::Status ConnectError(const sdfd::SocketSpec& spec, int error);

// ConnectTimeoutError is the connect timeout after `timeout`.
absl::Status ConnectTimeoutError(const sdfd::SocketSpec& spec,
                                 absl::Duration timeout);

// EchoTimeoutError says that the server accepted but did not answer (or did
// not read) for `timeout`.
absl::Status EchoTimeoutError(absl::string_view target, absl::Duration timeout);

// TransferError explains a failed send()/recv() on an established
// connection with errno `error` (ECONNRESET, EPIPE, ...); `call` names the
// failing call.
absl::Status TransferError(absl::string_view target, absl::string_view call,
                           int error);

// ServerClosedError says that the server closed an idle connection.
absl::Status ServerClosedError(absl::string_view target);

// ClosedEarlyError says that the server closed the connection while
// `received` of `expected` bytes of an echo had come back.
absl::Status ClosedEarlyError(absl::string_view target, uint64_t received,
                              uint64_t expected);

}  // namespace foobar::client

#endif  // CLIENT_TARGET_H_
