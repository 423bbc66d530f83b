// libFuzzer target: sdfd's LISTEN_* and WATCHDOG_* handling against
// libsystemd's, in the same process, on the same environment.
//
// Input layout: byte 0 holds flags, the rest is split on NUL (a value cannot
// contain NUL anyway) into LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES,
// WATCHDOG_USEC, WATCHDOG_PID and LISTEN_PIDFDID. A flag bit per variable
// says whether it is set at all; two more bits prefix LISTEN_PID /
// WATCHDOG_PID with our own pid, so the fuzzer reaches the "for us" paths
// (and "<pid>x"-style garbage), and the top bit asks both libraries to unset
// the variables afterwards. LISTEN_PIDFDID has no flag bit left: it is set
// when the input has its sixth field (five NULs), and a leading '$' in it
// stands for our own pidfd's inode id.
//
// libsystemd 252 ignores LISTEN_PIDFDID, which systemd v259 (and libsdfd)
// reads right where LISTEN_FDS is read, once LISTEN_PID matched. So
// libsystemd runs on the equivalent environment without it: a matching or
// (without pidfs) ignored id changes nothing; another process's id is "not
// for us", as an unset LISTEN_FDS; an id that does not parse fails as a
// LISTEN_FDS of "x" (EINVAL) or "99999999999" (ERANGE) would. Whether it
// parses is decided by the same SafeAtou64 that WATCHDOG_USEC checks
// against libsystemd's safe_atou64 in this very target.
//
// libsdfd also follows libsystemd 257 in reading numbers with C23's
// strtol() (glibc 2.38+: "0b" binary prefixes after blanks and a sign),
// where 252's strtol() stops at the 'b'. So each number libsystemd 252
// reads has such a binary literal rewritten first into what its strtol()
// reads alike: the decimal value (base 0) or the bare digits (base 2).
//
// Both libraries run for real, each on a freshly set environment:
// sdfd::ListenFds() and sd_listen_fds_with_names(), sdfd::WatchdogInterval()
// and sd_watchdog_enabled(). The only fds they touch are 3.., where the fuzzer
// keeps its own /dev/null descriptors (opened at start-up in every free slot
// from 3 to 10), so counts 1..8 succeed and the names are compared; larger
// counts reach a closed fd and must fail the same way (EBADF). Both only set
// FD_CLOEXEC; the fds sdfd returns are released, never closed. Any
// difference in results, or in the environment left behind, aborts, which
// libFuzzer reports as a crash with the input.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "sdfd/errno_status.h"
#include "sdfd/internal/env_parse.h"
#include "sdfd/listen_fds.h"
#include "sdfd/watchdog.h"

namespace {

constexpr int kOwnFdsEnd = 11;  // fds 3..10 are kept open

enum Flag : uint8_t {
  kListenPidSet = 1 << 0,
  kListenFdsSet = 1 << 1,
  kListenFdnamesSet = 1 << 2,
  kWatchdogUsecSet = 1 << 3,
  kWatchdogPidSet = 1 << 4,
  kListenPidOwnPrefix = 1 << 5,
  kWatchdogPidOwnPrefix = 1 << 6,
  kUnsetEnvironment = 1 << 7,
};

// SetOrUnset sets or removes one variable. It uses putenv() on storage of
// its own, because glibc's setenv() never frees replaced values, and a long
// fuzzing run would grow without bound.
void SetOrUnset(const char* name, bool set, const std::string& value) {
  static std::map<std::string, std::string>* storage =
      new std::map<std::string, std::string>();
  // Removed first, so the environment never points at a reused buffer.
  unsetenv(name);
  if (!set) return;
  std::string& entry = (*storage)[name];
  entry = absl::StrCat(name, "=", value);
  putenv(entry.data());
}

std::string SdfdListen(bool unset) {
  sdfd::ListenFdsOptions options;
  options.unset_environment = unset;
  absl::StatusOr<std::vector<sdfd::ListenFd>> fds = sdfd::ListenFds(options);
  if (!fds.ok()) {
    return absl::StrCat(sdfd::NegativeErrnoOf(fds.status()));
  }
  // libsystemd returns 0 and no names when not activated.
  if (fds->empty()) return "0";
  std::vector<std::string> names;
  for (sdfd::ListenFd& fd : *fds) {
    names.push_back(fd.name);
    // The fuzzer owns these descriptors; ListenFds must not close them.
    (void)fd.fd.release();
  }
  return absl::StrCat(fds->size(), " [", absl::StrJoin(names, "|"), "]");
}

std::string LibsystemdListen(bool unset) {
  char** names = nullptr;
  int r = sd_listen_fds_with_names(unset ? 1 : 0, &names);
  if (r <= 0) return absl::StrCat(r);
  std::vector<std::string> list;
  for (char** name = names; name != nullptr && *name != nullptr; ++name) {
    list.push_back(*name);
    free(*name);
  }
  free(names);
  return absl::StrCat(r, " [", absl::StrJoin(list, "|"), "]");
}

std::string SdfdWatchdog(bool unset) {
  absl::StatusOr<absl::Duration> d = sdfd::WatchdogInterval(unset);
  if (!d.ok()) return absl::StrCat(sdfd::NegativeErrnoOf(d.status()));
  if (*d == absl::ZeroDuration()) return "0";
  const int64_t seconds = absl::ToInt64Seconds(*d);
  const uint64_t usec = static_cast<uint64_t>(seconds) * 1000000 +
                        static_cast<uint64_t>(absl::ToInt64Microseconds(
                            *d - absl::Seconds(seconds)));
  return absl::StrCat("1 ", usec);
}

std::string LibsystemdWatchdog(bool unset) {
  uint64_t usec = 0;
  int r = sd_watchdog_enabled(unset ? 1 : 0, &usec);
  return r > 0 ? absl::StrCat("1 ", usec) : absl::StrCat(r);
}

// Environment renders the six variables, to compare what each library left.
std::string Environment() {
  std::string text;
  for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
                           "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_PIDFDID"}) {
    const char* value = getenv(name);
    absl::StrAppend(&text, name, value == nullptr ? " unset; " : "=",
                    value == nullptr ? "" : value,
                    value == nullptr ? "" : "; ");
  }
  return text;
}

