#include "sdfd/activation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdfd/socket_info.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

using test::FdKind;

const char* KindName(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kNone:
      return "none";
    case ActivationKind::kListenFds:
      return "listen_fds";
    case ActivationKind::kInetd:
      return "inetd";
  }
  return "?";
}

bool IsDevNull(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == makedev(1, 3);
}

// Activate runs ReceiveActivation() in a child holding `kind` at fd 3; with
// `on_stdin` that fd is moved to fd 0 first (StandardInput=socket).
std::string Activate(FdKind kind, bool on_stdin,
                     std::vector<test::EnvSetting> env) {
  env.push_back({"LISTEN_FDNAMES", std::nullopt});
  absl::StatusOr<std::string> out = test::RunInChild({{kind}}, env, [on_stdin] {
    if (on_stdin && (::dup2(3, 0) < 0 || ::close(3) < 0))
      return std::string("dup2");
    absl::StatusOr<Activation> a = ReceiveActivation();
    if (!a.ok()) return a.status().ToString();
    std::string result = KindName(a->kind);
    for (const ListenFd& fd : a->fds) {
      absl::StatusOr<SocketInfo> info = InspectSocket(fd.fd.get());
      absl::StrAppend(
          &result, " ", fd.name, "@", fd.fd.get() >= 3 ? ">=3" : "<3",
          (::fcntl(fd.fd.get(), F_GETFD) & FD_CLOEXEC) ? " cloexec" : "",
          info.ok() && info->is_socket && !info->listening ? " connected" : "");
    }
    if (a->kind == ActivationKind::kInetd) {
      absl::StrAppend(&result, IsDevNull(0) && IsDevNull(1) ? " stdio=null"
                                                            : " stdio=kept");
    }
    return result;
  });
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

TEST(ReceiveActivation, ListenFdsWhenActivated) {
  EXPECT_EQ(Activate(FdKind::kUnixConnected, false,
                     {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}}),
            "listen_fds unknown@>=3 cloexec connected");
}

TEST(ReceiveActivation, InetdWhenStdinIsConnectedSocket) {
  EXPECT_EQ(
      Activate(FdKind::kUnixConnected, true,
               {{"LISTEN_PID", std::nullopt}, {"LISTEN_FDS", std::nullopt}}),
      "inetd connection@>=3 cloexec connected stdio=null");
  EXPECT_EQ(
      Activate(FdKind::kTcp4Connected, true,
               {{"LISTEN_PID", std::nullopt}, {"LISTEN_FDS", std::nullopt}}),
      "inetd connection@>=3 cloexec connected stdio=null");
}

// With Accept=no, StandardInput=socket puts the listening (or datagram)
// socket itself on fd 0.
TEST(ReceiveActivation, InetdWhenStdinIsAListeningOrDatagramSocket) {
  // (The helper marks every socket that is not listening "connected".)
  const std::pair<FdKind, std::string> cases[] = {
      {FdKind::kUnixStreamListener, "inetd stdin@>=3 cloexec stdio=null"},
      {FdKind::kUnixSeqpacketListener, "inetd stdin@>=3 cloexec stdio=null"},
      {FdKind::kTcp4Listener, "inetd stdin@>=3 cloexec stdio=null"},
      {FdKind::kUnixDatagram, "inetd stdin@>=3 cloexec connected stdio=null"},
      {FdKind::kUdp4, "inetd stdin@>=3 cloexec connected stdio=null"},
  };
  for (const auto& [kind, expected] : cases) {
    EXPECT_EQ(
        Activate(kind, true,
                 {{"LISTEN_PID", std::nullopt}, {"LISTEN_FDS", std::nullopt}}),
        expected)
        << static_cast<int>(kind);
  }
}

// systemd's default for StandardInput=socket is StandardOutput=inherit and
// StandardError=inherit: fds 0, 1 and 2 are all the socket. fd 2 then goes
// to /dev/null too, or log lines would reach the client; any other stderr
// is left alone.
TEST(ReceiveActivation, StderrThatIsTheSocketGoesToDevNull) {
  for (const bool stderr_too : {true, false}) {
    absl::StatusOr<std::string> out = test::RunInChild(
        {{FdKind::kUnixConnected}},
        {{"LISTEN_PID", std::nullopt},
         {"LISTEN_FDS", std::nullopt},
         {"LISTEN_FDNAMES", std::nullopt}},
        [stderr_too] {
          if (::dup2(3, 0) < 0 || ::dup2(3, 1) < 0) return std::string("dup2");
          if (stderr_too && ::dup2(3, 2) < 0) return std::string("dup2");
          if (::close(3) < 0) return std::string("close");
          struct stat before;
          if (::fstat(2, &before) != 0) return std::string("fstat");
          absl::StatusOr<Activation> a = ReceiveActivation();
          if (!a.ok()) return a.status().ToString();
          struct stat after;
          if (::fstat(2, &after) != 0) return std::string("fstat");
          return std::string(KindName(a->kind)) +
                 (IsDevNull(0) && IsDevNull(1) ? " stdio=null"
                                               : " stdio=kept") +
                 (IsDevNull(2)                    ? " stderr=null"
                  : after.st_ino == before.st_ino ? " stderr=kept"
                                                  : " stderr=changed");
        });
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, stderr_too ? "inetd stdio=null stderr=null"
                               : "inetd stdio=null stderr=kept");
  }
}

TEST(ReceiveActivation, NoneWhenStdinIsNotASocket) {
  EXPECT_EQ(
      Activate(FdKind::kPipeRead, true,
               {{"LISTEN_PID", std::nullopt}, {"LISTEN_FDS", std::nullopt}}),
      "none");
  EXPECT_EQ(
      Activate(FdKind::kRegularFile, true,
               {{"LISTEN_PID", std::nullopt}, {"LISTEN_FDS", std::nullopt}}),
      "none");
}

TEST(ReceiveActivation, NoneWhenFdsAreForAnotherProcess) {
  EXPECT_EQ(Activate(FdKind::kUnixStreamListener, false,
                     {{"LISTEN_PID", "1"}, {"LISTEN_FDS", "1"}}),
            "none");
}

TEST(ReceiveActivation, PassesListenFdsErrorsOn) {
  EXPECT_EQ(Activate(FdKind::kUnixStreamListener, false,
                     {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "abc"}}),
            "INVALID_ARGUMENT: LISTEN_FDS=\"abc\" is not a valid fd count: "
            "Invalid argument [errno='22']");
}

}  // namespace
}  // namespace sdfd
