// sdfd/internal/notify_address.h: the NOTIFY_SOCKET value as the socket
// address libsystemd sends to, parsed as systemd v257 (and v259) parses it.
//
// NOTIFY_SOCKET (man 3 sd_notify, "Environment") is one of
//   /path/to/socket        AF_UNIX path, sent with its NUL in the length;
//   @abstract-name         AF_UNIX abstract name, sent without a NUL;
//   vsock:CID:PORT         AF_VSOCK (systemd v253), type chosen when sending;
//   vsock-stream:CID:PORT, vsock-dgram:CID:PORT, vsock-seqpacket:CID:PORT
//                          AF_VSOCK with that socket type.
// sd-daemon.c tries socket_address_parse_unix() first and, when the value
// is not a path or abstract name at all (EPROTO), socket_address_parse_vsock();
// its rules are kept here, errors included:
//   * neither form: EPROTO (libsystemd 252 said EINVAL: it knew paths only);
//   * "/" or "@" alone: EINVAL; a path that does not fit sun_path with its
//     NUL: ENAMETOOLONG, an abstract name that does not: EINVAL;
//   * vsock with no ':' after the CID: EINVAL; CID and PORT are unsigned
//     ints by systemd's number rules (EINVAL, or ERANGE beyond 32 bits), the
//     CID may also be "hypervisor" (0), "local" (1) or "host" (2); PORT may
//     not be VMADDR_PORT_ANY (EINVAL); a CID of VMADDR_CID_ANY (empty, or
//     4294967295) is EINVAL, since a notification needs a peer.
//
//   absl::StatusOr<NotifyAddress> address = ParseNotifySocket("vsock:2:1234");
//   if (!address.ok()) return address.status();  // "relative": EPROTO
//   // address->vm.svm_cid == 2, address->type == 0 (pick when sending)
#ifndef SDFD_INTERNAL_NOTIFY_ADDRESS_H_
#define SDFD_INTERNAL_NOTIFY_ADDRESS_H_

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sdfd::internal {

// NotifyAddress is systemd's SocketAddress for NOTIFY_SOCKET: the address,
// its length for sendmsg()/connect(), and the socket type the value asked
// for (0 when it did not: SOCK_DGRAM, or for plain "vsock:" whatever the
// transport supports).
struct NotifyAddress {
  union {
    sockaddr sa;
    sockaddr_un un;
    sockaddr_vm vm;
  };
  socklen_t size = 0;
  int type = 0;
};

// ParseNotifySocket parses a NOTIFY_SOCKET value. Errors are
// InvalidArgumentError naming the value, with the errno libsystemd 257
// returns (EPROTO, EINVAL, ENAMETOOLONG, ERANGE) as payload "errno".
absl::StatusOr<NotifyAddress> ParseNotifySocket(absl::string_view value);

}  // namespace sdfd::internal

#endif  // SDFD_INTERNAL_NOTIFY_ADDRESS_H_
