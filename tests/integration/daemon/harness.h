// tests/integration/daemon/harness.h: what the foobard integration tests
// share: spawning foobard (directly, as systemd would, or through the real
// systemd-socket-activate), client sockets with timeouts, and readings of
// what the daemon holds from /proc. The test NOTIFY_SOCKET is
// sdfd::test::Receiver (sdfd/testing/notify_receiver.h), socket directories
// come from sdfd::test::NewSocketDir (sdfd/testing/socket_dir.h).
//
// Tests synchronise on what foobard does, never on its log wording: on its
// notifications, on the sockets themselves, on exit codes, and on the fds
// it holds. Every wait is on something awaitable (poll on a socket, a pipe
// or a pidfd) or a bounded poll of /proc, with a deadline, never a sleep.
//
// Example:
//
//   foobard::testing::SpawnOptions options;
//   options.argv = {foobard::testing::FoobardPath(), "--listen=unix:/tmp/x"};
//   foobard::testing::Process p = foobard::testing::Process::Spawn(options);
//   sdfd::UniqueFd c = foobard::testing::ConnectTo("unix:/tmp/x");
//   if (!c.valid()) return 1;  // error path: nothing listens there yet
//   if (foobard::testing::EchoOnce(c.get(), "x") != "x") return 1;
//   // foobard holds this one connection.
//   if (!foobard::testing::WaitForConnectionCount(p.pid(), "/tmp/x", 1)) {
//     return 1;
//   }
#ifndef TESTS_INTEGRATION_DAEMON_HARNESS_H_
#define TESTS_INTEGRATION_DAEMON_HARNESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "sdfd/unique_fd.h"

namespace foobard::testing {

// kTimeoutMs bounds every single wait; generous for ASan on a busy machine.
inline constexpr int kTimeoutMs = 20000;

// FoobardPath is the foobard binary from the test's runfiles.
std::string FoobardPath();
// ActivatePath is systemd's own activator.
std::string ActivatePath();

// SpawnOptions says how to start a child.
struct SpawnOptions {
  std::vector<std::string> argv;
  // env adds or replaces variables; LISTEN_* (LISTEN_PIDFDID too),
  // NOTIFY_SOCKET and WATCHDOG_* are never inherited from the test's own
  // environment.
  std::vector<std::pair<std::string, std::string>> env;
  // pass_fds become fds 3, 4, ... in the child (as systemd passes them).
  std::vector<int> pass_fds;
  // set_listen_pid sets LISTEN_PID to the child's own pid.
  bool set_listen_pid = false;
  // set_listen_pidfdid sets LISTEN_PIDFDID to the inode id of the child's
  // own pidfd, as systemd v259 does.
  bool set_listen_pidfdid = false;
  // stdin_fd becomes fd 0 (else /dev/null).
  int stdin_fd = -1;
  // nofile, when non-zero, sets RLIMIT_NOFILE soft and hard (ulimit -n).
  rlim_t nofile = 0;
};

// Process is a child whose stdout and stderr are collected through a pipe.
// The destructor SIGKILLs and reaps it if still running.
class Process {
 public:
  static Process Spawn(const SpawnOptions& options);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  bool running() const { return !exited_; }
  // output is everything the child wrote so far.
  const std::string& output() const { return output_; }

  // WaitForOutput reads output until it contains `needle` (true) or the
  // child exits or the timeout passes (false). For tests whose subject is
  // what the child writes, or for programs other than foobard.
  bool WaitForOutput(absl::string_view needle, int timeout_ms);
  // Wait waits for exit and returns the exit code, 128+signal when killed
  // by a signal, or -1 on timeout.
  int Wait(int timeout_ms);
  // WaitWithoutReading is Wait() that leaves the output pipe unread, for
  // tests of a child whose log reader has stopped reading.
  int WaitWithoutReading(int timeout_ms);
  void Signal(int signo);

 private:
  Process() = default;
  bool Pump(int timeout_ms);  // reads output/reaps once; false on timeout
  pid_t pid_ = -1;
  sdfd::UniqueFd output_fd_;
  sdfd::UniqueFd pidfd_;
  std::string output_;
  bool exited_ = false;
  int status_ = 0;
};

// Activate runs `systemd-socket-activate ACTIVATE_ARGS -- foobard
// FOOBARD_ARGS` and waits until it listens ("Listening on").
Process Activate(const std::vector<std::string>& activate_args,
                 const std::vector<std::string>& foobard_args,
                 std::vector<std::pair<std::string, std::string>> env = {});

// ConnectTo connects a blocking CLOEXEC client socket to a libsdfd spec
// ("unix:/p", "unix-seqpacket:/p", "tcp:127.0.0.1:80", "tcp:[::1]:80");
// invalid on failure.
sdfd::UniqueFd ConnectTo(const std::string& spec);

// SendAll writes all of `data` (MSG_NOSIGNAL), polling up to the timeout.
bool SendAll(int fd, absl::string_view data, int timeout_ms = kTimeoutMs);
// RecvExactly reads n bytes, or fewer on EOF, error or timeout.
std::string RecvExactly(int fd, size_t n, int timeout_ms = kTimeoutMs);
// RecvUntilEof reads until EOF; *eof says whether EOF was seen.
std::string RecvUntilEof(int fd, bool* eof, int timeout_ms = kTimeoutMs);
// EchoOnce sends `data` and returns as many bytes read back.
std::string EchoOnce(int fd, absl::string_view data);
// Pattern is n deterministic bytes that differ per seed (all 256 values).
std::string Pattern(size_t n, uint32_t seed);

// FreePort returns a TCP port on `host` that was free a moment ago.
uint16_t FreePort(const std::string& host, int family);

// VmRssKb is VmRSS from /proc/PID/status, or -1.
long VmRssKb(pid_t pid);
// CpuTicks is utime + stime from /proc/PID/stat, or -1.
long CpuTicks(pid_t pid);

// ConnectionCount is how many connected AF_UNIX stream or seqpacket sockets
// the process holds (/proc/PID/fd matched against /proc/PID/net/unix), or
// -1. With a non-empty `path`, only those accepted on the listener bound
// there (an accepted socket carries its listener's address), so sockets
// foobard opens for itself (sd_notify, a handoff bundle) never count.
int ConnectionCount(pid_t pid, const std::string& path);
// OpenFdCount is how many fds the process has open, or -1.
int OpenFdCount(pid_t pid);
// ChildCount is how many children the process has (/proc/PID/task/PID/
// children), or -1.
int ChildCount(pid_t pid);
// WaitForConnectionCount polls ConnectionCount until it is `want` (true) or
// the timeout passes (false): how a test knows how many connections foobard
// holds, e.g. that every close has been handled.
bool WaitForConnectionCount(pid_t pid, const std::string& path, int want,
                            int timeout_ms = kTimeoutMs);
// WaitForOpenFdCount is the same for all open fds.
bool WaitForOpenFdCount(pid_t pid, int want, int timeout_ms = kTimeoutMs);
// WaitForChildCount is the same for the process's children.
bool WaitForChildCount(pid_t pid, int want, int timeout_ms = kTimeoutMs);
// WaitForHangup waits until the peer of connected socket `fd` has closed
// its end (POLLHUP), without reading: how a client knows the server closed
// when an empty record and the end of a seqpacket stream read alike
// (AF_UNIX stream and seqpacket: a closed peer always shows POLLHUP).
bool WaitForHangup(int fd, int timeout_ms = kTimeoutMs);

}  // namespace foobard::testing

#endif  // TESTS_INTEGRATION_DAEMON_HARNESS_H_
