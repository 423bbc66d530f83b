// client/cli.h: foobar's command line: flags (absl flags), the default
// target ($FOOBAR_SOCKET, else /run/foobar.sk), mode conflicts, and --help.
//
// absl::ParseCommandLine() exits 1 on an unknown flag, but foobar promises
// exit code 2 for every usage error, so ParseCommandLine() here walks argv
// itself and hands each value to the flag's own absl parser
// (CommandLineFlag::ParseFrom), keeping absl's syntax and value formats.
//
//   absl::StatusOr<foobar::client::CommandLine> cli =
//       foobar::client::ParseCommandLine(args, getenv("FOOBAR_SOCKET"));
//   if (!cli.ok()) {  // "unknown flag --colour (see foobar --help)"
//     std::cerr << "foobar: " << cli.status().message() << "\n";
//     return 2;
//   }
#ifndef CLIENT_CLI_H_
#define CLIENT_CLI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/bench.h"
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

// ParseCommandLine parses `args` (args[0] is the program name).
// `socket_env` is $FOOBAR_SOCKET (nullptr or empty when unset). Every
// error is InvalidArgumentError with a one-line message: a usage error.
// It sets the process's absl flags, so it is meant to run once.
absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* socket_env);

// HelpText is the --help output.
std::string HelpText();

}  // namespace foobar::client

#endif  // CLIENT_CLI_H_
