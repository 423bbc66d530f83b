// daemon/read_buffer.h: the one read buffer every socket of foobard shares.
//
// It is the largest datagram/seqpacket message echoed whole, and the most read
// per recv(). It lives in .bss: its pages are touched only when used, and the
// hot path never allocates. One thread uses it, and only between a read and
// the echo of what was read.
//
// Example:
//
//   int fds[2];
//   if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) != 0) {
//     return 1;
//   }
//   if (::send(fds[1], "ping", 4, 0) != 4) return 1;
//   // One recv() takes a whole datagram of up to 64 KiB, with no allocation:
//   const ssize_t n = ::recv(fds[0], foobard::g_read_buffer,
//                            foobard::kReadBufferSize, MSG_DONTWAIT);
//   if (n < 0) return 1;  // n == 4: "ping"
//   // The echo goes out before the next read reuses the buffer.
//   const size_t len = static_cast<size_t>(n);
//   if (::send(fds[0], foobard::g_read_buffer, len, 0) != n) return 1;
//   ::close(fds[0]);
//   ::close(fds[1]);
#ifndef DAEMON_READ_BUFFER_H_
#define DAEMON_READ_BUFFER_H_

#include <cstddef>

namespace foobard {

// kReadBufferSize is 64 KiB: the largest datagram foobard echoes whole.
inline constexpr size_t kReadBufferSize = 64 * 1024;

// g_read_buffer is the shared buffer (one definition, C++17 inline).
alignas(64) inline char g_read_buffer[kReadBufferSize];

}  // namespace foobard

#endif  // DAEMON_READ_BUFFER_H_
