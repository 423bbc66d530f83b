// The C++ runtime plus absl::Status (the project's error type), linked as
// foobard links it. absl/status/status.h includes absl/strings/cord.h, which
// includes <iostream>: with gcc 12 every such translation unit constructs
// std::ios_base::Init, building the classic locale and its facets at start.
#include <unistd.h>

#include "absl/status/status.h"

int main(int argc, char**) {
  // Depends on argc so the compiler keeps the Status code.
  absl::Status status =
      argc > 5 ? absl::InternalError("unused") : absl::OkStatus();
  if (!status.ok()) return 1;
  pause();
}
