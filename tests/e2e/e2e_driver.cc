// e2e_driver: the client side of the end-to-end scenarios that `foobar` alone
// cannot express: many connections held open while systemd restarts, kills or
// re-activates the daemon, each connection checking every byte it gets back.
//
// Modes:
//   --mode=hold  Opens --connections at once, then each runs closed-loop round
//                trips (a message of 1..--max_size pseudo-random bytes, wait
//                for its complete echo, compare, repeat) until it has done
//                --messages of them (0: until --stop_file exists). It creates
//                --ready_file once every connection has completed one round
//                trip, so a script can act while all of them are live.
//                With --stall_connections=K, the first K connections stop
//                reading while --stall_file exists and send messages of
//                --stall_size bytes: the daemon holds unsent bytes for
//                them (a restart must carry them). Once every one of them is
//                blocked in send, the driver creates <stall_file>.held.
//                The summary's max_rtt_us is the longest round trip of the
//                other connections among those started after --ready_file
//                was created (so connection set-up is not counted).
//   --mode=loop  One connection at a time: connect, one round trip, close,
//                then sleep the next of --gaps_ms (cycling through them while
//                --stop_file is set and missing; once through them otherwise).
//                --ready_file is created after any successful round trip
//                whenever it is missing.
//   --mode=refused
//                Opens --connections at once, sends nothing, and expects the
//                server to close every one of them: each must read end of
//                stream (read returns 0) within --timeout_ms. That is what a
//                socket unit with Accept=yes does beyond MaxConnections=:
//                PID 1 accepts the connection and closes it at once.
//
// It prints one summary line on stdout and exits 0 only if every round trip
// came back intact, for example:
//   hold connections=100 messages=52310 bytes=107301882 errors=0 mismatches=0
//   min_per_conn=498 max_rtt_us=2210 stalled_bytes=20971520
//   loop iterations=40 failures=1 last_failure=12
//   refused connections=44 closed=44 open=0 errors=0
// and on failure, one line per error on stderr (first 10), e.g.
//   e2e_driver: conn 7 message 133: read: Connection reset by peer
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/fd_util.h"
#include "sdfd/socket_spec.h"

ABSL_FLAG(std::string, mode, "hold", "hold, loop or refused");
ABSL_FLAG(std::string, socket, "/run/foobar.sk", "unix stream socket path");
ABSL_FLAG(int, connections, 1, "hold: connections open at once");
ABSL_FLAG(int64_t, messages, 1,
          "hold: round trips per connection (0: until --stop_file exists)");
ABSL_FLAG(int, max_size, 4096, "largest message in bytes");
ABSL_FLAG(std::string, ready_file, "",
          "hold: created once every connection completed a round trip");
ABSL_FLAG(std::string, stop_file, "",
          "stop starting new round trips once this file exists");
ABSL_FLAG(int, timeout_ms, 10000,
          "a connection with no progress for this long is an error");
ABSL_FLAG(std::string, gaps_ms, "0", "loop: pauses between connections");
ABSL_FLAG(int, min_size, 1, "smallest message in bytes");
ABSL_FLAG(int, stall_connections, 0,
          "hold: this many connections (the first) stop reading while "
          "--stall_file exists");
ABSL_FLAG(std::string, stall_file, "", "hold: see --stall_connections");
ABSL_FLAG(int, stall_size, 1 << 20,
          "hold: message size of a stalled connection");

namespace {

using Clock = std::chrono::steady_clock;

// xorshift64*: a cheap deterministic byte source, so every message differs and
// a lost, duplicated or reordered byte cannot go unnoticed.
uint64_t NextRandom(uint64_t& state) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 2685821657736338717ULL;
}

std::vector<std::string> errors_seen;
int64_t error_count = 0;

void RecordError(std::string text) {
  ++error_count;
  if (errors_seen.size() < 10) errors_seen.push_back(std::move(text));
}

