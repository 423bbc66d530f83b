// tests/integration/daemon/lifecycle_test.cc: foobard's life with a service
// manager: sd_notify states on a test NOTIFY_SOCKET, SIGTERM in the middle
// of traffic, idle exit with re-activation, and the fd store handoff that
// keeps clients connected across a restart.
//
// Where systemd itself would start foobard again (re-activation, restart
// with stored fds), the test plays systemd's part: it holds the listening
// socket and the stored fds and execs foobard with LISTEN_FDS, exactly as
// systemd does (systemd-socket-activate runs the program only once).
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/socket_spec.h"
#include "sdfd/testing/notify_receiver.h"
#include "sdfd/testing/socket_dir.h"
#include "tests/integration/daemon/harness.h"

namespace foobard::testing {
namespace {

using ::testing::HasSubstr;

sdfd::UniqueFd ListenOn(const std::string& spec) {
  absl::StatusOr<sdfd::SocketSpec> parsed = sdfd::ParseSocketSpec(spec);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Listen(*parsed, 4096);
  EXPECT_TRUE(fd.ok()) << fd.status();
  return fd.ok() ? *std::move(fd) : sdfd::UniqueFd();
}

// WaitReading waits for `p` to exit while reading (and dropping) its
// sd_notify messages, as systemd does: an unread notify socket fills after
// a few datagrams (net.unix.max_dgram_qlen) and would block the sender.
int WaitReading(Process& p, sdfd::test::Receiver& notify) {
  for (int i = 0; i < kTimeoutMs / 20; ++i) {
    (void)notify.Receive(10);  // any message, or none: just keep it drained
    const int code = p.Wait(10);
    if (code != -1) return code;
  }
  return -1;
}

TEST(Lifecycle, NotifiesReadyWatchdogAndStopping) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  ASSERT_TRUE(notify.ok());
  Process p =
      Activate({"-l", dir + "/w.sk", "-E", "NOTIFY_SOCKET=" + notify.address(),
                "-E", "WATCHDOG_USEC=200000"},
               {});
  sdfd::UniqueFd c = ConnectTo("unix:" + dir + "/w.sk");
  ASSERT_TRUE(c.valid());
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs, &seen)) << p.output();
  // READY=1 comes once, before any STOPPING=1.
  for (const std::string& m : seen) {
    EXPECT_FALSE(sdfd::test::HasLine(m, "STOPPING=1")) << m;
  }
  EXPECT_EQ(EchoOnce(c.get(), "hello"), "hello");
  // The client is held.
  EXPECT_TRUE(WaitForConnectionCount(p.pid(), dir + "/w.sk", 1))
      << ConnectionCount(p.pid(), dir + "/w.sk");
  // Pinged from the loop at half of WATCHDOG_USEC (100 ms), several times.
  seen.clear();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(notify.WaitFor("WATCHDOG=1", kTimeoutMs, &seen));
  }
  p.Signal(SIGTERM);
  ASSERT_TRUE(notify.WaitFor("STOPPING=1", kTimeoutMs, &seen));
  for (const std::string& m : seen) {
    EXPECT_FALSE(sdfd::test::HasLine(m, "READY=1")) << "READY=1 again: " << m;
  }
  c.reset();  // foobard waits for the client to close after its FIN
  EXPECT_EQ(WaitReading(p, notify), 0) << p.output();
}

// FillUntilStalled sends from `data` without reading until foobard stops
// reading this client (backpressure); returns the bytes sent.
size_t FillUntilStalled(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, 300) == 0) break;
  }
  return sent;
}

