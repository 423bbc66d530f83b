// tests/integration/daemon/activation_test.cc: foobard serves every kind of
// socket it can be given, through the real systemd-socket-activate, and
// refuses bad environments and flags with exit 2 and a clear message.
//
// Tests of what foobard does observe the sockets, exit codes and /proc; the
// ActivationLog tests are the ones whose subject is what foobard writes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/socket_spec.h"
#include "sdfd/testing/notify_receiver.h"
#include "sdfd/testing/socket_dir.h"
#include "sdfd/testing/unix_address.h"
#include "sdfd/unique_fd.h"
#include "tests/integration/daemon/harness.h"

namespace foobard::testing {
namespace {

using ::testing::HasSubstr;

// StopCleanly sends SIGTERM and expects exit 0.
void StopCleanly(Process& p) {
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

// SendTo sends `m` from datagram socket `fd` to the unix socket at `path`.
ssize_t SendTo(int fd, const std::string& m, const std::string& path) {
  absl::StatusOr<sdfd::test::UnixAddress> to =
      sdfd::test::MakeUnixAddress(path);
  if (!to.ok()) return -1;
  return ::sendto(fd, m.data(), m.size(), 0, to->get(), to->length);
}

// BoundUnixDatagram is a datagram client bound to its own unix address, so
// that replies can reach it.
sdfd::UniqueFd BoundUnixDatagram(const std::string& path) {
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::test::BindUnix(SOCK_DGRAM, path);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : sdfd::UniqueFd();
}

// ServeOneConnectionDirectly runs foobard as systemd runs an Accept=yes
// service: with one connected socket, at fd 3 (LISTEN_FDS) or, with
// `on_stdin`, on standard input (StandardInput=socket). The client echoes,
// half-closes and reads EOF; foobard's exit code is returned.
int ServeOneConnectionDirectly(bool on_stdin) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  sdfd::UniqueFd server_end(sv[0]);
  sdfd::UniqueFd c(sv[1]);
  SpawnOptions o;
  o.argv = {FoobardPath()};
  if (on_stdin) {
    o.stdin_fd = server_end.get();
  } else {
    o.pass_fds = {server_end.get()};
    o.set_listen_pid = true;
    o.env = {{"LISTEN_FDS", "1"}, {"LISTEN_FDNAMES", "connection"}};
  }
  Process p = Process::Spawn(o);
  server_end.reset();
  const std::string data = Pattern(100000, 11);
  EXPECT_EQ(EchoOnce(c.get(), data), data);
  EXPECT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  bool eof = false;
  EXPECT_EQ(RecvUntilEof(c.get(), &eof), "");
  EXPECT_TRUE(eof);
  return p.Wait(kTimeoutMs);
}

// ExpectEchoes checks one connection with text and a binary payload, and
// that the server closes after the client half-closes.
void ExpectStreamEchoes(const std::string& spec) {
  for (int client = 0; client < 2; ++client) {  // a second client is served
    sdfd::UniqueFd c = ConnectTo(spec);
    ASSERT_TRUE(c.valid()) << spec;
    EXPECT_EQ(EchoOnce(c.get(), "hello\n"), "hello\n");
    const std::string binary = Pattern(200000, 7 + client);
    EXPECT_EQ(EchoOnce(c.get(), binary), binary);
    ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
    bool eof = false;
    EXPECT_EQ(RecvUntilEof(c.get(), &eof), "");
    EXPECT_TRUE(eof);
  }
}

TEST(Activation, UnixStreamEchoesEveryClient) {
  const std::string path = sdfd::test::NewSocketDir() + "/s.sk";
  Process p = Activate({"-l", path}, {});
  ExpectStreamEchoes("unix:" + path);
  StopCleanly(p);
}

TEST(Activation, TcpIpv4) {
  const uint16_t port = FreePort("127.0.0.1", AF_INET);
  ASSERT_NE(port, 0);
  const std::string addr = absl::StrCat("127.0.0.1:", port);
  Process p = Activate({"-l", addr}, {});
  ExpectStreamEchoes("tcp:" + addr);
  StopCleanly(p);
}

TEST(Activation, TcpIpv6) {
  const uint16_t port = FreePort("::1", AF_INET6);
  ASSERT_NE(port, 0);
  const std::string addr = absl::StrCat("[::1]:", port);
  Process p = Activate({"-l", addr}, {});
  ExpectStreamEchoes("tcp:" + addr);
  StopCleanly(p);
}

TEST(Activation, SeqpacketKeepsMessageBoundaries) {
  const std::string path = sdfd::test::NewSocketDir() + "/q.sk";
  Process p = Activate({"--seqpacket", "-l", path}, {});
  sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
  ASSERT_TRUE(c.valid());
  const std::string messages[] = {"one", Pattern(5000, 1), "three"};
  for (const std::string& m : messages) ASSERT_TRUE(SendAll(c.get(), m));
  for (const std::string& m : messages) {
    char buf[65536];
    const ssize_t n = ::recv(c.get(), buf, sizeof(buf), 0);
    ASSERT_EQ(n, static_cast<ssize_t>(m.size()));
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), m);
  }
  StopCleanly(p);
}