bool StopRequested(const std::string& stop_file) {
  return !stop_file.empty() && access(stop_file.c_str(), F_OK) == 0;
}

// Connect blocks until the listening socket accepts the connection into its
// queue, which is what a client of a socket-activated service does.
int Connect(const std::string& path, std::string* error) {
  absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec("unix:" + path);
  if (!spec.ok()) {
    *error = absl::StrFormat("connect(%s): %s", path, spec.status().message());
    return -1;
  }
  absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Connect(*spec);
  if (!fd.ok()) {
    *error = std::string(fd.status().message());
    return -1;
  }
  return fd->release();
}

struct Conn {
  int fd = -1;
  int index = 0;
  uint64_t rng = 0;
  std::string message;
  size_t sent = 0;
  size_t received = 0;
  int64_t messages = 0;
  Clock::time_point last_progress;
  Clock::time_point started;
  bool timed = false;    // started after every connection was ready
  bool stalled = false;  // not reading (see --stall_connections)
  bool held = false;     // stalled and its send blocked
};

void StartMessage(Conn& c, int min_size, int max_size) {
  size_t size =
      static_cast<size_t>(min_size) +
      NextRandom(c.rng) % static_cast<uint64_t>(max_size - min_size + 1);
  c.message.resize(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t r = NextRandom(c.rng);
    memcpy(&c.message[i], &r, std::min<size_t>(8, size - i));
  }
  c.sent = 0;
  c.received = 0;
}

