// sdfd/testing/socket_dir.h: directories for the unix sockets of tests,
// whose paths must fit sockaddr_un (107 bytes and a NUL).
//
// Bazel's $TEST_TMPDIR is the natural home, but its sandbox paths are often
// too deep for sockaddr_un; then the directory goes under /tmp instead. Each
// call makes a new directory (mkdtemp), so a test never meets a socket an
// earlier test, run or recycled pid left behind. Directories made under /tmp
// are removed, with their entries, when the process that made them exits;
// $TEST_TMPDIR is Bazel's to clean.
//
// Example:
//
//   std::string dir = sdfd::test::NewSocketDir();  // aborts if it cannot
//   std::string path = dir + "/server.sk";  // names up to 32 bytes fit
//   if (path.size() >= 108) return 1;       // never: sockaddr_un holds it
#ifndef SDFD_TESTING_SOCKET_DIR_H_
#define SDFD_TESTING_SOCKET_DIR_H_

#include <cstddef>
#include <string>

namespace sdfd::test {

// kSocketNameMaxLength is the longest socket name NewSocketDir() leaves room
// for, with one byte to spare for the "@" of an abstract name.
inline constexpr size_t kSocketNameMaxLength = 32;

// kSocketDirMaxLength is the longest directory NewSocketDir() returns:
// sockaddr_un's 108 bytes less a NUL, "/", a name and an "@".
inline constexpr size_t kSocketDirMaxLength = 108 - 3 - kSocketNameMaxLength;

// NewSocketDir makes a fresh directory (mode 0700) under $TEST_TMPDIR when
// that leaves room for kSocketNameMaxLength-byte names, else under /tmp, and
// returns its path. When no directory can be made it prints why and aborts:
// a test cannot go on without one.
std::string NewSocketDir();

}  // namespace sdfd::test

#endif  // SDFD_TESTING_SOCKET_DIR_H_
