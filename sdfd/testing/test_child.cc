#include "sdfd/testing/test_child.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "sdfd/testing/socket_dir.h"
#include "sdfd/testing/unix_address.h"
#include "sdfd/unique_fd.h"

namespace sdfd::test {
namespace {

// Fds at and above this number are free for the child's own bookkeeping:
// the slots under test are 3 .. 3+N with N well below it.
constexpr int kHighFd = 600;
constexpr int kMaxFd = 1024;

absl::Status Errno(const std::string& what) {
  return absl::ErrnoToStatus(errno, what);
}

absl::StatusOr<UniqueFd> BindUnix(int type, const std::string& path,
                                  bool abstract) {
  absl::StatusOr<UniqueFd> fd =
      sdfd::test::BindUnix(type, abstract ? "@" + path : path);
  if (!fd.ok()) return fd.status();
  if (type != SOCK_DGRAM && ::listen(fd->get(), 16) < 0) {
    return Errno("listen(" + path + ")");
  }
  return fd;
}

absl::StatusOr<UniqueFd> BindInet(int family, int type) {
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Errno("socket(AF_INET*)");
  sockaddr_storage storage = {};
  socklen_t length;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(*in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    length = sizeof(*in6);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) {
    return Errno("bind(loopback:0)");
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 16) < 0) {
    return Errno("listen(loopback)");
  }
  return fd;
}

// MakeFd creates the fd for one slot. `keep` receives extra fds that must
// stay open while the child runs (the other end of a pipe or connection),
// `queues` the names of message queues to unlink afterwards.
absl::StatusOr<UniqueFd> MakeFd(FdKind kind, std::vector<UniqueFd>& keep,
                                std::vector<std::string>& queues) {
  switch (kind) {
    case FdKind::kUdp6:
      return BindInet(AF_INET6, SOCK_DGRAM);
    case FdKind::kFifo: {
      std::string path = UniqueSocketPath("fifo");
      if (::mkfifo(path.c_str(), 0600) < 0)
        return Errno("mkfifo(" + path + ")");
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
      if (!fd.valid()) return Errno("open(" + path + ")");
      return fd;
    }
    case FdKind::kCharDevice: {
      UniqueFd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
      if (!fd.valid()) return Errno("open(/dev/null)");
      return fd;
    }
    case FdKind::kDirectory: {
      UniqueFd fd(
          ::open(TestTmpDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd.valid()) return Errno("open(" + TestTmpDir() + ")");
      return fd;
    }
    case FdKind::kMqueue: {
      static std::atomic<int> counter{0};
      std::string name =
          absl::StrCat("/sdfd-test.", ::getpid(), ".", counter++);
      const mqd_t queue = ::mq_open(
          name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, nullptr);
      if (queue < 0) return Errno("mq_open(" + name + ")");
      queues.push_back(std::move(name));
      return UniqueFd(queue);
    }
    case FdKind::kClosed:
      return UniqueFd();
    case FdKind::kPipeRead: {
      int ends[2];
      if (::pipe2(ends, O_CLOEXEC) < 0) return Errno("pipe2");
      keep.emplace_back(ends[1]);
      return UniqueFd(ends[0]);
    }
    case FdKind::kRegularFile: {
      std::string path = UniqueSocketPath("file");
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
      if (!fd.valid()) return Errno("open(" + path + ")");
      return fd;
    }
    case FdKind::kUnixStreamListener:
      return BindUnix(SOCK_STREAM, UniqueSocketPath("stream"), false);
    case FdKind::kUnixAbstractListener:
      return BindUnix(SOCK_STREAM, UniqueSocketPath("abstract"), true);
    case FdKind::kUnixSeqpacketListener:
      return BindUnix(SOCK_SEQPACKET, UniqueSocketPath("seqpacket"), false);
    case FdKind::kUnixDatagram:
      return BindUnix(SOCK_DGRAM, UniqueSocketPath("dgram"), false);
    case FdKind::kUnixConnected: {
      int ends[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0) {
        return Errno("socketpair");
      }
      keep.emplace_back(ends[1]);
      return UniqueFd(ends[0]);
    }
    case FdKind::kTcp4Listener:
      return BindInet(AF_INET, SOCK_STREAM);
    case FdKind::kTcp6Listener:
      return BindInet(AF_INET6, SOCK_STREAM);
    case FdKind::kUdp4:
      return BindInet(AF_INET, SOCK_DGRAM);
    case FdKind::kTcp4Connected: {
      absl::StatusOr<UniqueFd> listener = BindInet(AF_INET, SOCK_STREAM);
      if (!listener.ok()) return listener.status();
      sockaddr_storage storage = {};
      socklen_t length = sizeof(storage);
      if (::getsockname(listener->get(), reinterpret_cast<sockaddr*>(&storage),
                        &length) < 0) {
        return Errno("getsockname");
      }
      UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!client.valid()) return Errno("socket");
      if (::connect(client.get(), reinterpret_cast<sockaddr*>(&storage),
                    length) < 0) {
        return Errno("connect");
      }
      UniqueFd accepted(
          ::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!accepted.valid()) return Errno("accept4");
      keep.push_back(std::move(client));
      return accepted;
    }
  }
  return absl::InternalError("unknown FdKind");
}

// ChildMain never returns: it arranges fds and env, runs body, reports.
[[noreturn]] void ChildMain(const std::vector<UniqueFd>& sources,
                            const std::vector<FdSetup>& fds,
                            const std::vector<EnvSetting>& env,
                            const std::function<std::string()>& body,
                            int report_fd) {
  // Move everything we need out of the way of slots 3.., then clear 3..
  // except the report pipe and the moved sources.
  int report = ::fcntl(report_fd, F_DUPFD_CLOEXEC, kHighFd);
  if (report < 0) ::_exit(120);
  std::vector<int> high(sources.size(), -1);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].valid()) continue;
    high[i] = ::fcntl(sources[i].get(), F_DUPFD_CLOEXEC, kHighFd + 1);
    if (high[i] < 0) ::_exit(121);
  }
  for (int fd = 3; fd < kHighFd; ++fd) (void)::close(fd);
  for (size_t i = 0; i < fds.size(); ++i) {
    if (high[i] < 0) continue;
    const int target = 3 + static_cast<int>(i);
    if (::dup2(high[i], target) < 0) ::_exit(122);  // clears FD_CLOEXEC
    if (fds[i].cloexec && ::fcntl(target, F_SETFD, FD_CLOEXEC) < 0) {
      ::_exit(123);
    }
  }
  for (int fd = kHighFd + 1; fd < kMaxFd; ++fd) (void)::close(fd);

  const std::string pid = absl::StrCat(::getpid());
  const std::string hex_pid = absl::StrCat("0x", absl::Hex(::getpid()));
  for (const EnvSetting& setting : env) {
    if (setting.second.has_value()) {
      // $SELF_PIDFDID first, in a pass of its own: it is not a $PID.
      std::string value = absl::StrReplaceAll(
          absl::StrReplaceAll(*setting.second,
                              {{"$SELF_PIDFDID", SelfPidfdIdForTest()}}),
          {{"$HEXPID", hex_pid}, {"$PID", pid}});
      if (::setenv(setting.first.c_str(), value.c_str(), 1) < 0) ::_exit(124);
    } else {
      (void)::unsetenv(setting.first.c_str());
    }
  }
  const std::string result = body();
  size_t done = 0;
  while (done < result.size()) {
    ssize_t n = ::write(report, result.data() + done, result.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(125);
    done += static_cast<size_t>(n);
  }
  ::_exit(0);
}

}  // namespace