// RecvRecord waits for one seqpacket record or datagram and returns it, or
// nullopt on timeout or error. An empty record and EOF both read as "", so
// callers prove a record by reading more after it.
std::optional<std::string> RecvRecord(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, kTimeoutMs) != 1) return std::nullopt;
  char buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// ExpectEmptyRecordsEchoed sends records, empty ones among them, on a
// connected seqpacket socket and expects each back, in order, on the same
// connection; then the client's half-close makes foobard close it.
void ExpectEmptyRecordsEchoed(sdfd::UniqueFd c) {
  const std::string records[] = {"a", "", "b", "", "", "c"};
  for (const std::string& r : records) {
    ASSERT_EQ(::send(c.get(), r.data(), r.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(r.size()));
  }
  // Each reply is read before the next: an empty reply followed by a
  // non-empty one proves it was a record and not the end of the stream.
  for (const std::string& r : records) {
    EXPECT_EQ(RecvRecord(c.get()), r);
  }
  EXPECT_EQ(EchoOnce(c.get(), "still open"), "still open");
  ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  EXPECT_EQ(RecvRecord(c.get()), "");  // the end this time
  EXPECT_TRUE(WaitForHangup(c.get())) << "foobard kept the connection open";
}

TEST(Activation, SeqpacketEmptyRecordIsEchoedAndKeepsTheConnection) {
  const std::string path = sdfd::test::NewSocketDir() + "/e.sk";
  Process p = Activate({"--seqpacket", "-l", path}, {"--verbose"});
  sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
  ASSERT_TRUE(c.valid());
  ExpectEmptyRecordsEchoed(std::move(c));
  StopCleanly(p);
}

// Records sent and the sending side shut down before foobard reads any of
// them (it is still starting: systemd-socket-activate execs it on this very
// connection): the empty records are followed by queued bytes, so they are
// records, not the end, and every one comes back before the close.
TEST(Activation, SeqpacketEmptyRecordsBeforeHalfCloseAreEchoed) {
  const std::string path = sdfd::test::NewSocketDir() + "/eh.sk";
  Process p = Activate({"--seqpacket", "-l", path}, {"--verbose"});
  sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
  ASSERT_TRUE(c.valid());
  const std::string records[] = {"a", "", "", "b"};
  for (const std::string& r : records) {
    ASSERT_EQ(::send(c.get(), r.data(), r.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(r.size()));
  }
  ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  for (const std::string& r : records) {
    EXPECT_EQ(RecvRecord(c.get()), r);
  }
  // Then the end: foobard closes, and nothing was reset.
  EXPECT_EQ(RecvRecord(c.get()), "");
  char byte;
  EXPECT_EQ(::recv(c.get(), &byte, 1, 0), 0) << std::strerror(errno);
  EXPECT_TRUE(WaitForHangup(c.get()));
  StopCleanly(p);
}

TEST(Activation, SeqpacketAcceptYesEchoesEmptyRecords) {
  const std::string path = sdfd::test::NewSocketDir() + "/ea.sk";
  Process p = Activate({"--seqpacket", "--accept", "-l", path}, {"--verbose"});
  sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
  ASSERT_TRUE(c.valid());
  ExpectEmptyRecordsEchoed(std::move(c));
  // The instance for this connection exits once it is closed.
  EXPECT_TRUE(WaitForChildCount(p.pid(), 0)) << p.output();
  p.Signal(SIGTERM);
  p.Wait(kTimeoutMs);
}

TEST(Activation, UnixDatagramEchoesToSenderAndSkipsUnboundSenders) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/d.sk";
  Process p = Activate({"--datagram", "-l", path}, {});
  // An unbound sender first: foobard cannot answer it and must go on.
  sdfd::UniqueFd unbound(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(SendTo(unbound.get(), "lost", path), 4);
  sdfd::UniqueFd c = BoundUnixDatagram(dir + "/client.sk");
  const std::string big = Pattern(60000, 3);
  // An empty datagram is a datagram: it comes back empty, and the next one
  // after it proves it was not lost.
  for (const std::string& m : {std::string("ping"), std::string(), big,
                               std::string(), std::string("pong")}) {
    ASSERT_EQ(SendTo(c.get(), m, path), static_cast<ssize_t>(m.size()));
    EXPECT_EQ(RecvRecord(c.get()), m);
  }
  StopCleanly(p);
}

// foobard(8): "A reply that cannot be sent at once is dropped, as the
// network could drop it." A sender that never reads fills its own queue
// (net.unix.max_dgram_qlen); foobard drops the replies it cannot send
// rather than wait, and another sender is answered at once.
TEST(Activation, DatagramReplyToAFullReceiverIsDroppedNotWaitedFor) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/df.sk";
  Process p = Activate({"--datagram", "-l", path}, {});
  sdfd::UniqueFd deaf = BoundUnixDatagram(dir + "/deaf.sk");
  constexpr int kSent = 200;
  for (int i = 0; i < kSent; ++i) {
    const std::string m = absl::StrCat("deaf ", i);
    ASSERT_EQ(SendTo(deaf.get(), m, path), static_cast<ssize_t>(m.size()));
  }
  // Datagrams from one socket are handled in order: once the other sender
  // is answered, foobard has dealt with all 200 without waiting for `deaf`.
  sdfd::UniqueFd other = BoundUnixDatagram(dir + "/other.sk");
  ASSERT_EQ(SendTo(other.get(), "other", path), 5);
  EXPECT_EQ(RecvRecord(other.get()), "other");
  // `deaf` holds what its queue took, in order, and nothing more.
  int received = 0;
  char buf[64];
  ssize_t n;
  while ((n = ::recv(deaf.get(), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)),
              absl::StrCat("deaf ", received));
    ++received;
  }
  EXPECT_GT(received, 0);
  EXPECT_LT(received, kSent);
  // The drop is not a failure: foobard goes on answering `deaf` too.
  ASSERT_EQ(SendTo(deaf.get(), "again", path), 5);
  EXPECT_EQ(RecvRecord(deaf.get()), "again");
  StopCleanly(p);
}

