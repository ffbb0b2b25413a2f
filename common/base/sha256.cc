#include "common/base/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/strings/escaping.h"

namespace scout {

Sha256Digest Sha256(absl::string_view bytes) {
  Sha256Digest digest{};
  unsigned int length = 0;
  // Fails only when OpenSSL cannot allocate; nothing sensible is left then.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return digest;
}

std::string Sha256Hex(absl::string_view bytes) {
  const Sha256Digest digest = Sha256(bytes);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace scout
