// fake_server: misbehaving servers for foobar's error-path integration
// tests, each at a unix socket path; a thin main over the client tests' own
// TestServer (client/test_server.h). It prints "ready" on stdout once the
// socket is in place (tests wait for that line), then runs until killed.
//
// Usage: fake_server bind|full|echo|corrupt|silent|reset PATH
//   bind     a socket file that nobody listens on (connect: ECONNREFUSED,
//            or EACCES once the test restricts its mode)
//   full     listens with a full backlog and never accepts (connect timeout)
//   echo, corrupt, silent, reset
//            accepts and serves as TestServer::Behaviour says: silent reads
//            and never answers (the client's echo timeout), reset closes as
//            soon as data arrives without reading it (ECONNRESET)
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/test_server.h"
#include "sdfd/socket_spec.h"
#include "sdfd/testing/unix_address.h"
#include "sdfd/unique_fd.h"

namespace {

using foobar::client::TestServer;

int Die(const absl::Status& status) {
  std::fprintf(stderr, "fake_server: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

// Ready tells the test the socket is in place, then waits to be killed.
int ReadyUntilKilled() {
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(
        stderr,
        "usage: fake_server bind|full|echo|corrupt|silent|reset PATH\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string path = argv[2];
  if (mode == "bind" || mode == "full") {
    absl::StatusOr<sdfd::UniqueFd> fd = sdfd::test::BindUnix(SOCK_STREAM, path);
    if (!fd.ok()) return Die(fd.status());
    if (mode == "bind") return ReadyUntilKilled();
    // Backlog 0 holds one pending connection; ours fills it, so a client's
    // connect() waits for an accept() that never comes.
    if (listen(fd->get(), 0) != 0) {
      return Die(absl::ErrnoToStatus(errno, "listen(" + path + ")"));
    }
    absl::StatusOr<sdfd::SocketSpec> spec =
        sdfd::ParseSocketSpec("unix:" + path);
    if (!spec.ok()) return Die(spec.status());
    absl::StatusOr<sdfd::UniqueFd> filler = sdfd::Connect(*spec);
    if (!filler.ok()) return Die(filler.status());
    return ReadyUntilKilled();
  }
  TestServer::Behaviour behaviour;
  if (!TestServer::ParseBehaviour(mode, &behaviour)) {
    std::fprintf(stderr, "fake_server: unknown mode %s\n", mode.c_str());
    return 2;
  }
  absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec("unix:" + path);
  if (!spec.ok()) return Die(spec.status());
  absl::StatusOr<sdfd::UniqueFd> listener = sdfd::Listen(*spec, 16);
  if (!listener.ok()) return Die(listener.status());
  TestServer server(*std::move(listener), behaviour);
  return ReadyUntilKilled();
}
