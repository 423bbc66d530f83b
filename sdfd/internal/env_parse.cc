#include "sdfd/internal/env_parse.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sdfd/errno_status.h"

namespace sdfd::internal {
namespace {

// WHITESPACE in systemd's string-util.h; strtol() itself skips more
// (isspace), which systemd inherits, so both are kept.
constexpr char kWhitespace[] = " \t\n\r";

// MangleBase is systemd's mangle_base() for base 0: Python-style 0b/0B and
// 0o/0O prefixes pick base 2 and 8; anything else leaves base 0 to strtol.
const char* MangleBase(const char* text, int* base) {
  if (text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
    *base = 2;
    return text + 2;
  }
  if (text[0] == '0' && (text[1] == 'o' || text[1] == 'O')) {
    *base = 8;
    return text + 2;
  }
  return text;
}

// StrtoC23 is `strto` (strtol/strtoull) as C23 defines it, which glibc
// 2.38+ provides to programs built with _GNU_SOURCE, libsystemd 257 in
// Debian 13 among them: with base 0 or 2 it also takes a "0b"/"0B" prefix
// followed by a binary digit, after leading isspace() and a sign. (252, built
// against glibc 2.36, reads "+0b1" as 0 followed by garbage.) systemd's
// mangle_base() already handles "0b" at the very start; this covers what it
// leaves: "\v0b1", "+0b1", and "0b0b1" (prefix, then base 2 with a prefix).
template <typename T>
T StrtoC23(const char* text, char** end, int base,
           T (*strto)(const char*, char**, int)) {
  const char* digits = text;
  while (std::isspace(static_cast<unsigned char>(*digits))) ++digits;
  if (*digits == '+' || *digits == '-') ++digits;
  if ((base != 0 && base != 2) || digits[0] != '0' ||
      (digits[1] != 'b' && digits[1] != 'B') ||
      (digits[2] != '0' && digits[2] != '1')) {
    return strto(text, end, base);
  }
  // The same text without the prefix, in base 2; `end` maps back past it.
  const size_t head = static_cast<size_t>(digits - text);
  std::string copy(text, head);
  copy.append(digits + 2);
  char* copy_end = nullptr;
  // The copy may have touched errno; only strto's own report counts.
  errno = 0;
  const T value = strto(copy.c_str(), &copy_end, 2);
  *end = const_cast<char*>(text) + (copy_end - copy.c_str()) + 2;
  return value;
}

// SafeAtoull is systemd's safe_atollu_full(text, 0, value).
int SafeAtoull(const char* text, unsigned long long* value) {
  text += std::strspn(text, kWhitespace);
  int base = 0;
  text = MangleBase(text, &base);
  char* end = nullptr;
  errno = 0;
  unsigned long long parsed =
      StrtoC23<unsigned long long>(text, &end, base, std::strtoull);
  if (errno > 0) return -errno;
  if (end == nullptr || end == text || *end != '\0') return -EINVAL;
  // strtoull() accepts "-1" as ULLONG_MAX; a negative number is out of range.
  if (parsed != 0 && text[0] == '-') return -ERANGE;
  *value = parsed;
  return 0;
}

std::string Quoted(const char* text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

}  // namespace

int SafeAtoi(const char* text, int* value) {
  text += std::strspn(text, kWhitespace);
  int base = 0;
  text = MangleBase(text, &base);
  char* end = nullptr;
  errno = 0;
  long parsed = StrtoC23<long>(text, &end, base, std::strtol);
  if (errno > 0) return -errno;
  if (end == nullptr || end == text || *end != '\0') return -EINVAL;
  if (static_cast<long>(static_cast<int>(parsed)) != parsed) return -ERANGE;
  *value = static_cast<int>(parsed);
  return 0;
}

int SafeAtou(const char* text, unsigned* value) {
  // safe_atou_full(text, 0, value): safe_atolu's rules, then the range of
  // unsigned int.
  static_assert(sizeof(unsigned long) == sizeof(unsigned long long),
                "safe_atolu is safe_atollu on this platform");
  unsigned long long parsed = 0;
  int r = SafeAtoull(text, &parsed);
  if (r < 0) return r;
  if (static_cast<unsigned long long>(static_cast<unsigned>(parsed)) !=
      parsed) {
    return -ERANGE;
  }
  *value = static_cast<unsigned>(parsed);
  return 0;
}

int SafeAtou64(const char* text, uint64_t* value) {
  unsigned long long parsed = 0;
  int r = SafeAtoull(text, &parsed);
  if (r < 0) return r;
  static_assert(sizeof(unsigned long long) == sizeof(uint64_t),
                "safe_atou64 is safe_atollu on this platform");
  *value = parsed;
  return 0;
}

int ParsePid(const char* text, pid_t* pid) {
  // safe_atolu() is safe_atollu_full() where long is 64 bits (Linux x86-64).
  static_assert(sizeof(unsigned long) == sizeof(unsigned long long),
                "safe_atolu is safe_atollu on this platform");
  unsigned long long parsed = 0;
  int r = SafeAtoull(text, &parsed);
  if (r < 0) return r;
  pid_t narrowed = static_cast<pid_t>(parsed);
  if (static_cast<unsigned long long>(narrowed) != parsed) return -ERANGE;
  if (narrowed <= 0) return -ERANGE;  // pid_is_valid()
  *pid = narrowed;
  return 0;
}

absl::StatusOr<std::vector<std::string>> SplitFdNames(absl::string_view text) {
  std::vector<std::string> names(1);
  bool escaped = false;
  for (char c : text) {
    if (escaped) {
      names.back().push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == ':') {
      names.emplace_back();
    } else {
      names.back().push_back(c);
    }
  }
  if (escaped) {
    return InvalidArgumentWithErrno(
        EINVAL, absl::StrCat("LISTEN_FDNAMES=\"", absl::CHexEscape(text),
                             "\" ends in a lone backslash"));
  }
  return names;
}

absl::StatusOr<ListenEnv> ParseListenEnv(const char* listen_pid,
                                         const char* listen_fds,
                                         const char* listen_fdnames, pid_t self,
                                         const char* listen_pidfdid,
                                         std::optional<uint64_t> self_pidfdid) {
  ListenEnv env;
  // libsystemd splits the names first, so a malformed LISTEN_FDNAMES is an
  // error even when the fds are for another process.
  if (listen_fdnames != nullptr) {
    absl::StatusOr<std::vector<std::string>> names =
        SplitFdNames(listen_fdnames);
    if (!names.ok()) return names.status();
    env.have_names = true;
    env.names = *std::move(names);
  }
  if (listen_pid == nullptr) return ListenEnv();
  pid_t pid = 0;
  if (int r = ParsePid(listen_pid, &pid); r < 0) {
    return InvalidArgumentWithErrno(
        -r, absl::StrCat("LISTEN_PID=", Quoted(listen_pid),
                         " is not a valid process id"));
  }
  // The fds belong to process `pid` only: a child that inherited the
  // variables must not take them.
  if (pid != self) return ListenEnv();
  // systemd v259: LISTEN_PIDFDID names the process by its pidfd's inode id,
  // which, unlike a pid, is never reused. Ignored when the kernel has no
  // unique ids to compare with.
  if (listen_pidfdid != nullptr) {
    uint64_t pidfdid = 0;
    if (int r = SafeAtou64(listen_pidfdid, &pidfdid); r < 0) {
      return InvalidArgumentWithErrno(
          -r, absl::StrCat("LISTEN_PIDFDID=", Quoted(listen_pidfdid),
                           " is not a valid pidfd inode id"));
    }
    if (self_pidfdid.has_value() && pidfdid != *self_pidfdid) {
      return ListenEnv();
    }
  }
  if (listen_fds == nullptr) return ListenEnv();
  int n = 0;
  if (int r = SafeAtoi(listen_fds, &n); r < 0) {
    return InvalidArgumentWithErrno(
        -r, absl::StrCat("LISTEN_FDS=", Quoted(listen_fds),
                         " is not a valid fd count"));
  }
  // Overflow guard: fd numbers 3 .. 3+n-1 must all fit in an int.
  if (n <= 0 || n > INT_MAX - 3 /* SD_LISTEN_FDS_START */) {
    return InvalidArgumentWithErrno(
        EINVAL, absl::StrCat("LISTEN_FDS=", Quoted(listen_fds),
                             " must be between 1 and INT_MAX - 3"));
  }
  env.n_fds = n;
  return env;
}

absl::Status CheckFdNameCount(const ListenEnv& env) {
  if (!env.have_names) return absl::OkStatus();
  if (env.names.size() == static_cast<size_t>(env.n_fds)) {
    return absl::OkStatus();
  }
  return InvalidArgumentWithErrno(
      EINVAL, absl::StrCat("LISTEN_FDNAMES has ", env.names.size(),
                           " names but LISTEN_FDS is ", env.n_fds));
}

std::vector<std::string> FdNames(const ListenEnv& env) {
  if (env.have_names) return env.names;
  return std::vector<std::string>(env.n_fds, "unknown");
}

absl::StatusOr<uint64_t> ParseWatchdogEnv(const char* watchdog_usec,
                                          const char* watchdog_pid,
                                          pid_t self) {
  if (watchdog_usec == nullptr) return 0;
  uint64_t usec = 0;
  if (int r = SafeAtou64(watchdog_usec, &usec); r < 0) {
    return InvalidArgumentWithErrno(
        -r, absl::StrCat("WATCHDOG_USEC=", Quoted(watchdog_usec),
                         " is not a valid number of microseconds"));
  }
  // timestamp_is_set(): 0 and USEC_INFINITY mean "no interval".
  if (usec == 0 || usec == UINT64_MAX) {
    return InvalidArgumentWithErrno(
        EINVAL, absl::StrCat("WATCHDOG_USEC=", Quoted(watchdog_usec),
                             " must be a finite, non-zero interval"));
  }
  if (watchdog_pid != nullptr) {
    pid_t pid = 0;
    if (int r = ParsePid(watchdog_pid, &pid); r < 0) {
      return InvalidArgumentWithErrno(
          -r, absl::StrCat("WATCHDOG_PID=", Quoted(watchdog_pid),
                           " is not a valid process id"));
    }
    if (pid != self) return 0;
  }
  return usec;
}

}  // namespace sdfd::internal
