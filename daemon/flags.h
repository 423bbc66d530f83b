// daemon/flags.h: foobard's command-line flags (absl flags) and their
// validation into a Config.
//
// Flags and their meaning are documented in --help and in foobard.8. A bad
// value is a usage error (exit 2) with a message naming the flag. abseil
// 20220623 itself exits 1 on an unparsable value or unknown flag, and 1
// after --help; ParseFlags maps those exits to foobard's contract (2 for
// usage errors, 0 after --help).
//
//   std::vector<char*> args = foobard::ParseFlags(argc, argv);  // may exit
//   absl::StatusOr<foobard::Config> config = foobard::ConfigFromFlags();
//   if (!config.ok()) {
//     log.Error(config.status().message());  // "--buffer_limit=0: must be ..."
//     return 2;
//   }
#ifndef DAEMON_FLAGS_H_
#define DAEMON_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/server_options.h"

namespace foobard {

// kMaxBufferLimit caps --buffer_limit (and the size of a handed-off memfd
// foobard will read back).
inline constexpr size_t kMaxBufferLimit = size_t{1} << 30;

// Config is everything the flags decide.
struct Config {
  ServerOptions server;
  std::vector<std::string> listen;  // --listen specs, unparsed
  bool verbose = false;
};

// ParseFlags parses argv with absl, exiting 2 on a flag error and 0 after
// --help/--helpfull/--version, and returns the remaining arguments
// (argv[0] first).
std::vector<char*> ParseFlags(int argc, char** argv);

// ConfigFromFlags validates the parsed flags.
absl::StatusOr<Config> ConfigFromFlags();

}  // namespace foobard

#endif  // DAEMON_FLAGS_H_
