// ParseFlags: absl::ParseCommandLine that also takes dashed spellings
// (--image-size as well as --image_size), so every Scout binary accepts the
// flags as the docs and Airflow write them, and exits kExitBadUsage (2), not
// absl's 1, on an unknown flag or a value a flag cannot parse. Call once at the top of main.
// Not thread-safe: it rewrites argv in place and sets absl's global flags, so
// call it before any other thread starts.
#pragma once

#include <vector>

namespace scout {

// Returns the positional arguments (argv[0] first).
std::vector<char*> ParseFlags(int argc, char** argv);

}  // namespace scout
