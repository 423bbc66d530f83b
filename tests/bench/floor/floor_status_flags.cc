// absl::Status plus absl flags (which issue 4 requires for foobard), linked
// as foobard links it: the floor foobard's RSS after start stands on.
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"

ABSL_FLAG(int, unused, 1, "Parsed so the flags machinery runs at start.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::Status status = absl::GetFlag(FLAGS_unused) > 5
                            ? absl::InternalError("unused")
                            : absl::OkStatus();
  if (!status.ok()) return 1;
  pause();
}