TEST(Activation, UdpEchoesToSender) {
  const uint16_t port = FreePort("127.0.0.1", AF_INET);
  const std::string addr = absl::StrCat("127.0.0.1:", port);
  Process p = Activate({"--datagram", "-l", addr}, {});
  sdfd::UniqueFd c = ConnectTo("udp:" + addr);
  ASSERT_TRUE(c.valid());
  for (const std::string& m :
       {std::string("ping"), std::string(), Pattern(1400, 9)}) {
    ASSERT_EQ(::send(c.get(), m.data(), m.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(m.size()));
    EXPECT_EQ(RecvRecord(c.get()), m);
  }
  StopCleanly(p);
}

// --accept: one foobard per connection; each serves its client, then exits
// 0 when the client is done.
TEST(Activation, AcceptYesServesOneClientThenExitsZero) {
  const std::string path = sdfd::test::NewSocketDir() + "/a.sk";
  Process p = Activate({"--accept", "-l", path}, {});
  for (int i = 0; i < 2; ++i) {
    sdfd::UniqueFd c = ConnectTo("unix:" + path);
    ASSERT_TRUE(c.valid());
    const std::string data = Pattern(100000, i);
    EXPECT_EQ(EchoOnce(c.get(), data), data);
    ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
    bool eof = false;
    EXPECT_EQ(RecvUntilEof(c.get(), &eof), "");
    EXPECT_TRUE(eof);
    // The instance for this connection is gone once its client is done.
    EXPECT_TRUE(WaitForChildCount(p.pid(), 0)) << p.output();
  }
  p.Signal(SIGTERM);
  p.Wait(kTimeoutMs);
  // Its exit code, seen directly: the connection at fd 3, as systemd
  // passes it to an Accept=yes service.
  EXPECT_EQ(ServeOneConnectionDirectly(/*on_stdin=*/false), 0);
}

TEST(Activation, InetdServesTheSocketOnStdin) {
  const std::string path = sdfd::test::NewSocketDir() + "/i.sk";
  Process p = Activate({"--inetd", "--accept", "-l", path}, {});
  sdfd::UniqueFd c = ConnectTo("unix:" + path);
  ASSERT_TRUE(c.valid());
  const std::string data = Pattern(300000, 5);
  ASSERT_TRUE(SendAll(c.get(), data));
  ASSERT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  bool eof = false;
  EXPECT_EQ(RecvUntilEof(c.get(), &eof), data);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(WaitForChildCount(p.pid(), 0)) << p.output();
  p.Signal(SIGTERM);
  p.Wait(kTimeoutMs);
  // Its exit code, seen directly: the connection on standard input.
  EXPECT_EQ(ServeOneConnectionDirectly(/*on_stdin=*/true), 0);
}

// StandardInput=socket with Accept=no (--inetd without --accept): fd 0 is
// the listening socket itself, served as if it came on fd 3.
TEST(Activation, InetdListeningStreamSocketOnStdinServesEveryClient) {
  const std::string path = sdfd::test::NewSocketDir() + "/il.sk";
  Process p = Activate({"--inetd", "-l", path}, {});
  ExpectStreamEchoes("unix:" + path);
  StopCleanly(p);
}

TEST(Activation, InetdListeningSeqpacketSocketOnStdin) {
  const std::string path = sdfd::test::NewSocketDir() + "/iq.sk";
  Process p = Activate({"--inetd", "--seqpacket", "-l", path}, {"--verbose"});
  for (int client = 0; client < 2; ++client) {
    sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
    ASSERT_TRUE(c.valid());
    ExpectEmptyRecordsEchoed(std::move(c));
  }
  StopCleanly(p);
}

TEST(Activation, InetdConnectedSeqpacketSocketOnStdin) {
  const std::string path = sdfd::test::NewSocketDir() + "/ic.sk";
  Process p = Activate({"--inetd", "--accept", "--seqpacket", "-l", path},
                       {"--verbose"});
  sdfd::UniqueFd c = ConnectTo("unix-seqpacket:" + path);
  ASSERT_TRUE(c.valid());
  ExpectEmptyRecordsEchoed(std::move(c));
  EXPECT_TRUE(WaitForChildCount(p.pid(), 0)) << p.output();
  p.Signal(SIGTERM);
  p.Wait(kTimeoutMs);
}

TEST(Activation, InetdDatagramSocketOnStdin) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/id.sk";
  Process p = Activate({"--inetd", "--datagram", "-l", path}, {});
  sdfd::UniqueFd c = BoundUnixDatagram(dir + "/idc.sk");
  for (const std::string& m :
       {std::string("ping"), std::string(), Pattern(9000, 4)}) {
    ASSERT_EQ(SendTo(c.get(), m, path), static_cast<ssize_t>(m.size()));
    EXPECT_EQ(RecvRecord(c.get()), m);
  }
  StopCleanly(p);
}

