#include "sdfd/handoff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sdfd/errno_status.h"
#include "sdfd/notify.h"

namespace sdfd {
namespace {

// SCM_MAX_FD in the kernel's include/net/scm.h.
constexpr size_t kBatch = 253;

constexpr char kBundleMagic[8] = {'S', 'D', 'F', 'D', 'H', 'O', 'F', 'F'};
constexpr char kManifestMagic[8] = {'S', 'D', 'F', 'D', 'M', 'A', 'N', 'I'};
constexpr size_t kBundleHeaderSize = 24;  // magic, version, 0, N
constexpr size_t kBatchHeaderSize = 8;    // index, count
constexpr size_t kManifestFixedSize = 8 + 4 + 4 + 8 + 8 + 8;  // + checksum

// kFdHeadroom is what the receiver keeps free beyond N: the server's own
// epoll, signalfd, logging and notify sockets.
constexpr uint64_t kFdHeadroom = 64;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Fnv1a64 detects accidental corruption (the sender is the same service, not
// an adversary; the memfd is sealed besides).
uint64_t Fnv1a64(absl::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt handoff bundle: ", what));
}

// SendBatch sends one bundle message, its payload and fds, without blocking.
absl::Status SendBatch(int fd, const std::string& payload, const int* fds,
                       size_t n_fds) {
  std::vector<cmsghdr> control(
      (CMSG_SPACE(sizeof(int) * n_fds) + sizeof(cmsghdr) - 1) /
          sizeof(cmsghdr) +
      1);
  iovec iov;
  iov.iov_base = const_cast<char*>(payload.data());
  iov.iov_len = payload.size();
  msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
  std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(payload.size())) return absl::OkStatus();
    if (n >= 0) {
      // A stream socket may take part of a message only when its buffer is
      // nearly full; the fds went with the first part, so the rest would be
      // a batch header without fds. Report it as the buffer being too small.
      return absl::ResourceExhaustedError(absl::StrCat(
          "handoff bundle: the send buffer took ", n, " of ", payload.size(),
          " bytes of a batch; the bundle is too large (raise SO_SNDBUF)"));
    }
    if (errno == EINTR) continue;
    const int err = errno;
    if (err == EAGAIN) {
      return WithErrno(
          absl::ResourceExhaustedError(absl::StrCat(
              "handoff bundle: sendmsg: EAGAIN, the send buffer is full; the "
              "bundle is too large (raise net.core.wmem_max)")),
          err);
    }
    if (err == ETOOMANYREFS) {
      return WithErrno(
          absl::ResourceExhaustedError(absl::StrCat(
              "handoff bundle: sendmsg: ", std::strerror(err),
              ": the user's fds in flight would exceed RLIMIT_NOFILE (counted "
              "over every process of the user; root is exempt)")),
          err);
    }
    return ErrnoError(err,
                      absl::StrCat("handoff bundle: sendmsg(", n_fds, " fds)"));
  }
}

// RaiseSendBuffer asks for room for the whole bundle (best effort: the
// kernel caps it at net.core.wmem_max; SO_SNDBUFFORCE lifts that when
// privileged). A bundle that still does not fit fails with EAGAIN.
void RaiseSendBuffer(int fd, size_t batches) {
  // Measured: about 768 bytes of buffer per queued batch; twice for margin.
  const size_t want = std::min<size_t>(batches * 2 * 768 + 65536, INT32_MAX);
  const int value = static_cast<int>(want / 2);  // the kernel doubles it
  int current = 0;
  socklen_t length = sizeof(current);
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &current, &length) == 0 &&
      static_cast<size_t>(current) >= want) {
    return;
  }
  // Failures are fine: the sends below find out whether it fits.
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value));
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &value, sizeof(value));
}

// MFD_NOEXEC_SEAL from linux/memfd.h (Linux 6.3); Debian 12's headers
// predate it.
constexpr unsigned kMfdNoexecSeal = 0x0008U;

absl::StatusOr<UniqueFd> SealedMemfd(const std::string& bytes) {
  // MFD_NOEXEC_SEAL (Linux 6.3) where the kernel knows it: with
  // vm.memfd_noexec=2 a memfd without it is refused (EACCES), and 6.3 and
  // later warn about one. Older kernels say EINVAL, and get the plain flags.
  UniqueFd fd(::memfd_create("sdfd-handoff-manifest",
                             MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdNoexecSeal));
  if (!fd.valid() && errno == EINVAL) {
    fd.reset(::memfd_create("sdfd-handoff-manifest",
                            MFD_CLOEXEC | MFD_ALLOW_SEALING));
  }
  if (!fd.valid()) {
    return ErrnoError(errno, "memfd_create(sdfd-handoff-manifest)");
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return ErrnoError(
          errno, absl::StrCat("write(manifest memfd, ", bytes.size(), ")"));
    }
    done += static_cast<size_t>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return ErrnoError(errno, "fcntl(manifest memfd, F_ADD_SEALS)");
  }
  return fd;
}

