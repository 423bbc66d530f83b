// daemon/log_sink_test.cc: a LogSink never waits for its reader, never
// touches the flags of the file description it was given, bounds what it
// queues, and reports exactly how many lines it dropped once drained.
#include "daemon/log_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdfd/unique_fd.h"

namespace foobard {
namespace {

struct Pipe {
  sdfd::UniqueFd read;
  sdfd::UniqueFd write;
};

Pipe MakePipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  // The test's own read end never blocks (Drain); the write end is the
  // shared description the sink must leave alone.
  EXPECT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  return Pipe{sdfd::UniqueFd(fds[0]), sdfd::UniqueFd(fds[1])};
}

bool NonBlocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

// Fill writes filler into the pipe or socket behind `fd` through a
// descriptor of the test's own until the kernel takes no more, so the next
// write by the sink must fail with EAGAIN.
void Fill(int fd) {
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  sdfd::UniqueFd own(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  const std::string filler(4096, 'f');
  // A pipe is reopened; a socket cannot be, and takes MSG_DONTWAIT instead.
  // Once 4 KiB no longer fit, single bytes fill what is left.
  for (size_t size : {filler.size(), size_t{1}}) {
    for (;;) {
      const ssize_t n = own.valid()
                            ? ::write(own.get(), filler.data(), size)
                            : ::send(fd, filler.data(), size, MSG_DONTWAIT);
      if (n > 0) continue;
      ASSERT_EQ(errno, EAGAIN);
      break;
    }
  }
}

// Drain reads everything queued in `fd` now, without waiting.
std::string Drain(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    const ssize_t r =
        n < 0 && errno == ENOTSOCK ? ::read(fd, buf, sizeof(buf)) : n;
    if (r <= 0) return out;
    out.append(buf, static_cast<size_t>(r));
  }
}

// StripFiller drops the 'f' bytes Fill() put in front.
std::string StripFiller(const std::string& s) {
  return s.substr(s.find_first_not_of('f') == std::string::npos
                      ? s.size()
                      : s.find_first_not_of('f'));
}

TEST(LogSink, WritesAPipeThroughANewNonBlockingDescription) {
  Pipe p = MakePipe();
  LogSink sink(p.write.get());
  EXPECT_EQ(sink.kind(), LogSink::Kind::kReopened);
  EXPECT_NE(sink.fd(), p.write.get());
  EXPECT_TRUE(NonBlocking(sink.fd()));
  EXPECT_FALSE(NonBlocking(p.write.get()));  // the shared one is untouched
  sink.Write("<6>one\n");
  sink.Write("<6>two\n");
  EXPECT_FALSE(sink.WantsWritable());
  EXPECT_EQ(Drain(p.read.get()), "<6>one\n<6>two\n");
}

TEST(LogSink, FullSinkQueuesThenDropsAndReportsTheExactCountOnceDrained) {
  Pipe p = MakePipe();
  LogSink sink(p.write.get(), /*capacity=*/8);
  ASSERT_NO_FATAL_FAILURE(Fill(p.write.get()));
  sink.Write("<6>a\n");  // 5 bytes: queued
  EXPECT_TRUE(sink.WantsWritable());
  sink.Write("<6>bb\n");  // 5 + 6 > 8: dropped
  sink.Write("<6>c\n");   // 5 + 5 > 8: dropped
  EXPECT_EQ(sink.queued_bytes(), 5u);
  EXPECT_EQ(sink.dropped_lines(), 2u);
  // Nothing is written while the sink is full, however often it is asked.
  sink.Flush();
  EXPECT_EQ(StripFiller(Drain(p.read.get())), "");
  // The reader drained it all: the queued line, then the count.
  sink.Flush();
  EXPECT_FALSE(sink.WantsWritable());
  EXPECT_EQ(Drain(p.read.get()),
            "<6>a\n<4>dropped 2 log lines: the log sink was not reading\n");
  // Reported once: later lines carry no count.
  sink.Write("<6>d\n");
  EXPECT_EQ(Drain(p.read.get()), "<6>d\n");
}

TEST(LogSink, ManyLinesToAStalledPipeAreAllAccountedFor) {
  Pipe p = MakePipe();
  LogSink sink(p.write.get(), /*capacity=*/1000);
  ASSERT_NO_FATAL_FAILURE(Fill(p.write.get()));
  constexpr int kLines = 5000;
  for (int i = 0; i < kLines; ++i) {
    sink.Write(absl::StrCat("<7>line ", i, "\n"));
  }
  EXPECT_LE(sink.queued_bytes(), 1000u);
  std::string out;
  while (sink.WantsWritable()) {
    out += Drain(p.read.get());
    sink.Flush();
  }
  out = StripFiller(out + Drain(p.read.get()));
  int written = 0;
  for (char c : out) written += c == '\n';
  const std::string report_prefix = "<4>dropped ";
  const size_t at = out.rfind(report_prefix);
  ASSERT_NE(at, std::string::npos) << out;
  const int dropped = std::atoi(out.c_str() + at + report_prefix.size());
  // Every line either went out or is in the count, and the count is last.
  EXPECT_EQ(written - 1 + dropped, kLines);
  EXPECT_EQ(out.substr(at), absl::StrCat("<4>dropped ", dropped,
                                         " log lines: the log sink was not "
                                         "reading\n"));
  EXPECT_EQ(out.substr(0, 10), "<7>line 0\n");
}

// A pipe foobard may not reopen (it runs as another user than the pipe's
// creator, as under setpriv or runuser) goes through the writer thread: with
// the pipe full and nobody reading, every Write() still returns, lines
// beyond the capacity are counted, and once the reader drains the pipe the
// queued lines and the count arrive. Runs in a child that gives up root,
// since root may reopen any pipe.
TEST(LogSink, PipeItMayNotReopenGoesThroughAWriterThread) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  Pipe p = MakePipe();
  ASSERT_NO_FATAL_FAILURE(Fill(p.write.get()));
  int done[2];
  ASSERT_EQ(::pipe2(done, O_CLOEXEC), 0);
  constexpr int kLines = 3000;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The pipe belongs to root with mode 0600; /proc/self/fd is root's too
    // once the process is no longer dumpable.
    if (::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      ::_exit(10);
    }
    LogSink sink(p.write.get(), /*capacity=*/1000);
    if (sink.kind() != LogSink::Kind::kThread) ::_exit(11);
    if (sink.reopen_error().empty()) ::_exit(12);
    for (int i = 0; i < kLines; ++i) {
      sink.Write(absl::StrCat("<7>line ", i, "\n"));  // never waits
    }
    if (sink.dropped_lines() == 0) ::_exit(13);
    if (::write(done[1], "w", 1) != 1) ::_exit(14);
    ::pause();  // the writer thread goes on until the parent kills us
    ::_exit(15);
  }
  ::close(done[1]);
  pollfd wrote{done[0], POLLIN, 0};
  ASSERT_EQ(::poll(&wrote, 1, 20000), 1) << "Write() waited for the reader";
  char c;
  if (::read(done[0], &c, 1) != 1) {
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(done[0]);
    FAIL() << "child exited with " << WEXITSTATUS(status);
  }
  ::close(done[0]);
  // Now read: the filler, the lines the thread had queued, then the count.
  std::string out;
  const std::string report = "<4>dropped ";
  for (int waited = 0; out.find(report) == std::string::npos;) {
    const std::string more = Drain(p.read.get());
    out += more;
    if (!more.empty()) continue;
    pollfd readable{p.read.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 20000), 1) << "no drop report: " << out;
    ASSERT_LT(++waited, 100000);
  }
  // The report line ends the burst; read up to its newline.
  while (out.back() != '\n') out += Drain(p.read.get());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  out = StripFiller(out);
  int written = 0;
  for (char ch : out) written += ch == '\n';
  const int dropped =
      std::atoi(out.c_str() + out.rfind(report) + report.size());
  EXPECT_GT(dropped, 0);
  // Every line is either delivered or counted, and the report is one line.
  EXPECT_EQ(written - 1 + dropped, kLines) << out.substr(0, 200);
  EXPECT_EQ(out.rfind("<7>line 0\n", 0), 0u) << out.substr(0, 200);
}

