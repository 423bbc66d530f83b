// client/raw_mode.h: --raw, a binary-safe full-duplex byte pipe
// stdin -> socket -> stdout, like `nc -U`.
//
// Both directions are served by one poll() loop, so an input far larger
// than what the server buffers (it stops reading a connection holding
// 256 KiB of unsent echo) keeps flowing instead of deadlocking. At the end
// of the input the socket is half-closed; the mode ends when the server
// closes and everything it sent has been written out.
//
// Example:
//   const int fd = 3;  // connected to the server (client/target.h)
//   foobar::client::RawModeOptions options;
//   options.target = "/run/foobar.sk";
//   absl::Status s = foobar::client::RunRawMode(fd, options);
//   if (!s.ok()) return 1;  // "connection to /run/foobar.sk was reset ..."
#ifndef CLIENT_RAW_MODE_H_
#define CLIENT_RAW_MODE_H_

#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace foobar::client {

// RawModeOptions says where the pipe reads and writes.
struct RawModeOptions {
  std::string target;  // DisplayName() of the server, for messages
  // The longest time the server may keep us waiting (for an echo of bytes
  // already sent, for room to send, or for its close after ours).
  absl::Duration timeout = absl::Seconds(10);
  int in_fd = STDIN_FILENO;
  int out_fd = STDOUT_FILENO;
};

// RunRawMode copies `options.in_fd` to the connected stream socket
// `socket_fd` and the socket to `options.out_fd` until both directions
// have ended. A server that closes before the input has all been sent is
// an error.
absl::Status RunRawMode(int socket_fd, const RawModeOptions& options);

}  // namespace foobar::client

#endif  // CLIENT_RAW_MODE_H_
