// client/test_server.h: a misbehaving server for the client's tests, serving
// a listening or connected socket from a thread: it echoes, corrupts, stays
// silent or resets on purpose, so that the client's modes and error paths
// can be tested without foobard. The client's unit tests run it in process;
// tests/integration/client/fake_server is a thin main over it for the
// integration tests of the foobar binary.
//
// Example:
//
//   int pair[2];
//   if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
//     return 1;  // no socket to serve
//   }
//   sdfd::UniqueFd client(pair[0]);
//   foobar::client::TestServer server(
//       sdfd::UniqueFd(pair[1]), foobar::client::TestServer::Behaviour::kEcho);
//   char byte = 0;
//   if (::write(client.get(), "x", 1) != 1) return 1;
//   if (::read(client.get(), &byte, 1) != 1 || byte != 'x') return 1;
//   // The destructor stops the thread and closes every connection.
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

  // ParseBehaviour maps "echo", "corrupt", "silent" and "reset" to a
  // Behaviour; false for anything else.
  static bool ParseBehaviour(const std::string& name, Behaviour* behaviour);

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

}  // namespace foobar::client

#endif  // CLIENT_TEST_SERVER_H_
