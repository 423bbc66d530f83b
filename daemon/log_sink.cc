// daemon/log_sink.cc: see log_sink.h.
#include "daemon/log_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace foobard {
namespace {

// kChunk is the most one write(2) carries: up to PIPE_BUF bytes a pipe
// write is atomic, so whole lines never interleave with other writers.
constexpr size_t kChunk = PIPE_BUF;

}  // namespace

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
    }
  }
  kind_ = Kind::kDirect;
}

LogSink::~LogSink() { Flush(); }

ssize_t LogSink::WriteSome(const char* data, size_t size) {
  switch (kind_) {
    case Kind::kSocket:
      return ::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    case Kind::kReopened:
      return ::write(reopened_.get(), data, size);
    case Kind::kDirect:
      return ::write(fd_, data, size);
    case Kind::kNone:
      break;
  }
  errno = EBADF;
  return -1;
}

void LogSink::Write(absl::string_view line) {
  if (kind_ == Kind::kNone) return;
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
  for (;;) {
    while (head_ < buffer_.size()) {
      // Whole lines up to kChunk bytes; a longer line goes alone.
      absl::string_view rest(buffer_.data() + head_, buffer_.size() - head_);
      size_t size = rest.size();
      if (size > kChunk) {
        const size_t last_newline = rest.rfind('\n', kChunk - 1);
        size = last_newline != absl::string_view::npos ? last_newline + 1
                                                       : rest.find('\n') + 1;
        if (size == 0) size = rest.size();  // no newline at all
      }
      const ssize_t n = WriteSome(rest.data(), size);
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
    absl::StrAppend(&buffer_, "<4>dropped ", dropped_,
                    " log lines: the log sink was not reading\n");
    dropped_ = 0;
  }
}

}  // namespace foobard
