// tests/integration/daemon/harness.cc: see harness.h.
#include "tests/integration/daemon/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "sdfd/socket_spec.h"

extern char** environ;

namespace foobard::testing {
namespace {

int64_t NowMs() { return foobar::MonotonicNanos() / foobar::kNanosPerMilli; }

int Remaining(int64_t deadline) {
  const int64_t left = deadline - NowMs();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool PollFor(int fd, short events, int64_t deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, Remaining(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return path;
  return absl::StrCat(srcdir, "/", workspace ? workspace : "foobar", "/", path);
}

bool Inherited(absl::string_view entry) {
  for (absl::string_view skip :
       {"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=", "LISTEN_PIDFDID=",
        "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID="}) {
    if (absl::StartsWith(entry, skip)) return false;
  }
  return true;
}

}  // namespace

std::string FoobardPath() { return Runfile("daemon/foobard"); }
std::string ActivatePath() { return "/usr/bin/systemd-socket-activate"; }

Process Process::Spawn(const SpawnOptions& options) {
  Process p;
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed (tests may run threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!Inherited(*e)) continue;
    bool replaced = false;
    for (const auto& [key, value] : options.env) {
      if (absl::StartsWith(*e, key + "=")) replaced = true;
    }
    if (!replaced) env_strings.push_back(*e);
  }
  for (const auto& [key, value] : options.env) {
    env_strings.push_back(key + "=" + value);
  }
  std::string listen_pid(32, '\0');
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  if (options.set_listen_pid) envp.push_back(listen_pid.data());
  std::string listen_pidfdid(48, '\0');
  if (options.set_listen_pidfdid) envp.push_back(listen_pidfdid.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return p;
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (options.set_listen_pid) {
      char digits[24];
      int n = 0;
      for (pid_t v = ::getpid(); v > 0; v /= 10) digits[n++] = '0' + v % 10;
      char* w = listen_pid.data();
      for (const char* c = "LISTEN_PID="; *c; ++c) *w++ = *c;
      while (n > 0) *w++ = digits[--n];
      *w = '\0';
    }
    if (options.set_listen_pidfdid) {
      // Raw system calls and digit arithmetic only: async-signal-safe. The
      // pidfd is CLOEXEC and gone at execve; the id stays ours across it.
      struct stat st = {};
      const int pidfd =
          static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
      if (pidfd < 0 || ::fstat(pidfd, &st) != 0) ::_exit(126);
      char digits[24];
      int n = 0;
      uint64_t v = st.st_ino;
      do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
      } while (v > 0);
      char* w = listen_pidfdid.data();
      for (const char* c = "LISTEN_PIDFDID="; *c; ++c) *w++ = *c;
      while (n > 0) *w++ = digits[--n];
      *w = '\0';
    }
    // Move passed fds out of the way first so that dup2 onto 3.. never
    // overwrites one still to be moved.
    int moved[64];
    const size_t count = options.pass_fds.size();
    for (size_t i = 0; i < count && i < 64; ++i) {
      moved[i] = ::fcntl(options.pass_fds[i], F_DUPFD_CLOEXEC, 100);
    }
    ::dup2(options.stdin_fd >= 0 ? options.stdin_fd : devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    for (size_t i = 0; i < count && i < 64; ++i) {
      ::dup2(moved[i], 3 + static_cast<int>(i));
    }
    if (options.nofile != 0) {
      rlimit limit{options.nofile, options.nofile};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(devnull);
  p.output_fd_.reset(out[0]);
  if (pid < 0) return p;
  p.pid_ = pid;
  p.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  return p;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_fd_(std::move(other.output_fd_)),
      pidfd_(std::move(other.pidfd_)),
      output_(std::move(other.output_)),
      exited_(other.exited_),
      status_(other.status_) {}

Process::~Process() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
}

bool Process::Pump(int timeout_ms) {
  pollfd fds[2] = {{output_fd_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
  const int n = ::poll(fds, 2, timeout_ms);
  if (n <= 0) return n < 0 && errno == EINTR;
  if (fds[0].revents != 0) {
    char buf[65536];
    const ssize_t r = ::read(output_fd_.get(), buf, sizeof(buf));
    if (r > 0) {
      output_.append(buf, static_cast<size_t>(r));
    } else {
      output_fd_.reset();  // EOF: every writer (child, grandchildren) gone
    }
  }
  if (fds[1].revents != 0 && !exited_) {
    if (::waitpid(pid_, &status_, 0) == pid_) exited_ = true;
    pidfd_.reset();
  }
  return true;
}

bool Process::WaitForOutput(absl::string_view needle, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!absl::StrContains(output_, needle)) {
    if (!output_fd_.valid() && exited_) return false;
    if (!output_fd_.valid() && !pidfd_.valid()) return false;
    if (!Pump(Remaining(deadline)) || NowMs() > deadline) {
      return absl::StrContains(output_, needle);
    }
  }
  return true;
}

int Process::Wait(int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!exited_ || output_fd_.valid()) {
    // After exit, keep reading output until EOF (or until the deadline if
    // a grandchild still holds the pipe).
    if (!Pump(Remaining(deadline))) {
      if (exited_) break;
      return -1;
    }
    if (NowMs() > deadline) {
      if (exited_) break;
      return -1;
    }
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

int Process::WaitWithoutReading(int timeout_ms) {
  if (!exited_) {
    if (!PollFor(pidfd_.get(), POLLIN, NowMs() + timeout_ms)) return -1;
    if (::waitpid(pid_, &status_, 0) != pid_) return -1;
    exited_ = true;
    pidfd_.reset();
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

void Process::Signal(int signo) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signo);
}

Process Activate(const std::vector<std::string>& activate_args,
                 const std::vector<std::string>& foobard_args,
                 std::vector<std::pair<std::string, std::string>> env) {
  SpawnOptions options;
  options.argv.push_back(ActivatePath());
  for (const std::string& a : activate_args) options.argv.push_back(a);
  options.argv.push_back(FoobardPath());
  for (const std::string& a : foobard_args) options.argv.push_back(a);
  options.env = std::move(env);
  Process p = Process::Spawn(options);
  p.WaitForOutput("Listening on", kTimeoutMs);
  return p;
}

sdfd::UniqueFd ConnectTo(const std::string& spec) {
  absl::StatusOr<sdfd::SocketSpec> parsed = sdfd::ParseSocketSpec(spec);
  if (!parsed.ok()) return sdfd::UniqueFd();
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Connect(*parsed);
  if (!fd.ok()) return sdfd::UniqueFd();
  return *std::move(fd);
}

bool SendAll(int fd, absl::string_view data, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!PollFor(fd, POLLOUT, deadline)) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::string RecvExactly(int fd, size_t n, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  std::string out;
  out.reserve(n);
  char buf[65536];
  while (out.size() < n) {
    const ssize_t r =
        ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), MSG_DONTWAIT);
    if (r > 0) {
      out.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!PollFor(fd, POLLIN, deadline)) break;
      continue;
    }
    break;
  }
  return out;
}

std::string RecvUntilEof(int fd, bool* eof, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  std::string out;
  char buf[65536];
  *eof = false;
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r > 0) {
      out.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0) {
      *eof = true;
      return out;
    }
    if (errno == EAGAIN || errno == EINTR) {
      if (!PollFor(fd, POLLIN, deadline)) return out;
      continue;
    }
    return out;
  }
}

std::string EchoOnce(int fd, absl::string_view data) {
  if (!SendAll(fd, data)) return "";
  return RecvExactly(fd, data.size());
}

std::string Pattern(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 16);
  }
  return out;
}