int Hold() {
  const std::string path = absl::GetFlag(FLAGS_socket);
  const int count = absl::GetFlag(FLAGS_connections);
  const int64_t limit = absl::GetFlag(FLAGS_messages);
  const int max_size = std::max(1, absl::GetFlag(FLAGS_max_size));
  const int min_size =
      std::min(max_size, std::max(1, absl::GetFlag(FLAGS_min_size)));
  const int stall_count = absl::GetFlag(FLAGS_stall_connections);
  const std::string stall_file = absl::GetFlag(FLAGS_stall_file);
  const int stall_size = std::max(1, absl::GetFlag(FLAGS_stall_size));
  // Thousands of connections: as many fds as the hard limit allows.
  (void)foobar::RaiseFdLimit();  // when it fails, connect() reports EMFILE
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  const std::string stop_file = absl::GetFlag(FLAGS_stop_file);
  const auto timeout =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    fprintf(stderr, "e2e_driver: epoll_create1: %s\n", strerror(errno));
    return 1;
  }
  std::vector<Conn> conns(count);
  int live = 0;
  for (int i = 0; i < count; ++i) {
    Conn& c = conns[i];
    c.index = i;
    c.rng = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(i + 1);
    std::string error;
    c.fd = Connect(path, &error);
    if (c.fd < 0) {
      RecordError(absl::StrFormat("conn %d: %s", i, error));
      continue;
    }
    if (absl::Status s = foobar::SetNonBlocking(c.fd); !s.ok()) {
      RecordError(absl::StrFormat("conn %d: %s", i, s.message()));
      close(c.fd);
      c.fd = -1;
      continue;
    }
    ++live;
  }
  // Messages start only once every connection is open, so all of them are
  // concurrent, not a sequence of short ones.
  for (Conn& c : conns) {
    if (c.fd < 0) continue;
    StartMessage(c, min_size, max_size);
    c.last_progress = Clock::now();
    c.started = c.last_progress;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = static_cast<uint32_t>(c.index);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      RecordError(
          absl::StrFormat("conn %d: epoll_ctl: %s", c.index, strerror(errno)));
      close(c.fd);
      c.fd = -1;
      --live;
    }
  }

  int64_t total_messages = 0, total_bytes = 0, mismatches = 0;
  int ready = 0;
  bool ready_written = false;
  bool stopping = false;
  bool stall = false;
  bool held_written = false;
  int64_t max_rtt_us = 0;
  int64_t stalled_bytes = 0;  // sent by stalled connections while stalled
  std::vector<char> buf(1 << 16);
  auto watch = [&](Conn& c) {
    epoll_event ev{};
    ev.events = 0;
    if (c.sent < c.message.size()) ev.events |= EPOLLOUT;
    if (!c.stalled && c.received < c.sent) ev.events |= EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(c.index);
    (void)epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);  // cannot fail here
  };
  auto finish = [&](Conn& c) {
    close(c.fd);  // Also removes it from the epoll set.
    c.fd = -1;
    --live;
  };
  std::vector<epoll_event> events(256);
  while (live > 0) {
    if (!stopping && StopRequested(stop_file)) stopping = true;
    if (stall_count > 0) {
      // Stopping ends a stall: every round trip must be able to finish.
      const bool want = !stopping && StopRequested(stall_file);
      if (want != stall) {
        stall = want;
        held_written = false;
        if (!stall) (void)unlink((stall_file + ".held").c_str());
        for (int i = 0; i < std::min(stall_count, count); ++i) {
          Conn& c = conns[i];
          if (c.fd < 0) continue;
          c.stalled = stall;
          c.held = false;
          c.last_progress = Clock::now();
          if (stall) {
            // More than any socket buffer takes: the daemon ends up holding
            // unsent bytes for this client.
            const size_t at = c.message.size();
            c.message.resize(at + static_cast<size_t>(stall_size));
            for (size_t k = at; k < c.message.size(); k += 8) {
              const uint64_t r = NextRandom(c.rng);
              memcpy(&c.message[k], &r,
                     std::min<size_t>(8, c.message.size() - k));
            }
          }
          watch(c);
        }
      }
      if (stall && !held_written) {
        bool all = true;
        for (int i = 0; i < std::min(stall_count, count); ++i) {
          Conn& c = conns[i];
          if (c.fd < 0 || c.held) continue;
          // Probe: a connection already blocked gets no EPOLLOUT, so ask.
          const ssize_t w = send(c.fd, c.message.data() + c.sent,
                                 c.message.size() - c.sent, MSG_NOSIGNAL);
          if (w > 0) {
            c.sent += static_cast<size_t>(w);
            stalled_bytes += w;
          }
          if ((w < 0 && errno == EAGAIN) || c.sent < c.message.size()) {
            c.held = true;
          } else {
            all = false;
          }
        }
        if (all) {
          FILE* f = fopen((stall_file + ".held").c_str(), "w");
          if (f != nullptr) fclose(f);
          held_written = true;
        }
      }
    }
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "e2e_driver: epoll_wait: %s\n", strerror(errno));
      return 1;
    }
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[k].data.u32];
      if (c.fd < 0) continue;
      std::string what;
      if (c.sent < c.message.size()) {
        ssize_t w = send(c.fd, c.message.data() + c.sent,
                         c.message.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) {
          c.sent += static_cast<size_t>(w);
          c.last_progress = Clock::now();
          if (c.stalled) {
            stalled_bytes += w;
            // A short send means the socket buffer is full: no EPOLLOUT
            // (so no EAGAIN) comes until the daemon reads again.
            if (c.sent < c.message.size()) c.held = true;
          }
        } else if (w < 0 && errno == EAGAIN && c.stalled) {
          c.held = true;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          what = absl::StrFormat("send: %s", strerror(errno));
        }
      }
      if (what.empty() && !c.stalled && c.received < c.sent) {
        ssize_t r = recv(c.fd, buf.data(),
                         std::min(buf.size(), c.sent - c.received), 0);
        if (r > 0) {
          if (memcmp(buf.data(), c.message.data() + c.received,
                     static_cast<size_t>(r)) != 0) {
            ++mismatches;
            what = absl::StrFormat("echo differs at byte %d of %d", c.received,
                                   c.message.size());
          }
          c.received += static_cast<size_t>(r);
          c.last_progress = Clock::now();
        } else if (r == 0) {
          what = absl::StrFormat("recv: end of stream after %d of %d bytes",
                                 c.received, c.message.size());
        } else if (errno != EAGAIN && errno != EINTR) {
          what = absl::StrFormat("recv: %s", strerror(errno));
        }
      }
      if (!what.empty()) {
        RecordError(absl::StrFormat("conn %d message %d: %s", c.index,
                                    c.messages, what));
        finish(c);
        continue;
      }
      if (c.received == c.message.size()) {
        if (c.timed && c.index >= stall_count) {
          max_rtt_us = std::max<int64_t>(
              max_rtt_us, std::chrono::duration_cast<std::chrono::microseconds>(
                              Clock::now() - c.started)
                              .count());
        }
        ++c.messages;
        ++total_messages;
        total_bytes += static_cast<int64_t>(c.message.size());
        if (c.messages == 1) ++ready;
        if ((limit > 0 && c.messages >= limit) || stopping) {
          finish(c);
          continue;
        }
        StartMessage(c, min_size, max_size);
        c.started = Clock::now();
        c.timed = ready == count;
        watch(c);  // re-arms EPOLLOUT
      } else if (c.sent == c.message.size()) {
        // Everything is sent: wait for input only, or EPOLLOUT would spin.
        watch(c);
      }
    }
    if (!ready_written && !ready_file.empty() && ready == count) {
      FILE* f = fopen(ready_file.c_str(), "w");
      if (f != nullptr) fclose(f);
      ready_written = true;
    }
    auto now = Clock::now();
    for (Conn& c : conns) {
      // A stalled connection makes no progress on purpose.
      if (c.fd >= 0 && !c.stalled && now - c.last_progress > timeout) {
        RecordError(absl::StrFormat(
            "conn %d message %d: no progress for %d ms (%d/%d sent, "
            "%d received)",
            c.index, c.messages, absl::GetFlag(FLAGS_timeout_ms), c.sent,
            c.message.size(), c.received));
        finish(c);
      }
    }
  }
  close(ep);
  int64_t min_per_conn = count > 0 ? conns[0].messages : 0;
  for (const Conn& c : conns) min_per_conn = std::min(min_per_conn, c.messages);
  printf(
      "hold connections=%d messages=%lld bytes=%lld errors=%lld "
      "mismatches=%lld "
      "min_per_conn=%lld max_rtt_us=%lld stalled_bytes=%lld\n",
      count, static_cast<long long>(total_messages),
      static_cast<long long>(total_bytes), static_cast<long long>(error_count),
      static_cast<long long>(mismatches), static_cast<long long>(min_per_conn),
      static_cast<long long>(max_rtt_us),
      static_cast<long long>(stalled_bytes));
  return error_count == 0 && mismatches == 0 && min_per_conn >= 1 ? 0 : 1;
}