TEST(LogSink, SocketIsSentToWithDontwaitLeavingItBlocking) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  sdfd::UniqueFd reader(fds[0]), writer(fds[1]);
  LogSink sink(writer.get(), /*capacity=*/64);
  EXPECT_EQ(sink.kind(), LogSink::Kind::kSocket);
  EXPECT_EQ(sink.fd(), writer.get());
  ASSERT_NO_FATAL_FAILURE(Fill(writer.get()));
  sink.Write("<3>journald is stopped\n");
  EXPECT_TRUE(sink.WantsWritable());
  EXPECT_FALSE(NonBlocking(writer.get()));
  std::string out;
  while (sink.WantsWritable()) {
    out += Drain(reader.get());
    sink.Flush();
  }
  out += Drain(reader.get());
  EXPECT_EQ(StripFiller(out), "<3>journald is stopped\n");
}

TEST(LogSink, TerminalIsReopenedNonBlockingLeavingItsDescriptionAlone) {
  sdfd::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(master.valid());
  ASSERT_EQ(::grantpt(master.get()), 0);
  ASSERT_EQ(::unlockpt(master.get()), 0);
  sdfd::UniqueFd tty(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY));
  ASSERT_TRUE(tty.valid());
  termios raw;
  ASSERT_EQ(::tcgetattr(tty.get(), &raw), 0);
  ::cfmakeraw(&raw);
  ASSERT_EQ(::tcsetattr(tty.get(), TCSANOW, &raw), 0);
  LogSink sink(tty.get());
  EXPECT_EQ(sink.kind(), LogSink::Kind::kReopened);
  EXPECT_TRUE(NonBlocking(sink.fd()));
  EXPECT_FALSE(NonBlocking(tty.get()));
  sink.Write("<6>on a terminal\n");
  EXPECT_FALSE(sink.WantsWritable());
  char buf[64];
  const ssize_t n = ::read(master.get(), buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0),
            "<6>on a terminal\n");
}

