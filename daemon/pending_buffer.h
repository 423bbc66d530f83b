// daemon/pending_buffer.h: the bytes a connection still owes its client.
//
// An idle connection must cost almost nothing, so a PendingBuffer holds no
// memory while it is empty: storage is malloc'd when the first unsent byte
// arrives and freed as soon as the last one is sent. The object itself is 16
// bytes. The caller bounds its size (--buffer_limit); Append() only grows.
//
// Example:
//
//   int fds[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) {
//     return 1;
//   }
//   const char buf[] = "hello";
//   ssize_t sent = ::send(fds[0], buf, 5, MSG_NOSIGNAL);
//   if (sent < 0) sent = 0;  // EAGAIN: nothing went (other errors: close)
//   foobard::PendingBuffer pending;
//   pending.Append(buf + sent, 5 - static_cast<size_t>(sent));  // the rest
//   const ssize_t w =
//       ::send(fds[0], pending.data(), pending.size(), MSG_NOSIGNAL);
//   if (w > 0) pending.Consume(static_cast<size_t>(w));  // frees when drained
#ifndef DAEMON_PENDING_BUFFER_H_
#define DAEMON_PENDING_BUFFER_H_

#include <cstddef>
#include <cstdint>

namespace foobard {

// PendingBuffer is a FIFO of bytes backed by one heap block that exists only
// while the FIFO is non-empty. Sizes are 32-bit: --buffer_limit is capped
// far below 4 GiB. Move-only.
class PendingBuffer {
 public:
  PendingBuffer() = default;
  PendingBuffer(const PendingBuffer&) = delete;
  PendingBuffer& operator=(const PendingBuffer&) = delete;
  PendingBuffer(PendingBuffer&& other) noexcept;
  PendingBuffer& operator=(PendingBuffer&& other) noexcept;
  ~PendingBuffer() { Clear(); }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // capacity() is the heap block's size (0 when nothing is pending).
  size_t capacity() const { return capacity_; }
  // data() points at the first unsent byte; valid until the next mutation.
  const char* data() const { return block_ + offset_; }

  // Append copies n bytes to the end. It aborts on allocation failure (the
  // sizes are bounded by --buffer_limit, so that means the system is out of
  // memory, where no recovery is sensible).
  void Append(const char* bytes, size_t n);
  // Consume drops the first n bytes (n <= size()); the block is freed when
  // nothing is left.
  void Consume(size_t n);
  // Clear drops everything and frees the block.
  void Clear();

 private:
  char* block_ = nullptr;
  uint32_t offset_ = 0;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace foobard

#endif  // DAEMON_PENDING_BUFFER_H_