// OneRoundTrip: connect, send a 64-byte message, read its echo, close.
bool OneRoundTrip(const std::string& path, int64_t iteration, int timeout_ms,
                  std::string* error) {
  int fd = Connect(path, error);
  if (fd < 0) return false;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                   sizeof(tv));  // Best effort.
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string message =
      absl::StrFormat("loop %063d", iteration).substr(0, 63) + "\n";
  size_t sent = 0;
  while (sent < message.size()) {
    ssize_t w =
        send(fd, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      *error = absl::StrFormat("send: %s", strerror(errno));
      close(fd);
      return false;
    }
    sent += static_cast<size_t>(w);
  }
  std::string echo;
  char buf[128];
  while (echo.size() < message.size()) {
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      *error = absl::StrFormat("recv: %s", strerror(errno));
      close(fd);
      return false;
    }
    if (r == 0) {
      *error = absl::StrFormat("recv: end of stream after %d of %d bytes",
                               echo.size(), message.size());
      close(fd);
      return false;
    }
    echo.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  if (echo != message) {
    *error = "echo differs from the message";
    return false;
  }
  return true;
}

int Loop() {
  const std::string path = absl::GetFlag(FLAGS_socket);
  const std::string stop_file = absl::GetFlag(FLAGS_stop_file);
  std::vector<int> gaps;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_gaps_ms), ',')) {
    int gap = 0;
    if (!absl::SimpleAtoi(part, &gap) || gap < 0) {
      fprintf(stderr,
              "e2e_driver: --gaps_ms: '%s' is not a number of milliseconds\n",
              std::string(part).c_str());
      return 2;
    }
    gaps.push_back(gap);
  }
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  int64_t iterations = 0, failures = 0, last_failure = -1;
  for (size_t g = 0;; ++g) {
    if (stop_file.empty() ? g >= gaps.size() : StopRequested(stop_file)) break;
    std::string error;
    if (!OneRoundTrip(path, iterations, absl::GetFlag(FLAGS_timeout_ms),
                      &error)) {
      ++failures;
      last_failure = iterations;
      RecordError(absl::StrFormat("iteration %d: %s", iterations, error));
    } else if (!ready_file.empty() && access(ready_file.c_str(), F_OK) != 0) {
      // Re-created after every success once a script removed it, so the
      // script can wait for "served again" after breaking something.
      FILE* f = fopen(ready_file.c_str(), "w");
      if (f != nullptr) fclose(f);
    }
    ++iterations;
    // The pauses are the scenario itself (connecting just before and just
    // after the daemon's idle exit), not a wait for something awaitable.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(gaps[g % gaps.size()]));
  }
  printf("loop iterations=%lld failures=%lld last_failure=%lld\n",
         static_cast<long long>(iterations), static_cast<long long>(failures),
         static_cast<long long>(last_failure));
  return failures == 0 ? 0 : 1;
}

