// ApiKeys: who may call BrandService. Reads a file of SHA-256 hashes of the
// keys (never the keys themselves), one per line with a name for logs:
//
//   # sha256 of the key                                              name
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  acme-web
//
// and rereads it when it changes, so keys rotate without a restart: add the
// new hash, move clients over, delete the old line. A file that becomes
// unreadable or malformed keeps the last good set (and says so in the log).
// Thread-safe.
#pragma once

#include <sys/stat.h>
#include <memory>
#include <string>

#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/periodic.h"

namespace scout::server {

// Key hash (lower-case hex) -> key name.
using KeyHashes = absl::flat_hash_map<std::string, std::string>;

// INVALID_ARGUMENT naming the line for anything but blank lines, comments
// and "<64 hex digits> [name]".
absl::StatusOr<KeyHashes> ParseKeyFile(absl::string_view text);

class ApiKeys {
 public:
  // INVALID_ARGUMENT (bad configuration) when `path` cannot be read or
  // parsed; then rechecks it every `poll`.
  static absl::StatusOr<std::unique_ptr<ApiKeys>> Load(std::string path,
                                                       absl::Duration poll = absl::Seconds(1));

  // The key's name, given the `authorization` metadata value
  // ("Bearer <key>"); UNAUTHENTICATED otherwise.
  absl::StatusOr<std::string> Check(absl::string_view authorization) const;

  // Rereads the file if its size, mtime or inode changed.
  absl::Status ReloadIfChanged();

 private:
  explicit ApiKeys(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  struct stat seen_ {};                                 // Used by ReloadIfChanged only.
  std::atomic<std::shared_ptr<const KeyHashes>> keys_;  // Never null after Load.
  std::unique_ptr<Periodic> watcher_;                   // Last: stops first.
};

}  // namespace scout::server
