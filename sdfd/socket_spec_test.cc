#include "sdfd/socket_spec.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"
#include "sdfd/socket_info.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

using ::testing::HasSubstr;

SocketSpec Parse(const std::string& text) {
  absl::StatusOr<SocketSpec> spec = ParseSocketSpec(text);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : SocketSpec();
}

std::string Error(const std::string& text) {
  absl::StatusOr<SocketSpec> spec = ParseSocketSpec(text);
  return spec.ok() ? "parsed" : std::string(spec.status().message());
}

TEST(ParseSocketSpec, UnixForms) {
  SocketSpec s = Parse("unix:/run/foobar.sk");
  EXPECT_EQ(s.family, AF_UNIX);
  EXPECT_EQ(s.type, SOCK_STREAM);
  EXPECT_EQ(s.path, "/run/foobar.sk");
  EXPECT_EQ(s.text, "unix:/run/foobar.sk");
  EXPECT_EQ(Parse("unix:@foobar").path, "@foobar");
  EXPECT_EQ(Parse("unix-seqpacket:/x").type, SOCK_SEQPACKET);
  EXPECT_EQ(Parse("unix-dgram:@x").type, SOCK_DGRAM);
  EXPECT_EQ(Parse("unix:/" + std::string(106, 'a')).path.size(), 107u);
}

TEST(ParseSocketSpec, InetForms) {
  SocketSpec tcp = Parse("tcp:127.0.0.1:8080");
  EXPECT_EQ(tcp.family, AF_INET);
  EXPECT_EQ(tcp.type, SOCK_STREAM);
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, 8080);
  SocketSpec v6 = Parse("tcp:[::1]:0");
  EXPECT_EQ(v6.family, AF_INET6);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
  SocketSpec udp = Parse("udp:0.0.0.0:65535");
  EXPECT_EQ(udp.type, SOCK_DGRAM);
  EXPECT_EQ(udp.port, 65535);
  EXPECT_EQ(Parse("tcp:localhost:1").host, "127.0.0.1");
}

TEST(ParseSocketSpec, RejectsMalformedSpecsSayingWhy) {
  EXPECT_THAT(Error("foo"), HasSubstr("no scheme"));
  EXPECT_THAT(Error("sctp:1.2.3.4:5"), HasSubstr("unknown scheme \"sctp\""));
  EXPECT_THAT(Error("unix:relative"), HasSubstr("absolute path or @name"));
  EXPECT_THAT(Error("unix:@"), HasSubstr("absolute path or @name"));
  EXPECT_THAT(Error("unix:/" + std::string(107, 'a')),
              HasSubstr("at most 107 bytes"));
  EXPECT_THAT(Error("tcp:1.2.3.4"), HasSubstr("missing :PORT"));
  EXPECT_THAT(Error("tcp:1.2.3.4:65536"), HasSubstr("0 to 65535"));
  EXPECT_THAT(Error("tcp:1.2.3.4:-1"), HasSubstr("0 to 65535"));
  EXPECT_THAT(Error("tcp:1.2.3.4:"), HasSubstr("0 to 65535"));
  EXPECT_THAT(Error("tcp:example.com:80"), HasSubstr("numeric IPv4"));
  EXPECT_THAT(Error("tcp:::1:80"), HasSubstr("numeric IPv4"));
  EXPECT_THAT(Error("tcp:[::1:80"), HasSubstr("numeric IPv4"));
  EXPECT_THAT(Error("udp:[zz]:80"), HasSubstr("IPv6"));
  EXPECT_THAT(Error(""), HasSubstr("expected unix:/path"));
}

