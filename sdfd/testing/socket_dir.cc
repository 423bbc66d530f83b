#include "sdfd/testing/socket_dir.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace sdfd::test {
namespace {

// The directories this process made under /tmp, removed at its exit. Forked
// children share the list but must not remove them (they leave with _exit
// anyway, and their parent still uses the directories).
std::mutex g_mutex;
std::vector<std::string>* g_made = nullptr;
pid_t g_owner = 0;

// RemoveMade runs at exit: a directory holds only sockets the test named,
// so one level of entries is all there is.
void RemoveMade() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_made == nullptr || ::getpid() != g_owner) return;
  for (const std::string& path : *g_made) {
    if (DIR* dir = ::opendir(path.c_str())) {
      while (const dirent* entry = ::readdir(dir)) {
        if (std::strcmp(entry->d_name, ".") == 0 ||
            std::strcmp(entry->d_name, "..") == 0) {
          continue;
        }
        // A leftover entry only keeps the directory: harmless under /tmp.
        (void)::unlinkat(::dirfd(dir), entry->d_name, 0);
      }
      ::closedir(dir);
    }
    (void)::rmdir(path.c_str());
  }
}

}  // namespace

std::string NewSocketDir() {
  const char* test_tmpdir = std::getenv("TEST_TMPDIR");
  // "/s.XXXXXX" is what mkdtemp adds to the base.
  constexpr size_t kTemplateLength = 9;
  const bool under_test_tmpdir =
      test_tmpdir != nullptr &&
      std::strlen(test_tmpdir) + kTemplateLength <= kSocketDirMaxLength;
  std::string path =
      std::string(under_test_tmpdir ? test_tmpdir : "/tmp") + "/s.XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp(%s): %s\n", path.c_str(),
                 std::strerror(errno));
    std::abort();
  }
  if (!under_test_tmpdir) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_made == nullptr) {
      g_made = new std::vector<std::string>;
      g_owner = ::getpid();
      std::atexit(RemoveMade);
    }
    if (::getpid() == g_owner) g_made->push_back(path);
  }
  return path;
}

}  // namespace sdfd::test
