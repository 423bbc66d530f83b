#include "common/command_line.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sdfd/errno_status.h"

ABSL_FLAG(std::string, cl_text, "", "Some text.");
ABSL_FLAG(int64_t, cl_count, 3, "How many.");
ABSL_FLAG(bool, cl_switch, false, "Off unless given.");
ABSL_FLAG(bool, cl_on, true, "On unless --nocl_on.");
ABSL_FLAG(absl::Duration, cl_wait, absl::Seconds(5),
          "How long to wait, a duration with its unit, before the program "
          "gives up and says so on standard error.\nA second paragraph.");
ABSL_FLAG(std::vector<std::string>, cl_list, {}, "Comma-separated items.");
// Defined, but in no spec: a flag linked into the program is not part of
// its command line unless the spec lists it.
ABSL_FLAG(bool, cl_hidden, false, "Not listed.");

namespace foobar {
namespace {

CommandLineSpec Spec() {
  CommandLineSpec spec;
  spec.program = "prog";
  spec.version = "1.2.3";
  spec.usage = {"[--cl_text=TEXT] [--cl_count=N]",
                "--cl_switch [--cl_wait=DURATION] [--cl_list=ITEM[,ITEM...]] "
                "[--nocl_on]"};
  spec.description = "Does a thing.\n";
  spec.sections = {
      {"Modes:", {{"cl_switch", ""}, {"cl_text", "TEXT"}}},
      {"Options:",
       {{"cl_count", "N"},
        {"cl_on", ""},
        {"cl_wait", "DURATION"},
        {"cl_list", "ITEM[,ITEM[,ITEM...]]"}}},
  };
  spec.epilogue = "See prog(1).\n";
  return spec;
}

// Parse parses `args` after a program name with the flags restored
// afterwards; `after` runs while they still hold the parsed values.
absl::StatusOr<ParsedCommandLine> Parse(std::vector<std::string> args,
                                        void (*after)() = nullptr) {
  absl::FlagSaver saver;
  args.insert(args.begin(), "prog");
  absl::StatusOr<ParsedCommandLine> parsed = ParseCommandLine(Spec(), args);
  if (after != nullptr) after();
  return parsed;
}

TEST(ParseCommandLine, NoFlagsRunsWithDefaults) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({}, [] {
    EXPECT_EQ(absl::GetFlag(FLAGS_cl_count), 3);
    EXPECT_FALSE(absl::GetFlag(FLAGS_cl_switch));
  });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->request, CommandLineRequest::kRun);
  EXPECT_TRUE(parsed->given.empty());
}

TEST(ParseCommandLine, ValueAfterEqualsOrAsTheNextArgument) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"--cl_text=a=b", "--cl_count", "-7", "-cl_wait=200ms"}, [] {
        EXPECT_EQ(absl::GetFlag(FLAGS_cl_text), "a=b");
        EXPECT_EQ(absl::GetFlag(FLAGS_cl_count), -7);
        EXPECT_EQ(absl::GetFlag(FLAGS_cl_wait), absl::Milliseconds(200));
      });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->given,
            (std::vector<std::string>{"cl_text", "cl_count", "cl_wait"}));
  EXPECT_TRUE(parsed->Given("cl_count"));
  EXPECT_FALSE(parsed->Given("cl_switch"));
}

TEST(ParseCommandLine, EmptyValueIsAValue) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"--cl_text=x", "--cl_text="},
            [] { EXPECT_EQ(absl::GetFlag(FLAGS_cl_text), ""); });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->given, std::vector<std::string>{"cl_text"});
}

TEST(ParseCommandLine, LastValueWinsAndFlagIsGivenOnce) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse(
      {"--cl_count=1", "--cl_list=a,b", "--cl_count=2", "--cl_list=c"}, [] {
        EXPECT_EQ(absl::GetFlag(FLAGS_cl_count), 2);
        EXPECT_EQ(absl::GetFlag(FLAGS_cl_list), std::vector<std::string>{"c"});
      });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->given, (std::vector<std::string>{"cl_count", "cl_list"}));
}

