// daemon/logger.cc: see logger.h.
#include "daemon/logger.h"

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
  sink_->Write(line);
}

}  // namespace foobard
