// daemon/log_sink.cc: see log_sink.h.
#include "daemon/log_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace foobard {
namespace {

// kChunk is the most one write(2) carries: up to PIPE_BUF bytes a pipe
// write is atomic, so whole lines never interleave with other writers.
constexpr size_t kChunk = PIPE_BUF;

// NextChunk is how many bytes of `rest` the next write carries: whole lines
// up to kChunk bytes; a longer line goes alone.
size_t NextChunk(absl::string_view rest) {
  size_t size = rest.size();
  if (size > kChunk) {
    const size_t last_newline = rest.rfind('\n', kChunk - 1);
    size = last_newline != absl::string_view::npos ? last_newline + 1
                                                   : rest.find('\n') + 1;
    if (size == 0) size = rest.size();  // no newline at all
  }
  return size;
}

// DroppedLine is the line that reports `n` dropped lines.
std::string DroppedLine(uint64_t n) {
  return absl::StrCat("<4>dropped ", n,
                      " log lines: the log sink was not reading\n");
}

}  // namespace

struct LogSink::ThreadQueue {
  explicit ThreadQueue(int fd, size_t capacity) : fd(fd), capacity(capacity) {}
  const int fd;
  const size_t capacity;
  mutable absl::Mutex mu;
  std::string queued ABSL_GUARDED_BY(mu);
  size_t in_flight ABSL_GUARDED_BY(mu) = 0;  // taken, not yet written
  uint64_t dropped ABSL_GUARDED_BY(mu) = 0;
  bool stop ABSL_GUARDED_BY(mu) = false;

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return !queued.empty() || dropped > 0 || stop;
  }
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return queued.empty() && in_flight == 0;
  }

  // Run is the writer thread: it takes what is queued and writes it with
  // blocking writes, then reports drops once the queue is empty.
  static void Run(std::shared_ptr<ThreadQueue> q) {
    for (;;) {
      std::string batch;
      {
        absl::MutexLock lock(&q->mu);
        q->mu.Await(absl::Condition(q.get(), &ThreadQueue::HasWork));
        if (q->queued.empty() && q->dropped == 0) return;  // stop, drained
        batch.swap(q->queued);
        if (batch.empty()) {
          batch = DroppedLine(q->dropped);
          q->dropped = 0;
        }
        q->in_flight = batch.size();
      }
      absl::string_view rest(batch);
      while (!rest.empty()) {
        const ssize_t n = ::write(q->fd, rest.data(), NextChunk(rest));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EPIPE, EIO, ...: nowhere to deliver or report
        rest.remove_prefix(static_cast<size_t>(n));
      }
      absl::MutexLock lock(&q->mu);
      q->in_flight = 0;
    }
  }
};

LogSink::LogSink(int fd, size_t capacity) : fd_(fd), capacity_(capacity) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    kind_ = Kind::kNone;
    return;
  }
  if (S_ISSOCK(st.st_mode)) {
    kind_ = Kind::kSocket;
    watchable_ = true;
    return;
  }
  if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && ::isatty(fd) == 1)) {
    const std::string path = absl::StrCat("/proc/self/fd/", fd);
    reopened_.reset(
        ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (reopened_.valid()) {
      kind_ = Kind::kReopened;
      watchable_ = true;
      return;
    }
    // ENXIO: a pipe nobody reads any more; its writes fail at once with
    // EPIPE, so writing it directly cannot block either.
    if (errno != ENXIO) {
      reopen_error_ =
          absl::StrCat("open(", path, ", O_NONBLOCK): ", std::strerror(errno));
      StartThread();
      return;
    }
  }
  kind_ = Kind::kDirect;
}

void LogSink::StartThread() {
  kind_ = Kind::kThread;
  thread_queue_ = std::make_shared<ThreadQueue>(fd_, capacity_);
  std::thread(&ThreadQueue::Run, thread_queue_).detach();
}

LogSink::~LogSink() {
  if (kind_ != Kind::kThread) {
    Flush();
    return;
  }
  // The last lines (the exit reason) get a short grace to go out; a reader
  // that is not reading does not hold up the exit.
  absl::MutexLock lock(&thread_queue_->mu);
  thread_queue_->stop = true;
  thread_queue_->mu.AwaitWithTimeout(
      absl::Condition(thread_queue_.get(), &ThreadQueue::Drained),
      absl::Milliseconds(100));
}

size_t LogSink::queued_bytes() const {
  if (kind_ != Kind::kThread) return buffer_.size() - head_;
  absl::MutexLock lock(&thread_queue_->mu);
  return thread_queue_->queued.size() + thread_queue_->in_flight;
}

uint64_t LogSink::dropped_lines() const {
  if (kind_ != Kind::kThread) return dropped_;
  absl::MutexLock lock(&thread_queue_->mu);
  return thread_queue_->dropped;
}

ssize_t LogSink::WriteSome(const char* data, size_t size) {
  switch (kind_) {
    case Kind::kSocket:
      return ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    case Kind::kReopened:
      return ::write(reopened_.get(), data, size);
    case Kind::kDirect:
      return ::write(fd_, data, size);
    case Kind::kThread:
    case Kind::kNone:
      break;
  }
  errno = EBADF;
  return -1;
}

void LogSink::Write(absl::string_view line) {
  if (kind_ == Kind::kNone) return;
  if (kind_ == Kind::kThread) {
    ThreadQueue& q = *thread_queue_;
    absl::MutexLock lock(&q.mu);
    if (q.queued.size() + q.in_flight + line.size() > q.capacity) {
      ++q.dropped;
    } else {
      q.queued.append(line.data(), line.size());
    }
    return;
  }
  if (queued_bytes() + line.size() > capacity_) {
    ++dropped_;
    return;
  }
  if (head_ > 0 && buffer_.size() + line.size() > capacity_) {
    buffer_.erase(0, head_);
    head_ = 0;
  }
  buffer_.append(line.data(), line.size());
  // While blocked, the event loop calls Flush() when the sink is writable;
  // a sink it cannot watch is retried on every line.
  if (!WantsWritable()) Flush();
}

void LogSink::Flush() {
  if (kind_ == Kind::kThread) return;  // the writer thread flushes
  for (;;) {
    while (head_ < buffer_.size()) {
      absl::string_view rest(buffer_.data() + head_, buffer_.size() - head_);
      const ssize_t n = WriteSome(rest.data(), NextChunk(rest));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        blocked_ = true;
        return;
      }
      if (n <= 0) {
        // EPIPE, EBADF, EIO, ENOSPC: nothing queued can be delivered, and
        // there is nowhere to report it.
        buffer_.clear();
        head_ = 0;
        dropped_ = 0;
        blocked_ = false;
        return;
      }
      head_ += static_cast<size_t>(n);
    }
    buffer_.clear();
    head_ = 0;
    blocked_ = false;
    if (dropped_ == 0) return;
    // Drained after drops: the count goes out as soon as there is room,
    // which an empty buffer always has.
    buffer_ = DroppedLine(dropped_);
    dropped_ = 0;
  }
}

}  // namespace foobard
