// client/cli.h: foobar's command line: its flags (absl flags), read with
// the shared parser (common/command_line.h), the default target
// ($FOOBAR_SOCKET, else /run/foobar.sk), mode conflicts, and --help.
//
// Every usage error is InvalidArgument with one line ending "(see foobar
// --help)"; foobar prints it and exits 2.
//
// Example:
//
//   std::vector<std::string> args = {"foobar", "--colour"};
//   absl::StatusOr<foobar::client::CommandLine> cli =
//       foobar::client::ParseCommandLine(args, std::getenv("FOOBAR_SOCKET"));
//   if (!cli.ok()) {  // "unknown flag --colour (see foobar --help)"
//     std::string line(cli.status().message());
//     std::fprintf(stderr, "foobar: %s\n", line.c_str());
//     return 2;
//   }
//   if (cli->mode == foobar::client::Mode::kHelp) {
//     std::string help = foobar::HelpText(foobar::client::Spec());
//     std::fputs(help.c_str(), stdout);
//   }
#ifndef CLIENT_CLI_H_
#define CLIENT_CLI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/bench_options.h"
#include "common/command_line.h"
#include "sdfd/socket_spec.h"

namespace foobar::client {

// kDefaultSocket is where foobar.socket listens (units/foobar.socket).
inline constexpr char kDefaultSocket[] = "unix:/run/foobar.sk";

// Mode is what one run of foobar does.
enum class Mode { kLines, kMessage, kRaw, kBench, kHelp, kVersion };

// CommandLine is a parsed, checked command line.
struct CommandLine {
  Mode mode = Mode::kLines;
  sdfd::SocketSpec target;
  std::string message;  // Mode::kMessage
  absl::Duration timeout = absl::Seconds(10);
  BenchOptions bench;  // Mode::kBench; bench.timeout is `timeout`
};

// Spec is foobar's command line for the shared parser: its flags, and the
// words of its --help and --version.
foobar::CommandLineSpec Spec();

// ParseCommandLine parses `args` (args[0] is the program name).
// `socket_env` is $FOOBAR_SOCKET (nullptr or empty when unset). Every
// error is InvalidArgumentError with a one-line message: a usage error,
// either foobar::ParseCommandLine's ("unknown flag --colour (see foobar
// --help)") or a check of its own ("--raw and --bench cannot be combined:
// pick one mode (see foobar --help)"). --help or --version with otherwise
// valid flags is Mode::kHelp or Mode::kVersion. It sets the process's absl
// flags, so it is meant to run once.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* socket_env);

}  // namespace foobar::client

#endif  // CLIENT_CLI_H_
