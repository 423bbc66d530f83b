// sdfd/activation.h: every way a daemon can be handed its sockets, in one
// call.
//
// Three cases (man 5 systemd.socket, man 1 systemd-socket-activate):
//   * LISTEN_FDS activation: listening sockets (Accept=no), or one connected
//     socket named "connection" (Accept=yes).
//   * inetd style: no LISTEN_* variables and a socket on fd 0
//     (StandardInput=socket, systemd-socket-activate --inetd). With
//     Accept=yes (--accept) it is the connection; with Accept=no it is the
//     listening socket, or the datagram socket, itself. systemd then passes
//     no LISTEN_FDS at all, so neither the socket unit's other sockets nor
//     fd-store fds can arrive this way (man 5 systemd.exec, StandardInput=).
//   * not activated: the daemon binds its own sockets from spec strings
//     (see sdfd/socket_spec.h), so it runs the same with or without systemd.
//
// Example:
//   absl::StatusOr<sdfd::Activation> act = sdfd::ReceiveActivation();
//   if (!act.ok()) {  // a malformed LISTEN_* variable: a usage error
//     std::fprintf(stderr, "foobard: %s\n", act.status().ToString().c_str());
//     return 2;
//   }
//   if (act->kind == sdfd::ActivationKind::kNone) {
//     return 0;  // not activated: bind the --listen specs instead
//   }
//   std::vector<sdfd::ListenFd> sockets = std::move(act->fds);
#ifndef SDFD_ACTIVATION_H_
#define SDFD_ACTIVATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "sdfd/listen_fds.h"

namespace sdfd {

// ActivationKind says how the sockets arrived.
enum class ActivationKind {
  kNone,       // not activated: no LISTEN_* for us, fd 0 is not a socket
  kListenFds,  // LISTEN_FDS protocol (may contain "connection" fds)
  kInetd,      // a socket on fd 0: "connection" if connected, else "stdin"
};

// Activation is what ReceiveActivation found.
struct Activation {
  ActivationKind kind = ActivationKind::kNone;
  std::vector<ListenFd> fds;
};

// ReceiveActivation runs ListenFds(options); when that finds nothing and fd 0
// is a socket of any kind (connected, listening or datagram), it returns
// that socket as kInetd, moved to a new CLOEXEC fd >= 3 with fds 0 and 1
// pointed at /dev/null (so stray writes to stdout never reach a client), and
// fd 2 as well when it is that same socket (systemd's default
// StandardError=inherit with StandardInput=socket), so that no log line
// reaches the client either. A
// connected socket is named "connection" (as systemd names Accept=yes
// sockets), any other "stdin". Errors are those of ListenFds().
absl::StatusOr<Activation> ReceiveActivation(
    const ListenFdsOptions& options = {});

}  // namespace sdfd

#endif  // SDFD_ACTIVATION_H_