uint16_t FreePort(const std::string& host, int family) {
  sdfd::UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    ::inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof(*a);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return 0;
  len = sizeof(ss);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  return family == AF_INET
             ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
             : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

long VmRssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

long CpuTicks(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  if (paren == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(all.substr(paren + 2), ' ');
  // After "pid (comm) ", field 3 (state) is index 0; utime and stime are
  // fields 14 and 15, so indices 11 and 12.
  if (fields.size() < 13) return -1;
  return std::strtol(fields[11].c_str(), nullptr, 10) +
         std::strtol(fields[12].c_str(), nullptr, 10);
}

namespace {

// FdTargets is the link target of every fd of the process ("socket:[N]",
// "/dev/null", ...), or nullopt when /proc/PID/fd cannot be read.
std::optional<std::vector<std::string>> FdTargets(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> targets;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[256];
    const ssize_t len =
        ::readlinkat(::dirfd(d), e->d_name, target, sizeof(target) - 1);
    // An fd closed between readdir and readlink is not open any more.
    if (len >= 0) targets.emplace_back(target, static_cast<size_t>(len));
  }
  ::closedir(d);
  return targets;
}

// WaitUntilEquals polls `read` every 2 ms until it returns `want` or the
// deadline passes: /proc offers nothing to wait on.
template <typename Read>
bool WaitUntilEquals(Read read, int want, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    if (read() == want) return true;
    if (NowMs() > deadline) return false;
    ::poll(nullptr, 0, 2);
  }
}

}  // namespace

int ConnectionCount(pid_t pid, const std::string& path) {
  std::optional<std::vector<std::string>> targets = FdTargets(pid);
  if (!targets.has_value()) return -1;
  std::set<std::string> inodes;
  for (const std::string& t : *targets) {
    if (absl::StartsWith(t, "socket:[")) {
      inodes.insert(t.substr(8, t.size() - 9));
    }
  }
  // "Num RefCount Protocol Flags Type St Inode Path": Type 0001 is
  // SOCK_STREAM, 0005 SOCK_SEQPACKET; St 03 is SS_CONNECTED.
  std::ifstream in(absl::StrCat("/proc/", pid, "/net/unix"));
  if (!in) return -1;
  std::string line;
  std::getline(in, line);  // the header
  int n = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (f.size() < 7 || (f[4] != "0001" && f[4] != "0005") || f[5] != "03" ||
        inodes.count(f[6]) == 0) {
      continue;
    }
    if (path.empty() || (f.size() >= 8 && f[7] == path)) ++n;
  }
  return n;
}

int OpenFdCount(pid_t pid) {
  std::optional<std::vector<std::string>> targets = FdTargets(pid);
  return targets.has_value() ? static_cast<int>(targets->size()) : -1;
}

int ChildCount(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/task/", pid, "/children"));
  if (!in) return -1;
  int n = 0;
  std::string child;
  while (in >> child) ++n;
  return n;
}

bool WaitForConnectionCount(pid_t pid, const std::string& path, int want,
                            int timeout_ms) {
  return WaitUntilEquals([pid, &path] { return ConnectionCount(pid, path); },
                         want, timeout_ms);
}

bool WaitForOpenFdCount(pid_t pid, int want, int timeout_ms) {
  return WaitUntilEquals([pid] { return OpenFdCount(pid); }, want, timeout_ms);
}

bool WaitForChildCount(pid_t pid, int want, int timeout_ms) {
  return WaitUntilEquals([pid] { return ChildCount(pid); }, want, timeout_ms);
}

bool WaitForHangup(int fd, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    // POLLIN is not asked for: queued data must not end the wait.
    pollfd p{fd, 0, 0};
    const int n = ::poll(&p, 1, Remaining(deadline));
    if (n > 0) return (p.revents & POLLHUP) != 0;
    if (n == 0 || errno != EINTR) return false;
  }
}

}  // namespace foobard::testing
