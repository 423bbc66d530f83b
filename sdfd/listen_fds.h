// sdfd/listen_fds.h: receive the sockets systemd passes to an activated
// service (the LISTEN_FDS protocol).
//
// The protocol (man 3 sd_listen_fds, man 5 systemd.socket): systemd passes
// N file descriptors starting at fd 3 (SD_LISTEN_FDS_START) and sets
//   LISTEN_PID=<pid of the service>  the fds are only for that process;
//   LISTEN_FDS=<N>                    how many fds;
//   LISTEN_FDNAMES=<a:b:...>          optional, one name per fd
//                                     (FileDescriptorName=);
//   LISTEN_PIDFDID=<inode id>         optional (systemd v259): the inode id
//                                     of the service's pidfd.
// A missing LISTEN_PID, or one that names another process, means "not
// activated": an empty result, not an error. Malformed values are errors.
// This file implements exactly what sd_listen_fds_with_names() of systemd
// v259 does, without linking libsystemd; sdfd/differential_test.cc and the
// fuzzer in tests/fuzz prove it against libsystemd 252 and 257 on the same
// inputs (those releases ignore LISTEN_PIDFDID: the test lists that as a
// known difference). The rules, in order:
//   * LISTEN_FDNAMES is split on ':' first, keeping empty names; a backslash
//     takes the next character literally, and a trailing lone backslash is
//     an error even when the fds are for another process.
//   * LISTEN_PID is a positive pid_t; when it names us and LISTEN_PIDFDID is
//     set, that must be a uint64 (else an error) equal to the inode id of
//     pidfd_open(getpid()), or the fds are not for us. The comparison is
//     skipped when the kernel gives pidfds no unique inode ids (no pidfs,
//     before Linux 6.9). LISTEN_FDS is an int in
//     1 .. INT_MAX - 3 (so fd numbers cannot overflow); all three numbers are
//     parsed with systemd's rules: leading blanks, "+", 0x/0 (C) and 0b/0o
//     prefixes are accepted, trailing characters are not; as in libsystemd
//     257 (glibc 2.38+ strtol(), C23), "0b" also counts after blanks and a
//     sign ("+0b10" is 2, where 252 said EINVAL).
//   * Every fd 3 .. 3+N-1 is marked FD_CLOEXEC, which also proves it is open.
//   * Only then is the name count compared with N.
//   * The variables are unset afterwards on every path (unless kept).
// Every error carries the errno libsystemd would return (EINVAL, ERANGE,
// EBADF) as the status payload "errno" (decimal text), which absl prints as
// "[errno='22']"; read it with status.GetPayload("errno").
//
// Example:
//   absl::StatusOr<std::vector<sdfd::ListenFd>> fds = sdfd::ListenFds();
//   if (!fds.ok()) {  // e.g. LISTEN_FDS=abc: InvalidArgument, errno EINVAL
//     std::fprintf(stderr, "foobard: %s\n", fds.status().ToString().c_str());
//     return 2;
//   }
//   if (fds->empty()) return 0;  // not activated: bind sockets ourselves
//   sdfd::ListenFd* web = sdfd::FindByName(*fds, "web");
//   if (web == nullptr) return 2;  // no FileDescriptorName=web was passed
//   sdfd::UniqueFd listener = std::move(web->fd);
#ifndef SDFD_LISTEN_FDS_H_
#define SDFD_LISTEN_FDS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sdfd/unique_fd.h"

namespace sdfd {

// kListenFdsStart is the first passed fd (SD_LISTEN_FDS_START in sd-daemon.h).
inline constexpr int kListenFdsStart = 3;

// ListenFd is one passed descriptor with its name from LISTEN_FDNAMES
// ("unknown" when systemd sent no names, as libsystemd reports it).
struct ListenFd {
  UniqueFd fd;
  std::string name;
};

// ListenFdsOptions tunes ListenFds().
struct ListenFdsOptions {
  // unset_environment removes LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES and
  // LISTEN_PIDFDID after reading them (whatever the outcome), so child
  // processes do not inherit them. This is the default; set it to false to keep
  // them.
  bool unset_environment = true;
};

// ListenFds returns the fds passed by systemd, each marked FD_CLOEXEC and
// owned by the returned ListenFd, in fd order (3, 4, ...). It returns an empty
// vector when the process was not socket-activated. It returns
// InvalidArgumentError naming the variable when LISTEN_PID, LISTEN_PIDFDID,
// LISTEN_FDS or LISTEN_FDNAMES is malformed (not a number, overflow, name count
// mismatch), and an error naming the fd when a passed fd is not open. After an
// error no fd is owned by anyone: like libsystemd, ListenFds leaves them open
// rather than close descriptors it could not make sense of.
absl::StatusOr<std::vector<ListenFd>> ListenFds(
    const ListenFdsOptions& options = {});

// FindByName returns the first fd in `fds` whose name is `name`, or nullptr.
ListenFd* FindByName(std::vector<ListenFd>& fds, const std::string& name);

}  // namespace sdfd

#endif  // SDFD_LISTEN_FDS_H_
