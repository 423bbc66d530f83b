#include "sdfd/internal/notify_receiver.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "sdfd/internal/test_child.h"

namespace sdfd::internal {

Receiver::Receiver(bool abstract) {
  fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const std::string name = UniqueSocketPath("notify");
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  socklen_t length;
  if (abstract) {
    address_ = "@" + name;
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    length = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  } else {
    address_ = name;
    std::memcpy(address.sun_path, name.c_str(), name.size() + 1);
    length = offsetof(sockaddr_un, sun_path) + name.size() + 1;
  }
  int one = 1;
  ok_ = fd_.valid() &&
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ==
            0 &&
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length) == 0;
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

std::string Inode(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return "closed";
  return absl::StrCat(st.st_dev, ":", st.st_ino);
}

}  // namespace sdfd::internal
