#include "common/fd_util.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"
#include "sdfd/errno_status.h"
#include "sdfd/unique_fd.h"

namespace foobar {
namespace {

TEST(SetNonBlocking, AddsTheFlagAndKeepsTheOthers) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  sdfd::UniqueFd r(fds[0]), w(fds[1]);
  ASSERT_EQ(::fcntl(w.get(), F_SETFL, O_APPEND), 0);
  ASSERT_TRUE(SetNonBlocking(w.get()).ok());
  const int flags = ::fcntl(w.get(), F_GETFL);
  EXPECT_NE(flags & O_NONBLOCK, 0);
  EXPECT_NE(flags & O_APPEND, 0);
  // Idempotent.
  EXPECT_TRUE(SetNonBlocking(w.get()).ok());
  // The read end is another open file description: untouched.
  EXPECT_EQ(::fcntl(r.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(SetNonBlocking, ClosedFdIsEbadf) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  absl::Status s = SetNonBlocking(fds[0]);
  EXPECT_EQ(sdfd::ErrnoOf(s), EBADF);
  EXPECT_EQ(s.message(), "fcntl(" + std::to_string(fds[0]) +
                             ", F_GETFL): Bad file descriptor");
}

TEST(RaiseFdLimit, SoftReachesHard) {
  rlimit before;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit lowered = before;
  if (before.rlim_max > 64) lowered.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  absl::StatusOr<FdLimit> limit = RaiseFdLimit();
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_EQ(limit->soft, static_cast<uint64_t>(before.rlim_max));
  EXPECT_EQ(limit->hard, static_cast<uint64_t>(before.rlim_max));
  rlimit after;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
}

}  // namespace
}  // namespace foobar