// systemd passes no fd-store fds with StandardInput=socket, so --handoff
// cannot work there: foobard says so once (the subject of this test is that
// warning), and closes connections at stop
// instead of storing them where nothing would ever take them back.
TEST(ActivationLog, InetdWithHandoffWarnsOnceAndClosesAtStop) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  const std::string path = dir + "/ih.sk";
  Process p = Activate(
      {"--inetd", "-l", path, "-E", "NOTIFY_SOCKET=" + notify.address()},
      {"--handoff"});
  sdfd::UniqueFd c = ConnectTo("unix:" + path);
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(EchoOnce(c.get(), "hi"), "hi");
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs, &seen)) << p.output();
  p.Signal(SIGTERM);
  bool eof = false;
  EXPECT_EQ(RecvUntilEof(c.get(), &eof), "");
  EXPECT_TRUE(eof);  // closed with a FIN, not stored
  c.reset();
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
  const std::string warning =
      "<4>--handoff ignored: the socket came on standard input "
      "(StandardInput=socket), where systemd passes no LISTEN_FDS and no "
      "fd-store fds; connections are closed at stop\n";
  const size_t at = p.output().find(warning);
  ASSERT_NE(at, std::string::npos) << p.output();
  EXPECT_EQ(p.output().find(warning, at + 1), std::string::npos);
  while (std::optional<sdfd::test::Datagram> m = notify.Receive(0)) {
    seen.push_back(m->payload);
  }
  for (const std::string& m : seen) {
    EXPECT_FALSE(sdfd::test::HasLine(m, "FDSTORE=1")) << m;
  }
}