void Check(const char* what, const std::string& ours, const std::string& theirs,
           const std::vector<std::string>& values) {
  if (ours == theirs) return;
  fprintf(stderr, "MISMATCH in %s: sdfd=%s libsystemd=%s\n", what, ours.c_str(),
          theirs.c_str());
  for (const std::string& v : values) {
    fprintf(stderr, "  value: \"%s\"\n", absl::CHexEscape(v).c_str());
  }
  abort();
}

// BinaryToDecimal turns binary digits of any length into decimal digits.
std::string BinaryToDecimal(const std::string& bits) {
  std::string decimal = "0";  // least significant digit first
  for (char bit : bits) {
    int carry = bit == '1' ? 1 : 0;
    for (char& d : decimal) {
      const int v = (d - '0') * 2 + carry;
      d = static_cast<char>('0' + v % 10);
      carry = v / 10;
    }
    if (carry > 0) decimal.push_back(static_cast<char>('0' + carry));
  }
  return std::string(decimal.rbegin(), decimal.rend());
}

// C23Equivalent rewrites a number for libsystemd 252 as described at the
// top: after systemd's own WHITESPACE and mangle_base() prefix, a C23
// binary literal (isspace, sign, "0b"/"0B", a binary digit) is replaced.
std::string C23Equivalent(const std::string& value) {
  const size_t n = value.size();
  size_t i = strspn(value.c_str(), " \t\n\r");
  int base = 0;
  if (i + 1 < n && value[i] == '0') {
    if (value[i + 1] == 'b' || value[i + 1] == 'B') base = 2;
    if (value[i + 1] == 'o' || value[i + 1] == 'O') base = 8;
    if (base != 0) i += 2;
  }
  if (base == 8) return value;
  size_t j = i;
  while (j < n && isspace(static_cast<unsigned char>(value[j]))) ++j;
  if (j < n && (value[j] == '+' || value[j] == '-')) ++j;
  if (j + 2 >= n || value[j] != '0' ||
      (value[j + 1] != 'b' && value[j + 1] != 'B') ||
      (value[j + 2] != '0' && value[j + 2] != '1')) {
    return value;
  }
  size_t k = j + 2;
  while (k < n && (value[k] == '0' || value[k] == '1')) ++k;
  const std::string bits = value.substr(j + 2, k - j - 2);
  if (base == 2) return value.substr(0, j) + bits + value.substr(k);
  // C23's strtol() stops where the binary digits end, so anything after them
  // is garbage; a '_' keeps the decimal digits from running into it ("0b1"
  // then "8", or "0b0" then "x1f").
  return value.substr(0, j) + BinaryToDecimal(bits) +
         (k < n ? "_" + value.substr(k) : "");
}

