// daemon/flags.h: foobard's command-line flags (absl flags), read with the
// shared parser (common/command_line.h), and their validation into a Config.
//
// Flags and their meaning are documented in --help and in foobard.8. Every
// usage error is a one-line InvalidArgument naming the flag; foobard logs it
// and exits 2. --help and --version print to stdout and exit 0.
//
// Example:
//
//   char arg0[] = "foobard";
//   char arg1[] = "--buffer_limit=0";
//   char* argv[] = {arg0, arg1, nullptr};
//   absl::StatusOr<foobar::CommandLineRequest> request =
//       foobard::ParseFlags(2, argv);
//   if (request.ok() && *request != foobar::CommandLineRequest::kRun) {
//     return foobard::WriteHelpOrVersion(*request);  // 0; 1 if stdout fails
//   }
//   absl::StatusOr<foobard::Config> config =
//       request.ok() ? foobard::ConfigFromFlags()
//                    : absl::StatusOr<foobard::Config>(request.status());
//   if (!config.ok()) {
//     // InvalidArgument: "--buffer_limit=0: must be 1 to 1073741824"
//     return 2;
//   }
#ifndef DAEMON_FLAGS_H_
#define DAEMON_FLAGS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/command_line.h"
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

// Spec is foobard's command line: its flags, and the words of its
// --help and --version.
foobar::CommandLineSpec Spec();

// ParseFlags reads argv (argv[0] is the program) into foobard's flags with
// foobar::ParseCommandLine, and returns what it asks for: kRun, or kHelp or
// kVersion, which the caller answers with WriteHelpOrVersion. Errors are
// ParseCommandLine's: InvalidArgument for every usage error ("unknown flag
// --bogus (see foobard --help)"), exit code 2. It sets the process's absl
// flags, so it is meant to run once.
absl::StatusOr<foobar::CommandLineRequest> ParseFlags(int argc, char** argv);

// WriteHelpOrVersion writes what `request` asks for (HelpText or
// VersionText of Spec()) to stdout and returns the exit code: 0, or
// 1 after a "<3>" line on stderr when stdout cannot be written.
int WriteHelpOrVersion(foobar::CommandLineRequest request);

// ConfigFromFlags validates the parsed flags. Every error is
// InvalidArgument naming the flag and its range, e.g. "--buffer_limit=0:
// must be 1 to 1073741824", or "--listen: empty spec (two commas, or a
// trailing comma?)".
absl::StatusOr<Config> ConfigFromFlags();

}  // namespace foobard

#endif  // DAEMON_FLAGS_H_
