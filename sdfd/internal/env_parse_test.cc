#include "sdfd/internal/env_parse.h"

#include <cerrno>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"

namespace sdfd::internal {
namespace {

using ::testing::ElementsAre;

int Atoi(const char* text) {
  int value = -12345;
  int r = SafeAtoi(text, &value);
  return r < 0 ? r : value;
}

TEST(SafeAtoi, FollowsSystemdNumberRules) {
  EXPECT_EQ(Atoi("7"), 7);
  EXPECT_EQ(Atoi(" \t7"), 7);
  EXPECT_EQ(Atoi("+7"), 7);
  EXPECT_EQ(Atoi("-7"), -7);
  EXPECT_EQ(Atoi("0x10"), 16);
  EXPECT_EQ(Atoi("010"), 8);
  EXPECT_EQ(Atoi("0b101"), 5);
  EXPECT_EQ(Atoi("0o17"), 15);
  EXPECT_EQ(Atoi("7 "), -EINVAL);
  EXPECT_EQ(Atoi(""), -EINVAL);
  EXPECT_EQ(Atoi("abc"), -EINVAL);
  EXPECT_EQ(Atoi("08"), -EINVAL);
  EXPECT_EQ(Atoi("2147483648"), -ERANGE);
  EXPECT_EQ(Atoi("99999999999999999999"), -ERANGE);
}

TEST(ParsePid, PositivePidTOnly) {
  pid_t pid = 0;
  EXPECT_EQ(ParsePid("42", &pid), 0);
  EXPECT_EQ(pid, 42);
  EXPECT_EQ(ParsePid("0", &pid), -ERANGE);
  EXPECT_EQ(ParsePid("-1", &pid), -ERANGE);
  EXPECT_EQ(ParsePid("-0", &pid), -ERANGE);
  EXPECT_EQ(ParsePid("2147483648", &pid), -ERANGE);
  EXPECT_EQ(ParsePid("42x", &pid), -EINVAL);
  EXPECT_EQ(pid, 42);  // untouched on error
}

TEST(SplitFdNames, KeepsEmptyNamesAndHonoursBackslash) {
  EXPECT_THAT(*SplitFdNames(""), ElementsAre(""));
  EXPECT_THAT(*SplitFdNames("a:b"), ElementsAre("a", "b"));
  EXPECT_THAT(*SplitFdNames("a::"), ElementsAre("a", "", ""));
  EXPECT_THAT(*SplitFdNames("a\\:b"), ElementsAre("a:b"));
  EXPECT_THAT(*SplitFdNames("a\\\\b"), ElementsAre("a\\b"));
  EXPECT_EQ(ErrnoOf(SplitFdNames("a\\").status()), EINVAL);
}

TEST(ParseListenEnv, NotForUsIsZeroFds) {
  EXPECT_EQ(ParseListenEnv(nullptr, "1", nullptr, 42)->n_fds, 0);
  EXPECT_EQ(ParseListenEnv("41", "1", nullptr, 42)->n_fds, 0);
  EXPECT_EQ(ParseListenEnv("42", nullptr, nullptr, 42)->n_fds, 0);
  EXPECT_EQ(ParseListenEnv("42", "3", nullptr, 42)->n_fds, 3);
}

TEST(ParseListenEnv, ErrorsCarryLibsystemdErrno) {
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42x", "1", nullptr, 42).status()), EINVAL);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "abc", nullptr, 42).status()), EINVAL);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "0", nullptr, 42).status()), EINVAL);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "99999999999", nullptr, 42).status()),
            ERANGE);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "2147483645", nullptr, 42).status()),
            EINVAL);
  EXPECT_EQ(ParseListenEnv("42", "2147483644", nullptr, 42)->n_fds, 2147483644);
  EXPECT_EQ(ParseListenEnv("42", "1", "a\\", 42).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// systemd v259 sd_listen_fds(): "Is this *really* for us?" LISTEN_PIDFDID
// must parse as a uint64 and equal our pidfd's inode id, unless the kernel
// gives pidfds no unique inode ids (no pidfs), where it is ignored.
TEST(ParseListenEnv, ListenPidfdid) {
  EXPECT_EQ(ParseListenEnv("42", "1", nullptr, 42, "7", 7)->n_fds, 1);
  EXPECT_EQ(ParseListenEnv("42", "1", nullptr, 42, "0x7", 7)->n_fds, 1);
  EXPECT_EQ(ParseListenEnv("42", "1", nullptr, 42, "8", 7)->n_fds, 0);
  // No unique ids to compare with: a valid value is ignored...
  EXPECT_EQ(ParseListenEnv("42", "1", nullptr, 42, "8", std::nullopt)->n_fds,
            1);
  // ... but a malformed one is still an error, as it is parsed first.
  EXPECT_EQ(
      ErrnoOf(
          ParseListenEnv("42", "1", nullptr, 42, "x", std::nullopt).status()),
      EINVAL);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "1", nullptr, 42, "-1", 7).status()),
            ERANGE);
  EXPECT_EQ(ParseListenEnv("42", "1", nullptr, 42, "x", 7).status().message(),
            "LISTEN_PIDFDID=\"x\" is not a valid pidfd inode id: Invalid "
            "argument");
  // Read only once LISTEN_PID names us, and before LISTEN_FDS.
  EXPECT_EQ(ParseListenEnv("41", "1", nullptr, 42, "x", 7)->n_fds, 0);
  EXPECT_EQ(ParseListenEnv("42", "abc", nullptr, 42, "8", 7)->n_fds, 0);
  EXPECT_EQ(ErrnoOf(ParseListenEnv("42", "abc", nullptr, 42, "7", 7).status()),
            EINVAL);
}

