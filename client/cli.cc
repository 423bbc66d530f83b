// client/cli.cc: see cli.h.
#include "client/cli.h"

#include <sys/socket.h>

#include <cstdint>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "version.h"

ABSL_FLAG(std::string, connect, "",
          "The server's socket: unix:/path, unix:@abstract, or tcp:HOST:PORT "
          "(HOST an IPv4 address, [IPv6] or localhost); a bare /path means "
          "unix:/path. Default: $FOOBAR_SOCKET if set, else "
          "unix:/run/foobar.sk.");
ABSL_FLAG(std::string, message, "",
          "Send TEXT and a newline, print the echo, exit.");
ABSL_FLAG(bool, raw, false,
          "Binary-safe byte pipe stdin -> server -> stdout (like nc -U), both "
          "directions at once; half-closes at the end of input and exits "
          "when the server closes.");
ABSL_FLAG(bool, bench, false,
          "Closed-loop load generator (like redis-benchmark): each "
          "connection sends a message, waits for its whole echo, checks "
          "every byte, and repeats. One thread, epoll. Prints one line on "
          "stdout, connections= messages= bytes= seconds= msgs_per_s= "
          "mib_per_s= p50_us= p99_us= max_us= errors= mismatches=, and a "
          "progress line on stderr when that is a terminal.");
ABSL_FLAG(int32_t, connections, 50,
          "Concurrent connections, 1 to 1000000; the open-file limit is "
          "raised to its hard limit.");
ABSL_FLAG(int64_t, messages, 100000,
          "Round trips in total, over all connections.");
ABSL_FLAG(std::string, size, "64",
          "Bytes per message: 64, 4K, 1M, at most 16M.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "The longest wait for the server to accept the connection, or for "
          "the next byte of an outstanding echo: 200ms, 10s, 1m, inf.");

namespace foobar::client {
namespace {

constexpr int kMaxConnections = 1000000;
constexpr uint64_t kMaxSize = 16 * 1024 * 1024;

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

foobar::CommandLineSpec Spec() {
  foobar::CommandLineSpec spec;
  spec.program = "foobar";
  spec.version = FOOBAR_VERSION;
  spec.usage = {
      "[--connect=SPEC] [--timeout=DURATION]",
      "--message=TEXT [--connect=SPEC] [--timeout=DURATION]",
      "--raw [--connect=SPEC] [--timeout=DURATION]",
      "--bench [--connections=N] [--messages=M] [--size=BYTES] "
      "[--connect=SPEC] [--timeout=DURATION]",
  };
  spec.description =
      R"(Talks to foobard, the echo daemon behind foobar.socket.

Without a mode flag it is in line mode: it sends each line of stdin, prints
its complete echo, then sends the next line. With a terminal on stdin it is
interactive (prompt on stderr); otherwise scriptable: printf 'a\nb\n' | foobar
prints exactly a, b. At the end of input it half-closes, prints what is
still echoed, and exits 0 once the server closes.
)";
  spec.sections = {
      {"Modes:", {{"message", "TEXT"}, {"raw", ""}, {"bench", ""}}},
      {"Bench options (with --bench):",
       {{"connections", "N"}, {"messages", "M"}, {"size", "BYTES"}}},
      {"Options:", {{"connect", "SPEC"}, {"timeout", "DURATION"}}},
  };
  spec.epilogue = R"(Environment:
  FOOBAR_SOCKET  The default for --connect.

Exit status:
  0  success (--bench: every message came back intact)
  1  failure: cannot connect, connection reset or closed early, timeout,
     messages lost or corrupted
  2  usage error: unknown flag, bad value, conflicting modes

See foobar(1).
)";
  return spec;
}

absl::StatusOr<CommandLine> ParseCommandLine(
    const std::vector<std::string>& args, const char* socket_env) {
  absl::StatusOr<foobar::ParsedCommandLine> parsed =
      foobar::ParseCommandLine(Spec(), args);
  if (!parsed.ok()) return parsed.status();
  CommandLine cli;
  if (parsed->request == foobar::CommandLineRequest::kHelp) {
    cli.mode = Mode::kHelp;
    return cli;
  }
  if (parsed->request == foobar::CommandLineRequest::kVersion) {
    cli.mode = Mode::kVersion;
    return cli;
  }

  const bool message = parsed->Given("message");
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
    if (!bench && parsed->Given(bench_only)) {
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
  if (parsed->Given("connect")) {
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

}  // namespace foobar::client
