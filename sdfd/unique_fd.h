// sdfd/unique_fd.h: the one owner of a file descriptor.
//
// Every fd in this project is owned by exactly one UniqueFd; raw ints appear
// only at the syscall boundary. UniqueFd is move-only and closes on
// destruction.
//
// Example:
//   sdfd::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
//   if (!fd.valid()) return errno;  // socket() failed: nothing to close
//   if (::write(fd.get(), "x", 1) < 0) return errno;  // ENOTCONN; closed
//   return 0;  // fd is closed here, on every path
#ifndef SDFD_UNIQUE_FD_H_
#define SDFD_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace sdfd {

// UniqueFd owns one file descriptor (or none, as -1) and closes it when it
// goes out of scope. It cannot be copied; moving transfers ownership.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  // get() returns the descriptor, still owned by this object (-1 if none).
  int get() const { return fd_; }
  // valid() is true when this object owns a descriptor.
  bool valid() const { return fd_ >= 0; }
  // release() gives up ownership without closing and returns the descriptor.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // reset() closes the owned descriptor, if any, and takes `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      // close() errors are not actionable: on Linux the fd is released even
      // when close() reports EINTR or EIO, so retrying would be wrong.
      (void)::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace sdfd

#endif  // SDFD_UNIQUE_FD_H_
