#include "client/cli.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

ABSL_FLAG(std::string, connect, "",
          "server socket: unix:/path, unix:@abstract, tcp:HOST:PORT or /path "
          "(default: $FOOBAR_SOCKET, else unix:/run/foobar.sk)");
ABSL_FLAG(std::string, message, "",
          "send this text and a newline, print the echo, exit");
ABSL_FLAG(bool, raw, false, "binary-safe byte pipe stdin -> server -> stdout");
ABSL_FLAG(bool, bench, false, "closed-loop load generator");
ABSL_FLAG(int32_t, connections, 50, "--bench: concurrent connections");
ABSL_FLAG(int64_t, messages, 100000,
          "--bench: round trips in total, over all connections");
ABSL_FLAG(std::string, size, "64",
          "--bench: bytes per message (64, 4K, 1M; at most 16M)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "longest wait for the server to accept or to echo (200ms, 10s, inf)");

namespace foobar::client {
namespace {

constexpr int kMaxConnections = 1000000;
constexpr uint64_t kMaxSize = 16 * 1024 * 1024;

// kFlags are the flags foobar accepts; other absl flags linked into the
// binary (--flagfile, --fromenv, ...) are not part of its interface.
const char* const kFlags[] = {"connect",     "message",  "raw",  "bench",
                              "connections", "messages", "size", "timeout"};

bool IsOurFlag(absl::string_view name) {
  return std::find(std::begin(kFlags), std::end(kFlags), name) !=
         std::end(kFlags);
}

absl::Status Usage(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(why, " (see foobar --help)"));
}

// ParseSize reads a byte count with an optional binary suffix: 64, 4K,
// 4KiB, 1M, 1MiB.
absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  absl::string_view digits = text;
  uint64_t unit = 1;
  for (const auto& [suffix, factor] :
       {std::pair<absl::string_view, uint64_t>{"KiB", 1024},
        {"MiB", 1024 * 1024},
        {"K", 1024},
        {"k", 1024},
        {"M", 1024 * 1024}}) {
    if (absl::EndsWith(digits, suffix)) {
      digits.remove_suffix(suffix.size());
      unit = factor;
      break;
    }
  }
  uint64_t value = 0;
  if (digits.empty() || !absl::SimpleAtoi(digits, &value) ||
      value > kMaxSize / unit || value * unit == 0 || value * unit > kMaxSize) {
    return Usage(absl::StrCat("invalid --size=", text,
                              ": expected 1 to 16M bytes, like 64, 4K or 1M"));
  }
  return value * unit;
}

// SetFlag parses `value` into flag `name` with absl's own parser.
absl::Status SetFlag(absl::string_view name, absl::string_view value) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  std::string error;
  if (flag == nullptr || !flag->ParseFrom(value, &error)) {
    return Usage(
        absl::StrCat("invalid value for --", name, "=", value, ": ", error));
  }
  return absl::OkStatus();
}

