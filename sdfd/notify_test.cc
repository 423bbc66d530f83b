#include "sdfd/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/internal/errno_status.h"
#include "sdfd/internal/notify_receiver.h"
#include "sdfd/internal/test_child.h"

namespace sdfd {
namespace {

using internal::FdKind;
using internal::Receiver;
using ::testing::HasSubstr;

// Send runs `body` in a child with NOTIFY_SOCKET=`notify_socket` and fd 3 a
// pipe; body returns a description of the result.
std::string Send(const std::optional<std::string>& notify_socket,
                 const std::function<std::string()>& body) {
  absl::StatusOr<std::string> out = internal::RunInChild(
      {{FdKind::kPipeRead}}, {{"NOTIFY_SOCKET", notify_socket}}, body);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

std::string Describe(const absl::StatusOr<bool>& sent) {
  if (!sent.ok()) return sent.status().ToString();
  return *sent ? "sent" : "not sent";
}

// HasCapSysAdmin says whether the kernel will accept credentials naming
// another process (CAP_SYS_ADMIN in the effective set).
bool HasCapSysAdmin() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
      return (caps >> 21) & 1;  // CAP_SYS_ADMIN
    }
  }
  return false;
}

TEST(Notify, NotSentWithoutNotifySocket) {
  EXPECT_EQ(Send(std::nullopt, [] { return Describe(Notify("READY=1")); }),
            "not sent");
}

TEST(Notify, SendsStateToPathSocketWithSenderCredentials) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  std::string out = Send(receiver.address(), [] {
    return absl::StrCat(Describe(Notify("READY=1\nSTATUS=Serving")), " ",
                        ::getpid());
  });
  ASSERT_THAT(out, HasSubstr("sent "));
  std::optional<internal::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "READY=1\nSTATUS=Serving");
  EXPECT_TRUE(d->fds.empty());
  ASSERT_TRUE(d->has_credentials);
  EXPECT_EQ(absl::StrCat("sent ", d->credentials.pid), out);
  EXPECT_EQ(d->credentials.uid, ::getuid());
  EXPECT_EQ(d->credentials.gid, ::getgid());
  EXPECT_FALSE(receiver.Receive().has_value());
}

TEST(Notify, SendsToAbstractSocket) {
  Receiver receiver(/*abstract=*/true);
  ASSERT_TRUE(receiver.ok());
  ASSERT_EQ(receiver.address()[0], '@');
  EXPECT_EQ(
      Send(receiver.address(),
           [] { return Describe(Notify("RELOADING=1\nMONOTONIC_USEC=1")); }),
      "sent");
  std::optional<internal::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "RELOADING=1\nMONOTONIC_USEC=1");
}

TEST(PidNotifyWithFds, PassesFdsForTheFdStore) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  std::string out = Send(receiver.address(), [] {
    const int fds[] = {3};
    return absl::StrCat(
        Describe(PidNotifyWithFds("FDSTORE=1\nFDNAME=conn", fds)), " ",
        internal::Inode(3));
  });
  std::optional<internal::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "FDSTORE=1\nFDNAME=conn");
  ASSERT_EQ(d->fds.size(), 1u);
  // The received fd is the very pipe the child held at fd 3.
  EXPECT_EQ(out, absl::StrCat("sent ", internal::Inode(d->fds[0].get())));
}

TEST(PidNotifyWithFds, SendsCredentialsOnBehalfOfAnotherPid) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  const pid_t parent = ::getpid();
  std::string child = Send(receiver.address(), [parent] {
    NotifyOptions options;
    options.pid = parent;
    absl::StatusOr<bool> sent = PidNotifyWithFds("MAINPID=1", {}, options);
    return sent.ok() && *sent ? absl::StrCat(::getpid()) : "failed";
  });
  std::optional<internal::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(d->has_credentials);
  // Without CAP_SYS_ADMIN the kernel refuses a foreign pid, and the library
  // falls back to the sender's own credentials, as libsystemd does.
  EXPECT_EQ(absl::StrCat(d->credentials.pid),
            HasCapSysAdmin() ? absl::StrCat(parent) : child);
}

TEST(PidNotifyWithFds, UnsetsEnvironmentWhenAsked) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  EXPECT_EQ(Send(receiver.address(),
                 [] {
                   NotifyOptions options;
                   options.unset_environment = true;
                   std::string first =
                       Describe(PidNotifyWithFds("READY=1", {}, options));
                   return first + ", then " + Describe(Notify("READY=1"));
                 }),
            "sent, then not sent");
}

