// sdfd/testing/test_child.h: run a function in a forked child that has been
// handed fds and environment exactly as systemd hands them to a service.
//
// The LISTEN_FDS protocol is about fd numbers 3, 4, ... and the environment
// of one process, so every test of it needs a fresh process: the child gets
// the requested fds dup2()ed onto 3.. (everything else >= 3 closed), the
// requested variables set or unset ("$PID" in a value is replaced by the
// child's pid, "$HEXPID" by it in 0x hex, "$SELF_PIDFDID" by the inode id of
// the child's own pidfd), runs `body`, and sends body's string result back
// through a pipe.
//
// Example:
//   absl::StatusOr<std::string> out = sdfd::test::RunInChild(
//       {{sdfd::test::FdKind::kUnixStreamListener}},
//       {{"LISTEN_PID", "$PID"}, {"LISTEN_FDS", "1"}},
//       [] { return std::string(getenv("LISTEN_FDS")); });
//   if (!out.ok()) return 1;  // the setup failed, or the child did not exit 0
//   // *out == "1"
#ifndef SDFD_TESTING_TEST_CHILD_H_
#define SDFD_TESTING_TEST_CHILD_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sdfd::test {

// FdKind is what the child finds at one fd slot.
enum class FdKind {
  kClosed,                 // nothing open at this number
  kPipeRead,               // read end of a pipe
  kRegularFile,            // a regular file under $TEST_TMPDIR
  kUnixStreamListener,     // AF_UNIX SOCK_STREAM, bound to a path, listening
  kUnixAbstractListener,   // AF_UNIX SOCK_STREAM, abstract name, listening
  kUnixSeqpacketListener,  // AF_UNIX SOCK_SEQPACKET, path, listening
  kUnixDatagram,           // AF_UNIX SOCK_DGRAM, bound to a path
  kUnixConnected,          // one end of a socketpair (an Accept=yes connection)
  kTcp4Listener,           // 127.0.0.1, port 0 (kernel-chosen), listening
  kTcp6Listener,           // ::1, port 0, listening
  kUdp4,                   // 127.0.0.1, port 0
  kTcp4Connected,          // an accepted TCP connection on 127.0.0.1
  kUdp6,                   // ::1, port 0
  kFifo,                   // a named FIFO under $TEST_TMPDIR, opened O_RDWR
  kCharDevice,             // /dev/null
  kDirectory,              // $TEST_TMPDIR itself
  kMqueue,                 // a POSIX message queue, unlinked after the child
};

// FdSetup is one fd slot: its kind, and whether FD_CLOEXEC is already set.
struct FdSetup {
  FdKind kind;
  bool cloexec = false;
};

// EnvSetting sets (value) or unsets (nullopt) one variable in the child.
using EnvSetting = std::pair<std::string, std::optional<std::string>>;

// RunInChild forks, installs `fds` at 3.. and `env`, runs `body`, and returns
// its result. It fails when the setup fails or the child does not exit 0.
// A kMqueue slot's queue is named "/sdfd-test.<pid>.<n>" and removed
// (mq_unlink) once the child is done.
absl::StatusOr<std::string> RunInChild(
    const std::vector<FdSetup>& fds, const std::vector<EnvSetting>& env,
    const std::function<std::string()>& body);

// SelfPidfdIdForTest is the inode id of pidfd_open(getpid()) in decimal (or
// "no-pidfd"), worked out here independently of libsdfd: what systemd v259
// puts in LISTEN_PIDFDID.
std::string SelfPidfdIdForTest();

// TestTmpDir is $TEST_TMPDIR (or /tmp), for sockets and files.
std::string TestTmpDir();

// UniqueSocketPath returns a fresh path short enough for sockaddr_un: under
// TestTmpDir() if that is short, else in a directory this process made under
// /tmp with mkdtemp and removes at exit.
std::string UniqueSocketPath(const std::string& stem);

}  // namespace sdfd::test

#endif  // SDFD_TESTING_TEST_CHILD_H_
