#include "common/io/media_store.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/io/files.h"

namespace scout {
namespace {

class LocalMediaStore final : public MediaStore {
 public:
  LocalMediaStore(std::string root, std::string base_url)
      : root_(std::move(root)), base_url_(std::move(base_url)) {}

  // Put writes a uniquely named temporary file and renames it into place,
  // so a file under its key is always a whole picture (a crash or a
  // concurrent Put of the same key leaves a dotfile, never a torn key).
  bool Exists(absl::string_view key) override {
    struct stat st;
    return stat(Path(key).c_str(), &st) == 0 && st.st_size > 0;
  }
  absl::Status Put(absl::string_view key, absl::string_view bytes) override {
    return WriteFileAtomically(Path(key), bytes);
  }
  absl::StatusOr<std::string> Get(absl::string_view key) override { return ReadFile(Path(key)); }
  std::string Url(absl::string_view key) const override { return absl::StrCat(base_url_, key); }

 private:
  std::string Path(absl::string_view key) const { return absl::StrCat(root_, "/", key); }

  const std::string root_;
  const std::string base_url_;
};

}  // namespace

std::string PostMediaKey(absl::string_view owner_id, absl::string_view post_id, int n) {
  return absl::StrCat(owner_id, "/", post_id, "/", n, ".jpg");
}

std::unique_ptr<MediaStore> NewLocalMediaStore(std::string root, std::string base_url) {
  if (base_url.empty()) base_url = absl::StrCat("file://", root, "/");
  return std::make_unique<LocalMediaStore>(std::move(root), std::move(base_url));
}

}  // namespace scout
