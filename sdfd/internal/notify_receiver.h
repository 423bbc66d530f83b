// sdfd/internal/notify_receiver.h: a stand-in for the service manager's end
// of NOTIFY_SOCKET, for tests.
//
// It binds an AF_UNIX datagram socket (path or abstract) with SO_PASSCRED, so
// every received notification shows the sender's credentials, and returns
// each datagram with its payload, the fds that came with it (SCM_RIGHTS)
// and the credentials (SCM_CREDENTIALS).
//
//   Receiver receiver(/*abstract=*/false);
//   setenv("NOTIFY_SOCKET", receiver.address().c_str(), 1);  // in a child
//   std::optional<Datagram> d = receiver.Receive();
//   if (!d.has_value()) FAIL() << "nothing was sent";
#ifndef SDFD_INTERNAL_NOTIFY_RECEIVER_H_
#define SDFD_INTERNAL_NOTIFY_RECEIVER_H_

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "sdfd/unique_fd.h"

namespace sdfd::internal {

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

 private:
  UniqueFd fd_;
  std::string address_;
  bool ok_ = false;
};

// Inode identifies the file behind an fd ("dev:ino", or "closed").
std::string Inode(int fd);

}  // namespace sdfd::internal

#endif  // SDFD_INTERNAL_NOTIFY_RECEIVER_H_
