#include "client/line_mode.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/io.h"
#include "client/target.h"
#include "sdfd/errno_status.h"

namespace foobar::client {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr char kPrompt[] = "foobar> ";

// Exchange sends `data` and collects its echo into `echo`. Without
// `half_close` it stops when exactly data.size() bytes came back (reading
// no further, so the next echo is never merged into this one). With it,
// it shuts down the sending side once everything is sent and reads until
// the server closes.
absl::Status Exchange(int fd, absl::string_view data, bool half_close,
                      const LineModeOptions& options, std::string* echo) {
  echo->clear();
  size_t sent = 0;
  bool shut = false;
  bool eof = false;
  const int timeout_ms = PollMillis(options.timeout);
  for (;;) {
    if (half_close && sent == data.size() && !shut) {
      if (shutdown(fd, SHUT_WR) != 0) {
        return TransferError(options.target, "shutdown", errno);
      }
      shut = true;
    }
    if (half_close ? eof : echo->size() == data.size()) break;
    if (eof) {
      return ClosedEarlyError(options.target, echo->size(), data.size());
    }
    pollfd p{
        fd, static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return sdfd::ErrnoError(errno, "poll(socket)");
    }
    if (ready == 0) return EchoTimeoutError(options.target, options.timeout);
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      // Read only what this exchange still expects, so that bytes of a
      // later echo are never taken for this one.
      const size_t want =
          half_close ? kReadChunk
                     : std::min(kReadChunk, data.size() - echo->size());
      const size_t old_size = echo->size();
      echo->resize(old_size + want);
      const ssize_t n = recv(fd, &(*echo)[old_size], want, MSG_DONTWAIT);
      echo->resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
      if (n == 0) {
        eof = true;
        if (half_close && echo->size() < data.size()) {
          return ClosedEarlyError(options.target, echo->size(), data.size());
        }
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return TransferError(options.target, "recv", errno);
      }
    }
    if ((p.revents & (POLLOUT | POLLERR)) && sent < data.size() && !eof) {
      // MSG_NOSIGNAL: a server that goes away must give EPIPE, not kill us.
      const ssize_t n = send(fd, data.data() + sent, data.size() - sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return TransferError(options.target, "send", errno);
      }
    }
  }
  return absl::OkStatus();
}

// WaitForLine blocks until `reader` holds a complete line or the input
// ended, watching the socket meanwhile: a server that closes or resets an
// idle connection is reported at once, not at the next line.
absl::Status WaitForLine(int fd, LineReader& reader,
                         const LineModeOptions& options, std::string* line,
                         bool* end_of_input) {
  bool prompted = false;
  *end_of_input = false;
  while (!reader.TakeLine(line)) {
    if (reader.eof()) {
      *line = reader.TakeRest();
      *end_of_input = true;
      if (options.prompt_fd >= 0) {
        // End the prompt's line, as a shell does on Ctrl-D.
        (void)WriteAll(options.prompt_fd, "\n", "stderr");  // cosmetic
      }
      return absl::OkStatus();
    }
    if (options.prompt_fd >= 0 && !prompted) {
      // A prompt that cannot be shown is no reason to stop echoing.
      (void)WriteAll(options.prompt_fd, kPrompt, "stderr");
      prompted = true;
    }
    pollfd p[2] = {{options.in_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return sdfd::ErrnoError(errno, "poll(stdin, socket)");
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[4096];
      const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0) return ServerClosedError(options.target);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return TransferError(options.target, "recv", errno);
      }
      if (n > 0) {
        // Bytes nobody asked for; an echo client shows what it receives.
        absl::Status s =
            WriteAll(options.out_fd, absl::string_view(buffer, n), "stdout");
        if (!s.ok()) return s;
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
      if (p[0].revents & POLLNVAL) {
        // A closed stdin is an empty input.
        *line = reader.TakeRest();
        *end_of_input = true;
        return absl::OkStatus();
      }
      absl::Status s = reader.Fill();
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LineReader::Fill() {
  // Drop consumed bytes once they dominate, so memory stays near one line.
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kReadChunk);
  ssize_t n;
  do {
    n = read(fd_, &buffer_[old_size], kReadChunk);
  } while (n < 0 && errno == EINTR);
  buffer_.resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
  if (n == 0) eof_ = true;
  if (n < 0 && errno != EAGAIN) {
    return sdfd::ErrnoError(errno, "read(stdin)");
  }
  return absl::OkStatus();
}

bool LineReader::TakeLine(std::string* line) {
  const char* begin = buffer_.data() + start_ + scanned_;
  const size_t left = buffer_.size() - start_ - scanned_;
  const void* newline = std::memchr(begin, '\n', left);
  if (newline == nullptr) {
    scanned_ += left;
    return false;
  }
  const size_t length = static_cast<size_t>(static_cast<const char*>(newline) -
                                            (buffer_.data() + start_)) +
                        1;
  line->assign(buffer_, start_, length);
  start_ += length;
  scanned_ = 0;
  return true;
}

std::string LineReader::TakeRest() {
  std::string rest = buffer_.substr(start_);
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  return rest;
}

absl::Status RunLineMode(int socket_fd, const LineModeOptions& options) {
  LineReader reader(options.in_fd);
  std::string line;
  std::string echo;
  for (;;) {
    bool end_of_input = false;
    absl::Status s =
        WaitForLine(socket_fd, reader, options, &line, &end_of_input);
    if (!s.ok()) return s;
    if (end_of_input) break;
    s = Exchange(socket_fd, line, /*half_close=*/false, options, &echo);
    if (!s.ok()) return s;
    s = WriteAll(options.out_fd, echo, "stdout");
    if (!s.ok()) return s;
  }
  // The last line (possibly empty) goes out with the half-close, and
  // anything the server still sends is printed until it closes.
  absl::Status s =
      Exchange(socket_fd, line, /*half_close=*/true, options, &echo);
  if (!s.ok()) return s;
  return WriteAll(options.out_fd, echo, "stdout");
}

absl::Status RunMessage(int socket_fd, absl::string_view message,
                        const LineModeOptions& options) {
  const std::string line = absl::StrCat(message, "\n");
  std::string echo;
  absl::Status s =
      Exchange(socket_fd, line, /*half_close=*/true, options, &echo);
  if (!s.ok()) return s;
  return WriteAll(options.out_fd, echo, "stdout");
}

}  // namespace foobar::client