TEST(Activation, NamedFdsAreAllServed) {
  const std::string dir = sdfd::test::NewSocketDir();
  Process p = Activate(
      {"-l", dir + "/n1.sk", "-l", dir + "/n2.sk", "--fdname=alpha:beta"}, {});
  // systemd-socket-activate execs foobard on the first connection to
  // either socket; both must then be served.
  for (const char* name : {"/n1.sk", "/n2.sk"}) {
    sdfd::UniqueFd c = ConnectTo("unix:" + dir + name);
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(EchoOnce(c.get(), name), name);
  }
  StopCleanly(p);
}

// LogCase is one way of activating foobard and the start line it must log.
struct LogCase {
  std::vector<std::string> activate_args;
  std::string connect;  // a spec to connect to (and send a byte on)
  std::string line;     // text the start line must contain
};

// Its subject is the log: the start line describes each socket foobard
// serves (address, kind, listening or connected, fd and name).
TEST(ActivationLog, StartLineDescribesEachSocket) {
  const std::string dir = sdfd::test::NewSocketDir();
  const uint16_t port4 = FreePort("127.0.0.1", AF_INET);
  const uint16_t port6 = FreePort("::1", AF_INET6);
  const uint16_t udp = FreePort("127.0.0.1", AF_INET);
  ASSERT_TRUE(port4 != 0 && port6 != 0 && udp != 0);
  const std::string tcp4 = absl::StrCat("127.0.0.1:", port4);
  const std::string tcp6 = absl::StrCat("[::1]:", port6);
  const std::string udp4 = absl::StrCat("127.0.0.1:", udp);
  const std::vector<LogCase> cases = {
      {{"-l", dir + "/s.sk"},
       "unix:" + dir + "/s.sk",
       "<6>serving unix:" + dir + "/s.sk (stream, listening) fd 3"},
      {{"-l", tcp4}, "tcp:" + tcp4, "<6>serving tcp:" + tcp4},
      {{"-l", tcp6}, "tcp:" + tcp6, "<6>serving tcp:" + tcp6},
      {{"--seqpacket", "-l", dir + "/q.sk"},
       "unix-seqpacket:" + dir + "/q.sk",
       "(seqpacket, listening)"},
      {{"--datagram", "-l", dir + "/d.sk"},
       "unix-dgram:" + dir + "/d.sk",
       "(datagram)"},
      {{"--datagram", "-l", udp4}, "udp:" + udp4, "<6>serving udp:" + udp4},
      {{"--accept", "-l", dir + "/a.sk"},
       "unix:" + dir + "/a.sk",
       "(stream) fd 3"},  // connected, not listening
      {{"--inetd", "--accept", "-l", dir + "/i.sk"},
       "unix:" + dir + "/i.sk",
       "\"connection\""},
      {{"--inetd", "-l", dir + "/il.sk"},
       "unix:" + dir + "/il.sk",
       "<6>serving unix:" + dir +
           "/il.sk (stream, listening) fd 3 \"stdin\"\n"},
      {{"--inetd", "--seqpacket", "-l", dir + "/iq.sk"},
       "unix-seqpacket:" + dir + "/iq.sk",
       " (seqpacket, listening) fd 3 \"stdin\"\n"},
      {{"--inetd", "--accept", "--seqpacket", "-l", dir + "/ic.sk"},
       "unix-seqpacket:" + dir + "/ic.sk",
       " (seqpacket) fd 3 \"connection\"\n"},
      {{"--inetd", "--datagram", "-l", dir + "/id.sk"},
       "unix-dgram:" + dir + "/id.sk",
       "<6>serving unix:" + dir + "/id.sk (datagram) fd 3 \"stdin\"\n"},
      {{"-l", dir + "/n1.sk", "-l", dir + "/n2.sk", "--fdname=alpha:beta"},
       "unix:" + dir + "/n1.sk",
       absl::StrCat("<6>serving unix:", dir,
                    "/n1.sk (stream, listening) fd 3 \"alpha\", unix:", dir,
                    "/n2.sk (stream, listening) fd 4 \"beta\"\n")},
  };
  for (const LogCase& c : cases) {
    Process p = Activate(c.activate_args, {});
    // systemd-socket-activate execs foobard on the first client.
    sdfd::UniqueFd client = ConnectTo(c.connect);
    ASSERT_TRUE(client.valid()) << c.connect;
    ASSERT_EQ(::send(client.get(), "x", 1, MSG_NOSIGNAL), 1) << c.connect;
    EXPECT_TRUE(p.WaitForOutput(c.line, kTimeoutMs))
        << "expected \"" << c.line << "\" in:\n"
        << p.output();
  }
}

