// sdfd/testing/notify_receiver.h: a stand-in for the service manager's end
// of NOTIFY_SOCKET, for tests: libsdfd's own, and the integration tests that
// synchronise on what foobard tells its manager (READY=1, STOPPING=1,
// WATCHDOG=1, FDSTORE=1 with the fds it stores).
//
// It binds an AF_UNIX datagram socket (path or abstract) with SO_PASSCRED, so
// every received notification shows the sender's credentials, and returns
// each datagram with its payload, the fds that came with it (SCM_RIGHTS)
// and the credentials (SCM_CREDENTIALS).
//
// Example:
//
//   sdfd::test::Receiver receiver(/*abstract=*/false);
//   if (!receiver.ok()) return 1;  // the socket could not be bound
//   std::string env = "NOTIFY_SOCKET=" + receiver.address();  // for a child
//   std::vector<std::string> seen;
//   if (!receiver.WaitFor("READY=1", /*timeout_ms=*/5000, &seen)) {
//     return 1;  // not ready in time; `seen` holds what came instead
//   }
#ifndef SDFD_TESTING_NOTIFY_RECEIVER_H_
#define SDFD_TESTING_NOTIFY_RECEIVER_H_

#include <sys/socket.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "sdfd/unique_fd.h"

namespace sdfd::test {

// Datagram is one received notification.
struct Datagram {
  std::string payload;
  std::vector<UniqueFd> fds;
  bool has_credentials = false;
  ucred credentials = {};
};

// Receiver is a test NOTIFY_SOCKET.
class Receiver {
 public:
  explicit Receiver(bool abstract);
  // address() is the NOTIFY_SOCKET value: a path, or "@name".
  const std::string& address() const { return address_; }
  // ok() is false when the socket could not be set up.
  bool ok() const { return ok_; }
  // fd() is the bound socket, for tests that poll it while a sender blocks
  // (NotifyBarrier waits for the receiver to close what it got).
  int fd() const { return fd_.get(); }

  // Receive takes the next queued datagram without waiting: callers look
  // only after the sender has exited, so it is either queued now or was
  // never sent.
  std::optional<Datagram> Receive();
  // Receive(timeout_ms) waits up to `timeout_ms` for the next datagram, for
  // callers that wait on a sender still running.
  std::optional<Datagram> Receive(int timeout_ms);
  // WaitFor receives until a datagram has `line` as one of its lines
  // (true) or `timeout_ms` passes (false). The payload of every datagram
  // received is appended to *seen when given; the fds of the ones passed
  // over are closed.
  bool WaitFor(absl::string_view line, int timeout_ms,
               std::vector<std::string>* seen = nullptr);

 private:
  UniqueFd fd_;
  std::string address_;
  bool ok_ = false;
};

// HasLine says whether a notification payload has exactly this line
// ("READY=1" is a line of "READY=1\nSTATUS=x", not of "READY=10").
bool HasLine(absl::string_view payload, absl::string_view line);

// VsockLoopbackAvailable says whether this kernel can connect an AF_VSOCK
// socket to itself (the vsock_loopback transport serves VMADDR_CID_LOCAL);
// when not, *why says so, for GTEST_SKIP.
bool VsockLoopbackAvailable(std::string* why);

// VsockStreamReceiver is a vsock-stream NOTIFY_SOCKET: it listens on a free
// port of VMADDR_CID_ANY and, in a thread of its own, accepts one sender,
// reads until the sender shuts down its end, then closes: the EOF the
// sender waits for. Every wait is a poll() bounded by 20 s, and ends early
// once Message() says the sender is done.
class VsockStreamReceiver {
 public:
  VsockStreamReceiver();
  ~VsockStreamReceiver();
  VsockStreamReceiver(const VsockStreamReceiver&) = delete;
  VsockStreamReceiver& operator=(const VsockStreamReceiver&) = delete;

  bool ok() const { return listener_.valid(); }
  unsigned port() const { return port_; }
  // Message, called once the sender has finished (so a connection it made
  // is already queued), waits for the thread and returns what the sender
  // wrote, or nullopt when it never connected (or the read failed).
  std::optional<std::string> Message();

 private:
  void Serve();
  UniqueFd listener_;
  UniqueFd done_read_, done_write_;  // Message() -> Serve(): sender finished
  unsigned port_ = 0;
  std::optional<std::string> message_;
  std::thread thread_;
};

// Inode identifies the file behind an fd ("dev:ino", or "closed").
std::string Inode(int fd);

// FillNotifyQueue sends "filler" datagrams to the unix datagram socket at
// `path` until the kernel refuses more (net.unix.max_dgram_qlen), as a busy
// PID 1 leaves its notify socket. Returns how many went, or -1 when a send
// failed with anything but EAGAIN.
int FillNotifyQueue(const std::string& path);

}  // namespace sdfd::test

#endif  // SDFD_TESTING_NOTIFY_RECEIVER_H_
