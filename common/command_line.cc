// common/command_line.cc: see command_line.h.
#include "common/command_line.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "sdfd/errno_status.h"

namespace foobar {
namespace {

// kWidth is the widest help line: 79 columns leave a terminal's last column
// free, where some terminals wrap early.
constexpr size_t kWidth = 79;
// kMaxHelpColumn caps where flag help text starts; a longer flag name gets
// a line of its own.
constexpr size_t kMaxHelpColumn = 30;

// Built-in flags, in the order the help lists them.
constexpr char kHelpLabel[] = "--help, -h";
constexpr char kHelpText[] = "Show this help and exit.";
constexpr char kVersionLabel[] = "--version";
constexpr char kVersionText[] = "Show the version and exit.";

absl::Status UsageError(const CommandLineSpec& spec, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(why, " (see ", spec.program, " --help)"));
}

absl::Status UnexpectedArgument(const CommandLineSpec& spec,
                                absl::string_view arg) {
  return UsageError(spec, absl::StrCat("unexpected argument '", arg, "': ",
                                       spec.program, " takes no arguments"));
}

// Listed returns the spec's entry for flag `name`, or nullptr.
const FlagHelp* Listed(const CommandLineSpec& spec, absl::string_view name) {
  for (const FlagSection& section : spec.sections) {
    for (const FlagHelp& flag : section.flags) {
      if (flag.name == name) return &flag;
    }
  }
  return nullptr;
}

std::string Label(const FlagHelp& flag) {
  return flag.value_name.empty()
             ? absl::StrCat("--", flag.name)
             : absl::StrCat("--", flag.name, "=", flag.value_name);
}

// Words splits `text` at spaces.
std::vector<absl::string_view> Words(absl::string_view text) {
  return absl::StrSplit(text, ' ', absl::SkipEmpty());
}

// AppendWrapped appends `words` to `out`, whose last line is already
// `column` characters long, one space apart, breaking lines before kWidth
// and starting each new one with `indent` spaces. A word longer than a
// line is not cut.
void AppendWrapped(std::string& out, size_t column, size_t indent,
                   const std::vector<absl::string_view>& words) {
  bool line_has_words = false;
  for (absl::string_view word : words) {
    if (line_has_words && column + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
      line_has_words = false;
    }
    if (line_has_words) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    line_has_words = true;
  }
}

// AppendFlag appends one flag's entry: its label, then its help from
// `column` on, each paragraph ("\n" in the help) on a line of its own, and
// `note` after the last word, never split across lines.
void AppendFlag(std::string& out, size_t column, absl::string_view label,
                absl::string_view help, absl::string_view note = "") {
  absl::StrAppend(&out, "  ", label);
  size_t at = 2 + label.size();
  if (at + 2 > column) {
    absl::StrAppend(&out, "\n");
    at = 0;
  }
  out.append(column - at, ' ');
  const std::vector<absl::string_view> paragraphs = absl::StrSplit(help, '\n');
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, "\n", std::string(column, ' '));
    std::vector<absl::string_view> words = Words(paragraphs[i]);
    if (i + 1 == paragraphs.size() && !note.empty()) words.push_back(note);
    AppendWrapped(out, column, column, words);
  }
  out += '\n';
}

// DefaultNote is "(default: VALUE)", or "" when there is nothing to say.
std::string DefaultNote(const absl::CommandLineFlag& flag) {
  const std::string value = flag.DefaultValue();
  if (value.empty() || (flag.IsOfType<bool>() && value == "false")) return "";
  return absl::StrCat("(default: ", value, ")");
}

}  // namespace