absl::StatusOr<std::string> ReadSealedMemfd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return ErrnoError(errno, "fstat(manifest)");
  }
  if (!S_ISREG(st.st_mode)) return Corrupt("the manifest is not a memfd");
  const int seals = ::fcntl(fd, F_GET_SEALS);
  constexpr int kNeeded = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  if (seals < 0 || (seals & kNeeded) != kNeeded) {
    return Corrupt("the manifest memfd is not sealed");
  }
  const uint64_t most =
      kManifestFixedSize + 8 * kHandoffMaxEntries + kHandoffMaxStateBytes;
  if (static_cast<uint64_t>(st.st_size) > most) {
    return Corrupt(absl::StrCat("the manifest holds ", st.st_size,
                                " bytes, more than the cap of ", most));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(fd, &data[done], data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "pread(manifest)");
    if (n == 0) return Corrupt("the manifest is shorter than its size");
    done += static_cast<size_t>(n);
  }
  return data;
}

// OpenFdCount counts this process's open fds; -1 when /proc is not there.
int64_t OpenFdCount() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int64_t count = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the directory's own fd
}

// EnsureFdRoom raises RLIMIT_NOFILE's soft limit to the hard one when `n`
// more fds would not fit; refuses when they still would not.
absl::Status EnsureFdRoom(uint64_t n) {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoError(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  const int64_t open = OpenFdCount();
  // Without /proc the count is unknown; MSG_CTRUNC still catches a limit
  // that is too low, as a corrupt bundle.
  if (open < 0) return absl::OkStatus();
  const uint64_t need = static_cast<uint64_t>(open) + n + kFdHeadroom;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < need &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return ErrnoError(errno, absl::StrCat("setrlimit(RLIMIT_NOFILE, ",
                                            limit.rlim_max, ")"));
    }
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < need) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "refusing the handoff bundle: it holds ", n, " connections, ", open,
        " fds are open and RLIMIT_NOFILE is ", limit.rlim_cur, " (hard ",
        limit.rlim_max, "); raise LimitNOFILE= to at least ", need));
  }
  return absl::OkStatus();
}

// ReceiveOne reads one bundle message: exactly `size` payload bytes and the
// fds that came with it (all owned by `fds`, even on error).
absl::Status ReceiveOne(int bundle, char* payload, size_t size,
                        std::vector<UniqueFd>* fds, size_t* got) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kBatch)];
  iovec iov = {payload, size};
  msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(bundle, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) {
      *got = 0;
      return absl::OkStatus();
    }
    return ErrnoError(errno, "recvmsg(handoff bundle)");
  }
  const size_t before = fds->size();
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds->emplace_back(fd);
    }
  }
  if (message.msg_flags & MSG_CTRUNC) {
    return Corrupt(absl::StrCat("fds were dropped (MSG_CTRUNC) after ",
                                fds->size() - before,
                                " of a batch: RLIMIT_NOFILE too low?"));
  }
  *got = static_cast<size_t>(n);
  return absl::OkStatus();
}

}  // namespace

std::string EncodeHandoffManifest(const std::vector<std::string>& states) {
  uint64_t total = 0;
  for (const std::string& s : states) total += s.size();
  std::string out;
  out.reserve(kManifestFixedSize + 8 * states.size() + total);
  out.append(kManifestMagic, sizeof(kManifestMagic));
  PutU32(&out, kHandoffFormatVersion);
  PutU32(&out, 0);
  PutU64(&out, states.size());
  PutU64(&out, total);
  for (const std::string& s : states) PutU64(&out, s.size());
  for (const std::string& s : states) out.append(s);
  PutU64(&out, Fnv1a64(out));
  return out;
}