TEST(Lifecycle, SigtermDuringTrafficDeliversPendingBytesAndExitsZero) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  Process p = Activate(
      {"-l", dir + "/t.sk", "-E", "NOTIFY_SOCKET=" + notify.address()}, {});
  sdfd::UniqueFd busy = ConnectTo("unix:" + dir + "/t.sk");
  sdfd::UniqueFd idle = ConnectTo("unix:" + dir + "/t.sk");
  ASSERT_TRUE(busy.valid() && idle.valid());
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs)) << p.output();
  EXPECT_EQ(EchoOnce(idle.get(), "idle"), "idle");
  const std::string data = Pattern(16 << 20, 77);
  const size_t sent = FillUntilStalled(busy.get(), data);
  ASSERT_GT(sent, size_t{256} << 10);
  ASSERT_LT(sent, data.size());

  p.Signal(SIGTERM);
  ASSERT_TRUE(notify.WaitFor("STOPPING=1", kTimeoutMs)) << p.output();
  // The idle client gets EOF at once; the busy one first gets every byte
  // foobard had read from it, then EOF (a clean FIN, not a reset). foobard
  // exits when both have closed their side.
  bool eof = false;
  EXPECT_EQ(RecvUntilEof(idle.get(), &eof), "");
  EXPECT_TRUE(eof);
  idle.reset();
  const std::string got = RecvUntilEof(busy.get(), &eof);
  EXPECT_TRUE(eof) << std::strerror(errno);
  busy.reset();
  EXPECT_EQ(WaitReading(p, notify), 0) << p.output();
  EXPECT_GE(got.size(), size_t{256} << 10) << "pending bytes were lost";
  EXPECT_LE(got.size(), sent);
  EXPECT_TRUE(got == data.substr(0, got.size())) << "echo is not a prefix";
}

// Idle exit must never lose a client: the listening socket stays with the
// "service manager" (this test), which starts foobard again whenever a
// client waits, as systemd does. Clients connect in a tight loop with
// irregular pauses so that idle exits land at every possible moment.
TEST(Lifecycle, IdleExitAndReactivationLoseNoClient) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/idle.sk";
  sdfd::UniqueFd listener = ListenOn("unix:" + path);
  ASSERT_TRUE(listener.valid());

  std::atomic<bool> stop{false};
  std::atomic<int> starts{0};
  std::atomic<int> bad_exits{0};
  std::string last_output;
  std::thread manager([&] {
    while (!stop.load()) {
      pollfd pfd{listener.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 20) <= 0) continue;
      SpawnOptions o;
      o.argv = {FoobardPath(), "--idle_exit=10ms"};
      o.pass_fds = {listener.get()};
      o.set_listen_pid = true;
      o.env = {{"LISTEN_FDS", "1"}, {"LISTEN_FDNAMES", "foobar.socket"}};
      Process p = Process::Spawn(o);
      ++starts;
      const int code = p.Wait(kTimeoutMs);
      if (code != 0) {
        ++bad_exits;
        last_output = p.output();
      }
    }
  });

  std::atomic<int> failures{0};
  std::atomic<int> served{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 300; ++i) {
        sdfd::UniqueFd c = ConnectTo("unix:" + path);
        const std::string m = Pattern(64, t * 1000 + i);
        if (!c.valid() || EchoOnce(c.get(), m) != m) {
          ++failures;
          continue;
        }
        ++served;
        c.reset();
        // Deliberate idleness around the 10 ms idle timeout, so exits
        // race with the next connect.
        ::poll(nullptr, 0, static_cast<int>(rng() % 30));
      }
    });
  }
  for (std::thread& t : clients) t.join();
  stop = true;
  manager.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(served.load(), 600);
  EXPECT_GE(starts.load(), 5) << "too few idle exits to prove anything";
  RecordProperty("activations", starts.load());
  EXPECT_EQ(bad_exits.load(), 0) << last_output;
}