// RoundTrip listens on `spec`, connects to it, and checks one byte arrives.
void RoundTrip(SocketSpec spec) {
  absl::StatusOr<UniqueFd> listener = Listen(spec, 16);
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(::fcntl(listener->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(::fcntl(listener->get(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  absl::StatusOr<SocketInfo> info = InspectSocket(listener->get());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, spec.type);
  EXPECT_EQ(info->listening, spec.type != SOCK_DGRAM);
  if (spec.family != AF_UNIX) spec.port = info->port;  // port 0 was bound
  absl::StatusOr<UniqueFd> client = Connect(spec);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(::fcntl(client->get(), F_GETFL) & O_NONBLOCK, 0);
  ASSERT_EQ(::send(client->get(), "x", 1, MSG_NOSIGNAL), 1);
  int reader = listener->get();
  UniqueFd accepted;
  if (spec.type != SOCK_DGRAM) {
    // The connection is queued once connect() returned; accept4 on the
    // non-blocking listener finds it without waiting.
    accepted.reset(::accept4(reader, nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted.valid()) << std::strerror(errno);
    reader = accepted.get();
  }
  char byte = 0;
  ASSERT_EQ(::recv(reader, &byte, 1, MSG_WAITALL), 1);
  EXPECT_EQ(byte, 'x');
}

TEST(ListenAndConnect, UnixStreamPath) {
  RoundTrip(Parse("unix:" + test::UniqueSocketPath("spec")));
}
TEST(ListenAndConnect, UnixAbstract) {
  RoundTrip(Parse("unix:@" + test::UniqueSocketPath("spec")));
}
TEST(ListenAndConnect, UnixSeqpacket) {
  RoundTrip(Parse("unix-seqpacket:" + test::UniqueSocketPath("spec")));
}
TEST(ListenAndConnect, UnixDatagram) {
  RoundTrip(Parse("unix-dgram:" + test::UniqueSocketPath("spec")));
}
TEST(ListenAndConnect, Tcp4) { RoundTrip(Parse("tcp:127.0.0.1:0")); }
TEST(ListenAndConnect, Tcp6) { RoundTrip(Parse("tcp:[::1]:0")); }
TEST(ListenAndConnect, Udp4) { RoundTrip(Parse("udp:127.0.0.1:0")); }

TEST(Listen, RemovesStaleSocketNobodyListensOn) {
  SocketSpec spec = Parse("unix:" + test::UniqueSocketPath("stale"));
  {
    absl::StatusOr<UniqueFd> old = Listen(spec, 1);
    ASSERT_TRUE(old.ok()) << old.status();
  }  // closed: the file stays behind, nobody listens
  struct stat st;
  ASSERT_EQ(::lstat(spec.path.c_str(), &st), 0);
  absl::StatusOr<UniqueFd> fresh = Listen(spec, 1);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(Connect(spec).ok());
}

TEST(Listen, NeverRemovesLiveSocket) {
  SocketSpec spec = Parse("unix:" + test::UniqueSocketPath("live"));
  absl::StatusOr<UniqueFd> live = Listen(spec, 1);
  ASSERT_TRUE(live.ok()) << live.status();
  absl::StatusOr<UniqueFd> second = Listen(spec, 1);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(ErrnoOf(second.status()), EADDRINUSE);
  EXPECT_THAT(second.status().message(), HasSubstr("bind(" + spec.text + ")"));
  // The first listener still owns the path and accepts.
  EXPECT_TRUE(Connect(spec).ok());
}

TEST(Listen, NeverRemovesNonSocketFile) {
  const std::string path = test::UniqueSocketPath("regular");
  UniqueFd file(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.valid());
  absl::StatusOr<UniqueFd> fd = Listen(Parse("unix:" + path), 1);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(ErrnoOf(fd.status()), EADDRINUSE);
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(Connect, KeepsErrnoAsCode) {
  absl::StatusOr<UniqueFd> missing =
      Connect(Parse("unix:" + test::UniqueSocketPath("missing")));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoOf(missing.status()), ENOENT);

  SocketSpec spec = Parse("unix:" + test::UniqueSocketPath("refused"));
  { ASSERT_TRUE(Listen(spec, 1).ok()); }
  absl::StatusOr<UniqueFd> refused = Connect(spec);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ErrnoOf(refused.status()), ECONNREFUSED);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("connect(" + spec.text + "): Connection refused"));
}

TEST(Connect, TimesOutOnFullBacklogWithEtimedout) {
  SocketSpec spec = Parse("unix:" + test::UniqueSocketPath("full"));
  absl::StatusOr<UniqueFd> listener = Listen(spec, 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  // Backlog 0 admits one pending connection; the next one has to wait.
  absl::StatusOr<UniqueFd> first = Connect(spec, absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<UniqueFd> second = Connect(spec, absl::Milliseconds(50));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrnoOf(second.status()), ETIMEDOUT);
  EXPECT_EQ(second.status().message(),
            "connect(" + spec.text + "): timed out after 50ms");
}

TEST(Connect, LeavesNoSendTimeoutBehind) {
  SocketSpec spec = Parse("unix:" + test::UniqueSocketPath("timeo"));
  absl::StatusOr<UniqueFd> listener = Listen(spec, 8);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<UniqueFd> fd = Connect(spec, absl::Seconds(3));
  ASSERT_TRUE(fd.ok()) << fd.status();
  timeval tv = {1, 1};
  socklen_t length = sizeof(tv);
  ASSERT_EQ(getsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, &length), 0);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

}  // namespace
}  // namespace sdfd
