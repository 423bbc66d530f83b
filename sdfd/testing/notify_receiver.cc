#include "sdfd/testing/notify_receiver.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sdfd/testing/test_child.h"
#include "sdfd/testing/unix_address.h"

namespace sdfd::test {

Receiver::Receiver(bool abstract) {
  fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  address_ = (abstract ? "@" : "") + UniqueSocketPath("notify");
  absl::StatusOr<UnixAddress> address = MakeUnixAddress(address_);
  int one = 1;
  ok_ = fd_.valid() && address.ok() &&
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ==
            0 &&
        ::bind(fd_.get(), address->get(), address->length) == 0;
}

std::optional<Datagram> Receiver::Receive() {
  char buffer[4096];
  // Room for SCM_MAX_FD fds plus credentials.
  alignas(cmsghdr) char
      control[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(ucred))];
  iovec iov = {buffer, sizeof(buffer)};
  msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(fd_.get(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return std::nullopt;
  Datagram d;
  d.payload.assign(buffer, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        d.fds.emplace_back(fd);
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS) {
      d.has_credentials = true;
      std::memcpy(&d.credentials, CMSG_DATA(c), sizeof(ucred));
    }
  }
  return d;
}

std::optional<Datagram> Receiver::Receive(int timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p = {fd_.get(), POLLIN, 0};
    const int n =
        ::poll(&p, 1, std::max<int>(0, static_cast<int>(left.count())));
    if (n > 0) return Receive();
    if (n == 0 || errno != EINTR) return std::nullopt;
  }
}

bool Receiver::WaitFor(absl::string_view line, int timeout_ms,
                       std::vector<std::string>* seen) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::optional<Datagram> d =
        Receive(std::max<int>(0, static_cast<int>(left.count())));
    if (!d.has_value()) return false;
    if (seen != nullptr) seen->push_back(d->payload);
    if (HasLine(d->payload, line)) return true;
  }
}

bool HasLine(absl::string_view payload, absl::string_view line) {
  for (absl::string_view l : absl::StrSplit(payload, '\n')) {
    if (l == line) return true;
  }
  return false;
}

bool VsockLoopbackAvailable(std::string* why) {
  struct stat st;
  if (::stat("/sys/module/vsock_loopback", &st) == 0) return true;
  *why =
      "no vsock_loopback transport (VMADDR_CID_LOCAL): a vsock notification "
      "cannot reach a receiver on this machine";
  return false;
}

namespace {
constexpr int kVsockTimeoutMs = 20000;
}  // namespace

VsockStreamReceiver::VsockStreamReceiver() {
  UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return;
  sockaddr_vm address = {};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = VMADDR_PORT_ANY;
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0 ||
      ::listen(fd.get(), 1) < 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) <
          0) {
    return;
  }
  int done[2];
  if (::pipe2(done, O_CLOEXEC) < 0) return;
  done_read_.reset(done[0]);
  done_write_.reset(done[1]);
  port_ = address.svm_port;
  listener_ = std::move(fd);
  thread_ = std::thread([this] { Serve(); });
}

VsockStreamReceiver::~VsockStreamReceiver() {
  if (thread_.joinable()) thread_.join();
}

void VsockStreamReceiver::Serve() {
  // A queued connection wins over "done": the sender connected, then ended.
  pollfd p[2] = {{listener_.get(), POLLIN, 0}, {done_read_.get(), POLLIN, 0}};
  if (::poll(p, 2, kVsockTimeoutMs) < 1 || (p[0].revents & POLLIN) == 0) {
    return;
  }
  UniqueFd connection(
      ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!connection.valid()) return;
  std::string text;
  for (;;) {
    pollfd c = {connection.get(), POLLIN, 0};
    if (::poll(&c, 1, kVsockTimeoutMs) != 1) return;
    char buffer[4096];
    const ssize_t n = ::read(connection.get(), buffer, sizeof(buffer));
    if (n < 0) return;
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  message_ = text;
  // `connection` closes here: the EOF the sender awaits.
}

std::optional<std::string> VsockStreamReceiver::Message() {
  // Wakes Serve() if it still waits for a sender that is gone; a failed
  // write leaves it to its own timeout.
  if (done_write_.valid()) (void)::write(done_write_.get(), "x", 1);
  if (thread_.joinable()) thread_.join();
  return message_;
}

std::string Inode(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return "closed";
  return absl::StrCat(st.st_dev, ":", st.st_ino);
}

int FillNotifyQueue(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  absl::StatusOr<UnixAddress> address = MakeUnixAddress(path);
  if (!fd.valid() || !address.ok()) return -1;
  int sent = 0;
  while (::sendto(fd.get(), "filler", 6, MSG_DONTWAIT, address->get(),
                  address->length) == 6) {
    ++sent;
  }
  return errno == EAGAIN ? sent : -1;
}

}  // namespace sdfd::test
