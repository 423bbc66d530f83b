// daemon/logger_test.cc: log lines carry sd-daemon priority prefixes, one
// line per call, and debug lines only with --verbose.
#include "daemon/logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace foobard {
namespace {

// Captured runs `log_calls` against a pipe and returns what was written.
template <typename F>
std::string Captured(bool verbose, F log_calls) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  {
    Logger log(fds[1], verbose);
    log_calls(log);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  ::close(fds[0]);
  return out;
}

TEST(Logger, PrefixesEachLineWithItsPriority) {
  EXPECT_EQ(Captured(false,
                     [](const Logger& log) {
                       log.Error("e");
                       log.Warning("w");
                       log.Info("i");
                       log.Log(Priority::kNotice, "n");
                     }),
            "<3>e\n<4>w\n<6>i\n<5>n\n");
}

TEST(Logger, DebugLinesOnlyWhenVerbose) {
  EXPECT_EQ(Captured(false, [](const Logger& log) { log.Debug("d"); }), "");
  EXPECT_EQ(Captured(true, [](const Logger& log) { log.Debug("d"); }),
            "<7>d\n");
}

TEST(Logger, NewlinesInAMessageStayOnOneLine) {
  EXPECT_EQ(Captured(false, [](const Logger& log) { log.Error("a\nb"); }),
            "<3>a b\n");
}

TEST(Logger, ClosedPipeDoesNotKillTheCaller) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::signal(SIGPIPE, SIG_IGN);  // as the daemon does
  Logger log(fds[1], false);
  log.Error("nobody reads this");
  ::close(fds[1]);
  SUCCEED();
}

}  // namespace
}  // namespace foobard
