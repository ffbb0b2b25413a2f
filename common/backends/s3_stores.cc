#include "common/backends/s3_stores.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/status.h"

namespace scout {
namespace {

class S3Lake final : public Lake {
 public:
  S3Lake(std::shared_ptr<ObjectStore> store, S3Location location)
      : store_(std::move(store)), location_(std::move(location)) {}

  absl::StatusOr<std::vector<LakeEntry>> List(absl::string_view prefix) override {
    const std::string full = FullPrefix(prefix);
    SCOUT_ASSIGN_OR_RETURN(S3ListPage listing, store_->List(location_.bucket, full, "/"));
    std::vector<LakeEntry> entries;
    for (const std::string& dir : listing.common_prefixes) {
      absl::string_view name = dir;
      if (!absl::ConsumePrefix(&name, full)) continue;
      absl::ConsumeSuffix(&name, "/");
      if (name.empty() || name[0] == '.') continue;
      LakeEntry& entry = entries.emplace_back();
      entry.name = std::string(name);
      entry.is_dir = true;
    }
    for (S3Object& object : listing.objects) {
      absl::string_view name = object.key;
      // The key equal to the prefix is a "folder marker" some tools write.
      if (!absl::ConsumePrefix(&name, full) || name.empty() || name[0] == '.') continue;
      entries.push_back(FileEntry(std::string(name), object));
    }
    std::sort(entries.begin(), entries.end(),
              [](const LakeEntry& a, const LakeEntry& b) { return a.name < b.name; });
    return entries;
  }

  // One ListObjectsV2 without delimiter: 1,000 keys a page whatever
  // folders hold them (a folder per creator would cost a LIST each).
  absl::Status ListFiles(absl::string_view prefix, const FilePageVisitor& visit) override {
    const std::string full = FullPrefix(prefix);
    std::string token;
    std::vector<LakeEntry> entries;
    do {
      SCOUT_ASSIGN_OR_RETURN(S3ListPage page,
                             store_->ListPage(location_.bucket, full, "", token, kPageSize));
      entries.clear();
      for (S3Object& object : page.objects) {
        absl::string_view name = object.key;
        if (!absl::ConsumePrefix(&name, full) || !VisiblePath(name)) continue;
        entries.push_back(FileEntry(std::string(name), object));
      }
      if (!entries.empty()) SCOUT_RETURN_IF_ERROR(visit(entries));
      if (!page.next_continuation_token.empty() && page.next_continuation_token == token) {
        return absl::UnavailableError(absl::StrCat("LIST s3://", location_.bucket, "/", full,
                                                   ": the same continuation token twice"));
      }
      token = std::move(page.next_continuation_token);
    } while (!token.empty());
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read(absl::string_view key) override {
    return store_->Get(location_.bucket, absl::StrCat(location_.prefix, key));
  }

 private:
  static constexpr int kPageSize = 1000;  // S3's most per LIST.

  std::string FullPrefix(absl::string_view prefix) const {
    std::string full = absl::StrCat(location_.prefix, absl::StripPrefix(prefix, "/"));
    if (!full.empty() && full.back() != '/') full += '/';
    return full;
  }

  // No empty segment ("a//b", a folder marker "a/") and no hidden one.
  static bool VisiblePath(absl::string_view path) {
    if (path.empty()) return false;
    for (absl::string_view segment : absl::StrSplit(path, '/')) {
      if (segment.empty() || segment[0] == '.') return false;
    }
    return true;
  }

  static LakeEntry FileEntry(std::string name, S3Object& object) {
    LakeEntry entry;
    entry.name = std::move(name);
    entry.size = object.size;
    entry.etag = std::move(object.etag);
    // LastModified (1 s resolution) is kept for lakes read by size and
    // mtime; change detection on S3 goes by the ETag.
    if (object.last_modified != absl::InfinitePast()) {
      entry.mtime_ns = absl::ToUnixNanos(object.last_modified);
    }
    return entry;
  }

  const std::shared_ptr<ObjectStore> store_;
  const S3Location location_;
};

class S3MediaStore final : public MediaStore {
 public:
  S3MediaStore(std::shared_ptr<ObjectStore> store, S3Location location, std::string base_url)
      : store_(std::move(store)), location_(std::move(location)), base_url_(std::move(base_url)) {}

  // Any failure reads as "not stored": the caller then copies the picture
  // again, which is only wasted work.
  bool Exists(absl::string_view key) override {
    absl::StatusOr<S3Object> head = store_->Head(location_.bucket, Key(key));
    return head.ok() && head->size > 0;
  }
  // One PUT: S3 shows an object whole or not at all.
  absl::Status Put(absl::string_view key, absl::string_view bytes) override {
    return store_->Put(location_.bucket, Key(key), bytes).status();
  }
  absl::StatusOr<std::string> Get(absl::string_view key) override {
    return store_->Get(location_.bucket, Key(key));
  }
  std::string Url(absl::string_view key) const override {
    return absl::StrCat(base_url_, AwsUriEncode(key, true));
  }

 private:
  std::string Key(absl::string_view key) const { return absl::StrCat(location_.prefix, key); }

  const std::shared_ptr<ObjectStore> store_;
  const S3Location location_;
  const std::string base_url_;
};

}  // namespace

std::unique_ptr<Lake> NewS3Lake(std::shared_ptr<ObjectStore> store, S3Location location) {
  return std::make_unique<S3Lake>(std::move(store), std::move(location));
}

std::unique_ptr<MediaStore> NewS3MediaStore(std::shared_ptr<ObjectStore> store, S3Location location,
                                            std::string base_url) {
  if (base_url.empty()) {
    const S3Options options = S3Options::FromEnv();
    if (!options.endpoint.empty()) {
      base_url = absl::StrCat(absl::StripSuffix(options.endpoint, "/"), "/", location.bucket, "/",
                              AwsUriEncode(location.prefix, true));
    } else {
      base_url = absl::StrCat("https://", location.bucket, ".s3.", options.region,
                              ".amazonaws.com/", AwsUriEncode(location.prefix, true));
    }
  }
  return std::make_unique<S3MediaStore>(std::move(store), std::move(location), std::move(base_url));
}

}  // namespace scout
