// tests/integration/daemon/load_test.cc: foobard under load and abuse:
// many concurrent clients, a client that never reads, half-close, and fd
// exhaustion (EMFILE). All through the real systemd-socket-activate.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/testing/socket_dir.h"
#include "tests/integration/daemon/harness.h"

namespace foobard::testing {
namespace {

void RaiseOwnFdLimit() {
  rlimit limit;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_cur, 2100u) << "the test needs 2,100 fds";
}

// E2eDriverPath is the tests' one load generator (tests/e2e/e2e_driver.cc):
// many connections at once, each checking every byte of its echoes.
std::string E2eDriverPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "foobar",
                      "/tests/e2e/e2e_driver");
}

// WaitForFile polls for `path` to exist, up to the timeout: the driver
// signals by creating a file, which nothing lets a test wait on directly.
bool WaitForFile(const std::string& path, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 5) {
    if (::access(path.c_str(), F_OK) == 0) return true;
    ::poll(nullptr, 0, 5);
  }
  return false;
}

TEST(Load, ThousandConcurrentClientsEachGetTheirOwnBytes) {
  RaiseOwnFdLimit();
  const std::string dir = sdfd::test::NewSocketDir();
  const std::string path = dir + "/k.sk";
  Process p = Activate({"-l", path}, {});
  constexpr int kClients = 1000;
  // Every connection is opened before any message is sent, so all 1,000
  // are live at once; each runs round trips of 2 KiB of its own bytes until
  // the stop file appears.
  SpawnOptions o;
  o.argv = {E2eDriverPath(),
            "--mode=hold",
            "--socket=" + path,
            absl::StrCat("--connections=", kClients),
            "--messages=0",
            "--min_size=2048",
            "--max_size=2048",
            "--ready_file=" + dir + "/ready",
            "--stop_file=" + dir + "/stop",
            absl::StrCat("--timeout_ms=", kTimeoutMs)};
  Process driver = Process::Spawn(o);
  // foobard holds all 1,000 at once...
  EXPECT_TRUE(WaitForConnectionCount(p.pid(), path, kClients))
      << ConnectionCount(p.pid(), path) << "\n"
      << driver.output();
  // ...and every one of them has had a complete, intact echo.
  ASSERT_TRUE(WaitForFile(dir + "/ready", kTimeoutMs)) << driver.output();
  sdfd::UniqueFd stop(
      ::open((dir + "/stop").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(stop.valid());
  EXPECT_EQ(driver.Wait(kTimeoutMs), 0) << driver.output();
  EXPECT_THAT(driver.output(),
              ::testing::HasSubstr(
                  absl::StrCat("hold connections=", kClients, " messages=")));
  EXPECT_THAT(driver.output(), ::testing::HasSubstr(" errors=0 mismatches=0 "));
  // Every connection closed by the driver is closed by foobard too.
  EXPECT_TRUE(WaitForConnectionCount(p.pid(), path, 0))
      << ConnectionCount(p.pid(), path);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

// RssLimitKb is the memory bound for the slow-reader test: 16 MiB of RSS,
// or 16 MiB of growth under AddressSanitizer, whose shadow memory and
// allocator make the absolute figure meaningless.
bool WithinRssLimit(long baseline_kb, long now_kb) {
#if defined(__SANITIZE_ADDRESS__)
  return now_kb - baseline_kb < 16 * 1024;
#else
  (void)baseline_kb;
  return now_kb < 16 * 1024;
#endif
}

// SanitizerEnv keeps AddressSanitizer's quarantine of freed memory small:
// by default it holds up to 256 MiB of freed blocks resident, which would
// measure ASan, not foobard.
std::vector<std::pair<std::string, std::string>> SanitizerEnv() {
#if defined(__SANITIZE_ADDRESS__)
  return {{"ASAN_OPTIONS", "quarantine_size_mb=4"}};
#else
  return {};
#endif
}

TEST(Load, ClientThatNeverReadsIsBoundedAndOthersKeepGoing) {
  const std::string path = sdfd::test::NewSocketDir() + "/r.sk";
  Process p = Activate({"-l", path}, {}, SanitizerEnv());
  sdfd::UniqueFd hog = ConnectTo("unix:" + path);
  ASSERT_TRUE(hog.valid());
  sdfd::UniqueFd other = ConnectTo("unix:" + path);
  ASSERT_TRUE(other.valid());
  EXPECT_EQ(EchoOnce(other.get(), "warm-up"), "warm-up");
  const long baseline_kb = VmRssKb(p.pid());
  ASSERT_GT(baseline_kb, 0);

  // Phase 1: the hog sends without reading until foobard stops reading it
  // (the socket stays unwritable for a while); memory stays bounded and the
  // other client keeps getting echoes.
  constexpr size_t kTotal = 64 << 20;
  const std::string chunk = Pattern(1 << 20, 99);
  size_t sent = 0;
  long peak_kb = baseline_kb;
  while (sent < kTotal) {
    const size_t off = sent % chunk.size();
    const ssize_t n = ::send(hog.get(), chunk.data() + off, chunk.size() - off,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    ASSERT_TRUE(n < 0 && errno == EAGAIN) << std::strerror(errno);
    pollfd pfd{hog.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, 500) == 0) break;  // foobard stopped reading the hog
  }
  ASSERT_LT(sent, kTotal) << "foobard read 64 MiB from a client that never "
                             "reads: no backpressure";
  EXPECT_LT(sent, size_t{8} << 20) << "too much buffered for one client";
  for (int i = 0; i < 20; ++i) {
    const std::string m = Pattern(10000, i);
    ASSERT_EQ(EchoOnce(other.get(), m), m) << "other client starved";
    peak_kb = std::max(peak_kb, VmRssKb(p.pid()));
  }
  EXPECT_TRUE(WithinRssLimit(baseline_kb, peak_kb))
      << "RSS " << peak_kb << " KiB (baseline " << baseline_kb << " KiB)";

  // Phase 2: the hog sends the rest of its 64 MiB while reading; every byte
  // comes back in order, and memory stays bounded throughout.
  std::string received;
  received.reserve(kTotal);
  size_t checked = 0;
  bool mismatch = false;
  char buf[1 << 16];
  while (received.size() + checked < kTotal) {
    pollfd pfd{hog.get(),
               static_cast<short>(POLLIN | (sent < kTotal ? POLLOUT : 0)), 0};
    ASSERT_GT(::poll(&pfd, 1, kTimeoutMs), 0) << "stalled at " << sent;
    if (pfd.revents & POLLOUT) {
      const size_t off = sent % chunk.size();
      const size_t want = std::min(chunk.size() - off, kTotal - sent);
      const ssize_t n = ::send(hog.get(), chunk.data() + off, want,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (pfd.revents & POLLIN) {
      const ssize_t n = ::recv(hog.get(), buf, sizeof(buf), MSG_DONTWAIT);
      ASSERT_NE(n, 0) << "EOF after " << checked + received.size();
      if (n > 0) received.append(buf, static_cast<size_t>(n));
    }
    // Check and drop whole chunks as they complete to keep the test small.
    while (received.size() >= chunk.size()) {
      mismatch = mismatch || received.compare(0, chunk.size(), chunk) != 0;
      received.erase(0, chunk.size());
      checked += chunk.size();
      peak_kb = std::max(peak_kb, VmRssKb(p.pid()));
    }
  }
  EXPECT_FALSE(mismatch) << "echoed bytes differ from those sent";
  EXPECT_EQ(checked, kTotal);
  RecordProperty("baseline_rss_kb", static_cast<int>(baseline_kb));
  RecordProperty("peak_rss_kb", static_cast<int>(peak_kb));
#if !defined(__SANITIZE_ADDRESS__)
  // Not under ASan: its allocator keeps every size class it ever served
  // resident, so streaming 64 MiB through growing and freed pending buffers
  // measures the sanitizer (~40 MiB), not foobard. Phase 1 above, where the
  // memory is actually held, is checked under ASan too.
  EXPECT_TRUE(WithinRssLimit(baseline_kb, peak_kb))
      << "RSS " << peak_kb << " KiB (baseline " << baseline_kb << " KiB)";
#endif
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

TEST(Load, HalfCloseEchoesEverythingThenCloses) {
  const std::string path = sdfd::test::NewSocketDir() + "/h.sk";
  Process p = Activate({"-l", path}, {});
  sdfd::UniqueFd c = ConnectTo("unix:" + path);
  ASSERT_TRUE(c.valid());
  const std::string data = Pattern(4 << 20, 4);
  // The sender half-closes as soon as its last byte is out; the reader
  // runs concurrently because 4 MiB exceed every buffer on the way.
  std::thread sender([&] {
    EXPECT_TRUE(SendAll(c.get(), data));
    EXPECT_EQ(::shutdown(c.get(), SHUT_WR), 0);
  });
  bool eof = false;
  const std::string got = RecvUntilEof(c.get(), &eof);
  sender.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

TEST(Load, FdExhaustionBacksOffServesExistingClientsAndRecovers) {
  const std::string path = sdfd::test::NewSocketDir() + "/e.sk";
  SpawnOptions o;
  o.argv = {ActivatePath(), "-l", path, FoobardPath()};
  o.nofile = 16;  // ulimit -n 16: room for about ten clients
  Process p = Process::Spawn(o);
  ASSERT_TRUE(p.WaitForOutput("Listening on", kTimeoutMs)) << p.output();

  constexpr int kClients = 30;
  std::vector<sdfd::UniqueFd> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(ConnectTo("unix:" + path));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_TRUE(SendAll(clients.back().get(), absl::StrCat("client-", i, ";")));
  }
  // foobard accepts until every one of its 16 fds is taken (EMFILE).
  ASSERT_TRUE(WaitForOpenFdCount(p.pid(), 16)) << OpenFdCount(p.pid());

  // Collect echoes; while at the limit foobard must rest, not spin.
  std::vector<bool> done(kClients, false);
  auto collect = [&](int timeout_ms) {
    std::vector<pollfd> fds;
    std::vector<int> index;
    for (int i = 0; i < kClients; ++i) {
      if (!done[i]) {
        fds.push_back({clients[i].get(), POLLIN, 0});
        index.push_back(i);
      }
    }
    if (fds.empty() || ::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      const int i = index[k];
      const std::string want = absl::StrCat("client-", i, ";");
      EXPECT_EQ(RecvExactly(clients[i].get(), want.size()), want);
      done[i] = true;
    }
  };
  collect(kTimeoutMs);
  const long ticks_before = CpuTicks(p.pid());
  // Served clients stay open: foobard is out of fds for one second.
  for (int i = 0; i < 10; ++i) collect(100);
  const long ticks = CpuTicks(p.pid()) - ticks_before;
  const int served_while_full =
      static_cast<int>(std::count(done.begin(), done.end(), true));
  EXPECT_GT(served_while_full, 0);
  EXPECT_LT(served_while_full, kClients) << "the fd limit never bit";
  EXPECT_LT(ticks, 50) << "foobard spun on EMFILE (" << ticks
                       << " ticks of CPU in ~1 s)";

  // The served clients still get echoes while others wait.
  for (int i = 0; i < kClients; ++i) {
    if (done[i]) {
      EXPECT_EQ(EchoOnce(clients[i].get(), "again"), "again");
    }
  }
  // Closing them frees fds: every waiting client is then served, none lost.
  for (int i = 0; i < kClients; ++i) {
    if (done[i]) clients[i].reset();
  }
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (std::count(done.begin(), done.end(), true) == kClients) break;
    collect(kTimeoutMs);
    for (int i = 0; i < kClients; ++i) {
      if (done[i]) clients[i].reset();
    }
  }
  EXPECT_EQ(std::count(done.begin(), done.end(), true), kClients);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

// foobard(8), MEMORY AND LIMITS: "An idle connection costs a small struct
// (about 64 bytes) and its kernel socket; it holds no buffer."
TEST(Load, IdleConnectionCostsItsStructNotABuffer) {
  RaiseOwnFdLimit();
  const std::string path = sdfd::test::NewSocketDir() + "/i.sk";
  Process p = Activate({"-l", path}, {}, SanitizerEnv());
  {
    // Warm up: the first echo touches the read buffer and the allocator.
    sdfd::UniqueFd c = ConnectTo("unix:" + path);
    ASSERT_TRUE(c.valid());
    ASSERT_EQ(EchoOnce(c.get(), "warm"), "warm");
  }
  const long baseline_kb = VmRssKb(p.pid());
  constexpr int kIdle = 2000;
  std::vector<sdfd::UniqueFd> clients;
  for (int i = 0; i < kIdle; ++i) {
    clients.push_back(ConnectTo("unix:" + path));
    ASSERT_TRUE(clients.back().valid()) << "client " << i;
    // The echo proves foobard accepted it; then it sits idle.
    ASSERT_EQ(EchoOnce(clients.back().get(), "x"), "x") << "client " << i;
  }
  const long held_kb = VmRssKb(p.pid());
  const long per_connection = (held_kb - baseline_kb) * 1024 / kIdle;
  // The struct is ~64 bytes, ~80 with malloc's header; 256 leaves room for
  // page granularity and never admits a buffer (the smallest is 64 KiB).
  // Under ASan every block carries redzones, so only the no-buffer part of
  // the claim is checked there.
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_LE(per_connection, 1024) << held_kb << " KiB with " << kIdle;
#else
  EXPECT_LE(per_connection, 256) << held_kb << " KiB with " << kIdle;
#endif
  clients.clear();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

// foobard(8), --max_connections: "At the limit foobard stops accepting; new
// clients wait in the listen backlog until a connection closes."
TEST(Load, AtMaxConnectionsNewClientsWaitInTheBacklogUntilOneCloses) {
  const std::string path = sdfd::test::NewSocketDir() + "/m.sk";
  Process p = Activate({"-l", path}, {"--max_connections=2"});
  sdfd::UniqueFd first = ConnectTo("unix:" + path);
  ASSERT_TRUE(first.valid());
  ASSERT_EQ(EchoOnce(first.get(), "1"), "1");
  sdfd::UniqueFd second = ConnectTo("unix:" + path);
  ASSERT_TRUE(second.valid());
  ASSERT_EQ(EchoOnce(second.get(), "2"), "2");
  // The third connects (the kernel queues it) and sends its message.
  sdfd::UniqueFd third = ConnectTo("unix:" + path);
  ASSERT_TRUE(third.valid());
  ASSERT_TRUE(SendAll(third.get(), "3"));
  // A round trip on the second after that: had foobard still watched its
  // listener, the queued connection would have been reported by the same
  // epoll_wait or an earlier one, and accepted and echoed by now.
  ASSERT_EQ(EchoOnce(second.get(), "2 again"), "2 again");
  pollfd waiting{third.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&waiting, 1, 0), 0) << "served beyond --max_connections";
  // foobard holds two connections, not the third.
  EXPECT_EQ(ConnectionCount(p.pid(), path), 2);
  // One closes: the third is accepted from the backlog and served, its
  // message intact.
  first.reset();
  EXPECT_EQ(RecvExactly(third.get(), 1), "3");
  EXPECT_EQ(EchoOnce(third.get(), "3 again"), "3 again");
  EXPECT_EQ(ConnectionCount(p.pid(), path), 2) << "more than two at once";
  second.reset();
  third.reset();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
}

}  // namespace
}  // namespace foobard::testing
