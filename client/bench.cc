#include "client/bench.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/io.h"
#include "client/target.h"
#include "common/clock.h"
#include "common/fd_util.h"
#include "sdfd/errno_status.h"
#include "sdfd/unique_fd.h"

namespace foobar::client {
namespace {

// Messages start at one of this many offsets into the pattern.
constexpr size_t kOffsets = 251;  // prime: offsets cycle differently per conn
constexpr size_t kScratchSize = 256 * 1024;
constexpr int kMaxEvents = 1024;
// File descriptors beyond the connections: stdio, epoll, and some slack for
// whatever the C library opens (getgrgid_r may open /etc/group).
constexpr uint64_t kSpareFds = 16;

uint64_t NowNs() { return static_cast<uint64_t>(MonotonicNanos()); }

// Connection is one closed-loop client; it has at most one message in
// flight.
struct Connection {
  sdfd::UniqueFd fd;
  const char* expected = nullptr;  // the message in flight (pattern slice)
  size_t sent = 0;
  size_t received = 0;
  uint64_t start_ns = 0;
  bool writing = false;   // EPOLLOUT is armed: the message is half-sent
  bool mismatch = false;  // a byte of this echo differed
};

class Bench {
 public:
  Bench(const sdfd::SocketSpec& spec, const BenchOptions& options)
      : spec_(spec), options_(options), target_(DisplayName(spec)) {}

  absl::StatusOr<BenchResult> Run();

 private:
  absl::Status Connect();
  void StartMessage(uint32_t index, uint64_t now);
  void Send(uint32_t index);
  void Receive(uint32_t index);
  void Fail(uint32_t index, absl::string_view why);
  void SetWriting(uint32_t index, bool writing);
  void Progress(uint64_t now, bool last);

  const sdfd::SocketSpec& spec_;
  const BenchOptions& options_;
  const std::string target_;
  sdfd::UniqueFd epoll_;
  std::vector<Connection> connections_;
  std::vector<char> pattern_;
  std::unique_ptr<char[]> scratch_{new char[kScratchSize]};
  uint64_t issued_ = 0;
  uint64_t outstanding_ = 0;
  uint64_t next_offset_ = 0;
  uint64_t last_progress_ns_ = 0;
  uint64_t start_ns_ = 0;
  BenchResult result_;
};

absl::Status Bench::Connect() {
  epoll_ = sdfd::UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return sdfd::ErrnoError(errno, "epoll_create1()");
  connections_.resize(static_cast<size_t>(options_.connections));
  for (size_t i = 0; i < connections_.size(); ++i) {
    absl::StatusOr<sdfd::UniqueFd> fd =
        ConnectWithTimeout(spec_, options_.timeout);
    if (!fd.ok()) {
      if (i == 0) return fd.status();
      return absl::Status(
          fd.status().code(),
          absl::StrCat(fd.status().message(), " (after ", i, " of ",
                       connections_.size(), " connections)"));
    }
    if (absl::Status s = SetNonBlocking(fd->get()); !s.ok()) return s;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<uint32_t>(i);
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd->get(), &event) != 0) {
      return sdfd::ErrnoError(errno, "epoll_ctl(EPOLL_CTL_ADD)");
    }
    connections_[i].fd = *std::move(fd);
    if (options_.progress_fd >= 0 && (i + 1) % 1000 == 0) {
      (void)WriteAll(options_.progress_fd,  // progress is cosmetic
                     absl::StrFormat("\rfoobar: %d/%d connected", i + 1,
                                     connections_.size()),
                     "stderr");
    }
  }
  return absl::OkStatus();
}

void Bench::SetWriting(uint32_t index, bool writing) {
  Connection& c = connections_[index];
  if (c.writing == writing) return;
  epoll_event event{};
  event.events = writing ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  event.data.u32 = index;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &event) != 0) {
    Fail(index, absl::StrCat("epoll_ctl(EPOLL_CTL_MOD): ", strerror(errno)));
    return;
  }
  c.writing = writing;
}

void Bench::StartMessage(uint32_t index, uint64_t now) {
  Connection& c = connections_[index];
  c.expected = pattern_.data() + (next_offset_++ % kOffsets);
  c.sent = 0;
  c.received = 0;
  c.mismatch = false;
  c.start_ns = now;
  ++issued_;
  ++outstanding_;
  Send(index);
}

void Bench::Send(uint32_t index) {
  Connection& c = connections_[index];
  const ssize_t n = send(c.fd.get(), c.expected + c.sent,
                         options_.size - c.sent, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    Fail(index, TransferError(target_, "send", errno).message());
    return;
  }
  if (n > 0) c.sent += static_cast<size_t>(n);
  // Only a message that did not fit at once waits for EPOLLOUT; a 64-byte
  // round trip never touches epoll_ctl().
  SetWriting(index, c.sent < options_.size);
}

void Bench::Receive(uint32_t index) {
  Connection& c = connections_[index];
  for (;;) {
    const size_t want = std::min(kScratchSize, options_.size - c.received);
    const ssize_t n = recv(c.fd.get(), scratch_.get(), want, 0);
    if (n == 0) {
      Fail(index,
           ClosedEarlyError(target_, c.received, options_.size).message());
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      Fail(index, TransferError(target_, "recv", errno).message());
      return;
    }
    if (std::memcmp(scratch_.get(), c.expected + c.received,
                    static_cast<size_t>(n)) != 0) {
      c.mismatch = true;
    }
    c.received += static_cast<size_t>(n);
    if (c.received == options_.size) {
      const uint64_t now = NowNs();
      result_.latency.Record(now - c.start_ns);
      ++result_.messages;
      if (c.mismatch) {
        ++result_.mismatches;
        if (result_.first_error.empty()) {
          result_.first_error = absl::StrCat("an echo from ", target_,
                                             " differed from the message sent");
        }
      }
      --outstanding_;
      if (issued_ < options_.messages) {
        StartMessage(index, now);
      } else {
        c.fd.reset();  // done: closing also removes it from the epoll set
      }
      return;
    }
    // A short read means the socket is drained; level-triggered epoll
    // reports the rest, saving a recv() that would only say EAGAIN.
    if (static_cast<size_t>(n) < want) return;
  }
}