int Refused() {
  const std::string path = absl::GetFlag(FLAGS_socket);
  const int count = absl::GetFlag(FLAGS_connections);
  const int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  std::vector<pollfd> fds;
  for (int i = 0; i < count; ++i) {
    std::string error;
    const int fd = Connect(path, &error);
    if (fd < 0) {
      RecordError(absl::StrFormat("conn %d: %s", i, error));
      continue;
    }
    fds.push_back(pollfd{fd, POLLIN, 0});
  }
  // Every connection is open before any is checked, so all of them are
  // beyond the limit at once.
  int64_t closed = 0;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t waiting = fds.size();
  while (waiting > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - Clock::now())
                          .count();
    if (left <= 0) break;
    const int n = poll(fds.data(), fds.size(), static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      RecordError(absl::StrFormat("poll: %s", strerror(errno)));
      break;
    }
    for (pollfd& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      char byte;
      const ssize_t r = recv(p.fd, &byte, 1, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r == 0) {
        ++closed;
      } else if (r > 0) {
        RecordError(
            absl::StrFormat("fd %d: got a byte, not end of stream", p.fd));
      } else {
        RecordError(absl::StrFormat("fd %d: recv: %s", p.fd, strerror(errno)));
      }
      close(p.fd);
      p.fd = -1;  // poll() ignores it from now on
      --waiting;
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  printf("refused connections=%d closed=%lld open=%zu errors=%lld\n", count,
         static_cast<long long>(closed), waiting,
         static_cast<long long>(error_count));
  return closed == count && error_count == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  int rc;
  if (mode == "hold") {
    rc = Hold();
  } else if (mode == "loop") {
    rc = Loop();
  } else if (mode == "refused") {
    rc = Refused();
  } else {
    fprintf(stderr,
            "e2e_driver: --mode must be hold, loop or refused, not '%s'\n",
            mode.c_str());
    return 2;
  }
  for (const std::string& e : errors_seen)
    fprintf(stderr, "e2e_driver: %s\n", e.c_str());
  return rc;
}
