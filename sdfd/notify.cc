#include "sdfd/notify.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sdfd/errno_status.h"
#include "sdfd/fd_store.h"
#include "sdfd/internal/notify_address.h"
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

// IsNotSupported is systemd's ERRNO_IS_NOT_SUPPORTED().
bool IsNotSupported(int e) {
  return e == EOPNOTSUPP || e == ENOTTY || e == ENOSYS || e == EAFNOSUPPORT ||
         e == EPFNOSUPPORT || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT ||
         e == ENOPROTOOPT;
}

// BindVsockPrivilegedPort is vsock_bind_privileged_port(): the highest free
// port below 1024, so the host can tell root in the guest from anyone else.
int BindVsockPrivilegedPort(int fd) {
  sockaddr_vm address;
  std::memset(&address, 0, sizeof(address));
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = 1023;
  int r;
  do {
    r = ::bind(fd, reinterpret_cast<const sockaddr*>(&address),
               sizeof(address)) < 0
            ? -errno
            : 0;
  } while (r == -EADDRINUSE && --address.svm_port > 0);
  return r;
}

// NotifySocket is the socket a notification leaves on, and its type.
struct NotifySocket {
  UniqueFd fd;
  int type = SOCK_DGRAM;
};

// OpenNotifySocket is the socket set-up of v257's
// pid_notify_with_fds_internal(): a SOCK_DGRAM socket for AF_UNIX; for
// AF_VSOCK the type asked for, where plain "vsock:" falls back to
// SOCK_SEQPACKET and then SOCK_STREAM when the transport has no datagrams
// (QEMU says ENODEV), bound to a privileged port when allowed, and
// connected for the connection-oriented types.
absl::StatusOr<NotifySocket> OpenNotifySocket(
    const internal::NotifyAddress& address, const std::string& shown) {
  const int family = address.sa.sa_family;
  NotifySocket socket;
  socket.type = address.type == 0 ? SOCK_DGRAM : address.type;
  socket.fd.reset(::socket(family, socket.type | SOCK_CLOEXEC, 0));
  if (!socket.fd.valid()) {
    if (!(IsNotSupported(errno) || errno == ENODEV) || family != AF_VSOCK ||
        address.type > 0) {
      return ErrnoError(errno,
                        absl::StrCat("socket() for NOTIFY_SOCKET=", shown));
    }
    socket.type = SOCK_SEQPACKET;
    socket.fd.reset(::socket(family, socket.type | SOCK_CLOEXEC, 0));
    if (!socket.fd.valid() && IsNotSupported(errno)) {
      socket.type = SOCK_STREAM;
      socket.fd.reset(::socket(family, socket.type | SOCK_CLOEXEC, 0));
    }
    if (!socket.fd.valid()) {
      return ErrnoError(errno,
                        absl::StrCat("socket() for NOTIFY_SOCKET=", shown));
    }
  }
  if (family == AF_VSOCK) {
    // Unprivileged senders cannot bind below 1024; they send from any port.
    const int r = BindVsockPrivilegedPort(socket.fd.get());
    if (r < 0 && r != -EACCES && r != -EPERM) {
      return ErrnoError(-r,
                        absl::StrCat("bind() to a privileged vsock port for "
                                     "NOTIFY_SOCKET=",
                                     shown));
    }
  }
  if (socket.type == SOCK_STREAM || socket.type == SOCK_SEQPACKET) {
    if (::connect(socket.fd.get(), &address.sa, address.size) < 0) {
      return ErrnoError(errno,
                        absl::StrCat("connect(NOTIFY_SOCKET=", shown, ")"));
    }
  }
  return socket;
}

// AwaitVsockEof ends a connection-oriented vsock notification as v257
// does: shutdown(SHUT_WR) marks the end of the message, and the receiver's
// EOF confirms it was read (any data back is EPROTO).
absl::Status AwaitVsockEof(int fd, const std::string& shown) {
  if (::shutdown(fd, SHUT_WR) < 0) {
    return ErrnoError(errno,
                      absl::StrCat("shutdown(NOTIFY_SOCKET=", shown, ")"));
  }
  char c;
  const ssize_t n = ::recv(fd, &c, sizeof(c), MSG_NOSIGNAL);
  if (n < 0) {
    return ErrnoError(errno, absl::StrCat("recv(NOTIFY_SOCKET=", shown, ")"));
  }
  if (n > 0) {
    return ErrnoError(EPROTO,
                      absl::StrCat("NOTIFY_SOCKET=", shown, " sent data back"));
  }
  return absl::OkStatus();
}

