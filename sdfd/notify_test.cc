#include "sdfd/notify.h"

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"
#include "sdfd/testing/notify_receiver.h"
#include "sdfd/testing/test_child.h"

namespace sdfd {
namespace {

using test::FdKind;
using test::Receiver;
using ::testing::HasSubstr;

// Send runs `body` in a child with NOTIFY_SOCKET=`notify_socket` and fd 3 a
// pipe; body returns a description of the result.
std::string Send(const std::optional<std::string>& notify_socket,
                 const std::function<std::string()>& body) {
  absl::StatusOr<std::string> out = test::RunInChild(
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
  std::optional<test::Datagram> d = receiver.Receive();
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
  std::optional<test::Datagram> d = receiver.Receive();
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
        test::Inode(3));
  });
  std::optional<test::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "FDSTORE=1\nFDNAME=conn");
  ASSERT_EQ(d->fds.size(), 1u);
  // The received fd is the very pipe the child held at fd 3.
  EXPECT_EQ(out, absl::StrCat("sent ", test::Inode(d->fds[0].get())));
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
  std::optional<test::Datagram> d = receiver.Receive();
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

// systemd v257: socket_address_parse_unix() says EPROTO to anything not
// starting with '/' or '@', and so does socket_address_parse_vsock() to
// anything not starting with "vsock".
TEST(PidNotifyWithFds, RejectsRelativeNotifySocketWithEproto) {
  EXPECT_EQ(Send("run/notify", [] { return Describe(Notify("READY=1")); }),
            "INVALID_ARGUMENT: NOTIFY_SOCKET=\"run/notify\" is neither an "
            "AF_UNIX path or @name nor vsock:CID:PORT: Protocol error "
            "[errno='71']");
}

TEST(PidNotifyWithFds, RejectsPathLongerThanSockaddr) {
  std::string out = Send("/" + std::string(107, 'x'), [] {
    absl::StatusOr<bool> sent = Notify("READY=1");
    return absl::StrCat(ErrnoOf(sent.status()));
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
  const std::string missing = test::UniqueSocketPath("missing");
  std::string out = Send(missing, [] {
    absl::StatusOr<bool> sent = Notify("READY=1");
    return absl::StrCat(ErrnoOf(sent.status()), " ", sent.status().message());
  });
  EXPECT_EQ(out, absl::StrCat(ENOENT, " sendmsg(NOTIFY_SOCKET=", missing,
                              "): No such file or directory"));
}

// ---------------------------------------------------------------------------
// NotifyReloading: "RELOADING=1 ... MONOTONIC_USEC=… A field carrying the
// monotonic timestamp (as per CLOCK_MONOTONIC) formatted in decimal in μs,
// when the notification message was generated by the client" (sd_notify(3),
// systemd 253).

uint64_t MonotonicUsec() {
  timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 +
         static_cast<uint64_t>(now.tv_nsec) / 1000;
}

TEST(NotifyReloading, SendsReloadingAndMonotonicUsecInOneDatagram) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  const std::string out = Send(receiver.address(), [] {
    const uint64_t before = MonotonicUsec();
    const std::string sent = Describe(NotifyReloading());
    return absl::StrCat(sent, " ", before, " ", MonotonicUsec());
  });
  std::optional<test::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value()) << out;
  EXPECT_FALSE(receiver.Receive().has_value()) << "one datagram only";
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(d->payload.rfind(prefix, 0), 0u) << d->payload;
  const std::string number = d->payload.substr(prefix.size());
  ASSERT_FALSE(number.empty());
  ASSERT_EQ(number.find_first_not_of("0123456789"), std::string::npos)
      << "decimal digits only: " << d->payload;
  ASSERT_NE(number[0], '0');
  uint64_t usec = 0, before = 0, after = 0;
  ASSERT_TRUE(absl::SimpleAtoi(number, &usec));
  const std::vector<std::string> words = absl::StrSplit(out, ' ');
  ASSERT_EQ(words.size(), 3u) << out;
  EXPECT_EQ(words[0], "sent");
  ASSERT_TRUE(absl::SimpleAtoi(words[1], &before));
  ASSERT_TRUE(absl::SimpleAtoi(words[2], &after));
  // Taken between the child's own two readings of the same clock.
  EXPECT_LE(before, usec);
  EXPECT_LE(usec, after);
}

TEST(NotifyReloading, NotSentWithoutNotifySocket) {
  EXPECT_EQ(Send(std::nullopt, [] { return Describe(NotifyReloading()); }),
            "not sent");
}

// ---------------------------------------------------------------------------
// FDNAME=: PID 1 ignores an invalid name with FDSTORE=1 ("Passed FDNAME= name
// is invalid, ignoring.", service_notify_message() in systemd 252..259) and
// stores the fd as "stored"; libsdfd refuses to send such a message.

