// daemon/listeners.h: foobard's passed sockets that are not connections, on
// the event loop: listening stream/seqpacket sockets (accept4 in batches) and
// datagram sockets (each datagram echoed to its sender).
//
// A Listener only accepts; whether to accept at all, and what to do with a
// new connection or with a lack of fds, is its AcceptPolicy's business (the
// server's). kAcceptBatch and kDatagramBatch bound the work done for one
// ready socket, so that a flood on one socket cannot starve the others
// (level-triggered epoll reports it again).
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<foobard::EventLoop>> loop =
//       foobard::EventLoop::Create({SIGTERM});
//   if (!loop.ok()) return 1;
//   foobard::Logger log(STDERR_FILENO, false);
//   int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
//   if (fd < 0) return 2;
//   foobard::DatagramEcho echo(loop->get(), &log, sdfd::UniqueFd(fd), AF_INET);
//   absl::Status s = echo.Start();
//   if (!s.ok()) return 3;  // epoll_ctl(fd 5): ...
//   (void)(*loop)->RunOnce(0);  // echoes whatever datagrams arrived
#ifndef DAEMON_LISTENERS_H_
#define DAEMON_LISTENERS_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "daemon/event_loop.h"
#include "daemon/logger.h"
#include "sdfd/unique_fd.h"

namespace foobard {

// AcceptPolicy decides for a Listener (the server provides it). Plain
// functions rather than virtual methods, for the reason given at
// EventLoop::Handler: they are called while fds are exhausted.
struct AcceptPolicy {
  // may_accept is asked before each accept4: false ends the batch (the
  // connection limit is reached; the policy stops watching listeners).
  std::function<bool()> may_accept;
  // accepted takes a new connection: `fd` is non-blocking and CLOEXEC.
  std::function<void(sdfd::UniqueFd fd, bool seqpacket)> accepted;
  // out_of_resources reports an accept4 failure of the listener itself
  // (`err`: EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unexpected). The
  // listener stays readable, so accepting again at once would spin: the
  // policy rests the listeners.
  std::function<void(int err)> out_of_resources;
};

// Listener accepts on one listening stream or seqpacket socket.
class Listener {
 public:
  // Listener takes `fd` (listening, non-blocking); `loop` and `policy` are
  // borrowed and must outlive it. It watches nothing until Watch(true).
  Listener(EventLoop* loop, const AcceptPolicy* policy, sdfd::UniqueFd fd,
           bool seqpacket);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Watch adds the socket to the epoll set, or removes it. Unwatched,
  // connections simply wait in the kernel's backlog. Errors: epoll_ctl's
  // errno.
  absl::Status Watch(bool watch);
  int fd() const { return fd_.get(); }

 private:
  void OnReady(EventLoop::Watch* watch, uint32_t events);

  EventLoop* loop_;
  const AcceptPolicy* policy_;
  sdfd::UniqueFd fd_;
  EventLoop::Handler handler_;
  EventLoop::Watch watch_;
  uint32_t events_ = 0;
  bool seqpacket_;
};

// DatagramEcho echoes each datagram back to its sender.
class DatagramEcho {
 public:
  // DatagramEcho takes `fd` (a non-blocking datagram socket of address
  // family `family`); `loop` and `log` are borrowed and must outlive it.
  DatagramEcho(EventLoop* loop, const Logger* log, sdfd::UniqueFd fd,
               int family);
  ~DatagramEcho();
  DatagramEcho(const DatagramEcho&) = delete;
  DatagramEcho& operator=(const DatagramEcho&) = delete;

  // Start watches the socket. Errors: epoll_ctl's errno.
  absl::Status Start();
  // Stop stops reading it for good (foobard is stopping).
  void Stop();

  // received counts datagrams read (echoed or not): activity that keeps
  // --idle_exit away. echoed and bytes_echoed count what was sent back.
  uint64_t received() const { return received_; }
  uint64_t echoed() const { return echoed_; }
  uint64_t bytes_echoed() const { return bytes_echoed_; }

 private:
  void OnReady(EventLoop::Watch* watch, uint32_t events);

  EventLoop* loop_;
  const Logger* log_;
  sdfd::UniqueFd fd_;
  EventLoop::Handler handler_;
  EventLoop::Watch watch_;
  uint32_t events_ = 0;
  int family_;
  uint64_t received_ = 0;
  uint64_t echoed_ = 0;
  uint64_t bytes_echoed_ = 0;
};

}  // namespace foobard

#endif  // DAEMON_LISTENERS_H_
