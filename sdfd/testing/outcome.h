// sdfd/testing/outcome.h: one-line text summaries of what an activation call
// did, so tests (and the differential tests against libsystemd) can compare
// whole outcomes with a single EXPECT_EQ.
//
// The format is "r=<count or -errno> names=[a|b] cloexec=[1|0|-]
// env=[LISTEN_PID=..|LISTEN_FDS=..|LISTEN_FDNAMES=..]", with
// "|LISTEN_PIDFDID=.." appended inside the brackets only when that variable
// is set (the child's own pid prints as $PID, its pidfd id as
// $SELF_PIDFDID), where r follows
// libsystemd's convention (a count, or a negative errno; see
// errno_status.h), cloexec shows FD_CLOEXEC of each slot from fd 3 ('-' when
// the fd is not open), and env shows the variables afterwards ('-' unset).
//
// Example:
//   // In a child from RunInChild (test_child.h), with two fds passed:
//   std::string out = sdfd::test::SdfdListenOutcome(
//       /*unset_environment=*/true, /*slots=*/2);
//   // "r=2 names=[a|b] cloexec=[1|1] env=[-|-|-]"
#ifndef SDFD_TESTING_OUTCOME_H_
#define SDFD_TESTING_OUTCOME_H_

#include <string>
#include <vector>

namespace sdfd::test {

// FormatListenOutcome renders one outcome; `r` and `names` come from the
// library under test, the fd flags and environment are read now.
std::string FormatListenOutcome(int r, const std::vector<std::string>& names,
                                int slots);

// SdfdListenOutcome runs sdfd::ListenFds() and formats its outcome, reading
// the fd flags while the returned fds are still open.
std::string SdfdListenOutcome(bool unset_environment, int slots);

}  // namespace sdfd::test

#endif  // SDFD_TESTING_OUTCOME_H_