TEST(LogSink, RegularFileIsWrittenInPlaceAtItsSharedOffset) {
  const std::string path =
      absl::StrCat(::getenv("TEST_TMPDIR") ? ::getenv("TEST_TMPDIR") : "/tmp",
                   "/log_sink_file.", ::getpid());
  sdfd::UniqueFd file(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.valid());
  ASSERT_EQ(::write(file.get(), "before\n", 7), 7);
  {
    LogSink sink(file.get());
    EXPECT_EQ(sink.kind(), LogSink::Kind::kDirect);
    sink.Write("<6>appended\n");
  }
  ASSERT_EQ(::write(file.get(), "after\n", 6), 6);
  char buf[64];
  const ssize_t n = ::pread(file.get(), buf, sizeof(buf), 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0),
            "before\n<6>appended\nafter\n");
  ::unlink(path.c_str());
}

TEST(LogSink, ClosedReaderOrClosedFdDropsWithoutWaiting) {
  ::signal(SIGPIPE, SIG_IGN);  // as foobard does: EPIPE, not a dead process
  Pipe p = MakePipe();
  p.read.reset();
  LogSink orphan(p.write.get());
  orphan.Write("<3>nobody reads this\n");  // EPIPE, SIGPIPE ignored below
  EXPECT_FALSE(orphan.WantsWritable());
  EXPECT_EQ(orphan.queued_bytes(), 0u);

  LogSink closed(/*fd=*/1000);
  EXPECT_EQ(closed.kind(), LogSink::Kind::kNone);
  closed.Write("<3>nowhere\n");
  EXPECT_FALSE(closed.WantsWritable());
}

TEST(LogSink, LineLongerThanTheBufferIsDroppedAndCounted) {
  Pipe p = MakePipe();
  LogSink sink(p.write.get(), /*capacity=*/4);
  sink.Write("<6>too long\n");
  EXPECT_EQ(Drain(p.read.get()), "");
  EXPECT_EQ(sink.dropped_lines(), 1u);
  sink.Write("<6>\n");
  EXPECT_EQ(Drain(p.read.get()),
            "<6>\n<4>dropped 1 log lines: the log sink was not reading\n");
}

}  // namespace
}  // namespace foobard
