// daemon/logger.cc: see logger.h.
#include "daemon/logger.h"

#include <errno.h>
#include <unistd.h>

#include <string>

namespace foobard {

void Logger::Log(Priority priority, absl::string_view message) const {
  if (priority == Priority::kDebug && !verbose_) return;
  std::string line;
  line.reserve(message.size() + 5);
  line.push_back('<');
  line.push_back(static_cast<char>('0' + static_cast<int>(priority)));
  line.push_back('>');
  for (char c : message) line.push_back(c == '\n' ? ' ' : c);
  line.push_back('\n');
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    // Any other failure (EPIPE, EAGAIN on a non-blocking stderr) drops the
    // rest of the line: there is nowhere else to report it.
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace foobard