absl::StatusOr<HandoffManifest> DecodeHandoffManifest(absl::string_view bytes) {
  if (bytes.size() < kManifestFixedSize) {
    return Corrupt(absl::StrCat("the manifest has ", bytes.size(),
                                " bytes, less than its fixed ",
                                kManifestFixedSize));
  }
  if (std::memcmp(bytes.data(), kManifestMagic, sizeof(kManifestMagic)) != 0) {
    return Corrupt("the manifest's magic is not SDFDMANI");
  }
  const uint32_t version = GetU32(bytes.data() + 8);
  if (version != kHandoffFormatVersion) {
    return Corrupt(absl::StrCat("manifest format version ", version,
                                ", this build reads only ",
                                kHandoffFormatVersion));
  }
  if (GetU32(bytes.data() + 12) != 0) {
    return Corrupt("the manifest's reserved field is not 0");
  }
  const uint64_t n = GetU64(bytes.data() + 16);
  const uint64_t total = GetU64(bytes.data() + 24);
  if (n > kHandoffMaxEntries || total > kHandoffMaxStateBytes) {
    return Corrupt(absl::StrCat("the manifest claims ", n, " entries and ",
                                total, " state bytes, beyond the caps"));
  }
  // Both are bounded above, so this cannot overflow.
  const uint64_t expected = kManifestFixedSize + 8 * n + total;
  if (bytes.size() != expected) {
    return Corrupt(absl::StrCat("the manifest has ", bytes.size(), " bytes; ",
                                n, " entries with ", total,
                                " state bytes need ", expected));
  }
  const size_t body = bytes.size() - 8;
  if (Fnv1a64(bytes.substr(0, body)) != GetU64(bytes.data() + body)) {
    return Corrupt("the manifest's checksum does not match");
  }
  HandoffManifest manifest;
  manifest.states.reserve(static_cast<size_t>(n));
  const char* lengths = bytes.data() + 32;
  size_t at = 32 + 8 * static_cast<size_t>(n);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t length = GetU64(lengths + 8 * i);
    if (length > total - sum) {
      return Corrupt(absl::StrCat("entry ", i, "'s ", length,
                                  " state bytes overrun the total ", total));
    }
    sum += length;
    manifest.states.emplace_back(bytes.data() + at, length);
    at += length;
  }
  if (sum != total) {
    return Corrupt(absl::StrCat("the entries' state adds up to ", sum,
                                " bytes, not ", total));
  }
  return manifest;
}

absl::Status HandoffWriter::Add(int fd, absl::string_view state) {
  if (fds_.size() >= kHandoffMaxEntries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the handoff bundle already holds ", kHandoffMaxEntries,
                     " connections, its cap"));
  }
  if (state.size() > kHandoffMaxStateBytes - state_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "its ", state.size(), " state bytes do not fit the handoff cap (",
        state_bytes_, " of ", kHandoffMaxStateBytes, " bytes taken)"));
  }
  fds_.push_back(fd);
  states_.emplace_back(state);
  state_bytes_ += state.size();
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> PackHandoff(const HandoffWriter& writer) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError(errno, "socketpair(AF_UNIX, SOCK_STREAM)");
  }
  UniqueFd reader(pair[0]);
  UniqueFd sender(pair[1]);
  const size_t n = writer.fds_.size();
  RaiseSendBuffer(sender.get(), 1 + (n + kBatch - 1) / kBatch);

  absl::StatusOr<UniqueFd> manifest =
      SealedMemfd(EncodeHandoffManifest(writer.states_));
  if (!manifest.ok()) return manifest.status();
  std::string header(kBundleMagic, sizeof(kBundleMagic));
  PutU32(&header, kHandoffFormatVersion);
  PutU32(&header, 0);
  PutU64(&header, n);
  const int manifest_fd = manifest->get();
  if (absl::Status s = SendBatch(sender.get(), header, &manifest_fd, 1);
      !s.ok()) {
    return s;
  }
  uint32_t index = 1;
  for (size_t at = 0; at < n; at += kBatch, ++index) {
    const size_t count = std::min(kBatch, n - at);
    std::string batch;
    PutU32(&batch, index);
    PutU32(&batch, static_cast<uint32_t>(count));
    if (absl::Status s =
            SendBatch(sender.get(), batch, writer.fds_.data() + at, count);
        !s.ok()) {
      return s;
    }
  }
  return reader;
}

absl::StatusOr<bool> StoreHandoff(const HandoffWriter& writer,
                                  const NotifyOptions& options) {
  const char* notify = std::getenv("NOTIFY_SOCKET");
  if (notify == nullptr) return false;
  absl::StatusOr<UniqueFd> bundle = PackHandoff(writer);
  if (!bundle.ok()) return bundle.status();
  return StoreHandoffBundle(bundle->get(), options);
}

absl::StatusOr<bool> StoreHandoffBundle(int bundle,
                                        const NotifyOptions& options) {
  return PidNotifyWithFds(
      absl::StrCat("FDSTORE=1\nFDNAME=", kHandoffFdName, "\nFDPOLL=0"),
      {bundle}, options);
}

