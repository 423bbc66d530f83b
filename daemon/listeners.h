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

#include "absl/status/status.h"
#include "daemon/event_loop.h"
#include "daemon/logger.h"
#include "sdfd/unique_fd.h"

namespace foobard {

// AcceptPolicy decides for a Listener (the server implements it).
class AcceptPolicy {
 public:
  // MayAccept is asked before each accept4: false ends the batch (the
  // connection limit is reached; the policy stops watching listeners).
  virtual bool MayAccept() = 0;
  // Accepted takes a new connection: `fd` is non-blocking and CLOEXEC.
  virtual void Accepted(sdfd::UniqueFd fd, bool seqpacket) = 0;
  // OutOfResources reports an accept4 failure of the listener itself
  // (`err`: EMFILE, ENFILE, ENOBUFS, ENOMEM or anything unexpected). The
  // listener stays readable, so accepting again at once would spin: the
  // policy rests the listeners.
  virtual void OutOfResources(int err) = 0;

 protected:
  ~AcceptPolicy() = default;
};

// Listener accepts on one listening stream or seqpacket socket.
class Listener final : public EventLoop::Handler {
 public:
  // Listener takes `fd` (listening, non-blocking); `loop` and `policy` are
  // borrowed and must outlive it. It watches nothing until Watch(true).
  Listener(EventLoop* loop, AcceptPolicy* policy, sdfd::UniqueFd fd,
           bool seqpacket);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Watch adds the socket to the epoll set, or removes it. Unwatched,
  // connections simply wait in the kernel's backlog. Errors: epoll_ctl's
  // errno.
  absl::Status Watch(bool watch);
  int fd() const { return fd_.get(); }

  void OnReady(EventLoop::Watch* watch, uint32_t events) override;

 private:
  EventLoop* loop_;
  AcceptPolicy* policy_;
  sdfd::UniqueFd fd_;
  EventLoop::Watch watch_;
  uint32_t events_ = 0;
  bool seqpacket_;
};

// DatagramEcho echoes each datagram back to its sender.
class DatagramEcho final : public EventLoop::Handler {
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

  void OnReady(EventLoop::Watch* watch, uint32_t events) override;

 private:
  EventLoop* loop_;
  const Logger* log_;
  sdfd::UniqueFd fd_;
  EventLoop::Watch watch_;
  uint32_t events_ = 0;
  int family_;
  uint64_t received_ = 0;
  uint64_t echoed_ = 0;
  uint64_t bytes_echoed_ = 0;
};

}  // namespace foobard

#endif  // DAEMON_LISTENERS_H_
