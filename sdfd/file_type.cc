#include "sdfd/file_type.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"

namespace sdfd {
namespace {

// StatInodeSame is v257's stat_inode_same(): both set (stat_is_set: a
// device and a valid mode), same type, same device and inode.
bool StatInodeSame(const struct stat& a, const struct stat& b) {
  auto set = [](const struct stat& st) {
    return st.st_dev != 0 && st.st_mode != static_cast<mode_t>(-1);
  };
  return set(a) && set(b) && ((a.st_mode ^ b.st_mode) & S_IFMT) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

absl::Status BadFd(int fd) {
  return ErrnoError(EBADF, absl::StrCat("fd ", fd));
}

absl::Status FstatFd(int fd, struct stat* st) {
  if (::fstat(fd, st) < 0) {
    return ErrnoError(errno, absl::StrCat("fstat(", fd, ")"));
  }
  return absl::OkStatus();
}

// StatPath stats `path`; *missing says it does not exist (ENOENT, ENOTDIR),
// which sd_is_fifo() and sd_is_special() answer with 0, not an error.
absl::Status StatPath(const std::string& path, struct stat* st, bool* missing) {
  *missing = false;
  if (::stat(path.c_str(), st) == 0) return absl::OkStatus();
  if (errno == ENOENT || errno == ENOTDIR) {
    *missing = true;
    return absl::OkStatus();
  }
  return ErrnoError(errno, absl::StrCat("stat(", path, ")"));
}

}  // namespace

absl::StatusOr<bool> IsFifo(int fd, const std::optional<std::string>& path) {
  if (fd < 0) return BadFd(fd);
  struct stat st_fd;
  if (absl::Status s = FstatFd(fd, &st_fd); !s.ok()) return s;
  if (!S_ISFIFO(st_fd.st_mode)) return false;
  if (!path.has_value()) return true;
  struct stat st_path;
  bool missing = false;
  if (absl::Status s = StatPath(*path, &st_path, &missing); !s.ok()) return s;
  return !missing && StatInodeSame(st_path, st_fd);
}

absl::StatusOr<bool> IsSpecial(int fd, const std::optional<std::string>& path) {
  if (fd < 0) return BadFd(fd);
  struct stat st_fd;
  if (absl::Status s = FstatFd(fd, &st_fd); !s.ok()) return s;
  if (!S_ISREG(st_fd.st_mode) && !S_ISCHR(st_fd.st_mode)) return false;
  if (!path.has_value()) return true;
  struct stat st_path;
  bool missing = false;
  if (absl::Status s = StatPath(*path, &st_path, &missing); !s.ok()) return s;
  if (missing) return false;
  if (S_ISREG(st_fd.st_mode) && S_ISREG(st_path.st_mode)) {
    return StatInodeSame(st_path, st_fd);
  }
  if (S_ISCHR(st_fd.st_mode) && S_ISCHR(st_path.st_mode)) {
    return st_path.st_rdev == st_fd.st_rdev;
  }
  return false;
}

absl::StatusOr<bool> IsMqueue(int fd, const std::optional<std::string>& path) {
  // fd_validate(): negative is EBADF, and F_GETFD proves the fd is open.
  if (fd < 0) return BadFd(fd);
  if (::fcntl(fd, F_GETFD) < 0) {
    return ErrnoError(errno, absl::StrCat("fcntl(", fd, ", F_GETFD)"));
  }
  struct mq_attr attr;
  if (::mq_getattr(fd, &attr) < 0) {
    // On an open fd, EBADF means "not a message queue".
    if (errno == EBADF) return false;
    return ErrnoError(errno, absl::StrCat("mq_getattr(", fd, ")"));
  }
  if (!path.has_value()) return true;
  if (path->empty() || (*path)[0] != '/') {
    return InvalidArgumentWithErrno(
        EINVAL,
        absl::StrCat("message queue path \"", *path, "\" is not absolute"));
  }
  struct stat a;
  if (absl::Status s = FstatFd(fd, &a); !s.ok()) return s;
  // path_join("/dev/mqueue", path): `path` already starts with '/'.
  const std::string file = absl::StrCat("/dev/mqueue", *path);
  struct stat b;
  if (::stat(file.c_str(), &b) < 0) {
    return ErrnoError(errno, absl::StrCat("stat(", file, ")"));
  }
  return StatInodeSame(a, b);
}

}  // namespace sdfd