TEST(ParseCommandLine, BoolForms) {
  const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
      {{"--cl_switch"}, true},
      {{"-cl_switch"}, true},
      {{"--cl_switch=true"}, true},
      {{"--cl_switch=1"}, true},
      {{"--cl_switch=yes"}, true},
      {{"--cl_switch=false"}, false},
      {{"--cl_switch=0"}, false},
      {{"--nocl_switch"}, false},
      {{"--cl_switch", "--nocl_switch"}, false},
  };
  for (const auto& [args, expected] : cases) {
    absl::FlagSaver saver;
    std::vector<std::string> line = args;
    line.insert(line.begin(), "prog");
    absl::StatusOr<ParsedCommandLine> parsed = ParseCommandLine(Spec(), line);
    ASSERT_TRUE(parsed.ok()) << args[0] << ": " << parsed.status();
    EXPECT_EQ(absl::GetFlag(FLAGS_cl_switch), expected) << args[0];
    EXPECT_EQ(parsed->given, std::vector<std::string>{"cl_switch"});
  }
}

TEST(ParseCommandLine, NoFormTurnsOffABoolThatDefaultsToOn) {
  absl::StatusOr<ParsedCommandLine> parsed =
      Parse({"--nocl_on"}, [] { EXPECT_FALSE(absl::GetFlag(FLAGS_cl_on)); });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->given, std::vector<std::string>{"cl_on"});
}

TEST(ParseCommandLine, DoubleDashEndsTheFlags) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"--cl_switch", "--"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->request, CommandLineRequest::kRun);

  // What follows is an argument, even when it looks like a flag.
  parsed = Parse({"--", "--cl_switch"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(),
            "unexpected argument '--cl_switch': prog takes no arguments (see "
            "prog --help)");
}

TEST(ParseCommandLine, DoubleDashIsAValueWhereOneIsNeeded) {
  absl::StatusOr<ParsedCommandLine> parsed = Parse({"--cl_text", "--"}, [] {
    EXPECT_EQ(absl::GetFlag(FLAGS_cl_text), "--");
  });
  ASSERT_TRUE(parsed.ok()) << parsed.status();
}

TEST(ParseCommandLine, HelpAndVersion) {
  const std::vector<std::pair<std::vector<std::string>, CommandLineRequest>>
      cases = {
          {{"--help"}, CommandLineRequest::kHelp},
          {{"-h"}, CommandLineRequest::kHelp},
          {{"-help"}, CommandLineRequest::kHelp},
          {{"--version"}, CommandLineRequest::kVersion},
          {{"--version", "--help"}, CommandLineRequest::kHelp},
          {{"--cl_count=9", "--help"}, CommandLineRequest::kHelp},
      };
  for (const auto& [args, request] : cases) {
    absl::StatusOr<ParsedCommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << args[0] << ": " << parsed.status();
    EXPECT_EQ(parsed->request, request) << args[0];
  }
}

TEST(ParseCommandLine, UsageErrorsSayWhichFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"-bogus=1"}, "unknown flag -bogus"},
      {{"-v"}, "unknown flag -v"},
      {{"--cl_hidden"}, "unknown flag --cl_hidden"},
      {{"--nocl_count"}, "unknown flag --nocl_count"},
      {{"--helpfull"}, "unknown flag --helpfull"},
      {{"--helpshort"}, "unknown flag --helpshort"},
      {{"--flagfile=/etc/passwd"}, "unknown flag --flagfile"},
      {{"--fromenv=cl_text"}, "unknown flag --fromenv"},
      {{"--tryfromenv=cl_text"}, "unknown flag --tryfromenv"},
      {{"--undefok=bogus", "--bogus"}, "unknown flag --undefok"},
      {{"--cl_count"}, "--cl_count needs a value"},
      {{"--cl_switch", "--cl_text"}, "--cl_text needs a value"},
      {{"--help=x"}, "--help takes no value"},
      {{"-h="}, "--h takes no value"},
      {{"--version=1"}, "--version takes no value"},
      {{"--nocl_switch=true"}, "--nocl_switch takes no value"},
      {{"--cl_count=many"},
       "invalid value for --cl_count=many: Illegal value 'many' specified for "
       "flag 'cl_count'"},
      {{"--cl_wait", "10"},
       "invalid value for --cl_wait=10: Illegal value '10' specified for flag "
       "'cl_wait'; a duration needs a unit: 500ms, 30s, 5m"},
      {{"--cl_switch=maybe"},
       "invalid value for --cl_switch=maybe: Illegal value 'maybe' specified "
       "for flag 'cl_switch'; use --cl_switch or --nocl_switch"},
      {{"extra"}, "unexpected argument 'extra': prog takes no arguments"},
      {{"--cl_switch", "on"},
       "unexpected argument 'on': prog takes no arguments"},
      {{"-"}, "unexpected argument '-': prog takes no arguments"},
      {{"--=x"}, "unexpected argument '--=x': prog takes no arguments"},
      // The first error is the one reported; --help does not hide it.
      {{"--bogus", "--help"}, "unknown flag --bogus"},
      {{"--help", "extra"},
       "unexpected argument 'extra': prog takes no arguments"},
  };
  for (const auto& [args, why] : cases) {
    absl::StatusOr<ParsedCommandLine> parsed = Parse(args);
    ASSERT_FALSE(parsed.ok()) << args[0];
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << args[0];
    EXPECT_EQ(parsed.status().message(), why + " (see prog --help)");
  }
}

