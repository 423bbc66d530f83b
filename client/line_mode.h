// client/line_mode.h: foobar's default mode, one line at a time, and
// --message.
//
// Each line read from the input is sent and its complete echo is printed
// before the next line is read: the output is never half an echo, and two
// lines are never merged. Sending and receiving interleave, so a line far
// bigger than the socket buffers plus the server's per-connection buffer
// (1 MiB against 256 KiB) cannot deadlock. At the end of the input the
// connection is half-closed and whatever the server still sends is printed
// until it closes.
//
// Example:
//   const int fd = 3;  // connected to the server (client/target.h)
//   foobar::client::LineModeOptions options;
//   options.target = "/run/foobar.sk";
//   absl::Status s = foobar::client::RunLineMode(fd, options);
//   if (!s.ok()) return 1;  // "no echo from /run/foobar.sk within 10s (...)"
#ifndef CLIENT_LINE_MODE_H_
#define CLIENT_LINE_MODE_H_

#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace foobar::client {

// LineModeOptions says where a line session reads, writes and prompts.
struct LineModeOptions {
  std::string target;  // DisplayName() of the server, for messages
  // The longest wait for the next byte of an outstanding echo (or for room
  // to send); absl::InfiniteDuration() waits forever.
  absl::Duration timeout = absl::Seconds(10);
  int in_fd = STDIN_FILENO;
  int out_fd = STDOUT_FILENO;
  // When >= 0, a prompt is written here before each line is read (the
  // interactive case: stdin is a terminal).
  int prompt_fd = -1;
};

// RunLineMode echoes `options.in_fd` line by line through the connected
// stream socket `socket_fd` until the input ends and the server closes.
// A last line without a newline is sent as is. Echoed bytes that differ
// from what was sent are printed as they came back (this is an echo
// client, not a validator; --bench checks every byte).
absl::Status RunLineMode(int socket_fd, const LineModeOptions& options);

// RunMessage sends `message` and a newline, half-closes, and prints
// everything that comes back until the server closes.
absl::Status RunMessage(int socket_fd, absl::string_view message,
                        const LineModeOptions& options);

// LineReader splits a descriptor's bytes into lines, keeping each line's
// '\n'. It reads in large chunks and never loses bytes between lines.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // Fill reads once (blocking unless `fd` is non-blocking); at the end of
  // input it sets eof(). EAGAIN is not an error: nothing was read.
  absl::Status Fill();
  // TakeLine moves the next complete line, '\n' included, into `line`;
  // false when no complete line is buffered.
  bool TakeLine(std::string* line);
  // TakeRest moves out the buffered bytes that end without a newline.
  std::string TakeRest();
  bool eof() const { return eof_; }

 private:
  int fd_;
  std::string buffer_;
  size_t start_ = 0;    // first byte not yet returned
  size_t scanned_ = 0;  // bytes from start_ known to hold no '\n'
  bool eof_ = false;
};

}  // namespace foobar::client

#endif  // CLIENT_LINE_MODE_H_
