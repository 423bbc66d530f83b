#include "sdfd/socket_info.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"
#include "sdfd/socket_spec.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

UniqueFd ListenOn(const std::string& text) {
  absl::StatusOr<SocketSpec> spec = ParseSocketSpec(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<UniqueFd> fd = Listen(*spec, 4);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : UniqueFd();
}

TEST(InspectSocket, UnixPathListener) {
  const std::string path = test::UniqueSocketPath("info");
  UniqueFd fd = ListenOn("unix:" + path);
  absl::StatusOr<SocketInfo> info = InspectSocket(fd.get());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->is_socket);
  EXPECT_EQ(info->family, AF_UNIX);
  EXPECT_EQ(info->type, SOCK_STREAM);
  EXPECT_TRUE(info->listening);
  EXPECT_EQ(info->unix_path, path);
  EXPECT_EQ(Describe(*info), "unix:" + path + " (stream, listening)");
}

TEST(InspectSocket, AbstractNameStartsWithAt) {
  // Abstract names are shared by every process in the network namespace;
  // the pid in UniqueSocketPath keeps concurrent runs apart.
  const std::string name = "@" + test::UniqueSocketPath("info");
  UniqueFd fd = ListenOn("unix-seqpacket:" + name);
  absl::StatusOr<SocketInfo> info = InspectSocket(fd.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->unix_path, name);
  EXPECT_EQ(Describe(*info), "unix:" + name + " (seqpacket, listening)");
}

TEST(InspectSocket, TcpAndUdpAddresses) {
  UniqueFd tcp6 = ListenOn("tcp:[::1]:0");
  absl::StatusOr<SocketInfo> info = InspectSocket(tcp6.get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->family, AF_INET6);
  EXPECT_EQ(info->address, "::1");
  EXPECT_NE(info->port, 0);
  EXPECT_EQ(Describe(*info),
            absl::StrCat("tcp:[::1]:", info->port, " (stream, listening)"));
  UniqueFd udp = ListenOn("udp:127.0.0.1:0");
  info = InspectSocket(udp.get());
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->listening);
  EXPECT_EQ(Describe(*info),
            absl::StrCat("udp:127.0.0.1:", info->port, " (datagram)"));
}

TEST(InspectSocket, ConnectedSocketIsNotListening) {
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
  UniqueFd a(ends[0]), b(ends[1]);
  absl::StatusOr<SocketInfo> info = InspectSocket(a.get());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_socket);
  EXPECT_FALSE(info->listening);
  EXPECT_EQ(info->unix_path, "");
  EXPECT_EQ(Describe(*info), "unix:(unnamed) (stream)");
}

TEST(InspectSocket, PipeIsNotASocket) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  UniqueFd r(ends[0]), w(ends[1]);
  absl::StatusOr<SocketInfo> info = InspectSocket(r.get());
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_socket);
  EXPECT_EQ(Describe(*info), "not a socket");
}

TEST(InspectSocket, ClosedFdIsAnError) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  ::close(ends[0]);
  ::close(ends[1]);
  absl::StatusOr<SocketInfo> info = InspectSocket(ends[0]);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(ErrnoOf(info.status()), EBADF);
  EXPECT_EQ(info.status().message(),
            absl::StrCat("fstat(", ends[0], "): Bad file descriptor"));
}

TEST(IsSocket, AnswersLikeSdIsSocket) {
  UniqueFd tcp = ListenOn("tcp:127.0.0.1:0");
  EXPECT_EQ(*IsSocket(tcp.get(), 0, 0, -1), true);
  EXPECT_EQ(*IsSocket(tcp.get(), AF_INET, SOCK_STREAM, 1), true);
  EXPECT_EQ(*IsSocket(tcp.get(), AF_UNIX, 0, -1), false);
  EXPECT_EQ(*IsSocket(tcp.get(), 0, SOCK_DGRAM, -1), false);
  EXPECT_EQ(*IsSocket(tcp.get(), 0, 0, 0), false);
  EXPECT_EQ(ErrnoOf(IsSocket(-1, 0, 0, -1).status()), EBADF);
  EXPECT_EQ(ErrnoOf(IsSocket(tcp.get(), -1, 0, -1).status()), EINVAL);
  const uint16_t port = InspectSocket(tcp.get())->port;
  EXPECT_EQ(*IsSocketInet(tcp.get(), AF_INET, SOCK_STREAM, 1, port), true);
  EXPECT_EQ(*IsSocketInet(tcp.get(), AF_INET6, 0, -1, 0), false);
  EXPECT_EQ(*IsSocketInet(tcp.get(), 0, 0, -1, port + 1), false);
  EXPECT_EQ(ErrnoOf(IsSocketInet(tcp.get(), AF_UNIX, 0, -1, 0).status()),
            EINVAL);
}

TEST(IsSocketUnix, MatchesPathAndAbstractName) {
  const std::string path = test::UniqueSocketPath("isunix");
  UniqueFd named = ListenOn("unix:" + path);
  EXPECT_EQ(*IsSocketUnix(named.get(), SOCK_STREAM, 1, path), true);
  EXPECT_EQ(*IsSocketUnix(named.get(), 0, -1, ""), true);
  EXPECT_EQ(*IsSocketUnix(named.get(), 0, -1, path + "x"), false);
  const std::string name = "@" + test::UniqueSocketPath("isunix");
  UniqueFd abstract = ListenOn("unix:" + name);
  EXPECT_EQ(*IsSocketUnix(abstract.get(), 0, -1, name), true);
  EXPECT_EQ(
      *IsSocketUnix(abstract.get(), 0, -1, name.substr(0, name.size() - 1)),
      false);
  EXPECT_EQ(*IsSocketUnix(abstract.get(), 0, -1, name.substr(1)), false);
  UniqueFd tcp = ListenOn("tcp:127.0.0.1:0");
  EXPECT_EQ(*IsSocketUnix(tcp.get(), 0, -1, ""), false);
}

}  // namespace
}  // namespace sdfd