absl::StatusOr<std::vector<HandoffEntry>> UnpackHandoff(UniqueFd bundle) {
  int type = 0;
  socklen_t length = sizeof(type);
  if (::getsockopt(bundle.get(), SOL_SOCKET, SO_TYPE, &type, &length) != 0) {
    if (errno == ENOTSOCK) return Corrupt("the bundle fd is not a socket");
    return ErrnoError(errno, "getsockopt(handoff bundle, SO_TYPE)");
  }
  if (type != SOCK_STREAM) return Corrupt("the bundle is not a stream socket");

  std::vector<UniqueFd> fds;
  char header[kBundleHeaderSize];
  size_t got = 0;
  if (absl::Status s =
          ReceiveOne(bundle.get(), header, sizeof(header), &fds, &got);
      !s.ok()) {
    return s;
  }
  if (got != sizeof(header) || fds.size() != 1) {
    return Corrupt(absl::StrCat("its first message has ", got, " bytes and ",
                                fds.size(), " fds, not ", sizeof(header),
                                " bytes and the manifest"));
  }
  if (std::memcmp(header, kBundleMagic, sizeof(kBundleMagic)) != 0) {
    return Corrupt("its magic is not SDFDHOFF");
  }
  const uint32_t version = GetU32(header + 8);
  if (version != kHandoffFormatVersion) {
    return Corrupt(absl::StrCat("format version ", version,
                                ", this build reads only ",
                                kHandoffFormatVersion));
  }
  const uint64_t n = GetU64(header + 16);
  if (n > kHandoffMaxEntries) {
    return Corrupt(absl::StrCat("it claims ", n, " connections"));
  }
  absl::StatusOr<std::string> bytes = ReadSealedMemfd(fds[0].get());
  if (!bytes.ok()) return bytes.status();
  fds.clear();  // the manifest memfd
  absl::StatusOr<HandoffManifest> manifest = DecodeHandoffManifest(*bytes);
  if (!manifest.ok()) return manifest.status();
  bytes->clear();
  if (manifest->states.size() != n) {
    return Corrupt(absl::StrCat("its header says ", n,
                                " connections, its manifest ",
                                manifest->states.size()));
  }
  if (absl::Status s = EnsureFdRoom(n); !s.ok()) return s;

  // No fds.reserve(n): gcc 12 at -O2 reports a false use-after-free in
  // vector::reserve here (-Werror); growth by doubling costs little.
  for (uint32_t index = 1; fds.size() < n; ++index) {
    char batch[kBatchHeaderSize];
    const size_t before = fds.size();
    if (absl::Status s =
            ReceiveOne(bundle.get(), batch, sizeof(batch), &fds, &got);
        !s.ok()) {
      return s;
    }
    if (got == 0) {
      return Corrupt(
          absl::StrCat("it ends after ", before, " of ", n, " connections"));
    }
    const size_t arrived = fds.size() - before;
    if (got != sizeof(batch) || GetU32(batch) != index ||
        GetU32(batch + 4) != arrived || arrived == 0 || fds.size() > n) {
      return Corrupt(absl::StrCat("batch ", index, " has ", got,
                                  " header bytes and ", arrived, " fds, after ",
                                  before, " of ", n));
    }
  }
  // Nothing may follow: anything more means the sender and the manifest
  // disagree about what was sent.
  char extra;
  std::vector<UniqueFd> extra_fds;
  if (absl::Status s = ReceiveOne(bundle.get(), &extra, 1, &extra_fds, &got);
      !s.ok()) {
    return s;
  }
  if (got != 0 || !extra_fds.empty()) {
    return Corrupt(absl::StrCat("more follows its ", n, " connections"));
  }
  std::vector<HandoffEntry> entries(static_cast<size_t>(n));
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].fd = std::move(fds[i]);
    entries[i].state = std::move(manifest->states[i]);
  }
  return entries;
}

std::vector<TakenHandoff> TakeHandoffs(std::vector<ListenFd>& fds) {
  std::vector<TakenHandoff> taken;
  std::vector<ListenFd> rest;
  for (ListenFd& fd : fds) {
    if (fd.name != kHandoffFdName) {
      rest.push_back(std::move(fd));
      continue;
    }
    TakenHandoff t;
    t.fd_number = fd.fd.get();
    t.entries = UnpackHandoff(std::move(fd.fd));
    taken.push_back(std::move(t));
  }
  fds = std::move(rest);
  return taken;
}

absl::StatusOr<bool> RemoveHandoffFromStore(const NotifyOptions& options) {
  return PidNotifyWithFds(
      absl::StrCat("FDSTOREREMOVE=1\nFDNAME=", kHandoffFdName), {}, options);
}

}  // namespace sdfd