// OwnPidfdId is this process's pidfd inode id when pidfs gives unique ones
// (PID_FS_MAGIC), worked out here without libsdfd.
std::optional<uint64_t> OwnPidfdId() {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (pidfd < 0) return std::nullopt;
  struct statfs fs;
  struct stat st;
  const bool pidfs = fstatfs(pidfd, &fs) == 0 && fs.f_type == 0x50494446 &&
                     fstat(pidfd, &st) == 0;
  close(pidfd);
  if (!pidfs) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Fill every free slot 3..10 with /dev/null; slots already open belong to
  // someone else and are left alone.
  for (int fd = 3; fd < kOwnFdsEnd; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0) abort();
    if (null_fd != fd) {
      if (dup2(null_fd, fd) < 0) abort();
      close(null_fd);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::vector<std::string> values(6);
  size_t field = 0;
  for (size_t i = 1; i < size && field < values.size(); ++i) {
    if (data[i] == 0) {
      ++field;
    } else {
      values[field].push_back(static_cast<char>(data[i]));
    }
  }
  const bool pidfdid_set = field >= 5;
  const std::string pid = absl::StrCat(getpid());
  if (flags & kListenPidOwnPrefix) values[0] = pid + values[0];
  if (flags & kWatchdogPidOwnPrefix) values[4] = pid + values[4];
  static const std::optional<uint64_t> own_pidfdid = OwnPidfdId();
  if (!values[5].empty() && values[5][0] == '$') {
    values[5] = absl::StrCat(own_pidfdid.value_or(0), values[5].substr(1));
  }

  // What libsystemd 252 must see to answer as v259 (see the top).
  std::optional<std::string> oracle_fds;
  if (flags & kListenFdsSet) oracle_fds = values[1];
  if (pidfdid_set) {
    uint64_t id = 0;
    const int r = sdfd::internal::SafeAtou64(values[5].c_str(), &id);
    if (r < 0) {
      oracle_fds = r == -EINVAL ? "x" : "99999999999";
    } else if (own_pidfdid.has_value() && id != *own_pidfdid) {
      oracle_fds = std::nullopt;
    }
  }

  // Each library starts from the same environment; with kUnsetEnvironment
  // both remove variables, and what they leave is compared too.
  auto set_all = [&flags, &values] {
    SetOrUnset("LISTEN_PID", flags & kListenPidSet, values[0]);
    SetOrUnset("LISTEN_FDS", flags & kListenFdsSet, values[1]);
    SetOrUnset("LISTEN_FDNAMES", flags & kListenFdnamesSet, values[2]);
    SetOrUnset("WATCHDOG_USEC", flags & kWatchdogUsecSet, values[3]);
    SetOrUnset("WATCHDOG_PID", flags & kWatchdogPidSet, values[4]);
  };
  const bool unset = flags & kUnsetEnvironment;

  set_all();
  SetOrUnset("LISTEN_PIDFDID", pidfdid_set, values[5]);
  const std::string ours_listen = SdfdListen(unset);
  const std::string ours_watchdog = SdfdWatchdog(unset);
  const std::string ours_env = Environment();
  SetOrUnset("LISTEN_PID", flags & kListenPidSet, C23Equivalent(values[0]));
  SetOrUnset("LISTEN_FDS", oracle_fds.has_value(),
             C23Equivalent(oracle_fds.value_or("")));
  SetOrUnset("LISTEN_FDNAMES", flags & kListenFdnamesSet, values[2]);
  SetOrUnset("WATCHDOG_USEC", flags & kWatchdogUsecSet,
             C23Equivalent(values[3]));
  SetOrUnset("WATCHDOG_PID", flags & kWatchdogPidSet, C23Equivalent(values[4]));
  SetOrUnset("LISTEN_PIDFDID", false, "");
  const std::string theirs_listen = LibsystemdListen(unset);
  const std::string theirs_watchdog = LibsystemdWatchdog(unset);
  // Variables left in place read as they came, before any rewriting: so
  // libsdfd would have left them. (With unsetting, both libraries remove
  // every one of them on every path.)
  if (!unset) {
    set_all();
    SetOrUnset("LISTEN_PIDFDID", pidfdid_set, values[5]);
  }
  const std::string theirs_env = Environment();

  Check("listen", ours_listen, theirs_listen, values);
  Check("watchdog", ours_watchdog, theirs_watchdog, values);
  Check("environment afterwards", ours_env, theirs_env, values);
  return 0;
}
