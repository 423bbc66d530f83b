// common/command_line.h: the one way foobard and foobar read their command
// line and present --help and --version.
//
// A program defines its flags with ABSL_FLAG and lists them, with the words
// its help shows, in a CommandLineSpec. ParseCommandLine walks argv with
// absl's syntax (--flag=value, --flag value, -flag, --flag and --noflag for
// a bool, `--` ends the flags), hands each value to the flag's own absl
// parser, and turns every usage error into one InvalidArgument line naming
// the flag. absl::ParseCommandLine is not used: it exits 1 on a bad flag
// and after --help, where both programs promise 2 and 0, and its help lists
// flags by source file ("Flags from daemon/flags.cc:").
//
// Only the flags a spec lists are accepted. absl's built-in ones
// (--helpfull, --flagfile, --fromenv, --tryfromenv, --undefok) are not: they
// are unknown flags, a usage error like any other. Neither program takes
// arguments, so any argument that is not a flag is a usage error too.
//
// Example:
//
//   foobar::CommandLineSpec spec;
//   spec.program = "foobard";
//   spec.version = "0.2.0";
//   absl::StatusOr<foobar::ParsedCommandLine> parsed =
//       foobar::ParseCommandLine(spec, {"foobard", "--bogus"});
//   if (!parsed.ok()) {
//     // InvalidArgument: "unknown flag --bogus (see foobard --help)"
//     std::string line(parsed.status().message());
//     std::fprintf(stderr, "foobard: %s\n", line.c_str());
//     return 2;
//   }
//   if (parsed->request != foobar::CommandLineRequest::kRun) {
//     absl::Status s = foobar::WriteRequestedText(spec, parsed->request, 1);
//     return s.ok() ? 0 : 1;
//   }
#ifndef COMMON_COMMAND_LINE_H_
#define COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace foobar {

// FlagHelp names one ABSL_FLAG a program accepts, and the placeholder its
// help shows for the value.
struct FlagHelp {
  std::string name;        // as in ABSL_FLAG, without dashes: "timeout"
  std::string value_name;  // "DURATION" in --timeout=DURATION; "" for a bool
};

// FlagSection is a titled group of flags in the help ("Options:").
struct FlagSection {
  std::string title;
  std::vector<FlagHelp> flags;
};

// CommandLineSpec is a program's command line: the flags it accepts (every
// flag of every section, and --help, -h and --version) and the words of its
// help.
struct CommandLineSpec {
  std::string program;  // "foobard": in messages, help and version
  std::string version;  // "0.2.0": --version prints "foobard 0.2.0"
  // usage holds one synopsis form per line, without the program's name:
  // "[--verbose]". "PROGRAM --help | --version" is added after them.
  std::vector<std::string> usage;
  std::string description;  // after the synopsis; lines end with \n
  std::vector<FlagSection> sections;
  std::string epilogue;  // after the flags; lines end with \n
};

// CommandLineRequest is what a valid command line asks for.
enum class CommandLineRequest { kRun, kHelp, kVersion };

// ParsedCommandLine is what ParseCommandLine found, beyond the flag values
// it stored in the absl flags.
struct ParsedCommandLine {
  // kHelp when --help or -h was given (it wins over --version), kVersion
  // when --version was; the caller then does nothing else.
  CommandLineRequest request = CommandLineRequest::kRun;
  // given holds the name of every flag set on the command line, once each,
  // in the order of first appearance ("--noraw" adds "raw").
  std::vector<std::string> given;

  // Given is true when flag `name` was set on the command line, even to its
  // default value.
  bool Given(absl::string_view name) const;
};

// ParseCommandLine reads `args` (args[0] is the program's name, skipped)
// into the absl flags `spec` lists, each value through the flag's own absl
// parser; a flag given twice keeps the last value. It stops at the first
// usage error, leaving the flags before it set, and returns
// InvalidArgumentError with one line ending "(see PROGRAM --help)":
//   "unknown flag --NAME"                   not in the spec, or --noNAME of
//                                           a flag that is not a bool
//   "--NAME needs a value"                  a value flag last on the line
//   "--NAME takes no value"                 --help=x, --version=x, --noNAME=x
//   "invalid value for --NAME=VALUE: WHY"   absl's parser refused VALUE
//   "unexpected argument 'ARG': PROGRAM takes no arguments"
//                                           not a flag, or anything after --
// A flag the spec lists that no ABSL_FLAG defines is the program's bug:
// InternalError "--NAME is in the command line spec but is not an absl
// flag", before anything is parsed. Flags are process-wide: it is meant to
// run once (tests restore them with absl::FlagSaver).
absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    const CommandLineSpec& spec, const std::vector<std::string>& args);

// HelpText is the --help output: "Usage:" and the synopsis forms, the
// description, each section with each flag's help text (the ABSL_FLAG's,
// wrapped to 79 columns) and default, --help and --version at the end of
// the last section, and the epilogue. The default is shown as
// "(default: VALUE)", absl's text for it, except when there is nothing to
// show: an empty default, or a bool that is off unless given.
std::string HelpText(const CommandLineSpec& spec);

// VersionText is the --version output: "PROGRAM VERSION\n".
std::string VersionText(const CommandLineSpec& spec);

// WriteRequestedText writes HelpText for kHelp, VersionText for kVersion
// and nothing for kRun to `fd` (borrowed), with write(2) until all of it is
// written. Errors carry write's errno (sdfd::ErrnoOf): EBADF when `fd` is
// closed; EPIPE when it is a pipe whose reader is gone and SIGPIPE is
// ignored.
absl::Status WriteRequestedText(const CommandLineSpec& spec,
                                CommandLineRequest request, int fd);

}  // namespace foobar

#endif  // COMMON_COMMAND_LINE_H_