// CheckFdStoreName refuses what PID 1 would silently mangle: a message
// with FDSTORE=1 or FDSTOREREMOVE=1 whose first FDNAME= (the one PID 1's
// service_notify_message() reads, from the message split into lines) is
// not a valid name. PID 1 only logs "Passed FDNAME= name is invalid,
// ignoring." and stores the fd as "stored", so the sender would never find
// its fd under the name it chose.
absl::Status CheckFdStoreName(absl::string_view state) {
  const std::vector<absl::string_view> lines =
      absl::StrSplit(state, absl::ByAnyChar("\n\r"));
  bool fd_store = false;
  const absl::string_view* name = nullptr;
  for (const absl::string_view& line : lines) {
    if (line == "FDSTORE=1" || line == "FDSTOREREMOVE=1") fd_store = true;
    if (name == nullptr && absl::StartsWith(line, "FDNAME=")) name = &line;
  }
  if (!fd_store || name == nullptr) return absl::OkStatus();
  const absl::string_view value = name->substr(7);
  if (FdNameIsValid(value)) return absl::OkStatus();
  return InvalidArgumentWithErrno(
      EINVAL, absl::StrCat("FDNAME=\"", absl::CHexEscape(value),
                           "\" is not a valid fd name (at most 255 "
                           "printable ASCII characters, no ':')"));
}

}  // namespace

absl::StatusOr<bool> PidNotifyWithFds(absl::string_view state,
                                      absl::Span<const int> fds,
                                      const NotifyOptions& options) {
  // As in v257's sd_pid_notify_with_fds(), NOTIFY_SOCKET is unset on every
  // path when asked, errors included.
  absl::Cleanup unset = [&options] {
    // unsetenv() only fails for a malformed name.
    if (options.unset_environment) (void)::unsetenv("NOTIFY_SOCKET");
  };
  // libsystemd rejects only a NULL state; an empty one would be a datagram
  // the manager ignores, so it is refused here as the likely bug it is.
  if (state.empty()) {
    return InvalidArgumentWithErrno(EINVAL, "sd_notify state is empty");
  }
  // v257 refuses this before even looking at NOTIFY_SOCKET, with an error
  // of its own (the kernel would say EINVAL, as v252 let it).
  if (fds.size() > kMaxFds) {
    return InvalidArgumentWithErrno(E2BIG,
                                    absl::StrCat("sd_notify with ", fds.size(),
                                                 " fds (SCM_MAX_FD is 253)"));
  }
  if (absl::Status s = CheckFdStoreName(state); !s.ok()) return s;
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr) return false;
  const std::string notify_socket = env;
  const std::string shown = absl::CHexEscape(notify_socket);

  absl::StatusOr<internal::NotifyAddress> address =
      internal::ParseNotifySocket(notify_socket);
  if (!address.ok()) return address.status();
  absl::StatusOr<NotifySocket> socket = OpenNotifySocket(*address, shown);
  if (!socket.ok()) return socket.status();
  const int fd = socket->fd.get();
  EnlargeSendBuffer(fd);

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
  // A connected socket takes no address.
  const bool connected = socket->type != SOCK_DGRAM;
  message.msg_name = connected ? nullptr : &address->sa;
  message.msg_namelen = connected ? 0 : address->size;
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
  ssize_t n = ::sendmsg(fd, &message, flags);
  if (n < 0 && send_ucred) {
    // Claiming another pid needs CAP_SYS_ADMIN; like libsystemd, fall back
    // to the kernel's own credentials rather than not notifying at all.
    message.msg_controllen -= ucred_space;
    if (message.msg_controllen == 0) message.msg_control = nullptr;
    n = ::sendmsg(fd, &message, flags);
  }
  if (n < 0) {
    return ErrnoError(errno,
                      absl::StrCat("sendmsg(NOTIFY_SOCKET=", shown, ")"));
  }
  // One write is the whole message, as in v257, whose iovec_increment()
  // counts a single iovec done after any write; only a short datagram or
  // packet is an error there.
  if (socket->type != SOCK_STREAM && static_cast<size_t>(n) < state.size()) {
    return ErrnoError(
        EIO, absl::StrCat("sendmsg(NOTIFY_SOCKET=", shown, ") sent ", n, " of ",
                          state.size(), " bytes"));
  }
  if (address->sa.sa_family == AF_VSOCK && connected) {
    if (absl::Status s = AwaitVsockEof(fd, shown); !s.ok()) return s;
  }
  return true;
}

