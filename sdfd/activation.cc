#include "sdfd/activation.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sdfd/internal/errno_status.h"
#include "sdfd/unique_fd.h"

namespace sdfd {
namespace {

// IsConnectedSocket says whether fd is a socket that is not listening, i.e.
// what StandardInput=socket or `systemd-socket-activate --inetd` hands over.
bool IsConnectedSocket(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) return false;
  int accepting = 0;
  socklen_t length = sizeof(accepting);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) < 0) {
    return false;
  }
  return accepting == 0;
}

// TakeInetdSocket moves the socket on fd 0 to a CLOEXEC fd >= 3 and points
// fds 0 and 1 at /dev/null, so that nothing written to stdout by accident
// reaches the client, and the client cannot be read as stdin.
absl::StatusOr<UniqueFd> TakeInetdSocket() {
  UniqueFd socket(::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!socket.valid()) {
    return internal::ErrnoError(errno, "fcntl(0, F_DUPFD_CLOEXEC, 3)");
  }
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) {
    return internal::ErrnoError(errno, "open(/dev/null)");
  }
  for (int target : {STDIN_FILENO, STDOUT_FILENO}) {
    if (::dup2(null.get(), target) < 0) {
      return internal::ErrnoError(
          errno, absl::StrCat("dup2(/dev/null, ", target, ")"));
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
  if (!IsConnectedSocket(STDIN_FILENO)) return activation;
  absl::StatusOr<UniqueFd> socket = TakeInetdSocket();
  if (!socket.ok()) return socket.status();
  activation.kind = ActivationKind::kInetd;
  // "connection" is the name systemd gives Accept=yes sockets.
  activation.fds.push_back(ListenFd{*std::move(socket), "connection"});
  return activation;
}

}  // namespace sdfd