TEST(PidNotifyWithFds, RejectsRelativeNotifySocket) {
  EXPECT_EQ(Send("run/notify", [] { return Describe(Notify("READY=1")); }),
            "INVALID_ARGUMENT: NOTIFY_SOCKET=\"run/notify\" is not an absolute "
            "path or @abstract name: Invalid argument [errno='22']");
}

TEST(PidNotifyWithFds, RejectsPathLongerThanSockaddr) {
  std::string out = Send("/" + std::string(107, 'x'), [] {
    absl::StatusOr<bool> sent = Notify("READY=1");
    return absl::StrCat(internal::ErrnoOf(sent.status()));
  });
  EXPECT_EQ(out, absl::StrCat(ENAMETOOLONG));
}

TEST(PidNotifyWithFds, RejectsEmptyState) {
  EXPECT_THAT(Send("/x", [] { return Describe(Notify("")); }),
              HasSubstr("INVALID_ARGUMENT: sd_notify state is empty"));
}

TEST(PidNotifyWithFds, RejectsMoreFdsThanTheKernelPasses) {
  EXPECT_THAT(Send("/x",
                   [] {
                     std::vector<int> fds(254, 3);
                     return Describe(PidNotifyWithFds("FDSTORE=1", fds));
                   }),
              HasSubstr("254 fds (SCM_MAX_FD is 253)"));
}

TEST(PidNotifyWithFds, SendErrorNamesCallAndErrno) {
  const std::string missing = internal::UniqueSocketPath("missing");
  std::string out = Send(missing, [] {
    absl::StatusOr<bool> sent = Notify("READY=1");
    return absl::StrCat(internal::ErrnoOf(sent.status()), " ",
                        sent.status().message());
  });
  EXPECT_EQ(out, absl::StrCat(ENOENT, " sendmsg(NOTIFY_SOCKET=", missing,
                              "): No such file or directory"));
}

// FillQueue sends empty-payload filler datagrams to the unix socket at
// `path` until the kernel refuses more (net.unix.max_dgram_qlen); it
// returns how many went.
int FillQueue(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  int sent = 0;
  while (::sendto(fd.get(), "filler", 6, MSG_DONTWAIT,
                  reinterpret_cast<sockaddr*>(&address),
                  sizeof(address)) == 6) {
    ++sent;
  }
  return errno == EAGAIN ? sent : -1;
}

TEST(PidNotifyWithFds, NonBlockingReportsAFullQueueAtOnce) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  const std::string path = receiver.address();
  std::string out = Send(path, [&path] {
    const int filler = FillQueue(path);
    NotifyOptions options;
    options.non_blocking = true;
    absl::StatusOr<bool> sent = PidNotifyWithFds("WATCHDOG=1", {}, options);
    return absl::StrCat(filler > 0 ? "full " : "not full ", Describe(sent),
                        NotifyWouldBlock(sent.status()) ? " would block" : "");
  });
  EXPECT_EQ(out, absl::StrCat("full UNAVAILABLE: sendmsg(NOTIFY_SOCKET=", path,
                              "): Resource temporarily unavailable "
                              "[errno='11'] would block"));
  // Only the filler arrived.
  int received = 0;
  while (std::optional<internal::Datagram> d = receiver.Receive()) {
    EXPECT_EQ(d->payload, "filler");
    ++received;
  }
  EXPECT_GT(received, 0);
  // With room again, the same call goes through.
  out = Send(path, [] {
    NotifyOptions options;
    options.non_blocking = true;
    return Describe(PidNotifyWithFds("WATCHDOG=1", {}, options));
  });
  EXPECT_EQ(out, "sent");
  std::optional<internal::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "WATCHDOG=1");
}

TEST(NotifyWouldBlock, OnlyForEagain) {
  EXPECT_FALSE(NotifyWouldBlock(absl::OkStatus()));
  EXPECT_FALSE(NotifyWouldBlock(internal::ErrnoError(ECONNREFUSED, "x")));
  EXPECT_TRUE(NotifyWouldBlock(internal::ErrnoError(EAGAIN, "x")));
}

}  // namespace
}  // namespace sdfd