TEST(Lifecycle, HandoffKeepsClientsAndUnsentBytesAcrossRestart) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/ho.sk";
  sdfd::UniqueFd listener = ListenOn("unix:" + path);
  ASSERT_TRUE(listener.valid());
  sdfd::test::Receiver notify(/*abstract=*/false);

  SpawnOptions first;
  first.argv = {FoobardPath(), "--handoff", "--drain_timeout=300ms"};
  first.pass_fds = {listener.get()};
  first.set_listen_pid = true;
  first.env = {{"LISTEN_FDS", "1"},
               {"LISTEN_FDNAMES", "foobar.socket"},
               {"NOTIFY_SOCKET", notify.address()}};
  Process a = Process::Spawn(first);
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs)) << a.output();

  sdfd::UniqueFd busy = ConnectTo("unix:" + path);
  sdfd::UniqueFd quiet = ConnectTo("unix:" + path);
  ASSERT_TRUE(busy.valid() && quiet.valid());
  EXPECT_EQ(EchoOnce(busy.get(), "before"), "before");
  EXPECT_EQ(EchoOnce(quiet.get(), "quiet"), "quiet");
  // The busy client does not read, so foobard holds unsent bytes for it at
  // SIGTERM: they must travel in the bundle's manifest.
  const std::string data = Pattern(8 << 20, 5);
  const size_t sent = FillUntilStalled(busy.get(), data);
  ASSERT_GT(sent, size_t{256} << 10);

  a.Signal(SIGTERM);
  // Play systemd: keep what FDSTORE=1 stores, and answer BARRIER=1 by
  // closing its pipe (dropping the message does).
  std::vector<sdfd::UniqueFd> stored;
  std::vector<std::string> seen;
  while (seen.empty() || seen.back() != "BARRIER=1") {
    std::optional<sdfd::test::Datagram> m = notify.Receive(kTimeoutMs);
    ASSERT_TRUE(m.has_value()) << a.output();
    seen.push_back(m->payload);
    if (sdfd::test::HasLine(m->payload, "FDSTORE=1")) {
      EXPECT_EQ(m->payload, "FDSTORE=1\nFDNAME=sdfd-handoff\nFDPOLL=0");
      ASSERT_EQ(m->fds.size(), 1u);
      stored.push_back(std::move(m->fds[0]));
    }
  }
  EXPECT_EQ(WaitReading(a, notify), 0) << a.output();
  EXPECT_THAT(seen, ::testing::Contains("STOPPING=1"));
  ASSERT_EQ(stored.size(), 1u)
      << "one entry for every connection: " << absl::StrJoin(seen, " | ");
  // That one entry carries both connections and the busy one's unsent
  // bytes: the next foobard serves them all (below).

  // "systemd" restarts the service: the socket first, then the store.
  SpawnOptions second;
  second.argv = {FoobardPath()};
  second.pass_fds = {listener.get(), stored[0].get()};
  second.set_listen_pid = true;
  second.env = {{"LISTEN_FDS", "2"},
                {"LISTEN_FDNAMES", "foobar.socket:sdfd-handoff"},
                {"NOTIFY_SOCKET", notify.address()}};
  Process b = Process::Spawn(second);
  std::vector<std::string> removed;
  seen.clear();
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs, &seen)) << b.output();
  for (const std::string& m : seen) {
    if (sdfd::test::HasLine(m, "FDSTOREREMOVE=1"))
      removed.push_back(m.substr(m.find("FDNAME=") + 7));
  }
  EXPECT_THAT(removed, ::testing::ElementsAre("sdfd-handoff"));
  // The store's copy is closed now, as systemd would after removal.
  stored.clear();
  // Both handed-off connections are held again.
  EXPECT_TRUE(WaitForConnectionCount(b.pid(), path, 2))
      << ConnectionCount(b.pid(), path) << "\n"
      << b.output();

  // Every byte the busy client sent comes back, in order, then it goes on.
  const std::string got = RecvExactly(busy.get(), sent);
  EXPECT_EQ(got.size(), sent) << b.output();
  EXPECT_TRUE(got == data.substr(0, sent)) << "bytes lost or reordered";
  EXPECT_EQ(EchoOnce(busy.get(), "after"), "after");
  EXPECT_EQ(EchoOnce(quiet.get(), "still here"), "still here");
  sdfd::UniqueFd fresh = ConnectTo("unix:" + path);
  ASSERT_TRUE(fresh.valid());
  EXPECT_EQ(EchoOnce(fresh.get(), "new"), "new");
  b.Signal(SIGTERM);
  busy.reset();
  quiet.reset();
  fresh.reset();
  EXPECT_EQ(WaitReading(b, notify), 0) << b.output();
}

