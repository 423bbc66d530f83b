// daemon/flags.cc: see flags.h.
#include "daemon/flags.h"

#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "version.h"

ABSL_FLAG(std::vector<std::string>, listen, {},
          "When not socket-activated: the sockets to listen on, "
          "comma-separated specs: unix:/path, unix:@abstract, "
          "unix-seqpacket:/path, unix-dgram:/path, tcp:HOST:PORT, "
          "udp:HOST:PORT (HOST an IPv4 address or [IPv6]). Ignored when "
          "systemd passes sockets.");
ABSL_FLAG(absl::Duration, idle_exit, absl::ZeroDuration(),
          "Exit 0 after this long with no connection (e.g. 30s); 0 = never. "
          "Clients arriving meanwhile wait in systemd's socket for the next "
          "instance.");
ABSL_FLAG(int64_t, buffer_limit, 256 * 1024,
          "Most unsent bytes held per connection; a client that does not "
          "read is not read from until it does. 1 to 1073741824.");
ABSL_FLAG(int64_t, max_connections, 16384,
          "Most live connections; further clients wait in the listen "
          "backlog. 1 to 16777216.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(5),
          "On SIGTERM/SIGINT, how long to wait for pending writes to reach "
          "clients before exiting (or handing off).");
ABSL_FLAG(bool, handoff, false,
          "On SIGTERM, hand live connections (and their unsent bytes) to "
          "systemd's fd store (FileDescriptorStoreMax=) so the next instance "
          "goes on serving them.");
ABSL_FLAG(bool, verbose, false, "Log one line per connection event.");

namespace foobard {
namespace {

// Debian builds abseil without NDEBUG, so every absl::Mutex lock runs
// deadlock detection, which keeps a lock-order graph in arenas of its own.
// foobard's only mutexes are those of its flags, on one thread, yet
// registering and parsing them mapped three 64 KiB arenas at every start
// (13 of the 73 page faults of a run that stops at a bad flag). This
// constructor runs before the flags' registrars: init_priority ones come
// first.
struct NoMutexDeadlockDetection {
  NoMutexDeadlockDetection() {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
};
__attribute__((init_priority(101)))
const NoMutexDeadlockDetection g_no_mutex_deadlock_detection;

}  // namespace

foobar::CommandLineSpec Spec() {
  foobar::CommandLineSpec spec;
  spec.program = "foobard";
  spec.version = FOOBAR_VERSION;
  spec.usage = {
      "[--listen=SPEC[,SPEC...]] [--idle_exit=DURATION] [--buffer_limit=BYTES] "
      "[--max_connections=N] [--drain_timeout=DURATION] [--handoff] "
      "[--verbose]"};
  spec.description =
      "An echo daemon for systemd socket activation, normally started by\n"
      "systemd: systemctl start foobar.socket.\n";
  spec.sections = {{"Options:",
                    {{"listen", "SPEC[,SPEC...]"},
                     {"idle_exit", "DURATION"},
                     {"buffer_limit", "BYTES"},
                     {"max_connections", "N"},
                     {"drain_timeout", "DURATION"},
                     {"handoff", ""},
                     {"verbose", ""}}}};
  spec.epilogue =
      "Exit status: 0 clean exit, 1 runtime failure, 2 usage or environment\n"
      "error (a bad flag, malformed LISTEN_* or WATCHDOG_*, nothing to "
      "serve).\n"
      "See foobard(8).\n";
  return spec;
}

absl::StatusOr<foobar::CommandLineRequest> ParseFlags(int argc, char** argv) {
  absl::StatusOr<foobar::ParsedCommandLine> parsed = foobar::ParseCommandLine(
      Spec(), std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return parsed.status();
  return parsed->request;
}

int WriteHelpOrVersion(foobar::CommandLineRequest request) {
  const absl::Status written =
      foobar::WriteRequestedText(Spec(), request, STDOUT_FILENO);
  if (written.ok()) return 0;
  const std::string line = absl::StrCat("<3>", written.message(), "\n");
  // Nothing is left to tell if stderr fails too: the exit code says it.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return 1;
}

absl::StatusOr<Config> ConfigFromFlags() {
  Config config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.verbose = absl::GetFlag(FLAGS_verbose);
  ServerOptions& s = config.server;

  const int64_t buffer_limit = absl::GetFlag(FLAGS_buffer_limit);
  if (buffer_limit < 1 ||
      static_cast<uint64_t>(buffer_limit) > kMaxBufferLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--buffer_limit=", buffer_limit, ": must be 1 to ", kMaxBufferLimit));
  }
  s.buffer_limit = static_cast<size_t>(buffer_limit);

  const int64_t max_connections = absl::GetFlag(FLAGS_max_connections);
  if (max_connections < 1 || max_connections > (int64_t{1} << 24)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_connections=", max_connections, ": must be 1 to ",
                     int64_t{1} << 24));
  }
  s.max_connections = static_cast<size_t>(max_connections);

  const absl::Duration idle_exit = absl::GetFlag(FLAGS_idle_exit);
  if (idle_exit < absl::ZeroDuration() ||
      idle_exit == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--idle_exit=", absl::FormatDuration(idle_exit),
                     ": must be a finite duration >= 0 (0 = never)"));
  }
  s.idle_exit = idle_exit;

  const absl::Duration drain = absl::GetFlag(FLAGS_drain_timeout);
  if (drain < absl::ZeroDuration() || drain == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--drain_timeout=", absl::FormatDuration(drain),
                     ": must be a finite duration >= 0"));
  }
  s.drain_timeout = drain;
  s.handoff = absl::GetFlag(FLAGS_handoff);
  for (const std::string& spec : config.listen) {
    if (spec.empty()) {
      return absl::InvalidArgumentError(
          "--listen: empty spec (two commas, or a trailing comma?)");
    }
  }
  return config;
}

}  // namespace foobard