absl::StatusOr<bool> Notify(absl::string_view state) {
  return PidNotifyWithFds(state, {}, NotifyOptions());
}

absl::StatusOr<bool> NotifyReloading() {
  timespec now;
  if (::clock_gettime(CLOCK_MONOTONIC, &now) < 0) {
    return ErrnoError(errno, "clock_gettime(CLOCK_MONOTONIC)");
  }
  // systemd's timespec_load(): whole microseconds, rounded down.
  const uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 +
                        static_cast<uint64_t>(now.tv_nsec) / 1000;
  return Notify(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", usec));
}

bool NotifyWouldBlock(const absl::Status& status) {
  return ErrnoOf(status) == EAGAIN;
}

// ---------------------------------------------------------------------------
// BARRIER=1: see notify.h.

absl::StatusOr<bool> NotifyBarrier(absl::Duration timeout,
                                   bool unset_environment) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return ErrnoError(errno, "pipe2(O_CLOEXEC)");
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  // As sd_notify_barrier, NOTIFY_SOCKET is unset on every path when asked;
  // the sends below keep it, for a retry.
  absl::Cleanup unset = [unset_environment] {
    if (unset_environment) (void)::unsetenv("NOTIFY_SOCKET");
  };
  NotifyOptions options;
  // The send is bounded by `timeout` too: a manager whose queue is full
  // (busy, net.unix.max_dgram_qlen) is retried every 10 ms, not waited on.
  options.non_blocking = true;
  const absl::Time send_deadline = timeout == absl::InfiniteDuration()
                                       ? absl::InfiniteFuture()
                                       : absl::Now() + timeout;
  const int sent_fd = write_end.get();
  absl::StatusOr<bool> sent = PidNotifyWithFds("BARRIER=1", {sent_fd}, options);
  while (!sent.ok() && NotifyWouldBlock(sent.status())) {
    const absl::Duration left = send_deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return WithErrno(
          absl::DeadlineExceededError(absl::StrCat(
              "BARRIER=1: the service manager's queue stayed full for ",
              absl::FormatDuration(timeout))),
          ETIMEDOUT);
    }
    absl::SleepFor(std::min(left, absl::Milliseconds(10)));
    sent = PidNotifyWithFds("BARRIER=1", {sent_fd}, options);
  }
  if (!sent.ok() || !*sent) return sent;
  if (timeout != absl::InfiniteDuration()) {
    timeout = std::max(send_deadline - absl::Now(), absl::ZeroDuration());
  }
  // Only the manager's copy may keep the pipe open now.
  write_end.reset();

  // ppoll with no requested events: POLLHUP is always reported.
  pollfd p = {read_end.get(), 0, 0};
  timespec ts;
  timespec* ts_ptr = nullptr;
  if (timeout != absl::InfiniteDuration()) {
    ts = absl::ToTimespec(std::max(timeout, absl::ZeroDuration()));
    ts_ptr = &ts;
  }
  for (;;) {
    // ppoll may return early on EINTR; the remaining time is recomputed so
    // that a signal cannot stretch the wait.
    const absl::Time start = absl::Now();
    const int r = ::ppoll(&p, 1, ts_ptr, nullptr);
    if (r > 0) {
      if (p.revents & POLLNVAL) {
        return ErrnoError(EBADF, "ppoll(barrier pipe)");
      }
      return true;
    }
    if (r == 0) {
      return WithErrno(
          absl::DeadlineExceededError(absl::StrCat(
              "BARRIER=1: the service manager did not answer within ",
              absl::FormatDuration(timeout))),
          ETIMEDOUT);
    }
    if (errno != EINTR) {
      return ErrnoError(errno, "ppoll(barrier pipe)");
    }
    if (ts_ptr != nullptr) {
      const absl::Duration left =
          absl::DurationFromTimespec(ts) - (absl::Now() - start);
      ts = absl::ToTimespec(std::max(left, absl::ZeroDuration()));
    }
  }
}

}  // namespace sdfd