absl::StatusOr<sdfd::SocketSpec> ParseTarget(absl::string_view text,
                                             absl::string_view source) {
  // A bare absolute path is the common case; accept it as a unix socket.
  const std::string spec_text = absl::StartsWith(text, "/")
                                    ? absl::StrCat("unix:", text)
                                    : std::string(text);
  absl::StatusOr<sdfd::SocketSpec> spec = sdfd::ParseSocketSpec(spec_text);
  if (!spec.ok()) {
    return Usage(
        absl::StrCat("invalid ", source, ": ", spec.status().message()));
  }
  if (spec->type != SOCK_STREAM) {
    return Usage(absl::StrCat(
        "invalid ", source,
        ": foobar talks over stream sockets; use unix:/path, unix:@name or "
        "tcp:HOST:PORT"));
  }
  return spec;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* socket_env) {
  CommandLine cli;
  std::set<std::string> given;
  bool help = false;
  bool version = false;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) {
        return Usage(absl::StrCat("unexpected argument '", args[i + 1],
                                  "': foobar takes no arguments"));
      }
      break;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      return Usage(absl::StrCat("unexpected argument '", arg,
                                "': foobar takes no arguments"));
    }
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    const size_t equals = arg.find('=');
    std::string name(arg.substr(0, equals));
    const bool has_value = equals != absl::string_view::npos;
    std::string value(has_value ? arg.substr(equals + 1) : "");

    if (name == "help" || name == "h" || name == "version") {
      if (has_value) return Usage(absl::StrCat("--", name, " takes no value"));
      (name == "version" ? version : help) = true;
      continue;
    }
    bool negated = false;
    if (!IsOurFlag(name) && absl::StartsWith(name, "no") &&
        IsOurFlag(name.substr(2))) {
      name = name.substr(2);
      negated = true;
    }
    if (!IsOurFlag(name)) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag->IsOfType<bool>()) {
      if (negated && has_value) {
        return Usage(absl::StrCat("--no", name, " takes no value"));
      }
      if (!has_value) value = negated ? "false" : "true";
    } else {
      if (negated) return Usage(absl::StrCat("unknown flag --no", name));
      if (!has_value) {
        if (i + 1 >= args.size()) {
          return Usage(absl::StrCat("--", name, " needs a value"));
        }
        value = args[++i];
      }
    }
    if (absl::Status s = SetFlag(name, value); !s.ok()) return s;
    given.insert(name);
  }
  if (help) {
    cli.mode = Mode::kHelp;
    return cli;
  }
  if (version) {
    cli.mode = Mode::kVersion;
    return cli;
  }

  const bool message = given.count("message") > 0;
  const bool raw = absl::GetFlag(FLAGS_raw);
  const bool bench = absl::GetFlag(FLAGS_bench);
  if (message + raw + bench > 1) {
    std::vector<std::string> chosen;
    if (message) chosen.push_back("--message");
    if (raw) chosen.push_back("--raw");
    if (bench) chosen.push_back("--bench");
    return Usage(absl::StrCat(absl::StrJoin(chosen, " and "),
                              " cannot be combined: pick one mode"));
  }
  for (const char* bench_only : {"connections", "messages", "size"}) {
    if (!bench && given.count(bench_only) > 0) {
      return Usage(absl::StrCat("--", bench_only, " needs --bench"));
    }
  }
  if (message) {
    cli.mode = Mode::kMessage;
    cli.message = absl::GetFlag(FLAGS_message);
  } else if (raw) {
    cli.mode = Mode::kRaw;
  } else if (bench) {
    cli.mode = Mode::kBench;
  }

  cli.timeout = absl::GetFlag(FLAGS_timeout);
  if (cli.timeout <= absl::ZeroDuration()) {
    return Usage(
        absl::StrCat("invalid --timeout=", absl::FormatDuration(cli.timeout),
                     ": must be positive (use inf to wait forever)"));
  }

  absl::StatusOr<sdfd::SocketSpec> target;
  if (given.count("connect") > 0) {
    target = ParseTarget(absl::GetFlag(FLAGS_connect), "--connect");
  } else if (socket_env != nullptr && *socket_env != '\0') {
    target = ParseTarget(socket_env, "FOOBAR_SOCKET");
  } else {
    target = ParseTarget(kDefaultSocket, "default socket");
  }
  if (!target.ok()) return target.status();
  cli.target = *std::move(target);

  const int32_t connections = absl::GetFlag(FLAGS_connections);
  if (connections < 1 || connections > kMaxConnections) {
    return Usage(absl::StrCat("invalid --connections=", connections,
                              ": expected 1 to ", kMaxConnections));
  }
  const int64_t messages = absl::GetFlag(FLAGS_messages);
  if (messages < 1) {
    return Usage(
        absl::StrCat("invalid --messages=", messages, ": expected at least 1"));
  }
  absl::StatusOr<uint64_t> size = ParseSize(absl::GetFlag(FLAGS_size));
  if (!size.ok()) return size.status();
  cli.bench.connections = connections;
  cli.bench.messages = static_cast<uint64_t>(messages);
  cli.bench.size = static_cast<size_t>(*size);
  cli.bench.timeout = cli.timeout;
  return cli;
}

std::string HelpText() {
  return R"(Usage: foobar [--connect=SPEC] [--timeout=DURATION]
       foobar --message=TEXT
       foobar --raw
       foobar --bench [--connections=N] [--messages=M] [--size=BYTES]

Talks to foobard, the echo daemon behind foobar.socket.

Modes:
  (default)          Line mode: send each line of stdin, print its complete
                     echo, then send the next line. With a terminal on stdin it
                     is interactive (prompt on stderr); otherwise scriptable:
                     printf 'a\nb\n' | foobar  prints exactly a, b. At the end
                     of input it half-closes, prints what is still echoed, and
                     exits 0 once the server closes.
  --message=TEXT     Send TEXT and a newline, print the echo, exit.
  --raw              Binary-safe byte pipe stdin -> server -> stdout (like
                     nc -U), both directions at once; half-closes at the end
                     of input and exits when the server closes.
  --bench            Closed-loop load generator (like redis-benchmark): each
                     connection sends a message, waits for its whole echo,
                     checks every byte, and repeats. One thread, epoll. Prints
                     one line on stdout:
                       connections= messages= bytes= seconds= msgs_per_s=
                       mib_per_s= p50_us= p99_us= max_us= errors= mismatches=
                     and a progress line on stderr when that is a terminal.
    --connections=N  concurrent connections, 1 to 1000000 (default 50); the
                     open-file limit is raised to its hard limit
    --messages=M     round trips in total, over all connections (default
                     100000)
    --size=BYTES     bytes per message: 64, 4K, 1M, at most 16M (default 64)

Options:
  --connect=SPEC     The server's socket: unix:/path, unix:@abstract, or
                     tcp:HOST:PORT (HOST an IPv4 address, [IPv6] or
                     localhost); a bare /path means unix:/path.
                     Default: $FOOBAR_SOCKET if set, else unix:/run/foobar.sk.
  --timeout=DURATION The longest wait for the server to accept the
                     connection, or for the next byte of an outstanding echo:
                     200ms, 10s, 1m, inf (default 10s).
  --help             Show this help.
  --version          Show the version.

Environment:
  FOOBAR_SOCKET      The default for --connect.

Exit status:
  0  success (--bench: every message came back intact)
  1  failure: cannot connect, connection reset or closed early, timeout,
     messages lost or corrupted
  2  usage error: unknown flag, bad value, conflicting modes

See foobar(1).
)";
}

}  // namespace foobar::client