// Its subject is the log: without $FDSTORE (systemd sets it when the unit
// has FileDescriptorStoreMax=), foobard cannot know whether the store kept
// the handed-off connections, and says so.
TEST(LifecycleLog, HandoffWithoutFdstoreVariableSaysTheStoreIsUnconfirmed) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::UniqueFd listener = ListenOn("unix:" + dir + "/hl.sk");
  ASSERT_TRUE(listener.valid());
  sdfd::test::Receiver notify(/*abstract=*/false);
  SpawnOptions o;
  o.argv = {FoobardPath(), "--handoff", "--drain_timeout=300ms"};
  o.pass_fds = {listener.get()};
  o.set_listen_pid = true;
  o.env = {{"LISTEN_FDS", "1"},
           {"LISTEN_FDNAMES", "foobar.socket"},
           {"NOTIFY_SOCKET", notify.address()}};
  Process p = Process::Spawn(o);
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs)) << p.output();
  sdfd::UniqueFd c = ConnectTo("unix:" + dir + "/hl.sk");
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(EchoOnce(c.get(), "x"), "x");
  p.Signal(SIGTERM);
  EXPECT_EQ(WaitReading(p, notify), 0) << p.output();
  EXPECT_THAT(p.output(),
              HasSubstr("handed off 1 connections to the fd store (one entry, "
                        "0 unsent bytes); systemd processed it, but whether "
                        "its store kept it cannot be confirmed ($FDSTORE is "
                        "unset"));
}

// foobar 0.1.0 stored each connection as its own entry, its unsent bytes in
// a memfd beside it (daemon/handoff.h). The first start of this version after
// an upgrade gets those: it must serve them, unsent bytes first.
TEST(Lifecycle, AdoptsTheEntriesOfVersion010) {
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/legacy.sk";
  sdfd::UniqueFd listener = ListenOn("unix:" + path);
  ASSERT_TRUE(listener.valid());
  sdfd::test::Receiver notify(/*abstract=*/false);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  sdfd::UniqueFd server_end(sv[0]);
  sdfd::UniqueFd client(sv[1]);
  // 0.1.0 wrote its unsent bytes to a memfd and left the offset at the end.
  sdfd::UniqueFd data(::memfd_create("foobard-unsent", MFD_CLOEXEC));
  ASSERT_EQ(::write(data.get(), "owed by 0.1.0", 13), 13);
  int quiet_sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, quiet_sv), 0);
  sdfd::UniqueFd quiet_server(quiet_sv[0]);
  sdfd::UniqueFd quiet(quiet_sv[1]);

  SpawnOptions options;
  options.argv = {FoobardPath()};
  options.pass_fds = {listener.get(), data.get(), server_end.get(),
                      quiet_server.get()};
  options.set_listen_pid = true;
  options.env = {
      {"LISTEN_FDS", "4"},
      {"LISTEN_FDNAMES", "foobar.socket:conn-data.77.1:conn.77.1:conn.77.2"},
      {"NOTIFY_SOCKET", notify.address()}};
  Process p = Process::Spawn(options);
  server_end.reset();
  quiet_server.reset();
  data.reset();
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs, &seen)) << p.output();
  std::vector<std::string> removed;
  for (const std::string& m : seen) {
    if (sdfd::test::HasLine(m, "FDSTOREREMOVE=1"))
      removed.push_back(m.substr(m.find("FDNAME=") + 7));
  }
  EXPECT_THAT(removed, ::testing::UnorderedElementsAre(
                           "conn-data.77.1", "conn.77.1", "conn.77.2"));
  EXPECT_EQ(RecvExactly(client.get(), 13), "owed by 0.1.0");
  EXPECT_EQ(EchoOnce(client.get(), "then echoes"), "then echoes");
  EXPECT_EQ(EchoOnce(quiet.get(), "quiet too"), "quiet too");
  // Both adopted connections (socketpairs: no listener path) are held.
  EXPECT_TRUE(WaitForConnectionCount(p.pid(), "", 2))
      << ConnectionCount(p.pid(), "");
  p.Signal(SIGTERM);
  client.reset();
  quiet.reset();
  EXPECT_EQ(WaitReading(p, notify), 0) << p.output();
}

}  // namespace
}  // namespace foobard::testing
