// daemon/server_options.h: what foobard's flags decide for the server, as
// plain values. Its own header so that the flags (daemon/flags.h) do not
// depend on the engine that uses them, nor the engine on absl flags.
//
// Example:
//
//   foobard::ServerOptions options;
//   options.max_connections = 256;          // --max_connections=256
//   options.idle_exit = absl::Seconds(30);  // --idle_exit=30s
#ifndef DAEMON_SERVER_OPTIONS_H_
#define DAEMON_SERVER_OPTIONS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace foobard {

// ServerOptions are the validated flags (see foobard.8).
struct ServerOptions {
  // buffer_limit bounds one connection's unsent bytes (--buffer_limit).
  size_t buffer_limit = 256 * 1024;
  // max_connections stops accepting at this many live connections.
  size_t max_connections = 16384;
  // idle_exit: exit 0 after this long with no connection (0 = never).
  absl::Duration idle_exit = absl::ZeroDuration();
  // drain_timeout bounds how long SIGTERM waits for pending writes.
  absl::Duration drain_timeout = absl::Seconds(5);
  // handoff stores live connections in systemd's fd store on SIGTERM.
  bool handoff = false;
  // watchdog_interval is WATCHDOG_USEC (0 = no watchdog); pings go at half.
  absl::Duration watchdog_interval = absl::ZeroDuration();
  // accept_backoff is how long listeners rest after EMFILE/ENFILE.
  absl::Duration accept_backoff = absl::Milliseconds(100);
};

}  // namespace foobard

#endif  // DAEMON_SERVER_OPTIONS_H_
