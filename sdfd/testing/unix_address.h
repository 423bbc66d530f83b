// sdfd/testing/unix_address.h: AF_UNIX addresses for tests that need the
// raw sockaddr: sendto() a datagram server, bind a datagram client so that
// replies can reach it, or leave a socket file that nobody listens on.
// Streams that just connect or listen use sdfd::Connect and sdfd::Listen
// (sdfd/socket_spec.h) instead.
//
// "@name" is an abstract name, bound without a trailing NUL as systemd and
// sdfd::Listen bind it.
//
// Example:
//
//   absl::StatusOr<sdfd::test::UnixAddress> server =
//       sdfd::test::MakeUnixAddress("/tmp/server.sk");
//   if (!server.ok()) return 1;  // "unix path too long for sockaddr_un
//                                //  (or empty): ..."
//   absl::StatusOr<sdfd::UniqueFd> client =
//       sdfd::test::BindUnix(SOCK_DGRAM, "/tmp/client.sk");
//   if (!client.ok()) return 1;  // "bind(/tmp/client.sk): Address
//                                //  already in use"
//   (void)::sendto(client->get(), "x", 1, 0, server->get(), server->length);
#ifndef SDFD_TESTING_UNIX_ADDRESS_H_
#define SDFD_TESTING_UNIX_ADDRESS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "absl/status/statusor.h"
#include "sdfd/unique_fd.h"

namespace sdfd::test {

// UnixAddress is a filled sockaddr_un and the length to pass with it.
struct UnixAddress {
  sockaddr_un un = {};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&un); }
};

// MakeUnixAddress fills the address of `path` ("@name": abstract);
// InvalidArgumentError when it does not fit sockaddr_un.
absl::StatusOr<UnixAddress> MakeUnixAddress(const std::string& path);

// BindUnix returns a CLOEXEC AF_UNIX socket of `type` (SOCK_STREAM,
// SOCK_SEQPACKET, SOCK_DGRAM) bound to `path` and not listening; the error
// names the failing call, the path and errno.
absl::StatusOr<UniqueFd> BindUnix(int type, const std::string& path);

}  // namespace sdfd::test

#endif  // SDFD_TESTING_UNIX_ADDRESS_H_
