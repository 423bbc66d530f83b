#include "sdfd/activation.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"
#include "sdfd/unique_fd.h"

namespace sdfd {
namespace {

// IsSocket says whether fd is a socket. StandardInput=socket (and
// `systemd-socket-activate --inetd`) hands over a connection with
// Accept=yes, and the listening or datagram socket itself with Accept=no.
bool IsSocket(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// IsListening says whether the socket fd accepts connections (SO_ACCEPTCONN;
// false for a datagram socket, and when it cannot be told).
bool IsListening(int fd) {
  int accepting = 0;
  socklen_t length = sizeof(accepting);
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) ==
             0 &&
         accepting != 0;
}

// IsConnected says whether the socket fd has a peer: an Accept=yes
// connection, as opposed to a listening or datagram socket.
bool IsConnected(int fd) {
  sockaddr_storage peer;
  socklen_t length = sizeof(peer);
  return !IsListening(fd) &&
         ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

// SameFile says whether fds a and b refer to the same open file (socket).
bool SameFile(int a, int b) {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// TakeInetdSocket moves the socket on fd 0 to a CLOEXEC fd >= 3 and points
// fds 0 and 1 at /dev/null, so that nothing written to stdout by accident
// reaches the client, and the client cannot be read as stdin. fd 2 goes to
// /dev/null too when it is the same socket: systemd's default for
// StandardInput=socket makes stdout the socket and stderr a copy of stdout
// (systemd.exec(5)), and a log line must never land in the client's stream.
absl::StatusOr<UniqueFd> TakeInetdSocket() {
  const bool stderr_is_socket = SameFile(STDIN_FILENO, STDERR_FILENO);
  UniqueFd socket(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!socket.valid()) {
    return ErrnoError(errno, "fcntl(0, F_DUPFD_CLOEXEC, 3)");
  }
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) {
    return ErrnoError(errno, "open(/dev/null)");
  }
  for (int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (target == STDERR_FILENO && !stderr_is_socket) continue;
    if (::dup2(null.get(), target) < 0) {
      return ErrnoError(errno, absl::StrCat("dup2(/dev/null, ", target, ")"));
    }
  }
  return socket;
}

}  // namespace

absl::StatusOr<Activation> ReceiveActivation(const ListenFdsOptions& options) {
  absl::StatusOr<std::vector<ListenFd>> fds = ListenFds(options);
  if (!fds.ok()) return fds.status();
  Activation activation;
  if (!fds->empty()) {
    activation.kind = ActivationKind::kListenFds;
    activation.fds = *std::move(fds);
    return activation;
  }
  if (!IsSocket(STDIN_FILENO)) return activation;
  // "connection" is the name systemd gives Accept=yes sockets.
  const char* name = IsConnected(STDIN_FILENO) ? "connection" : "stdin";
  absl::StatusOr<UniqueFd> socket = TakeInetdSocket();
  if (!socket.ok()) return socket.status();
  activation.kind = ActivationKind::kInetd;
  activation.fds.push_back(ListenFd{*std::move(socket), name});
  return activation;
}

}  // namespace sdfd
