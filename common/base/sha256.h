// SHA-256 (OpenSSL's), for content keys that must not collide by accident
// or on purpose: the palette's sample cache, the server's API key hashes.
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace scout {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(absl::string_view bytes);

// Lower-case hex, as `sha256sum` prints it.
std::string Sha256Hex(absl::string_view bytes);

}  // namespace scout
