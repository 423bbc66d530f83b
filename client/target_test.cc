#include "client/target.h"

#include <grp.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdfd/testing/socket_dir.h"
#include "sdfd/testing/unix_address.h"

namespace foobar::client {
namespace {

// SocketPath is a fresh path for a unix socket.
std::string SocketPath(const std::string& name) {
  static const std::string* const dir =
      new std::string(sdfd::test::NewSocketDir());  // lives for the test
  return *dir + "/" + name;
}

sdfd::SocketSpec UnixSpec(const std::string& path) {
  absl::StatusOr<sdfd::SocketSpec> spec =
      sdfd::ParseSocketSpec(absl::StrCat("unix:", path));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

// BindOnly leaves a socket file that nobody listens on.
sdfd::UniqueFd BindOnly(const std::string& path) {
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::test::BindUnix(SOCK_STREAM, path);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : sdfd::UniqueFd();
}

TEST(ConnectWithTimeout, MissingSocketPointsAtFoobarSocket) {
  const std::string path = SocketPath("missing.sk");
  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(UnixSpec(path), absl::Seconds(1));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fd.status().message(),
            absl::StrCat("cannot connect to ", path,
                         ": No such file or directory (is foobar.socket "
                         "running? try: systemctl enable --now "
                         "foobar.socket)"));
}

TEST(ConnectWithTimeout, SocketWithoutListenerIsRefused) {
  const std::string path = SocketPath("refused.sk");
  sdfd::UniqueFd bound = BindOnly(path);
  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(UnixSpec(path), absl::Seconds(1));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().message(),
            absl::StrCat("cannot connect to ", path,
                         ": Connection refused (the socket exists but no "
                         "server is listening on it; try: systemctl restart "
                         "foobar.socket)"));
}

TEST(ConnectWithTimeout, FullBacklogTimesOut) {
  const std::string path = SocketPath("full.sk");
  sdfd::UniqueFd listener = BindOnly(path);
  // Backlog 0 admits one pending connection; the second one must wait.
  ASSERT_EQ(listen(listener.get(), 0), 0);
  absl::StatusOr<sdfd::UniqueFd> first =
      ConnectWithTimeout(UnixSpec(path), absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<sdfd::UniqueFd> second =
      ConnectWithTimeout(UnixSpec(path), absl::Milliseconds(100));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("cannot connect to ", path,
                         ": timed out after 100ms (the server is not "
                         "accepting connections; check: systemctl status "
                         "foobar.service, or raise --timeout)"));
}

TEST(ConnectWithTimeout, ConnectsToAListener) {
  const std::string path = SocketPath("ok.sk");
  sdfd::UniqueFd listener = BindOnly(path);
  ASSERT_EQ(listen(listener.get(), 8), 0);
  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(UnixSpec(path), absl::InfiniteDuration());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(send(fd->get(), "x", 1, MSG_NOSIGNAL), 1);
}

TEST(ConnectWithTimeout, OwnSocketFailureKeepsTheCallsWords) {
  // With no descriptor left, socket() fails before any server is tried: the
  // error names that call and hints nothing about foobar.socket.
  const std::string path = SocketPath("no-fd.sk");
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0) << strerror(errno);
  rlimit none = saved;
  none.rlim_cur = 0;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &none), 0) << strerror(errno);
  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(UnixSpec(path), absl::Seconds(1));
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0) << strerror(errno);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fd.status().message(),
            absl::StrCat("socket(unix:", path, "): Too many open files"));
}

TEST(ConnectWithTimeout, TcpPortWithoutListenerIsRefused) {
  // A bound but not listening socket holds the port, so nothing else can
  // take it while the test runs.
  sdfd::UniqueFd bound(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(bound.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  socklen_t length = sizeof(addr);
  ASSERT_EQ(
      getsockname(bound.get(), reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const int port = ntohs(addr.sin_port);
  absl::StatusOr<sdfd::SocketSpec> spec =
      sdfd::ParseSocketSpec(absl::StrCat("tcp:127.0.0.1:", port));
  ASSERT_TRUE(spec.ok());
  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(*spec, absl::Seconds(1));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().message(),
            absl::StrCat("cannot connect to 127.0.0.1:", port,
                         ": Connection refused (no server is listening on "
                         "that port)"));
}

TEST(ConnectError, PermissionDeniedNamesTheSocketsGroup) {
  const std::string path = SocketPath("perm.sk");
  sdfd::UniqueFd bound = BindOnly(path);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  group* g = getgrgid(st.st_gid);
  ASSERT_NE(g, nullptr);
  const std::string name = g->gr_name;
  EXPECT_EQ(
      ConnectError(UnixSpec(path), EACCES).message(),
      absl::StrCat("cannot connect to ", path,
                   ": Permission denied (the socket belongs to group ", name,
                   "; try: sudo adduser $USER ", name, ", then log in again)"));
}

TEST(DisplayName, NamesEachFamilyAsUsersWriteIt) {
  absl::StatusOr<sdfd::SocketSpec> v6 = sdfd::ParseSocketSpec("tcp:[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(DisplayName(*v6), "[::1]:80");
  absl::StatusOr<sdfd::SocketSpec> abstract =
      sdfd::ParseSocketSpec("unix:@foobar");
  ASSERT_TRUE(abstract.ok());
  EXPECT_EQ(DisplayName(*abstract), "@foobar");
}

}  // namespace
}  // namespace foobar::client
