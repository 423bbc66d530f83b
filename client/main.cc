// foobar: the command-line client of foobard (see foobar --help, foobar(1)).
// This file only wires the client library to the process: arguments,
// stdio, exit codes.
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
#include "client/version.h"

namespace {

int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "foobar: %s\n", std::string(status.message()).c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using foobar::client::Mode;
  absl::StatusOr<foobar::client::CommandLine> cli =
      foobar::client::ParseCommandLine(
          std::vector<std::string>(argv, argv + argc),
          std::getenv("FOOBAR_SOCKET"));
  if (!cli.ok()) return Fail(cli.status(), 2);
  if (cli->mode == Mode::kHelp) {
    std::fputs(foobar::client::HelpText().c_str(), stdout);
    return 0;
  }
  if (cli->mode == Mode::kVersion) {
    std::printf("foobar %s\n", FOOBAR_VERSION);
    return 0;
  }

  if (cli->mode == Mode::kBench) {
    foobar::client::BenchOptions options = cli->bench;
    if (isatty(STDERR_FILENO)) options.progress_fd = STDERR_FILENO;
    absl::StatusOr<foobar::client::BenchResult> result =
        foobar::client::RunBench(cli->target, options);
    if (!result.ok()) return Fail(result.status(), 1);
    std::printf("%s\n", foobar::client::FormatSummary(*result).c_str());
    std::fflush(stdout);
    if (!result->intact()) {
      return Fail(absl::DataLossError(result->first_error), 1);
    }
    return 0;
  }

  absl::StatusOr<sdfd::UniqueFd> fd =
      foobar::client::ConnectWithTimeout(cli->target, cli->timeout);
  if (!fd.ok()) return Fail(fd.status(), 1);
  const std::string target = foobar::client::DisplayName(cli->target);

  absl::Status status;
  if (cli->mode == Mode::kRaw) {
    status = foobar::client::RunRawMode(
        fd->get(), {.target = target, .timeout = cli->timeout});
  } else {
    foobar::client::LineModeOptions options{.target = target,
                                            .timeout = cli->timeout};
    if (cli->mode == Mode::kMessage) {
      status = foobar::client::RunMessage(fd->get(), cli->message, options);
    } else {
      if (isatty(STDIN_FILENO)) options.prompt_fd = STDERR_FILENO;
      status = foobar::client::RunLineMode(fd->get(), options);
    }
  }
  if (!status.ok()) return Fail(status, 1);
  return 0;
}
