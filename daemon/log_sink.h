// daemon/log_sink.h: where foobard's log lines go, without ever waiting for
// whoever reads them.
//
// foobard's stderr may be journald's stream socket, a pipe, a terminal or a
// file, and its reader may stop reading: a stopped or throttled journald,
// `foobard --verbose 2>&1 | sleep 600`. A blocking write there would freeze
// the event loop, SIGTERM included. A LogSink never waits:
//   * Write() queues a line in a bounded buffer and tries a non-blocking
//     write at once. When the sink takes no more, WantsWritable() turns true
//     and the event loop watches fd() for EPOLLOUT and calls Flush().
//   * When the buffer is full too, lines are dropped and counted. Once the
//     buffer has drained, one more line says how many:
//     "<4>dropped N log lines: the log sink was not reading".
//
// How a write is made non-blocking without setting O_NONBLOCK on the file
// description fd 2 shares with whoever started foobard (a shell, a terminal:
// their own writes would then fail with EAGAIN):
//   * kSocket (journald's stream): send(MSG_DONTWAIT) on the fd itself; the
//     flag acts on this one call only.
//   * kReopened (a pipe, a FIFO, a terminal): /proc/self/fd/N opened again
//     with O_NONBLOCK. That is a new file description of the same pipe or
//     terminal, so the flag stays ours.
//   * kDirect (a regular file, /dev/null, any other non-terminal device):
//     write(2) on the fd itself. The kernel never makes such a write wait for
//     a reader, epoll cannot watch these files anyway, and reopening a file
//     would lose the shared offset that O_APPEND-less redirections rely on.
//   * kThread (a pipe or terminal that cannot be reopened: foobard runs as
//     another user than the pipe's creator, as under runuser or setpriv, or
//     /proc is missing): a writer thread of the sink's own makes the
//     blocking writes; Write() only queues under a lock. reopen_error() says
//     why the pipe could not be reopened. At exit the thread may still be
//     stuck in write(2); it is detached and ends with the process.
//   * kNone: the fd is not open; every line is dropped.
// The reopened descriptor is preferred to the thread where it works: it
// needs no second thread and no locking on every line.
//
// Lines are written whole, several per write(2) up to PIPE_BUF bytes, so on
// a pipe they never interleave mid-line with other writers (a single line
// longer than PIPE_BUF excepted). Not thread-safe: foobard logs from its one
// thread.
//
// Example:
//
//   foobard::LogSink sink(STDERR_FILENO);
//   sink.Write("<6>serving\n");
//   if (sink.WantsWritable()) {
//     const int watch_for_epollout = sink.fd();  // borrowed; then:
//     sink.Flush();
//   }
//   // error path: nothing to check; a broken sink drops lines silently.
#ifndef DAEMON_LOG_SINK_H_
#define DAEMON_LOG_SINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "sdfd/unique_fd.h"

namespace foobard {

class LogSink {
 public:
  // kDefaultCapacity bounds the bytes queued while the sink is not reading:
  // about a thousand per-connection lines.
  static constexpr size_t kDefaultCapacity = 64 * 1024;

  // Kind is how the sink writes (see the file comment).
  enum class Kind { kSocket, kReopened, kDirect, kThread, kNone };

  // LogSink writes to `fd`, which it does not own and must stay open for
  // the sink's lifetime. `capacity` bounds the queued bytes (> 0).
  explicit LogSink(int fd, size_t capacity = kDefaultCapacity);
  // The destructor makes one last non-blocking attempt; whatever the sink
  // does not take then is lost.
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  Kind kind() const { return kind_; }
  // reopen_error is why a pipe or terminal could not be reopened (then
  // kind() is kThread), or empty.
  const std::string& reopen_error() const { return reopen_error_; }

  // Write queues `line` (one whole line, ending in '\n') and writes what the
  // sink takes now. A line that does not fit in the buffer is dropped and
  // counted.
  void Write(absl::string_view line);
  // Flush writes queued lines until the sink would block or the buffer is
  // empty; when it empties after drops, it queues and writes the line with
  // the count. A sink that fails (EPIPE: nobody will ever read) discards
  // what is queued.
  void Flush();
  // WantsWritable is true while lines wait for the sink to take more; the
  // caller then watches fd() for EPOLLOUT and calls Flush() when it fires.
  bool WantsWritable() const { return blocked_ && watchable_; }
  // fd is the descriptor to watch (the reopened one for kReopened).
  int fd() const { return reopened_.valid() ? reopened_.get() : fd_; }

  // queued_bytes and dropped_lines (since the last report) are for tests;
  // with kThread they are those of the writer thread's queue.
  size_t queued_bytes() const;
  uint64_t dropped_lines() const;

  // ThreadQueue is what Write() and the writer thread share (kThread).
  struct ThreadQueue;

 private:
  ssize_t WriteSome(const char* data, size_t size);
  void StartThread();

  int fd_;
  sdfd::UniqueFd reopened_;
  Kind kind_ = Kind::kNone;
  std::string reopen_error_;
  bool watchable_ = false;  // epoll can watch fd() (sockets, pipes, ttys)
  size_t capacity_;
  std::string buffer_;  // queued bytes start at head_
  size_t head_ = 0;
  bool blocked_ = false;  // the last write would have blocked
  uint64_t dropped_ = 0;
  // kThread: shared with the detached writer thread, which may outlive the
  // sink.
  std::shared_ptr<ThreadQueue> thread_queue_;
};

}  // namespace foobard

#endif  // DAEMON_LOG_SINK_H_
