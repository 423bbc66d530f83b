// libFuzzer target: sdfd's handoff manifest parser (sdfd/handoff.h) on
// arbitrary bytes, as a new instance would read them from a stored memfd.
//
// The parser must never crash, read out of bounds (ASan) or allocate beyond
// what the input implies, and what it accepts must be exactly what the
// encoder writes: decoding then re-encoding gives back the same bytes, so
// no two inputs mean the same manifest. A difference aborts, which libFuzzer
// reports as a crash with the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sdfd/handoff.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sdfd::HandoffManifest> manifest =
      sdfd::DecodeHandoffManifest(bytes);
  if (!manifest.ok()) {
    if (manifest.status().code() != absl::StatusCode::kDataLoss) {
      std::fprintf(stderr, "not DataLoss: %s\n",
                   manifest.status().ToString().c_str());
      std::abort();
    }
    return 0;
  }
  if (sdfd::EncodeHandoffManifest(manifest->states) != bytes) {
    std::fprintf(stderr, "accepted bytes do not re-encode to themselves\n");
    std::abort();
  }
  return 0;
}
