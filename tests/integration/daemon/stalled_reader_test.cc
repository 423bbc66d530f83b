// tests/integration/daemon/stalled_reader_test.cc: foobard never waits for
// whoever reads its log or its sd_notify messages. A stderr pipe nobody
// reads (`foobard --verbose 2>&1 | sleep 600`, or a stopped journald) and a
// notify socket whose queue is full (PID 1 busy; net.unix.max_dgram_qlen)
// cost dropped log lines and later notifications, never a client and never
// SIGTERM.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/testing/notify_receiver.h"
#include "sdfd/testing/socket_dir.h"
#include "tests/integration/daemon/harness.h"

namespace foobard::testing {
namespace {

// kClients is enough per-connection lines (two each, ~70 bytes a pair) to
// overflow a 64 KiB pipe and foobard's 64 KiB log buffer together.
constexpr int kClients = 3000;
constexpr char kMessage[] = "8 bytes!";

// EchoAndClose runs kClients sequential clients, each one round trip.
void EchoAndClose(const std::string& path) {
  for (int i = 0; i < kClients; ++i) {
    sdfd::UniqueFd c = ConnectTo("unix:" + path);
    ASSERT_TRUE(c.valid()) << "client " << i;
    ASSERT_EQ(EchoOnce(c.get(), kMessage), kMessage) << "client " << i;
  }
}

// SpawnVerbose starts foobard --verbose on its own unix socket; its stderr
// is the harness pipe, which nobody reads until the test says so.
Process SpawnVerbose(const std::string& path,
                     const sdfd::test::Receiver& notify,
                     std::vector<std::string> flags = {}) {
  SpawnOptions o;
  o.argv = {FoobardPath(), "--verbose", "--listen=unix:" + path};
  for (std::string& f : flags) o.argv.push_back(std::move(f));
  o.env = {{"NOTIFY_SOCKET", notify.address()}};
  return Process::Spawn(o);
}

int CountLinesWithPrefix(const std::string& text, absl::string_view prefix) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) ++n;
  }
  return n;
}

// Its subject is the log: what foobard writes and what it counts as dropped.
TEST(StalledReaderLog, LogPipeNobodyReadsNeverStopsServingAndDropsAreCounted) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  const std::string path = dir + "/v.sk";
  Process p = SpawnVerbose(path, notify);
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs));
  ASSERT_NO_FATAL_FAILURE(EchoAndClose(path));
  // Every close has been handled (and logged, or counted as dropped) once
  // foobard holds no connection any more.
  ASSERT_TRUE(WaitForConnectionCount(p.pid(), path, 0))
      << ConnectionCount(p.pid(), path);
  // Now the reader drains the pipe: foobard writes what it queued, then one
  // line with the number of lines it could not keep.
  const std::string report_end = " log lines: the log sink was not reading\n";
  ASSERT_TRUE(p.WaitForOutput(report_end, kTimeoutMs)) << p.output();
  const std::string out = p.output();
  const size_t report_at = out.rfind("<4>dropped ");
  ASSERT_NE(report_at, std::string::npos);
  const int dropped = std::atoi(out.c_str() + report_at + 11);
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(out.substr(report_at),
            absl::StrCat("<4>dropped ", dropped, report_end));
  EXPECT_EQ(CountLinesWithPrefix(out, "<4>dropped "), 1);
  // Each connection logged two lines (opened, closed): every one of them
  // was either written or counted.
  EXPECT_EQ(CountLinesWithPrefix(out, "<7>fd ") + dropped, 2 * kClients);
  EXPECT_TRUE(absl::StartsWith(out, "<6>serving unix:")) << out.substr(0, 200);

  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0);
  EXPECT_THAT(p.output(),
              ::testing::HasSubstr("<6>exiting: stopped by signal"));
}

TEST(StalledReader, SigtermStopsWithinDrainTimeoutWhileTheLogPipeIsFull) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  const std::string path = dir + "/t.sk";
  Process p = SpawnVerbose(path, notify, {"--drain_timeout=2s"});
  ASSERT_TRUE(notify.WaitFor("READY=1", kTimeoutMs));
  ASSERT_NO_FATAL_FAILURE(EchoAndClose(path));
  // A client that stays: SIGTERM gives it a lingering close and waits for
  // it up to --drain_timeout, all while the log cannot be written.
  sdfd::UniqueFd held = ConnectTo("unix:" + path);
  ASSERT_TRUE(held.valid());
  ASSERT_EQ(EchoOnce(held.get(), "held"), "held");
  p.Signal(SIGTERM);
  bool eof = false;
  EXPECT_EQ(RecvUntilEof(held.get(), &eof), "");
  EXPECT_TRUE(eof);  // its FIN came although nothing drains the log
  // The pipe stays unread while foobard exits: it must not need a reader.
  EXPECT_EQ(p.WaitWithoutReading(kTimeoutMs), 0);
}

