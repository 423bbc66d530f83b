// sdfd/socket_info.h: what kind of socket a passed fd is.
//
// systemd passes whatever the .socket unit declares (ListenStream=,
// ListenDatagram=, ListenSequentialPacket=, Accept=yes connections), so a
// daemon has to look at each fd before serving it. InspectSocket reads the
// kernel's answer (fstat, getsockopt SO_DOMAIN/SO_TYPE/SO_ACCEPTCONN,
// getsockname), the same facts sd_is_socket(), sd_is_socket_inet() and
// sd_is_socket_unix() and sd_is_socket_sockaddr() test (man 3 sd_is_socket).
//
// Example:
//   const int fd = 3;  // the first fd systemd passed (sdfd/listen_fds.h)
//   absl::StatusOr<sdfd::SocketInfo> info = sdfd::InspectSocket(fd);
//   if (!info.ok()) return 1;        // EBADF: fd not open
//   if (!info->is_socket) return 2;  // a FIFO or a file: sdfd/file_type.h
//   std::string name = sdfd::Describe(*info);  // "unix:/x (stream, listening)"
//   absl::StatusOr<bool> dgram = sdfd::IsSocket(fd, AF_UNSPEC, SOCK_DGRAM, -1);
//   if (dgram.ok() && *dgram) return 3;  // serve it datagram by datagram
#ifndef SDFD_SOCKET_INFO_H_
#define SDFD_SOCKET_INFO_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace sdfd {

// SocketInfo describes one fd. For a non-socket only `is_socket` (false) is
// meaningful.
struct SocketInfo {
  bool is_socket = false;
  int family = 0;          // AF_UNIX, AF_INET, AF_INET6, ...
  int type = 0;            // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  bool listening = false;  // SO_ACCEPTCONN: a listening (not connected) socket
  // For AF_UNIX: the bound path; an abstract name starts with '@'; empty when
  // unbound.
  std::string unix_path;
  // For AF_INET/AF_INET6: the bound address in text ("127.0.0.1", "::1") and
  // port.
  std::string address;
  uint16_t port = 0;
};

// InspectSocket describes `fd`. It fails only when the fd itself is unusable
// (not open); a regular file or pipe gives is_socket == false.
absl::StatusOr<SocketInfo> InspectSocket(int fd);

// Describe formats `info` for logs: "unix:/run/foobar.sk (stream, listening)",
// "tcp:[::1]:8080 (stream, listening)", "udp:127.0.0.1:53 (datagram)".
std::string Describe(const SocketInfo& info);

// The predicates below answer exactly as libsystemd's functions of the same
// name (sdfd/differential_test.cc asks both every combination on every kind
// of fd): family/type 0 means "any", listening < 0 means "either". A
// non-socket answers false; an fd that is not open, a negative fd, type or
// family is an error carrying libsystemd's errno as payload "errno".

// IsSocket is sd_is_socket(fd, family, type, listening).
absl::StatusOr<bool> IsSocket(int fd, int family, int type, int listening);
// IsSocketInet is sd_is_socket_inet(fd, family, type, listening, port):
// family 0, AF_INET or AF_INET6; port 0 means any.
absl::StatusOr<bool> IsSocketInet(int fd, int family, int type, int listening,
                                  uint16_t port);
// IsSocketUnix is sd_is_socket_unix(fd, type, listening, path, length):
// path empty means any; a path starting with '@' is abstract and matches
// only that exact name (libsystemd's "unnamed socket" query has no
// equivalent here).
absl::StatusOr<bool> IsSocketUnix(int fd, int type, int listening,
                                  const std::string& path);

// IsSocketSockaddr is sd_is_socket_sockaddr(fd, type, address, length,
// listening): a socket of `type` (0: any) whose local address is `address`,
// an AF_INET or AF_INET6 address of `length` bytes; a zero port, flow info
// or scope id in `address` matches any. `address` stays the caller's.
// Errors, with libsystemd's errno as payload "errno": a negative fd (EBADF),
// no address (EINVAL), `length` shorter than a family (ENOBUFS), a family
// other than AF_INET/AF_INET6 (EPFNOSUPPORT), `length` too short for its
// family (EINVAL), and failed system calls.
absl::StatusOr<bool> IsSocketSockaddr(int fd, int type, const sockaddr* address,
                                      socklen_t length, int listening);

}  // namespace sdfd

#endif  // SDFD_SOCKET_INFO_H_