// Its subject is the log: a stop by signal says so.
TEST(ActivationLog, StopBySignalIsLogged) {
  const std::string path = sdfd::test::NewSocketDir() + "/sig.sk";
  Process p = Activate({"-l", path}, {});
  sdfd::UniqueFd c = ConnectTo("unix:" + path);
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(EchoOnce(c.get(), "x"), "x");
  c.reset();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0);
  EXPECT_THAT(p.output(), HasSubstr("<6>exiting: stopped by signal"));
}

TEST(Activation, ListenFlagWithoutActivation) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  SpawnOptions o;
  o.argv = {FoobardPath(), absl::StrCat("--listen=unix:", dir,
                                        "/l.sk,unix-dgram:", dir, "/ld.sk")};
  o.env = {{"NOTIFY_SOCKET", notify.address()}};
  Process p = Process::Spawn(o);
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs)) << p.output();
  sdfd::UniqueFd c = ConnectTo(absl::StrCat("unix:", dir, "/l.sk"));
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(EchoOnce(c.get(), "listen"), "listen");
  sdfd::UniqueFd d = BoundUnixDatagram(dir + "/dc.sk");
  ASSERT_EQ(SendTo(d.get(), "dg", dir + "/ld.sk"), 2);
  EXPECT_EQ(RecvExactly(d.get(), 2), "dg");
  StopCleanly(p);
}

// RunToExit spawns foobard with `o` and returns its exit code; *output
// receives what it wrote.
int RunToExit(SpawnOptions o, std::string* output) {
  o.argv.insert(o.argv.begin(), FoobardPath());
  Process p = Process::Spawn(o);
  const int code = p.Wait(kTimeoutMs);
  *output = p.output();
  return code;
}

struct ExitCase {
  std::string what;
  SpawnOptions options;
  int code;
  std::string output;
};

TEST(ActivationLog, UsageAndEnvironmentErrorsExitTwoWithOneClearLine) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  sdfd::UniqueFd pipe_r(pipe_fds[0]), pipe_w(pipe_fds[1]);
  std::vector<ExitCase> cases;
  cases.push_back({"no sockets",
                   {},
                   2,
                   "<3>no sockets to serve: not socket-activated and no "
                   "--listen; run it with `systemctl start foobar.socket`, or "
                   "`foobard --listen=unix:/tmp/foobar.sk`\n"});
  {
    SpawnOptions o;
    o.set_listen_pid = true;
    o.env = {{"LISTEN_FDS", "abc"}};
    cases.push_back({"LISTEN_FDS=abc", o, 2,
                     "<3>LISTEN_FDS=\"abc\" is not a valid fd count: Invalid "
                     "argument\n"});
  }
  {
    SpawnOptions o;
    o.set_listen_pid = true;
    o.env = {{"LISTEN_FDS", "1"}, {"LISTEN_FDNAMES", "a:b"}};
    o.pass_fds = {pipe_r.get()};
    cases.push_back({"name count", o, 2, ""});
  }
  {
    SpawnOptions o;
    o.env = {{"LISTEN_PID", "1x"}, {"LISTEN_FDS", "1"}};
    cases.push_back({"LISTEN_PID=1x", o, 2, ""});
  }
  {
    SpawnOptions o;
    o.set_listen_pid = true;
    o.env = {{"LISTEN_FDS", "1"}};
    o.pass_fds = {pipe_r.get()};
    cases.push_back(
        {"pipe passed", o, 2, "<3>fd 3 (unknown) is not a socket\n"});
  }
  {
    SpawnOptions o;
    o.argv = {"--buffer_limit=0"};
    cases.push_back({"buffer_limit=0", o, 2,
                     "<3>--buffer_limit=0: must be 1 to 1073741824\n"});
  }
  {
    SpawnOptions o;
    o.argv = {"--max_connections=-5"};
    cases.push_back({"max_connections", o, 2,
                     "<3>--max_connections=-5: must be 1 to 16777216\n"});
  }
  {
    SpawnOptions o;
    o.argv = {"--idle_exit=-1s"};
    cases.push_back({"idle_exit", o, 2,
                     "<3>--idle_exit=-1s: must be a finite duration >= 0 (0 "
                     "= never)\n"});
  }
  {
    SpawnOptions o;
    o.argv = {"--drain_timeout=soon"};
    cases.push_back({"drain_timeout", o, 2, ""});
  }
  {
    SpawnOptions o;
    o.argv = {"--listen=nonsense:/x"};
    cases.push_back({"listen spec", o, 2, ""});
  }
  for (ExitCase& c : cases) {
    std::string output;
    const int code = RunToExit(c.options, &output);
    EXPECT_EQ(code, c.code) << c.what << ": " << output;
    if (!c.output.empty()) {
      EXPECT_EQ(output, c.output) << c.what;
    } else {
      // One line, naming what is wrong.
      EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1)
          << c.what << ": " << output;
    }
  }
}

