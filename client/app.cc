// client/app.cc: the foobar program, wiring the client library to the
// process: arguments, stdio, exit codes.
#include "client/app.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/bench.h"
#include "client/cli.h"
#include "client/line_mode.h"
#include "client/raw_mode.h"
#include "client/target.h"
#include "common/command_line.h"

namespace foobar::client {
namespace {

int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "foobar: %s\n", std::string(status.message()).c_str());
  return code;
}

}  // namespace

int Main(int argc, char** argv) {
  absl::StatusOr<CommandLine> cli =
      ParseCommandLine(std::vector<std::string>(argv, argv + argc),
                       std::getenv("FOOBAR_SOCKET"));
  if (!cli.ok()) return Fail(cli.status(), 2);
  if (cli->mode == Mode::kHelp || cli->mode == Mode::kVersion) {
    const absl::Status written = WriteRequestedText(
        Spec(),
        cli->mode == Mode::kHelp ? CommandLineRequest::kHelp
                                 : CommandLineRequest::kVersion,
        STDOUT_FILENO);
    return written.ok() ? 0 : Fail(written, 1);
  }

  if (cli->mode == Mode::kBench) {
    BenchOptions options = cli->bench;
    if (isatty(STDERR_FILENO)) options.progress_fd = STDERR_FILENO;
    absl::StatusOr<BenchResult> result = RunBench(cli->target, options);
    if (!result.ok()) return Fail(result.status(), 1);
    std::printf("%s\n", FormatSummary(*result).c_str());
    std::fflush(stdout);
    if (!result->intact()) {
      return Fail(absl::DataLossError(result->first_error), 1);
    }
    return 0;
  }

  absl::StatusOr<sdfd::UniqueFd> fd =
      ConnectWithTimeout(cli->target, cli->timeout);
  if (!fd.ok()) return Fail(fd.status(), 1);
  const std::string target = DisplayName(cli->target);

  absl::Status status;
  if (cli->mode == Mode::kRaw) {
    status = RunRawMode(fd->get(), {.target = target, .timeout = cli->timeout});
  } else {
    LineModeOptions options{.target = target, .timeout = cli->timeout};
    if (cli->mode == Mode::kMessage) {
      status = RunMessage(fd->get(), cli->message, options);
    } else {
      if (isatty(STDIN_FILENO)) options.prompt_fd = STDERR_FILENO;
      status = RunLineMode(fd->get(), options);
    }
  }
  if (!status.ok()) return Fail(status, 1);
  return 0;
}

}  // namespace foobar::client
