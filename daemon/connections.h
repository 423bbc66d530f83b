// daemon/connections.h: foobard's echo connections (connected stream and
// seqpacket sockets) on the event loop: echo, backpressure, half-close, the
// seqpacket empty record and the lingering close at stop.
//
// Memory is bounded by design: a connection is a 56-byte struct (checked by a
// static_assert) plus a PendingBuffer that holds memory only while unsent
// bytes exist and never exceeds the buffer limit, because a connection is not
// read from while it is full. Reads go into the shared 64 KiB buffer
// (daemon/read_buffer.h); the hot path echoes straight from it and allocates
// only when a send is short.
//
// EchoConnections owns its connections in an intrusive list (each entry owns
// the next) and holds the one EventLoop::Handler for all of them, so a
// connection carries no virtual table and no pointer back to its owner. A
// connection is closed only by EchoConnections itself: the I/O steps say
// whether it should close, the dispatcher closes it, and the loop destroys it
// after the batch (EventLoop::DeleteLater).
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<foobard::EventLoop>> loop =
//       foobard::EventLoop::Create({SIGTERM});
//   if (!loop.ok()) return 1;
//   foobard::Logger log(STDERR_FILENO, false);
//   foobard::EchoConnections conns(loop->get(), &log,
//                                  /*buffer_limit=*/256 * 1024);
//   int fds[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) {
//     return 2;
//   }
//   absl::Status s = conns.Add(sdfd::UniqueFd(fds[0]), /*seqpacket=*/false,
//                              /*unsent=*/"hello");
//   if (!s.ok()) return 3;  // epoll_ctl(fd 5): ...; the fd is closed
//   (void)(*loop)->RunOnce(0);  // sends "hello" to fds[1]
#ifndef DAEMON_CONNECTIONS_H_
#define DAEMON_CONNECTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/event_loop.h"
#include "daemon/logger.h"
#include "sdfd/handoff.h"
#include "sdfd/unique_fd.h"

namespace foobard {

struct EchoConnection;  // connections.cc

// EchoConnections serves every connected socket foobard echoes on.
class EchoConnections {
 public:
  // EchoConnections serves on `loop` and logs to `log` (both borrowed, and
  // must outlive it). `buffer_limit` bounds each connection's unsent bytes
  // (--buffer_limit).
  EchoConnections(EventLoop* loop, const Logger* log, size_t buffer_limit);
  ~EchoConnections();
  EchoConnections(const EchoConnections&) = delete;
  EchoConnections& operator=(const EchoConnections&) = delete;

  // Add serves `fd` (taken: a connected, non-blocking stream or seqpacket
  // socket); `unsent` goes out before any echo (a handed-off connection's
  // bytes). Errors: epoll_ctl's errno, logged as well; the fd is closed.
  absl::Status Add(sdfd::UniqueFd fd, bool seqpacket,
                   absl::string_view unsent = {});

  // size is the number of live connections; accepted counts every Add().
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint64_t accepted() const { return accepted_; }
  // bytes_echoed counts the bytes sent back to clients.
  uint64_t bytes_echoed() const { return bytes_echoed_; }

  // Unsent is how many connections still owe their client something (bytes
  // or an empty record), how many of them owe bytes, and how many bytes.
  struct Unsent {
    size_t connections = 0;
    size_t with_bytes = 0;
    uint64_t bytes = 0;
  };
  // CountUnsent walks every connection.
  Unsent CountUnsent() const;

  // Stop ends reading: what is unsent is still written. With `linger`, each
  // connection with nothing (more) to send starts a lingering close: FIN
  // sent, the client's input read and discarded until it closes. Without
  // it (a handoff follows), connections stay as they are.
  void Stop(bool linger);

  // CloseAll closes every connection; `why` is the --verbose line for each
  // ("closed at stop"), or nullptr for none.
  void CloseAll(const char* why);

  // TakeAll takes every connection out of the loop and returns each with
  // its unsent bytes, newest first, for the handoff. They are no longer
  // counted or served.
  std::vector<sdfd::HandoffEntry> TakeAll();

 private:
  // CloseReason says why a connection closes, without formatting anything
  // until a --verbose line needs it: `text`, then strerror(err) if err != 0.
  struct CloseReason {
    const char* text = nullptr;
    int err = 0;
  };
  // Verdict is what an I/O step decided: keep the connection, or close it.
  struct Verdict {
    bool close = false;
    CloseReason why;
  };
  static Verdict Keep() { return Verdict{}; }
  static Verdict CloseFor(const char* text, int err = 0) {
    return Verdict{true, CloseReason{text, err}};
  }

  void OnReady(EventLoop::Watch* watch, uint32_t events);
  Verdict ReadSome(EchoConnection* c);
  Verdict Flush(EchoConnection* c);
  Verdict SendEmptyRecord(EchoConnection* c);
  void UpdateInterest(EchoConnection* c);
  void StartLinger(EchoConnection* c);
  void Close(EchoConnection* c, CloseReason why);
  std::unique_ptr<EchoConnection> Unlink(EchoConnection* c);

  EventLoop* loop_;
  const Logger* log_;
  EventLoop::Handler handler_;  // every connection's Watch names it
  size_t buffer_limit_;
  std::unique_ptr<EchoConnection> head_;  // newest first
  size_t size_ = 0;
  uint64_t accepted_ = 0;
  uint64_t bytes_echoed_ = 0;
  bool stopping_ = false;
  bool linger_ = false;  // stopping, no handoff: linger once drained
};

}  // namespace foobard

#endif  // DAEMON_CONNECTIONS_H_