void Bench::Fail(uint32_t index, absl::string_view why) {
  Connection& c = connections_[index];
  if (!c.fd.valid()) return;
  ++result_.errors;
  --outstanding_;
  if (result_.first_error.empty()) result_.first_error = std::string(why);
  c.fd.reset();
}

void Bench::Progress(uint64_t now, bool last) {
  if (options_.progress_fd < 0) return;
  if (last) {
    (void)WriteAll(options_.progress_fd, "\r\033[K", "stderr");  // cosmetic
    return;
  }
  if (now - last_progress_ns_ < 1000000000u) return;
  last_progress_ns_ = now;
  const double seconds = static_cast<double>(now - start_ns_) / 1e9;
  (void)WriteAll(  // progress is cosmetic; a full terminal must not stop us
      options_.progress_fd,
      absl::StrFormat("\r\033[Kfoobar: %d/%d messages, %.0f msgs/s",
                      result_.messages, options_.messages,
                      seconds > 0 ? result_.messages / seconds : 0.0),
      "stderr");
}

absl::StatusOr<BenchResult> Bench::Run() {
  result_.connections = options_.connections;
  result_.requested = options_.messages;

  // One random pattern; every message is a slice of it.
  pattern_.resize(options_.size + kOffsets);
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (char& byte : pattern_) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    byte = static_cast<char>(x >> 56);
  }

  if (absl::Status s = Connect(); !s.ok()) return s;

  start_ns_ = NowNs();
  last_progress_ns_ = start_ns_;
  for (size_t i = 0; i < connections_.size() && issued_ < options_.messages;
       ++i) {
    StartMessage(static_cast<uint32_t>(i), NowNs());
  }
  // Connections that never got a message are closed now, so a server
  // waiting for every client to leave is not kept waiting.
  for (Connection& c : connections_) {
    if (c.expected == nullptr) c.fd.reset();
  }

  const int timeout_ms = PollMillis(options_.timeout);
  std::vector<epoll_event> events(kMaxEvents);
  uint64_t end_ns = start_ns_;
  while (outstanding_ > 0) {
    const int n =
        epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sdfd::ErrnoError(errno, "epoll_wait()");
    }
    if (n == 0) {
      result_.errors += outstanding_;
      if (result_.first_error.empty()) {
        result_.first_error =
            absl::StrCat(EchoTimeoutError(target_, options_.timeout).message(),
                         " (", outstanding_, " messages outstanding)");
      }
      outstanding_ = 0;
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint32_t index = events[i].data.u32;
      const uint32_t what = events[i].events;
      Connection& c = connections_[index];
      if (!c.fd.valid()) continue;
      if ((what & (EPOLLOUT | EPOLLERR)) && c.sent < options_.size) {
        Send(index);
      }
      if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c.fd.valid()) {
        Receive(index);
      }
    }
    end_ns = NowNs();
    Progress(end_ns, /*last=*/false);
  }
  Progress(end_ns, /*last=*/true);
  // Messages never sent because every connection had failed are lost too.
  result_.errors += options_.messages - issued_;
  result_.seconds = static_cast<double>(end_ns - start_ns_) / 1e9;
  result_.bytes = result_.messages * options_.size;
  return std::move(result_);
}

}  // namespace

absl::Status RaiseFileLimit(uint64_t needed) {
  absl::StatusOr<FdLimit> limit = RaiseFdLimit();
  if (!limit.ok()) return limit.status();
  if (limit->soft != RLIM_INFINITY && limit->soft < needed) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%d connections need %d open files, but the hard limit "
        "(RLIMIT_NOFILE) is %d; raise it (ulimit -Hn, or LimitNOFILE= in a "
        "unit) or use fewer --connections",
        needed - kSpareFds, needed, limit->soft));
  }
  return absl::OkStatus();
}

absl::StatusOr<BenchResult> RunBench(const sdfd::SocketSpec& spec,
                                     const BenchOptions& options) {
  if (absl::Status s = RaiseFileLimit(
          static_cast<uint64_t>(options.connections) + kSpareFds);
      !s.ok()) {
    return s;
  }
  Bench bench(spec, options);
  return bench.Run();
}

std::string FormatSummary(const BenchResult& result) {
  const double seconds = result.seconds > 0 ? result.seconds : 1e-9;
  return absl::StrFormat(
      "connections=%d messages=%d bytes=%d seconds=%.6f msgs_per_s=%.0f "
      "mib_per_s=%.3f p50_us=%.1f p99_us=%.1f max_us=%.1f errors=%d "
      "mismatches=%d",
      result.connections, result.messages, result.bytes, result.seconds,
      static_cast<double>(result.messages) / seconds,
      static_cast<double>(result.bytes) / seconds / (1024.0 * 1024.0),
      static_cast<double>(result.latency.Percentile(0.50)) / 1000.0,
      static_cast<double>(result.latency.Percentile(0.99)) / 1000.0,
      static_cast<double>(result.latency.max()) / 1000.0, result.errors,
      result.mismatches);
}

}  // namespace foobar::client
