#include "daemon/flags.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "gtest/gtest.h"
#include "version.h"

namespace foobard {
namespace {

// Parse runs ParseFlags and then, if it asks to run, ConfigFromFlags, as
// Main does, with the flags restored afterwards.
absl::StatusOr<Config> Parse(std::vector<std::string> args) {
  absl::FlagSaver saver;
  args.insert(args.begin(), "foobard");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  absl::StatusOr<foobar::CommandLineRequest> request =
      ParseFlags(static_cast<int>(args.size()), argv.data());
  if (!request.ok()) return request.status();
  EXPECT_EQ(*request, foobar::CommandLineRequest::kRun);
  return ConfigFromFlags();
}

TEST(Flags, DefaultsAreTheServerOptionsDefaults) {
  absl::StatusOr<Config> config = Parse({});
  ASSERT_TRUE(config.ok()) << config.status();
  const ServerOptions defaults;
  EXPECT_EQ(config->server.buffer_limit, defaults.buffer_limit);
  EXPECT_EQ(config->server.max_connections, defaults.max_connections);
  EXPECT_EQ(config->server.idle_exit, defaults.idle_exit);
  EXPECT_EQ(config->server.drain_timeout, defaults.drain_timeout);
  EXPECT_FALSE(config->server.handoff);
  EXPECT_FALSE(config->verbose);
  EXPECT_TRUE(config->listen.empty());
}

TEST(Flags, EveryFlagReachesTheConfig) {
  absl::StatusOr<Config> config =
      Parse({"--listen=unix:/a,tcp:127.0.0.1:7", "--idle_exit", "30s",
             "--buffer_limit=4096", "--max_connections=2", "--drain_timeout=1s",
             "--handoff", "--verbose"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen,
            (std::vector<std::string>{"unix:/a", "tcp:127.0.0.1:7"}));
  EXPECT_EQ(config->server.idle_exit, absl::Seconds(30));
  EXPECT_EQ(config->server.buffer_limit, 4096u);
  EXPECT_EQ(config->server.max_connections, 2u);
  EXPECT_EQ(config->server.drain_timeout, absl::Seconds(1));
  EXPECT_TRUE(config->server.handoff);
  EXPECT_TRUE(config->verbose);
}

TEST(Flags, HelpAndVersionAreRequests) {
  absl::FlagSaver saver;
  char arg0[] = "foobard";
  char help[] = "--help";
  char version[] = "--version";
  char* help_argv[] = {arg0, help, nullptr};
  char* version_argv[] = {arg0, version, nullptr};
  EXPECT_EQ(ParseFlags(2, help_argv).value(),
            foobar::CommandLineRequest::kHelp);
  EXPECT_EQ(ParseFlags(2, version_argv).value(),
            foobar::CommandLineRequest::kVersion);
}

TEST(Flags, UsageErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus"}, "unknown flag --bogus (see foobard --help)"},
      {{"--helpfull"}, "unknown flag --helpfull (see foobard --help)"},
      {{"--flagfile=/etc/passwd"},
       "unknown flag --flagfile (see foobard --help)"},
      {{"extra"},
       "unexpected argument 'extra': foobard takes no arguments (see foobard "
       "--help)"},
      {{"--listen"}, "--listen needs a value (see foobard --help)"},
      {{"--nobuffer_limit"},
       "unknown flag --nobuffer_limit (see foobard --help)"},
      // ConfigFromFlags' messages: tests/integration reads them too.
      {{"--buffer_limit=0"}, "--buffer_limit=0: must be 1 to 1073741824"},
      {{"--buffer_limit=1073741825"},
       "--buffer_limit=1073741825: must be 1 to 1073741824"},
      {{"--max_connections=-5"}, "--max_connections=-5: must be 1 to 16777216"},
      {{"--idle_exit=-1s"},
       "--idle_exit=-1s: must be a finite duration >= 0 (0 = never)"},
      {{"--idle_exit=inf"},
       "--idle_exit=inf: must be a finite duration >= 0 (0 = never)"},
      {{"--drain_timeout=-2s"},
       "--drain_timeout=-2s: must be a finite duration >= 0"},
      {{"--listen=unix:/a,"},
       "--listen: empty spec (two commas, or a trailing comma?)"},
  };
  for (const auto& [args, message] : cases) {
    absl::StatusOr<Config> config = Parse(args);
    ASSERT_FALSE(config.ok()) << args[0];
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << args[0];
    EXPECT_EQ(config.status().message(), message);
  }
}

TEST(Flags, HelpDocumentsEveryFlagWithItsDefault) {
  const std::string help = foobar::HelpText(Spec());
  for (const char* entry :
       {"\n  --listen=SPEC[,SPEC...]", "\n  --idle_exit=DURATION",
        "\n  --buffer_limit=BYTES", "(default: 262144)",
        "\n  --max_connections=N", "(default: 16384)",
        "\n  --drain_timeout=DURATION", "(default: 5s)", "\n  --handoff",
        "\n  --verbose", "\n  --help, -h", "\n  --version"}) {
    EXPECT_NE(help.find(entry), std::string::npos) << entry;
  }
  EXPECT_EQ(help.find("Flags from"), std::string::npos);
  EXPECT_EQ(help.find("helpfull"), std::string::npos);
}

TEST(Flags, VersionIsFoobardAndThePackageVersion) {
  EXPECT_EQ(foobar::VersionText(Spec()), "foobard " FOOBAR_VERSION "\n");
}

}  // namespace
}  // namespace foobard
