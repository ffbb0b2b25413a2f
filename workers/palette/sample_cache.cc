#include "workers/palette/sample_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base/hash.h"
#include "common/base/sha256.h"
#include "common/base/status.h"
#include "common/io/files.h"

namespace scout::palette {
namespace {

// Version 2: samples of 4096 pixels from decodes of at least 60,000 pixels
// (issue 13 §1). A file of another version is started over, so every
// picture is sampled the new way once.
constexpr char kHeader[8] = {'S', 'C', 'P', 'A', 'L', '2', '\n', '\0'};
constexpr size_t kRecordHead = 8;            // length + checksum
constexpr size_t kPayloadHead = 16 + 2 + 2;  // key + width + height
constexpr uint32_t kMaxPayload = 1u << 24;   // Far above any sample.

void Put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}
uint32_t Get16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8);
}
uint32_t Get32(const char* p) { return Get16(p) | (Get16(p + 2) << 16); }

uint32_t Checksum(absl::string_view payload) { return static_cast<uint32_t>(StableHash(payload)); }

// pread until `n` bytes or end of file; returns the bytes read.
ssize_t ReadAt(int fd, char* out, size_t n, int64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return r < 0 ? r : static_cast<ssize_t>(done);
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

ImageKey KeyOf(absl::string_view bytes) {
  const Sha256Digest digest = Sha256(bytes);
  ImageKey key;
  std::memcpy(key.data(), digest.data(), key.size());
  return key;
}

std::string SampleCachePath(absl::string_view state_dir, const Shard& shard) {
  return absl::StrCat(state_dir, "/palette-cache/samples-",
                      absl::StrReplaceAll(shard.ToString(), {{"/", "-of-"}}), ".bin");
}

absl::StatusOr<std::unique_ptr<SampleCache>> SampleCache::Open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create the directory of ", path));
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  // Appends go to our own idea of the end: two runs of one shard must not
  // interleave (Airflow never does that; a person might).
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is in use by another run of this shard"));
  }
  std::unique_ptr<SampleCache> cache(new SampleCache(path, fd));
  SCOUT_RETURN_IF_ERROR(cache->Load());
  return cache;
}

SampleCache::~SampleCache() { close(fd_); }

absl::Status SampleCache::Load() {
  struct stat st;
  if (fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat", path_);
  const int64_t size = st.st_size;
  char header[sizeof kHeader];
  int64_t at = 0;
  if (size >= static_cast<int64_t>(sizeof kHeader) &&
      ReadAt(fd_, header, sizeof header, 0) == static_cast<ssize_t>(sizeof header) &&
      std::memcmp(header, kHeader, sizeof header) == 0) {
    at = sizeof kHeader;
  }
  // Records are read in 1 MiB slices: the file may be far larger than
  // what we want to hold in memory.
  std::string buffer;
  int64_t buffer_start = 0;
  const auto view = [&](int64_t offset, size_t n) -> const char* {
    if (offset < buffer_start ||
        offset + static_cast<int64_t>(n) > buffer_start + static_cast<int64_t>(buffer.size())) {
      buffer.resize(std::max<size_t>(n, 1 << 20));
      const ssize_t got = ReadAt(fd_, buffer.data(), buffer.size(), offset);
      buffer.resize(got > 0 ? static_cast<size_t>(got) : 0);
      buffer_start = offset;
      if (buffer.size() < n) return nullptr;
    }
    return buffer.data() + (offset - buffer_start);
  };
  if (at > 0) {
    while (at + static_cast<int64_t>(kRecordHead) <= size) {
      const char* head = view(at, kRecordHead);
      if (head == nullptr) break;
      const uint32_t length = Get32(head), checksum = Get32(head + 4);
      if (length < kPayloadHead || length > kMaxPayload || (length - kPayloadHead) % 3 != 0 ||
          at + static_cast<int64_t>(kRecordHead + length) > size) {
        break;
      }
      const char* payload = view(at + kRecordHead, length);
      if (payload == nullptr || Checksum(absl::string_view(payload, length)) != checksum) break;
      ImageKey key;
      std::memcpy(key.data(), payload, key.size());
      entries_.insert_or_assign(key, Entry{at + static_cast<int64_t>(kRecordHead + kPayloadHead),
                                           static_cast<uint32_t>((length - kPayloadHead) / 3),
                                           static_cast<uint16_t>(Get16(payload + 16)),
                                           static_cast<uint16_t>(Get16(payload + 18))});
      at += static_cast<int64_t>(kRecordHead + length);
    }
  }
  if (at == 0) {  // New, empty or not ours: start over with a header.
    if (ftruncate(fd_, 0) != 0) return ErrnoStatus("cannot truncate", path_);
    if (pwrite(fd_, kHeader, sizeof kHeader, 0) != static_cast<ssize_t>(sizeof kHeader)) {
      return ErrnoStatus("cannot write", path_);
    }
    dropped_bytes_ = size;
    end_ = sizeof kHeader;
    return absl::OkStatus();
  }
  // Cut the damaged tail so the next record does not glue onto it.
  if (at < size && ftruncate(fd_, static_cast<off_t>(at)) != 0) {
    return ErrnoStatus("cannot truncate", path_);
  }
  dropped_bytes_ = size - at;
  end_ = at;
  return absl::OkStatus();
}

std::optional<PixelSample> SampleCache::Find(const ImageKey& key) const {
  Entry entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    entry = it->second;
  }
  PixelSample sample;
  sample.width = entry.width;
  sample.height = entry.height;
  sample.rgb.resize(size_t{entry.pixels} * 3);
  if (ReadAt(fd_, sample.rgb.data(), sample.rgb.size(), entry.offset) !=
      static_cast<ssize_t>(sample.rgb.size())) {
    return std::nullopt;
  }
  return sample;
}

absl::Status SampleCache::Add(const ImageKey& key, const PixelSample& sample) {
  if (sample.rgb.size() % 3 != 0 || sample.rgb.size() + kPayloadHead > kMaxPayload) {
    return absl::InvalidArgumentError("sample too large for the cache");
  }
  std::string payload(reinterpret_cast<const char*>(key.data()), key.size());
  Put16(payload, static_cast<uint32_t>(std::clamp(sample.width, 0, 0xffff)));
  Put16(payload, static_cast<uint32_t>(std::clamp(sample.height, 0, 0xffff)));
  payload += sample.rgb;
  std::string record;
  record.reserve(kRecordHead + payload.size());
  Put32(record, static_cast<uint32_t>(payload.size()));
  Put32(record, Checksum(payload));
  record += payload;

  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.contains(key)) return absl::OkStatus();
  for (size_t written = 0; written < record.size();) {
    const ssize_t n = pwrite(fd_, record.data() + written, record.size() - written,
                             static_cast<off_t>(end_ + static_cast<int64_t>(written)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("cannot append to", path_);
    written += static_cast<size_t>(n);
  }
  entries_.emplace(key, Entry{end_ + static_cast<int64_t>(kRecordHead + kPayloadHead),
                              static_cast<uint32_t>(sample.rgb.size() / 3),
                              static_cast<uint16_t>(std::clamp(sample.width, 0, 0xffff)),
                              static_cast<uint16_t>(std::clamp(sample.height, 0, 0xffff))});
  end_ += static_cast<int64_t>(record.size());
  return absl::OkStatus();
}

size_t SampleCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace scout::palette
