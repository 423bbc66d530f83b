#include "sdfd/listen_fds.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "sdfd/internal/env_parse.h"
#include "sdfd/internal/errno_status.h"

namespace sdfd {
namespace {

// Getenv copies a variable so it survives the unsetenv() at the end.
struct EnvValue {
  explicit EnvValue(const char* name) {
    const char* value = std::getenv(name);
    if (value != nullptr) {
      set = true;
      text = value;
    }
  }
  const char* get() const { return set ? text.c_str() : nullptr; }
  bool set = false;
  std::string text;
};

// SetCloexec is systemd's fd_cloexec(fd, true): it also proves the fd is
// open (F_GETFD fails with EBADF otherwise).
absl::Status SetCloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) {
    return internal::ErrnoError(
        errno, absl::StrCat("fcntl(", fd, ", F_GETFD) on a LISTEN_FDS fd"));
  }
  if ((flags & FD_CLOEXEC) != 0) return absl::OkStatus();
  if (::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    return internal::ErrnoError(
        errno, absl::StrCat("fcntl(", fd, ", F_SETFD, FD_CLOEXEC)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ListenFd>> ListenFds(
    const ListenFdsOptions& options) {
  const EnvValue listen_pid("LISTEN_PID");
  const EnvValue listen_fds("LISTEN_FDS");
  const EnvValue listen_fdnames("LISTEN_FDNAMES");
  // libsystemd unsets the variables on every path, success or error.
  absl::Cleanup unset = [&options] {
    if (!options.unset_environment) return;
    // unsetenv() only fails for a malformed name; these are constants.
    (void)::unsetenv("LISTEN_PID");
    (void)::unsetenv("LISTEN_FDS");
    (void)::unsetenv("LISTEN_FDNAMES");
  };

  absl::StatusOr<internal::ListenEnv> env = internal::ParseListenEnv(
      listen_pid.get(), listen_fds.get(), listen_fdnames.get(), ::getpid());
  if (!env.ok()) return env.status();
  std::vector<ListenFd> result;
  if (env->n_fds == 0) return result;

  // On an error below the fds stay open and unowned, as with libsystemd: the
  // caller did not get them, and closing fds we failed to understand could
  // close something else the process relies on.
  for (int i = 0; i < env->n_fds; ++i) {
    if (absl::Status s = SetCloexec(kListenFdsStart + i); !s.ok()) return s;
  }
  if (absl::Status s = internal::CheckFdNameCount(*env); !s.ok()) return s;

  std::vector<std::string> names = internal::FdNames(*env);
  result.reserve(env->n_fds);
  for (int i = 0; i < env->n_fds; ++i) {
    result.push_back(
        ListenFd{UniqueFd(kListenFdsStart + i), std::move(names[i])});
  }
  return result;
}

ListenFd* FindByName(std::vector<ListenFd>& fds, const std::string& name) {
  for (ListenFd& fd : fds) {
    if (fd.name == name) return &fd;
  }
  return nullptr;
}

}  // namespace sdfd