TEST(ActivationLog, BadFlagValuesNameTheFlag) {
  SpawnOptions o;
  o.argv = {"--drain_timeout=soon"};
  std::string output;
  EXPECT_EQ(RunToExit(o, &output), 2);
  EXPECT_THAT(output, HasSubstr("drain_timeout"));
  o.argv = {"--listen=nonsense:/x"};
  EXPECT_EQ(RunToExit(o, &output), 2);
  EXPECT_THAT(output, HasSubstr("<3>--listen: "));
  o.argv = {"--help"};
  EXPECT_EQ(RunToExit(o, &output), 0);
  for (const char* flag :
       {"--listen", "--idle_exit", "--buffer_limit", "--max_connections",
        "--drain_timeout", "--handoff", "--verbose"}) {
    EXPECT_THAT(output, HasSubstr(flag));
  }
}

// LISTEN_PIDFDID (systemd v259) names the process the fds are for by its
// pidfd's inode id. A process whose id does not match was not activated:
// it serves nothing and exits 2 with the usual hint; a matching one serves.
TEST(ActivationPidfdid, MismatchServesNothingAndExitsTwo) {
  const std::string path = sdfd::test::NewSocketDir() + "/p.sk";
  absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec("unix:" + path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<sdfd::UniqueFd> listener = sdfd::Listen(*spec, 16);
  ASSERT_TRUE(listener.ok()) << listener.status();
  SpawnOptions o;
  o.set_listen_pid = true;
  // No pidfd has inode id 1: pidfs numbers them from 2 up (fs/pidfs.c).
  o.env = {{"LISTEN_FDS", "1"}, {"LISTEN_PIDFDID", "1"}};
  o.pass_fds = {listener->get()};
  std::string output;
  EXPECT_EQ(RunToExit(o, &output), 2) << output;
  EXPECT_EQ(output,
            "<3>no sockets to serve: not socket-activated and no --listen; "
            "run it with `systemctl start foobar.socket`, or `foobard "
            "--listen=unix:/tmp/foobar.sk`\n");
}

TEST(ActivationPidfdid, MatchServes) {
  const std::string path = sdfd::test::NewSocketDir() + "/q.sk";
  absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec("unix:" + path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  absl::StatusOr<sdfd::UniqueFd> listener = sdfd::Listen(*spec, 16);
  ASSERT_TRUE(listener.ok()) << listener.status();
  SpawnOptions o;
  o.argv = {FoobardPath()};
  o.set_listen_pid = true;
  o.set_listen_pidfdid = true;
  o.env = {{"LISTEN_FDS", "1"}};
  o.pass_fds = {listener->get()};
  Process p = Process::Spawn(o);
  sdfd::UniqueFd c = ConnectTo("unix:" + path);
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(EchoOnce(c.get(), "pidfd\n"), "pidfd\n");
  StopCleanly(p);
}

}  // namespace
}  // namespace foobard::testing
