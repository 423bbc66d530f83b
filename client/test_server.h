// client/test_server.h: an in-process server for the client's unit tests,
// serving a listening or connected socket from a thread.
//
// It echoes (or misbehaves on purpose) so that the client's modes can be
// tested without foobard; tests/integration/client runs the real daemon.
//
//   foobar::client::TestServer server(std::move(listener),
//                                     TestServer::Behaviour::kEcho);
//   ... connect and talk ...
//   // the destructor stops the thread and closes every connection
#ifndef CLIENT_TEST_SERVER_H_
#define CLIENT_TEST_SERVER_H_

#include <string>
#include <thread>

#include "sdfd/unique_fd.h"

namespace foobar::client {

// TestServer serves one socket from a thread until destroyed.
class TestServer {
 public:
  enum class Behaviour {
    kEcho,     // echo every byte
    kCorrupt,  // echo, but flip the lowest bit of every 1000th byte
    kSilent,   // accept and read, never answer
    kReset,    // close without reading once data arrives (ECONNRESET)
  };

  // TestServer serves `fd`: a listening socket (it accepts) or a connected
  // one (it serves just that connection).
  TestServer(sdfd::UniqueFd fd, Behaviour behaviour);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

 private:
  void Serve();

  sdfd::UniqueFd fd_;
  Behaviour behaviour_;
  sdfd::UniqueFd stop_read_;
  sdfd::UniqueFd stop_write_;
  std::thread thread_;
};

// SocketDir is a directory for test sockets, removed with its contents on
// destruction: $TEST_TMPDIR when its paths fit sockaddr_un (107 bytes), else
// a fresh directory under /tmp (Bazel's sandbox paths are often longer).
class SocketDir {
 public:
  SocketDir();
  ~SocketDir();
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;

  // Path returns the path of `name` in the directory.
  std::string Path(const std::string& name) const;

 private:
  std::string dir_;
};

}  // namespace foobar::client

#endif  // CLIENT_TEST_SERVER_H_
