#include "sdfd/testing/outcome.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "sdfd/errno_status.h"
#include "sdfd/listen_fds.h"
#include "sdfd/testing/test_child.h"

namespace sdfd::test {

std::string FormatListenOutcome(int r, const std::vector<std::string>& names,
                                int slots) {
  std::vector<std::string> cloexec;
  for (int fd = 3; fd < 3 + slots; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    cloexec.push_back(flags < 0 ? "-" : (flags & FD_CLOEXEC) ? "1" : "0");
  }
  std::vector<std::string> env;
  for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) {
      env.push_back("-");
      continue;
    }
    // Our own pid prints as $PID, so outcomes of different children compare.
    const std::string text =
        absl::StrReplaceAll(value, {{absl::StrCat(::getpid()), "$PID"}});
    env.push_back(absl::StrCat(name, "=", text));
  }
  // Shown only when set, so outcomes without it read as before v259.
  if (const char* value = std::getenv("LISTEN_PIDFDID"); value != nullptr) {
    env.push_back(absl::StrCat(
        "LISTEN_PIDFDID=",
        absl::StrReplaceAll(value, {{SelfPidfdIdForTest(), "$SELF_PIDFDID"}})));
  }
  return absl::StrCat("r=", r, " names=[", absl::StrJoin(names, "|"),
                      "] cloexec=[", absl::StrJoin(cloexec, "|"), "] env=[",
                      absl::StrJoin(env, "|"), "]");
}

std::string SdfdListenOutcome(bool unset_environment, int slots) {
  ListenFdsOptions options;
  options.unset_environment = unset_environment;
  absl::StatusOr<std::vector<ListenFd>> fds = ListenFds(options);
  if (!fds.ok()) {
    return FormatListenOutcome(NegativeErrnoOf(fds.status()), {}, slots);
  }
  std::vector<std::string> names;
  for (const ListenFd& fd : *fds) names.push_back(fd.name);
  // Formatted before `fds` goes out of scope and closes them.
  return FormatListenOutcome(static_cast<int>(fds->size()), names, slots);
}

}  // namespace sdfd::test
