#include "client/raw_mode.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "client/io.h"
#include "client/target.h"
#include "sdfd/errno_status.h"

namespace foobar::client {
namespace {

constexpr size_t kBufferSize = 256 * 1024;

// Buffer is a fixed byte queue that is refilled only once it is empty,
// which keeps every read and write one contiguous call.
struct Buffer {
  std::unique_ptr<char[]> bytes{new char[kBufferSize]};
  size_t begin = 0;
  size_t end = 0;
  bool empty() const { return begin == end; }
  void Consumed(size_t n) {
    begin += n;
    if (begin == end) begin = end = 0;
  }
};

}  // namespace

absl::Status RunRawMode(int socket_fd, const RawModeOptions& options) {
  Buffer to_server;  // stdin -> socket
  Buffer to_out;     // socket -> stdout
  bool in_eof = false;
  bool shut = false;
  bool server_eof = false;
  uint64_t sent = 0;
  uint64_t received = 0;
  const int timeout_ms = PollMillis(options.timeout);

  while (!(server_eof && to_out.empty())) {
    if (in_eof && to_server.empty() && !shut) {
      if (shutdown(socket_fd, SHUT_WR) != 0) {
        return TransferError(options.target, "shutdown", errno);
      }
      shut = true;
    }
    // poll() entries: 0 stdin, 1 socket, 2 stdout. A negative fd is
    // skipped by poll(), which is how a direction is switched off.
    pollfd p[3] = {
        {(!in_eof && to_server.empty()) ? options.in_fd : -1, POLLIN, 0},
        {socket_fd,
         static_cast<short>((!server_eof && to_out.empty() ? POLLIN : 0) |
                            (!to_server.empty() ? POLLOUT : 0)),
         0},
        {!to_out.empty() ? options.out_fd : -1, POLLOUT, 0},
    };
    if (p[1].events == 0) p[1].fd = -1;
    // Waiting on the server (and only on it) is bounded by the timeout:
    // a slow stdin or stdout is the user's business.
    const bool waiting_on_server =
        p[0].fd < 0 && p[2].fd < 0 && p[1].fd >= 0 &&
        (sent > received || !to_server.empty() || shut);
    const int ready = poll(p, 3, waiting_on_server ? timeout_ms : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return sdfd::ErrnoError(errno, "poll(stdin, socket, stdout)");
    }
    if (ready == 0) return EchoTimeoutError(options.target, options.timeout);

    if (p[0].fd >= 0 && p[0].revents != 0) {
      if (p[0].revents & POLLNVAL) {
        in_eof = true;  // no stdin at all is an empty input
      } else {
        const ssize_t n =
            read(options.in_fd, to_server.bytes.get(), kBufferSize);
        if (n > 0) {
          to_server.end = static_cast<size_t>(n);
        } else if (n == 0) {
          in_eof = true;
        } else if (errno != EINTR && errno != EAGAIN) {
          return sdfd::ErrnoError(errno, "read(stdin)");
        }
      }
    }
    if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
        !server_eof && to_out.empty()) {
      const ssize_t n =
          recv(socket_fd, to_out.bytes.get(), kBufferSize, MSG_DONTWAIT);
      if (n > 0) {
        to_out.end = static_cast<size_t>(n);
        received += static_cast<uint64_t>(n);
      } else if (n == 0) {
        server_eof = true;
        if (!shut) return ServerClosedError(options.target);
      } else if (errno != EINTR && errno != EAGAIN) {
        return TransferError(options.target, "recv", errno);
      }
    }
    if (p[1].fd >= 0 && (p[1].revents & (POLLOUT | POLLERR)) &&
        !to_server.empty()) {
      const ssize_t n =
          send(socket_fd, to_server.bytes.get() + to_server.begin,
               to_server.end - to_server.begin, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        to_server.Consumed(static_cast<size_t>(n));
        sent += static_cast<uint64_t>(n);
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return TransferError(options.target, "send", errno);
      }
    }
    if (p[2].fd >= 0 && p[2].revents != 0) {
      const ssize_t n = write(options.out_fd, to_out.bytes.get() + to_out.begin,
                              to_out.end - to_out.begin);
      if (n > 0) {
        to_out.Consumed(static_cast<size_t>(n));
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return sdfd::ErrnoError(errno, "write(stdout)");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace foobar::client
