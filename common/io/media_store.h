// MediaStore: where Scout keeps its own copy of every picture, under
// `<user_id>/<post_id>/<n>.jpg`, so the website never hot-links Instagram.
// Implementations are thread-safe; Put is atomic (a reader never sees half
// an image).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout {

class MediaStore {
 public:
  virtual ~MediaStore() = default;
  virtual bool Exists(absl::string_view key) = 0;
  virtual absl::Status Put(absl::string_view key, absl::string_view bytes) = 0;
  virtual absl::StatusOr<std::string> Get(absl::string_view key) = 0;
  // The URL the website loads the picture from.
  virtual std::string Url(absl::string_view key) const = 0;
};

// Where the n-th picture of a post lives: `<owner_id>/<post_id>/<n>.jpg`.
std::string PostMediaKey(absl::string_view owner_id, absl::string_view post_id, int n);

// A directory; URLs are `base_url + key` (default `file://<root>/`).
std::unique_ptr<MediaStore> NewLocalMediaStore(std::string root, std::string base_url);

}  // namespace scout