std::string SelfPidfdIdForTest() {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
  struct stat st;
  if (!pidfd.valid() || ::fstat(pidfd.get(), &st) < 0) return "no-pidfd";
  return absl::StrCat(st.st_ino);
}

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string UniqueSocketPath(const std::string& stem) {
  // One directory for the whole process: the pid and the counter already
  // keep names apart, and forked children name into their parent's.
  static const std::string* const dir = new std::string(NewSocketDir());
  static std::atomic<int> counter{0};
  return absl::StrCat(*dir, "/", stem, ".", ::getpid(), ".", counter++);
}

absl::StatusOr<std::string> RunInChild(
    const std::vector<FdSetup>& fds, const std::vector<EnvSetting>& env,
    const std::function<std::string()>& body) {
  std::vector<UniqueFd> keep;
  std::vector<UniqueFd> sources;
  std::vector<std::string> queues;
  // Message queues outlive their fds; remove them on every path.
  struct UnlinkQueues {
    std::vector<std::string>& names;
    ~UnlinkQueues() {
      for (const std::string& name : names) (void)::mq_unlink(name.c_str());
    }
  } unlink_queues{queues};
  for (const FdSetup& setup : fds) {
    absl::StatusOr<UniqueFd> fd = MakeFd(setup.kind, keep, queues);
    if (!fd.ok()) return fd.status();
    sources.push_back(*std::move(fd));
  }
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) < 0) return Errno("pipe2");
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  const pid_t child = ::fork();
  if (child < 0) return Errno("fork");
  if (child == 0) ChildMain(sources, fds, env, body, write_end.get());
  write_end.reset();
  std::string output;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read(child pipe)");
    if (n == 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return Errno("waitpid");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        "child failed: ",
        WIFEXITED(status) ? absl::StrCat("exit ", WEXITSTATUS(status))
                          : absl::StrCat("signal ", WTERMSIG(status)),
        "; output so far: ", output));
  }
  return output;
}

}  // namespace sdfd::test
