#include "client/cli.h"

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace foobar::client {
namespace {

// Parse parses a command line with the flags restored afterwards.
absl::StatusOr<CommandLine> Parse(std::vector<std::string> args,
                                  const char* env = nullptr) {
  absl::FlagSaver saver;
  args.insert(args.begin(), "foobar");
  return ParseCommandLine(args, env);
}

TEST(ParseCommandLine, DefaultsToLineModeOnRunFoobarSk) {
  absl::StatusOr<CommandLine> cli = Parse({});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kLines);
  EXPECT_EQ(cli->target.family, AF_UNIX);
  EXPECT_EQ(cli->target.path, "/run/foobar.sk");
  EXPECT_EQ(cli->timeout, absl::Seconds(10));
}

TEST(ParseCommandLine, EnvironmentSetsTheDefault) {
  absl::StatusOr<CommandLine> cli = Parse({}, "unix:@foo");
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->target.path, "@foo");
}

TEST(ParseCommandLine, ConnectFlagBeatsEnvironment) {
  absl::StatusOr<CommandLine> cli =
      Parse({"--connect=tcp:127.0.0.1:7"}, "unix:@foo");
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->target.family, AF_INET);
  EXPECT_EQ(cli->target.port, 7);
}

TEST(ParseCommandLine, BarePathIsAUnixSocket) {
  absl::StatusOr<CommandLine> cli = Parse({"--connect", "/tmp/x.sk"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->target.path, "/tmp/x.sk");
}

TEST(ParseCommandLine, BenchOptions) {
  absl::StatusOr<CommandLine> cli =
      Parse({"--bench", "--connections=1000", "--messages=5", "--size=4K",
             "--timeout=200ms"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kBench);
  EXPECT_EQ(cli->bench.connections, 1000);
  EXPECT_EQ(cli->bench.messages, 5u);
  EXPECT_EQ(cli->bench.size, 4096u);
  EXPECT_EQ(cli->bench.timeout, absl::Milliseconds(200));
}

TEST(ParseCommandLine, EmptyMessageIsStillMessageMode) {
  absl::StatusOr<CommandLine> cli = Parse({"--message="});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kMessage);
  EXPECT_EQ(cli->message, "");
}

TEST(ParseCommandLine, HelpWinsOverEverythingValid) {
  absl::StatusOr<CommandLine> cli = Parse({"--raw", "--help"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kHelp);
}

TEST(ParseCommandLine, UsageErrorsSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--colour"}, "unknown flag --colour (see foobar --help)"},
      {{"--flagfile=/etc/passwd"},
       "unknown flag --flagfile (see foobar --help)"},
      {{"extra"},
       "unexpected argument 'extra': foobar takes no arguments (see foobar "
       "--help)"},
      {{"--raw", "--bench"},
       "--raw and --bench cannot be combined: pick one mode (see foobar "
       "--help)"},
      {{"--message=x", "--raw"},
       "--message and --raw cannot be combined: pick one mode (see foobar "
       "--help)"},
      {{"--connections=5"}, "--connections needs --bench (see foobar --help)"},
      {{"--bench", "--connections=0"},
       "invalid --connections=0: expected 1 to 1000000 (see foobar --help)"},
      {{"--bench", "--size=0"},
       "invalid --size=0: expected 1 to 16M bytes, like 64, 4K or 1M (see "
       "foobar --help)"},
      {{"--bench", "--size=17M"},
       "invalid --size=17M: expected 1 to 16M bytes, like 64, 4K or 1M (see "
       "foobar --help)"},
      {{"--timeout=0s"},
       "invalid --timeout=0: must be positive (use inf to wait forever) (see "
       "foobar --help)"},
      {{"--timeout"}, "--timeout needs a value (see foobar --help)"},
      {{"--connect=unix-dgram:/x"},
       "invalid --connect: foobar talks over stream sockets; use unix:/path, "
       "unix:@name or tcp:HOST:PORT (see foobar --help)"},
  };
  for (const auto& [args, message] : cases) {
    absl::StatusOr<CommandLine> cli = Parse(args);
    ASSERT_FALSE(cli.ok()) << args[0];
    EXPECT_EQ(cli.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(cli.status().message(), message);
  }
}

TEST(ParseCommandLine, BadValuesAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--timeout=soon"},
                                             {"--bench", "--messages=many"},
                                             {"--raw=maybe"},
                                             {"--connect=http://x"}}) {
    absl::StatusOr<CommandLine> cli = Parse(args);
    ASSERT_FALSE(cli.ok()) << args.back();
    EXPECT_EQ(cli.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(HelpText, DocumentsEveryFlag) {
  const std::string help = HelpText();
  for (const char* flag :
       {"--connect=", "--message=", "--raw", "--bench", "--connections=",
        "--messages=", "--size=", "--timeout=", "FOOBAR_SOCKET"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace foobar::client
