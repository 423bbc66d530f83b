// daemon/logger.h: foobard's log lines on stderr, with the sd-daemon
// priority prefixes ("<3>" error ... "<7>" debug) that journald understands
// (man 3 sd-daemon).
//
// Lines go through a LogSink (daemon/log_sink.h), which never waits for the
// reader: a sink that stops reading costs queued and then dropped lines,
// never a stalled event loop. Logging must never stop the daemon (SIGPIPE is
// ignored by the daemon, so a closed stderr only gives EPIPE there).
//
// Example:
//
//   foobard::Logger log(STDERR_FILENO, /*verbose=*/false);
//   if (::fcntl(1000, F_GETFD) < 0) {
//     log.Error("fcntl(1000, F_GETFD): Bad file descriptor");  // "<3>fcntl..."
//   }
//   log.Info("serving");                      // "<6>serving"
//   log.Debug("only printed with --verbose");
#ifndef DAEMON_LOGGER_H_
#define DAEMON_LOGGER_H_

#include <memory>

#include "absl/strings/string_view.h"
#include "daemon/log_sink.h"

namespace foobard {

// Priority is the syslog level of a line (SD_ERR ... SD_DEBUG).
enum class Priority : int {
  kError = 3,    // SD_ERR
  kWarning = 4,  // SD_WARNING
  kNotice = 5,   // SD_NOTICE
  kInfo = 6,     // SD_INFO
  kDebug = 7,    // SD_DEBUG
};

// Logger writes "<N>message\n" lines to one fd through its LogSink. Debug
// lines are written only when verbose (--verbose); everything else always.
class Logger {
 public:
  // Logger logs to `fd`, which must stay open while the logger lives.
  explicit Logger(int fd, bool verbose)
      : sink_(std::make_unique<LogSink>(fd)), verbose_(verbose) {}

  // sink is where lines are queued; the event loop watches it (see
  // LogSink::WantsWritable). Logging stays const: the sink is not part of
  // the logger's value.
  LogSink* sink() const { return sink_.get(); }

  // verbose() says whether per-connection (debug) lines are wanted; callers
  // test it before formatting a debug line on a busy path.
  bool verbose() const { return verbose_; }

  // Log writes one line. A newline inside `message` is replaced by a space
  // so that one call is always exactly one journal entry.
  void Log(Priority priority, absl::string_view message) const;

  void Error(absl::string_view message) const {
    Log(Priority::kError, message);
  }
  void Warning(absl::string_view message) const {
    Log(Priority::kWarning, message);
  }
  void Info(absl::string_view message) const { Log(Priority::kInfo, message); }
  void Debug(absl::string_view message) const {
    if (verbose_) Log(Priority::kDebug, message);
  }

 private:
  std::unique_ptr<LogSink> sink_;
  bool verbose_;
};

}  // namespace foobard

#endif  // DAEMON_LOGGER_H_
