// A program that uses every part of libsdfd, for the linkage test
// (sdfd/no_libsystemd_test.sh): whatever libsdfd pulls in at link time shows
// up in this binary's `ldd`. It exits 0 without doing anything useful when
// not activated, which is how the test runs it.
#include <cstdio>

#include "sdfd/activation.h"
#include "sdfd/listen_fds.h"
#include "sdfd/notify.h"
#include "sdfd/socket_info.h"
#include "sdfd/socket_spec.h"
#include "sdfd/watchdog.h"

int main() {
  absl::StatusOr<sdfd::Activation> activation = sdfd::ReceiveActivation();
  absl::StatusOr<sdfd::SocketSpec> spec =
      sdfd::ParseSocketSpec("tcp:127.0.0.1:0");
  absl::StatusOr<sdfd::SocketInfo> info = sdfd::InspectSocket(0);
  absl::StatusOr<bool> sent = sdfd::Notify("STATUS=probe");
  absl::StatusOr<absl::Duration> watchdog = sdfd::WatchdogInterval();
  if (spec.ok()) {
    absl::StatusOr<sdfd::UniqueFd> fd = sdfd::Listen(*spec, 1);
    std::printf("listen: %s\n", fd.ok() ? "ok" : "failed");
  }
  std::printf("activation: %s, info: %s, notify: %s, watchdog: %s\n",
              activation.ok() ? "ok" : "failed",
              info.ok() ? sdfd::Describe(*info).c_str() : "failed",
              sent.ok() ? "ok" : "failed", watchdog.ok() ? "ok" : "failed");
  return 0;
}