TEST(StalledReader, FullNotifyQueueNeverStopsServingAndNothingIsLost) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  const int filler = sdfd::test::FillNotifyQueue(notify.address());
  ASSERT_GT(filler, 0);
  const std::string path = dir + "/n.sk";
  // WATCHDOG_USEC=20ms: a ping due every 10 ms, and READY=1 due at once,
  // all into a queue that takes nothing.
  Process p = Activate({"-l", path, "-E", "NOTIFY_SOCKET=" + notify.address(),
                        "-E", "WATCHDOG_USEC=20000"},
                       {});
  constexpr int kRounds = 200;
  for (int i = 0; i < kRounds; ++i) {
    sdfd::UniqueFd c = ConnectTo("unix:" + path);
    ASSERT_TRUE(c.valid()) << "client " << i;
    ASSERT_EQ(EchoOnce(c.get(), kMessage), kMessage) << "client " << i;
  }
  // Every client was served (and its close handled) while the queue was
  // full: foobard holds no connection any more.
  EXPECT_TRUE(WaitForConnectionCount(p.pid(), path, 0))
      << ConnectionCount(p.pid(), path);
  // The manager reads again: first its backlog, then foobard's coalesced
  // notifications, READY=1 exactly once and first, with the watchdog ping
  // that came due meanwhile.
  for (int i = 0; i < filler; ++i) {
    std::optional<sdfd::test::Datagram> m = notify.Receive(kTimeoutMs);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m->payload, "filler");
  }
  std::optional<sdfd::test::Datagram> first = notify.Receive(kTimeoutMs);
  ASSERT_TRUE(first.has_value()) << p.output();
  EXPECT_TRUE(sdfd::test::HasLine(first->payload, "READY=1")) << first->payload;
  EXPECT_TRUE(sdfd::test::HasLine(first->payload, "WATCHDOG=1"))
      << first->payload;
  // Nothing stays stuck: pings go on, and the stop is announced.
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("WATCHDOG=1", kTimeoutMs, &seen));
  p.Signal(SIGTERM);
  ASSERT_TRUE(notify.WaitFor("STOPPING=1", kTimeoutMs, &seen));
  for (const std::string& m : seen) {
    EXPECT_FALSE(sdfd::test::HasLine(m, "READY=1")) << "READY=1 again: " << m;
  }
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

// With --handoff, a stop stores the connections with one FDSTORE=1 message;
// a service manager that never reads (its queue full) must not hold the stop
// beyond --drain_timeout: foobard gives up, closes the connections and exits.
TEST(StalledReader, HandoffIntoAFullNotifyQueueEndsAtTheDrainTimeout) {
  const std::string dir = sdfd::test::NewSocketDir();
  sdfd::test::Receiver notify(/*abstract=*/false);
  ASSERT_GT(sdfd::test::FillNotifyQueue(notify.address()), 0);
  const std::string path = dir + "/h.sk";
  // The socket exists before foobard runs (systemd-socket-activate), so no
  // READY=1 is needed to know when to connect.
  Process p = Activate({"-l", path, "-E", "NOTIFY_SOCKET=" + notify.address()},
                       {"--handoff", "--drain_timeout=1s"});
  std::vector<sdfd::UniqueFd> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(ConnectTo("unix:" + path));
    ASSERT_TRUE(clients.back().valid()) << "client " << i;
    ASSERT_EQ(EchoOnce(clients.back().get(), kMessage), kMessage);
  }
  p.Signal(SIGTERM);
  // Not handed off, so each client sees its connection end.
  for (sdfd::UniqueFd& c : clients) {
    bool eof = false;
    EXPECT_EQ(RecvUntilEof(c.get(), &eof), "");
    EXPECT_TRUE(eof);
  }
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

}  // namespace
}  // namespace foobard::testing