TEST(SafeAtou, UnsignedIntWithSystemdRules) {
  unsigned u = 0;
  EXPECT_EQ(SafeAtou("4294967295", &u), 0);
  EXPECT_EQ(u, 4294967295u);
  EXPECT_EQ(SafeAtou("4294967296", &u), -ERANGE);
  EXPECT_EQ(SafeAtou("-1", &u), -ERANGE);
  EXPECT_EQ(SafeAtou(" 0b11", &u), 0);
  EXPECT_EQ(u, 3u);
  EXPECT_EQ(SafeAtou("1x", &u), -EINVAL);
  EXPECT_EQ(SafeAtou("", &u), -EINVAL);
}

TEST(CheckFdNameCount, MismatchIsEinval) {
  ListenEnv env = *ParseListenEnv("42", "2", "a:b:c", 42);
  EXPECT_EQ(ErrnoOf(CheckFdNameCount(env)), EINVAL);
  env = *ParseListenEnv("42", "2", nullptr, 42);
  EXPECT_TRUE(CheckFdNameCount(env).ok());
  EXPECT_THAT(FdNames(env), ElementsAre("unknown", "unknown"));
}

TEST(ParseWatchdogEnv, SdWatchdogEnabledRules) {
  EXPECT_EQ(*ParseWatchdogEnv(nullptr, nullptr, 42), 0u);
  EXPECT_EQ(*ParseWatchdogEnv("100", nullptr, 42), 100u);
  EXPECT_EQ(*ParseWatchdogEnv("100", "42", 42), 100u);
  EXPECT_EQ(*ParseWatchdogEnv("100", "41", 42), 0u);
  EXPECT_EQ(ErrnoOf(ParseWatchdogEnv("0", nullptr, 42).status()), EINVAL);
  EXPECT_EQ(ErrnoOf(ParseWatchdogEnv("-1", nullptr, 42).status()), ERANGE);
  EXPECT_EQ(ErrnoOf(ParseWatchdogEnv("100", "x", 42).status()), EINVAL);
}

}  // namespace
}  // namespace sdfd::internal