bool ParsedCommandLine::Given(absl::string_view name) const {
  return std::find(given.begin(), given.end(), name) != given.end();
}

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    const CommandLineSpec& spec, const std::vector<std::string>& args) {
  for (const FlagSection& section : spec.sections) {
    for (const FlagHelp& flag : section.flags) {
      if (absl::FindCommandLineFlag(flag.name) == nullptr) {
        return absl::InternalError(
            absl::StrCat("--", flag.name,
                         " is in the command line spec but is not an absl "
                         "flag"));
      }
    }
  }

  ParsedCommandLine parsed;
  bool help = false;
  bool version = false;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) return UnexpectedArgument(spec, args[i + 1]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') return UnexpectedArgument(spec, arg);
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    const bool has_value = equals != absl::string_view::npos;
    absl::string_view value =
        has_value ? arg.substr(equals + 1) : absl::string_view();
    if (name.empty()) return UnexpectedArgument(spec, args[i]);

    if (name == "help" || name == "h" || name == "version") {
      if (has_value) {
        return UsageError(spec, absl::StrCat("--", name, " takes no value"));
      }
      (name == "version" ? version : help) = true;
      continue;
    }
    const FlagHelp* listed = Listed(spec, name);
    bool negated = false;
    if (listed == nullptr && absl::StartsWith(name, "no")) {
      listed = Listed(spec, name.substr(2));
      negated = true;
    }
    absl::CommandLineFlag* flag =
        listed == nullptr ? nullptr : absl::FindCommandLineFlag(listed->name);
    if (flag == nullptr || (negated && !flag->IsOfType<bool>())) {
      // Named as typed ("-v", not "--v"): the user should recognise it.
      const absl::string_view typed = args[i];
      return UsageError(spec, absl::StrCat("unknown flag ",
                                           typed.substr(0, typed.find('='))));
    }
    if (flag->IsOfType<bool>()) {
      if (negated && has_value) {
        return UsageError(spec, absl::StrCat("--", name, " takes no value"));
      }
      // absl's syntax: a bool takes its value only after '=', so that
      // `--verbose extra` is the flag and an argument.
      if (!has_value) value = negated ? "false" : "true";
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return UsageError(spec, absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      // absl's text says only "Illegal value"; the usual mistake with a
      // duration is a missing unit, so say what a valid one looks like.
      if (flag->IsOfType<absl::Duration>()) {
        absl::StrAppend(&error, "; a duration needs a unit: 500ms, 30s, 5m");
      } else if (flag->IsOfType<bool>()) {
        absl::StrAppend(&error, "; use --", flag->Name(), " or --no",
                        flag->Name());
      }
      return UsageError(spec, absl::StrCat("invalid value for --", flag->Name(),
                                           "=", value, ": ", error));
    }
    if (!parsed.Given(listed->name)) parsed.given.push_back(listed->name);
  }
  if (help) {
    parsed.request = CommandLineRequest::kHelp;
  } else if (version) {
    parsed.request = CommandLineRequest::kVersion;
  }
  return parsed;
}

std::string HelpText(const CommandLineSpec& spec) {
  std::string out;
  // The synopsis: each form wrapped under the first word after the name.
  const std::string lead = absl::StrCat("Usage: ", spec.program, " ");
  std::vector<std::string> forms = spec.usage;
  forms.push_back("--help | --version");
  for (size_t i = 0; i < forms.size(); ++i) {
    out += i == 0 ? lead : absl::StrCat(std::string(7, ' '), spec.program, " ");
    AppendWrapped(out, lead.size(), lead.size(), Words(forms[i]));
    out += '\n';
  }
  if (!spec.description.empty()) absl::StrAppend(&out, "\n", spec.description);

  // Help text starts two columns after the widest label, up to
  // kMaxHelpColumn; wider labels get a line of their own.
  size_t column = 2 + sizeof(kHelpLabel) - 1 + 2;
  for (const FlagSection& section : spec.sections) {
    for (const FlagHelp& flag : section.flags) {
      column = std::max(column, 2 + Label(flag).size() + 2);
    }
  }
  column = std::min(column, kMaxHelpColumn);

  std::vector<FlagSection> sections = spec.sections;
  if (sections.empty()) sections.push_back({"Options:", {}});
  for (size_t s = 0; s < sections.size(); ++s) {
    absl::StrAppend(&out, "\n", sections[s].title, "\n");
    for (const FlagHelp& entry : sections[s].flags) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(entry.name);
      if (flag == nullptr) {
        AppendFlag(out, column, Label(entry), "(not an absl flag)");
        continue;
      }
      AppendFlag(out, column, Label(entry), flag->Help(), DefaultNote(*flag));
    }
    if (s + 1 == sections.size()) {
      AppendFlag(out, column, kHelpLabel, kHelpText);
      AppendFlag(out, column, kVersionLabel, kVersionText);
    }
  }
  if (!spec.epilogue.empty()) absl::StrAppend(&out, "\n", spec.epilogue);
  return out;
}

std::string VersionText(const CommandLineSpec& spec) {
  return absl::StrCat(spec.program, " ", spec.version, "\n");
}

absl::Status WriteRequestedText(const CommandLineSpec& spec,
                                CommandLineRequest request, int fd) {
  std::string text;
  if (request == CommandLineRequest::kHelp) text = HelpText(spec);
  if (request == CommandLineRequest::kVersion) text = VersionText(spec);
  absl::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sdfd::ErrnoError(errno, absl::StrCat("write(", fd, ")"));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace foobar
