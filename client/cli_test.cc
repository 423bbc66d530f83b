#include "client/cli.h"

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "common/command_line.h"
#include "gtest/gtest.h"
#include "version.h"

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

TEST(ParseCommandLine, VersionAndShortHelp) {
  absl::StatusOr<CommandLine> cli = Parse({"--version"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kVersion);
  cli = Parse({"-h"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kHelp);
}

TEST(ParseCommandLine, NegatedModeIsNoMode) {
  absl::StatusOr<CommandLine> cli = Parse({"--noraw", "--bench=false"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->mode, Mode::kLines);
}

TEST(ParseCommandLine, AbslBuiltInFlagsAreUnknown) {
  for (const char* flag : {"--helpfull", "--fromenv=raw", "--tryfromenv=raw",
                           "--undefok=colour"}) {
    absl::StatusOr<CommandLine> cli = Parse({flag});
    ASSERT_FALSE(cli.ok()) << flag;
    EXPECT_EQ(cli.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(cli.status().message().rfind("unknown flag --", 0), 0u)
        << cli.status();
  }
}

TEST(HelpText, DocumentsEveryFlagWithItsDefault) {
  const std::string help = foobar::HelpText(Spec());
  for (const char* entry :
       {"\n  --message=TEXT", "\n  --raw", "\n  --bench", "\n  --connections=N",
        "(default: 50)", "\n  --messages=M", "(default: 100000)",
        "\n  --size=BYTES", "(default: 64)", "\n  --connect=SPEC",
        "\n  --timeout=DURATION", "(default: 10s)", "\n  --help, -h",
        "\n  --version", "FOOBAR_SOCKET"}) {
    EXPECT_NE(help.find(entry), std::string::npos) << entry;
  }
}

TEST(VersionText, IsFoobarAndThePackageVersion) {
  EXPECT_EQ(foobar::VersionText(Spec()), "foobar " FOOBAR_VERSION "\n");
}

}  // namespace
}  // namespace foobar::client
