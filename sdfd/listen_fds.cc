#include "sdfd/listen_fds.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"
#include "sdfd/internal/env_parse.h"

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
    return ErrnoError(
        errno, absl::StrCat("fcntl(", fd, ", F_GETFD) on a LISTEN_FDS fd"));
  }
  if ((flags & FD_CLOEXEC) != 0) return absl::OkStatus();
  if (::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
    return ErrnoError(errno,
                      absl::StrCat("fcntl(", fd, ", F_SETFD, FD_CLOEXEC)"));
  }
  return absl::OkStatus();
}

// PID_FS_MAGIC in <linux/magic.h> from Linux 6.9 on; Debian 12's headers
// predate it.
constexpr decltype(statfs::f_type) kPidFsMagic = 0x50494446;

// SelfPidfdId is v259's pidfd_get_inode_id_self_cached(): the inode id of
// this process's pidfd, or nullopt when the kernel gives pidfds no unique
// inode ids. systemd's pidfd_check_pidfs() decides that by the file system
// the pidfd lives on: pidfs (Linux 6.9+) has unique 64-bit inode ids, the
// anonymous inode pidfds before it share one. Every failure (no pidfd_open
// before Linux 5.3, fstatfs, fstat) means "cannot say", as in systemd,
// which then ignores LISTEN_PIDFDID.
std::optional<uint64_t> SelfPidfdId() {
  // systemd reads the 64-bit id from the pidfs file handle first and falls
  // back to st_ino; both are the same number where ino_t has 64 bits, and
  // where it has not, systemd refuses to use st_ino at all.
  static_assert(sizeof(ino_t) == sizeof(uint64_t),
                "a narrower ino_t cannot hold the pidfd inode id");
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!pidfd.valid()) return std::nullopt;
  struct statfs fs;
  if (::fstatfs(pidfd.get(), &fs) < 0 || fs.f_type != kPidFsMagic) {
    return std::nullopt;
  }
  struct stat st;
  if (::fstat(pidfd.get(), &st) < 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

absl::StatusOr<std::vector<ListenFd>> ListenFds(
    const ListenFdsOptions& options) {
  const EnvValue listen_pid("LISTEN_PID");
  const EnvValue listen_fds("LISTEN_FDS");
  const EnvValue listen_fdnames("LISTEN_FDNAMES");
  const EnvValue listen_pidfdid("LISTEN_PIDFDID");
  // libsystemd unsets the variables on every path, success or error.
  absl::Cleanup unset = [&options] {
    if (!options.unset_environment) return;
    // unsetenv() only fails for a malformed name; these are constants.
    (void)::unsetenv("LISTEN_PID");
    (void)::unsetenv("LISTEN_FDS");
    (void)::unsetenv("LISTEN_FDNAMES");
    (void)::unsetenv("LISTEN_PIDFDID");
  };

  // The pidfd is opened only when there is a LISTEN_PIDFDID to compare.
  const std::optional<uint64_t> self_pidfdid =
      listen_pidfdid.set ? SelfPidfdId() : std::nullopt;
  absl::StatusOr<internal::ListenEnv> env = internal::ParseListenEnv(
      listen_pid.get(), listen_fds.get(), listen_fdnames.get(), ::getpid(),
      listen_pidfdid.get(), self_pidfdid);
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
