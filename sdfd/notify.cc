#include "sdfd/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sdfd/internal/errno_status.h"
#include "sdfd/unique_fd.h"

namespace sdfd {
namespace {

// SCM_MAX_FD in the kernel's include/net/scm.h: sendmsg() refuses more.
constexpr size_t kMaxFds = 253;

// SNDBUF_SIZE in sd-daemon.c: big enough for a large FDSTORE message.
constexpr int kSendBufferSize = 8 * 1024 * 1024;

// EnlargeSendBuffer is fd_inc_sndbuf(): best effort, as in libsystemd, since
// a default-sized buffer still carries every ordinary notification.
void EnlargeSendBuffer(int fd) {
  int current = 0;
  socklen_t length = sizeof(current);
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &current, &length) == 0 &&
      current >= 2 * kSendBufferSize) {
    return;
  }
  // Failures are ignored on purpose (see above); SO_SNDBUFFORCE lifts the
  // kernel's limit when we are privileged.
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSendBufferSize,
                     sizeof(kSendBufferSize));
  length = sizeof(current);
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &current, &length) == 0 &&
      current >= 2 * kSendBufferSize) {
    return;
  }
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &kSendBufferSize,
                     sizeof(kSendBufferSize));
}

// NotifyAddress is sockaddr_un_set_path() on NOTIFY_SOCKET: '/' path (with
// its NUL in the length) or '@' abstract name (without).
absl::Status NotifyAddress(const std::string& value, sockaddr_un* address,
                           socklen_t* length) {
  const std::string shown = absl::CHexEscape(value);
  if (value.size() < 2 || (value[0] != '/' && value[0] != '@')) {
    return internal::InvalidArgumentWithErrno(
        EINVAL, absl::StrCat("NOTIFY_SOCKET=\"", shown,
                             "\" is not an absolute path or @abstract name"));
  }
  if (value.size() + 1 > sizeof(address->sun_path)) {
    // The same distinction libsystemd makes: a long file system path is
    // ENAMETOOLONG, a long abstract name EINVAL.
    return internal::InvalidArgumentWithErrno(
        value[0] == '@' ? EINVAL : ENAMETOOLONG,
        absl::StrCat("NOTIFY_SOCKET=\"", shown, "\" does not fit sockaddr_un"));
  }
  std::memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  if (value[0] == '@') {
    std::memcpy(address->sun_path + 1, value.data() + 1, value.size() - 1);
    *length = offsetof(sockaddr_un, sun_path) + value.size();
  } else {
    std::memcpy(address->sun_path, value.c_str(), value.size() + 1);
    *length = offsetof(sockaddr_un, sun_path) + value.size() + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> PidNotifyWithFds(absl::string_view state,
                                      absl::Span<const int> fds,
                                      const NotifyOptions& options) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  // Nothing to unset when the variable is absent, so return before the
  // cleanup exists (as sd_pid_notify_with_fds() does).
  if (env == nullptr && !state.empty()) return false;
  const std::string notify_socket = env != nullptr ? env : "";
  absl::Cleanup unset = [&options] {
    // unsetenv() only fails for a malformed name.
    if (options.unset_environment) (void)::unsetenv("NOTIFY_SOCKET");
  };
  // libsystemd rejects only a NULL state; an empty one would be a datagram
  // the manager ignores, so it is refused here as the likely bug it is.
  if (state.empty()) {
    return internal::InvalidArgumentWithErrno(EINVAL,
                                              "sd_notify state is empty");
  }
  if (fds.size() > kMaxFds) {
    return internal::InvalidArgumentWithErrno(
        EINVAL, absl::StrCat("sd_notify with ", fds.size(),
                             " fds (SCM_MAX_FD is 253)"));
  }

  sockaddr_un address;
  socklen_t address_length = 0;
  if (absl::Status s = NotifyAddress(notify_socket, &address, &address_length);
      !s.ok()) {
    return s;
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return internal::ErrnoError(errno, "socket(AF_UNIX, SOCK_DGRAM)");
  }
  EnlargeSendBuffer(fd.get());

  const pid_t self = ::getpid();
  // Credentials go explicitly in exactly libsystemd's cases: on behalf of
  // another pid (the kernel would report ours), or when real and effective
  // ids differ (a set-uid program states its real ids outright).
  const bool send_ucred = (options.pid != 0 && options.pid != self) ||
                          ::getuid() != ::geteuid() ||
                          ::getgid() != ::getegid();

  const size_t fds_space =
      fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size());
  const size_t ucred_space = send_ucred ? CMSG_SPACE(sizeof(ucred)) : 0;
  // Zero-initialised and aligned for cmsghdr, as CMSG_* require.
  std::vector<cmsghdr> control(
      (fds_space + ucred_space + sizeof(cmsghdr) - 1) / sizeof(cmsghdr) + 1);

  iovec iov;
  iov.iov_base = const_cast<char*>(state.data());
  iov.iov_len = state.size();
  msghdr message = {};
  message.msg_name = &address;
  message.msg_namelen = address_length;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  if (fds_space + ucred_space > 0) {
    message.msg_control = control.data();
    message.msg_controllen = fds_space + ucred_space;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
    if (!fds.empty()) {
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
      cmsg = CMSG_NXTHDR(&message, cmsg);
    }
    if (send_ucred) {
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_CREDENTIALS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(ucred));
      ucred credentials;
      credentials.pid = options.pid != 0 ? options.pid : self;
      credentials.uid = ::getuid();
      credentials.gid = ::getgid();
      std::memcpy(CMSG_DATA(cmsg), &credentials, sizeof(credentials));
    }
  }

  const int flags = MSG_NOSIGNAL | (options.non_blocking ? MSG_DONTWAIT : 0);
  if (::sendmsg(fd.get(), &message, flags) >= 0) return true;
  if (send_ucred) {
    // Claiming another pid needs CAP_SYS_ADMIN; like libsystemd, fall back
    // to the kernel's own credentials rather than not notifying at all.
    message.msg_controllen -= ucred_space;
    if (message.msg_controllen == 0) message.msg_control = nullptr;
    if (::sendmsg(fd.get(), &message, flags) >= 0) return true;
  }
  return internal::ErrnoError(
      errno, absl::StrCat("sendmsg(NOTIFY_SOCKET=", notify_socket, ")"));
}

absl::StatusOr<bool> Notify(absl::string_view state) {
  return PidNotifyWithFds(state, {}, NotifyOptions());
}

bool NotifyWouldBlock(const absl::Status& status) {
  return internal::ErrnoOf(status) == EAGAIN;
}

}  // namespace sdfd