TEST(ParseCommandLine, SpecFlagThatIsNoAbslFlagIsAnInternalError) {
  CommandLineSpec spec = Spec();
  spec.sections[1].flags.push_back({"cl_typo", "N"});
  absl::StatusOr<ParsedCommandLine> parsed =
      ParseCommandLine(spec, {"prog", "--help"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(parsed.status().message(),
            "--cl_typo is in the command line spec but is not an absl flag");
}

TEST(HelpText, SynopsisFlagsWithHelpAndDefaultsInOurLayout) {
  EXPECT_EQ(HelpText(Spec()),
            R"(Usage: prog [--cl_text=TEXT] [--cl_count=N]
       prog --cl_switch [--cl_wait=DURATION] [--cl_list=ITEM[,ITEM...]]
            [--nocl_on]
       prog --help | --version

Does a thing.

Modes:
  --cl_switch                 Off unless given.
  --cl_text=TEXT              Some text.

Options:
  --cl_count=N                How many. (default: 3)
  --cl_on                     On unless --nocl_on. (default: true)
  --cl_wait=DURATION          How long to wait, a duration with its unit,
                              before the program gives up and says so on
                              standard error.
                              A second paragraph. (default: 5s)
  --cl_list=ITEM[,ITEM[,ITEM...]]
                              Comma-separated items.
  --help, -h                  Show this help and exit.
  --version                   Show the version and exit.

See prog(1).
)");
}

TEST(HelpText, NoLineIsWiderThan79Columns) {
  const std::string help = HelpText(Spec());
  size_t start = 0;
  while (start < help.size()) {
    const size_t end = help.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 79u) << help.substr(start, end - start);
    start = end + 1;
  }
}

TEST(HelpText, BareSpecStillListsHelpAndVersion) {
  CommandLineSpec spec;
  spec.program = "p";
  EXPECT_EQ(HelpText(spec), R"(Usage: p --help | --version

Options:
  --help, -h  Show this help and exit.
  --version   Show the version and exit.
)");
}

TEST(VersionText, IsProgramAndVersion) {
  EXPECT_EQ(VersionText(Spec()), "prog 1.2.3\n");
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

TEST(WriteRequestedText, WritesWhatWasAskedFor) {
  for (const auto& [request, expected] :
       std::vector<std::pair<CommandLineRequest, std::string>>{
           {CommandLineRequest::kHelp, HelpText(Spec())},
           {CommandLineRequest::kVersion, "prog 1.2.3\n"},
           {CommandLineRequest::kRun, ""}}) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    EXPECT_TRUE(WriteRequestedText(Spec(), request, fds[1]).ok());
    ::close(fds[1]);
    EXPECT_EQ(ReadAll(fds[0]), expected);
    ::close(fds[0]);
  }
}

TEST(WriteRequestedText, ClosedFdIsEbadf) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  absl::Status status =
      WriteRequestedText(Spec(), CommandLineRequest::kVersion, fds[1]);
  EXPECT_EQ(sdfd::ErrnoOf(status), EBADF);
  EXPECT_EQ(status.message(),
            "write(" + std::to_string(fds[1]) + "): Bad file descriptor");
}

}  // namespace
}  // namespace foobar