std::string SendAndReceive(const std::string& state, std::string* received) {
  Receiver receiver(/*abstract=*/false);
  EXPECT_TRUE(receiver.ok());
  const std::string out = Send(receiver.address(), [state] {
    const int fds[] = {3};
    absl::StatusOr<bool> sent = PidNotifyWithFds(state, fds);
    return sent.ok() ? Describe(sent) : absl::StrCat(sent.status().ToString());
  });
  std::optional<test::Datagram> d = receiver.Receive();
  *received = d.has_value() ? d->payload : "(nothing)";
  return out;
}

TEST(PidNotifyWithFds, RefusesAnInvalidFdStoreNameAndSendsNothing) {
  std::string received;
  EXPECT_EQ(SendAndReceive("FDSTORE=1\nFDNAME=conn:1", &received),
            "INVALID_ARGUMENT: FDNAME=\"conn:1\" is not a valid fd name (at "
            "most 255 printable ASCII characters, no ':'): Invalid argument "
            "[errno='22']");
  EXPECT_EQ(received, "(nothing)");
  for (const std::string& name :
       {std::string(256, 'x'), std::string("a\tb"), std::string("caf\xc3\xa9"),
        std::string("a\x7f")}) {
    const std::string out =
        SendAndReceive("FDSTORE=1\nFDNAME=" + name, &received);
    EXPECT_THAT(out, HasSubstr("is not a valid fd name")) << name;
    EXPECT_THAT(out, HasSubstr("[errno='22']")) << name;
    EXPECT_EQ(received, "(nothing)") << name;
  }
  // PID 1 splits on "\n" and "\r" alike: the name ends at the "\r".
  EXPECT_EQ(SendAndReceive("FDNAME=a:b\rFDSTORE=1", &received).substr(0, 17),
            "INVALID_ARGUMENT:");
  // FDSTOREREMOVE=1 reads FDNAME= too.
  EXPECT_THAT(SendAndReceive("FDSTOREREMOVE=1\nFDNAME=:", &received),
              HasSubstr("[errno='22']"));
}

TEST(PidNotifyWithFds, SendsValidFdStoreNames) {
  std::string received;
  for (const std::string& name :
       {std::string(""), std::string(255, 'x'), std::string("web conn #1"),
        std::string("~!@#$%^&*()_+{}|\"<>?`-=[];',./")}) {
    const std::string state = "FDSTORE=1\nFDNAME=" + name;
    EXPECT_EQ(SendAndReceive(state, &received), "sent") << name;
    EXPECT_EQ(received, state);
  }
  // Only the first FDNAME= counts, as for PID 1 (strv_find_startswith).
  EXPECT_EQ(SendAndReceive("FDSTORE=1\nFDNAME=a\nFDNAME=b:c", &received),
            "sent");
  // Without FDSTORE=1 or FDSTOREREMOVE=1, PID 1 does not read FDNAME= at all.
  EXPECT_EQ(SendAndReceive("STATUS=x\nFDNAME=a:b", &received), "sent");
}

// ---------------------------------------------------------------------------
// vsock: "the CID is mandatory"; the sender binds a port below 1024, sends,
// shuts down its end and waits for EOF (sd_notify(3), sd-daemon.c of systemd
// 257). A real send needs a vsock transport that loops back to this machine.

TEST(NotifyVsock, SendsOverVsockStreamAndWaitsForEof) {
  std::string why;
  if (!test::VsockLoopbackAvailable(&why)) GTEST_SKIP() << why;
  test::VsockStreamReceiver receiver;
  ASSERT_TRUE(receiver.ok());
  const std::string address =
      absl::StrCat("vsock-stream:", VMADDR_CID_LOCAL, ":", receiver.port());
  EXPECT_EQ(
      Send(address, [] { return Describe(Notify("READY=1\nSTATUS=vsock")); }),
      "sent");
  EXPECT_EQ(receiver.Message().value_or("(nothing)"), "READY=1\nSTATUS=vsock");
}

TEST(NotifyVsock, CidIsMandatory) {
  EXPECT_EQ(Send("vsock::1234",
                 [] {
                   absl::StatusOr<bool> sent = Notify("READY=1");
                   return absl::StrCat(ErrnoOf(sent.status()));
                 }),
            absl::StrCat(EINVAL));
}

TEST(PidNotifyWithFds, NonBlockingReportsAFullQueueAtOnce) {
  Receiver receiver(/*abstract=*/false);
  ASSERT_TRUE(receiver.ok());
  const std::string path = receiver.address();
  std::string out = Send(path, [&path] {
    const int filler = test::FillNotifyQueue(path);
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
  while (std::optional<test::Datagram> d = receiver.Receive()) {
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
  std::optional<test::Datagram> d = receiver.Receive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "WATCHDOG=1");
}

TEST(NotifyWouldBlock, OnlyForEagain) {
  EXPECT_FALSE(NotifyWouldBlock(absl::OkStatus()));
  EXPECT_FALSE(NotifyWouldBlock(ErrnoError(ECONNREFUSED, "x")));
  EXPECT_TRUE(NotifyWouldBlock(ErrnoError(EAGAIN, "x")));
}

}  // namespace
}  // namespace sdfd
