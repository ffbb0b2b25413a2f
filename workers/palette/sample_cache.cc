#include "workers/palette/sample_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
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

// pwrite all of `data` at `offset`.
absl::Status WriteAt(int fd, absl::string_view data, int64_t offset, const std::string& path) {
  for (size_t written = 0; written < data.size();) {
    const ssize_t n = pwrite(fd, data.data() + written, data.size() - written,
                             static_cast<off_t>(offset + static_cast<int64_t>(written)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("cannot write", path);
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Walks the records from `at` (up to `size`), calling on_record(offset,
// payload) for each intact one; returns the offset after the last intact
// record: the first incomplete or damaged one ends the walk. `view(offset,
// n)` gives n bytes at offset, or nullptr; a pointer it gave may be
// invalidated by the next call.
template <typename View, typename OnRecord>
int64_t ScanRecords(const View& view, int64_t at, int64_t size, const OnRecord& on_record) {
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
    on_record(at, absl::string_view(payload, length));
    at += static_cast<int64_t>(kRecordHead + length);
  }
  return at;
}

// A view over bytes in memory, for ScanRecords.
auto MemoryView(absl::string_view bytes) {
  return [bytes](int64_t offset, size_t n) -> const char* {
    return offset >= 0 && static_cast<size_t>(offset) + n <= bytes.size() ? bytes.data() + offset
                                                                          : nullptr;
  };
}

std::string ShardName(const Shard& shard) {
  return absl::StrCat("samples-", absl::StrReplaceAll(shard.ToString(), {{"/", "-of-"}}));
}

}  // namespace

ImageKey KeyOf(absl::string_view bytes) {
  const Sha256Digest digest = Sha256(bytes);
  ImageKey key;
  std::memcpy(key.data(), digest.data(), key.size());
  return key;
}

std::string SampleCachePath(absl::string_view state_dir, const Shard& shard) {
  return absl::StrCat(state_dir, "/palette-cache/", ShardName(shard), ".bin");
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

absl::StatusOr<std::unique_ptr<SampleCache>> SampleCache::OpenShared(CacheStore* store,
                                                                     const Shard& shard,
                                                                     SharedCacheOptions options) {
  const std::string name = ShardName(shard);
  SCOUT_ASSIGN_OR_RETURN(
      std::unique_ptr<Lease> lease,
      Lease::Acquire(CacheStoreObject(store, absl::StrCat(name, ".lease")), options.lease));
  // Failing from here on, the lease's destructor releases it: a rerun need
  // not wait for it to expire.
  std::string scratch = options.scratch_dir;
  if (scratch.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    scratch = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  if (absl::Status made = FileSystem::Default()->CreateDirs(scratch); !made.ok()) return made;
  std::string folder = absl::StrCat(scratch, "/scout-palette-XXXXXX");
  if (mkdtemp(folder.data()) == nullptr) {
    return ErrnoStatus("cannot make a folder in", scratch);
  }
  const std::string path = absl::StrCat(folder, "/", name, ".bin");
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const absl::Status status = ErrnoStatus("cannot open", path);
    std::error_code ec;
    std::filesystem::remove_all(folder, ec);
    return status;
  }
  std::unique_ptr<SampleCache> cache(new SampleCache(path, fd));
  cache->scratch_ = std::move(folder);
  cache->store_ = store;
  cache->segment_prefix_ = absl::StrCat(name, "/");
  cache->shared_ = std::move(options);
  cache->lease_ = std::move(lease);
  SCOUT_RETURN_IF_ERROR(cache->Download());
  SCOUT_RETURN_IF_ERROR(cache->Load());
  cache->uploaded_end_ = cache->end_;
  return cache;
}

SampleCache::~SampleCache() {
  close(fd_);
  if (!scratch_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }
}

// The segments one after the other (intact records only) behind one
// header, for Load to index; one segment in memory at a time.
absl::Status SampleCache::Download() {
  SCOUT_ASSIGN_OR_RETURN(const std::vector<CacheObject> objects, store_->List(segment_prefix_));
  SCOUT_RETURN_IF_ERROR(WriteAt(fd_, absl::string_view(kHeader, sizeof kHeader), 0, path_));
  int64_t file_end = sizeof kHeader;
  for (const CacheObject& object : objects) {
    absl::string_view seq_text = object.name;
    int64_t seq = 0;
    if (!absl::ConsumePrefix(&seq_text, segment_prefix_) ||
        !absl::ConsumeSuffix(&seq_text, ".bin") || !absl::SimpleAtoi(seq_text, &seq) || seq < 0) {
      continue;  // Not a segment.
    }
    next_seq_ = std::max(next_seq_, seq + 1);
    absl::StatusOr<VersionedBytes> got = store_->Get(object.name);
    if (absl::IsNotFound(got.status())) continue;
    SCOUT_RETURN_IF_ERROR(got.status());
    const std::string& bytes = got->bytes;
    const int64_t size = static_cast<int64_t>(bytes.size());
    // Another version's or not a cache file: nothing of it is kept.
    int64_t intact = 0;
    if (bytes.size() >= sizeof kHeader && std::memcmp(bytes.data(), kHeader, sizeof kHeader) == 0) {
      intact =
          ScanRecords(MemoryView(bytes), sizeof kHeader, size, [](int64_t, absl::string_view) {});
    }
    Segment& segment = segments_.emplace_back();
    segment.name = object.name;
    segment.damaged = intact < size;
    if (intact > static_cast<int64_t>(sizeof kHeader)) {
      segment.bytes = intact - static_cast<int64_t>(sizeof kHeader);
      SCOUT_RETURN_IF_ERROR(WriteAt(
          fd_, absl::string_view(bytes).substr(sizeof kHeader, static_cast<size_t>(segment.bytes)),
          file_end, path_));
      segment.ranges.emplace_back(file_end, segment.bytes);
      file_end += segment.bytes;
    }
    dropped_bytes_ += size - intact;
    ++counts_.loaded;
    if (segment.damaged) ++counts_.damaged;
  }
  return absl::OkStatus();
}

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
    at = ScanRecords(view, at, size, [&](int64_t record, absl::string_view payload) {
      ImageKey key;
      std::memcpy(key.data(), payload.data(), key.size());
      entries_.insert_or_assign(key,
                                Entry{record + static_cast<int64_t>(kRecordHead + kPayloadHead),
                                      static_cast<uint32_t>((payload.size() - kPayloadHead) / 3),
                                      static_cast<uint16_t>(Get16(payload.data() + 16)),
                                      static_cast<uint16_t>(Get16(payload.data() + 18))});
    });
  }
  if (at == 0) {  // New, empty or not ours: start over with a header.
    if (ftruncate(fd_, 0) != 0) return ErrnoStatus("cannot truncate", path_);
    if (pwrite(fd_, kHeader, sizeof kHeader, 0) != static_cast<ssize_t>(sizeof kHeader)) {
      return ErrnoStatus("cannot write", path_);
    }
    dropped_bytes_ += size;
    end_ = sizeof kHeader;
    return absl::OkStatus();
  }
  // Cut the damaged tail so the next record does not glue onto it.
  if (at < size && ftruncate(fd_, static_cast<off_t>(at)) != 0) {
    return ErrnoStatus("cannot truncate", path_);
  }
  dropped_bytes_ += size - at;
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

  bool flush = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SCOUT_RETURN_IF_ERROR(AppendLocked(key, sample, record));
    flush = store_ != nullptr && pending_ >= shared_.flush_records;
  }
  return flush ? Flush(false) : absl::OkStatus();
}

absl::Status SampleCache::AppendLocked(const ImageKey& key, const PixelSample& sample,
                                       absl::string_view record) {
  if (entries_.contains(key)) return absl::OkStatus();
  SCOUT_RETURN_IF_ERROR(WriteAt(fd_, record, end_, path_));
  entries_.emplace(key, Entry{end_ + static_cast<int64_t>(kRecordHead + kPayloadHead),
                              static_cast<uint32_t>(sample.rgb.size() / 3),
                              static_cast<uint16_t>(std::clamp(sample.width, 0, 0xffff)),
                              static_cast<uint16_t>(std::clamp(sample.height, 0, 0xffff))});
  end_ += static_cast<int64_t>(record.size());
  ++pending_;
  return absl::OkStatus();
}

absl::StatusOr<std::string> SampleCache::ReadRange(int64_t offset, int64_t length) const {
  std::string bytes(static_cast<size_t>(length), '\0');
  if (ReadAt(fd_, bytes.data(), bytes.size(), offset) != static_cast<ssize_t>(bytes.size())) {
    return ErrnoStatus("cannot read", path_);
  }
  return bytes;
}

absl::Status SampleCache::CreateSegment(absl::string_view records,
                                        std::vector<std::pair<int64_t, int64_t>> ranges) {
  // Renewing proves the lease is still ours (a conditional write) and gives
  // the upload a whole TTL.
  SCOUT_RETURN_IF_ERROR(lease_->Check());
  const std::string name =
      absl::StrCat(segment_prefix_, absl::StrFormat("%010d", next_seq_), ".bin");
  std::string bytes(kHeader, sizeof kHeader);
  bytes.append(records.data(), records.size());
  PutConditions create;
  create.if_none_match_any = true;  // A segment is never overwritten.
  absl::StatusOr<std::string> put = store_->Put(name, bytes, create);
  if (!put.ok()) {
    if (absl::IsUnavailable(put.status())) return put.status();
    return absl::FailedPreconditionError(
        absl::StrCat(store_->Where(), name, ": cannot create the segment (", put.status().message(),
                     "): another run of this shard may be writing"));
  }
  ++next_seq_;
  Segment& segment = segments_.emplace_back();
  segment.name = name;
  segment.ranges = std::move(ranges);
  segment.bytes = static_cast<int64_t>(records.size());
  ++counts_.written;
  return absl::OkStatus();
}

absl::Status SampleCache::Flush(bool force) {
  std::unique_lock<std::mutex> flushing(flush_mu_, std::defer_lock);
  if (force) {
    flushing.lock();
  } else if (!flushing.try_lock()) {
    return absl::OkStatus();  // Another thread is uploading: it or the next one takes these.
  }
  if (closed_) return absl::FailedPreconditionError("the sample cache is closed");
  int64_t start, stop, records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start = uploaded_end_;
    stop = end_;
    records = pending_;
  }
  if (records == 0 || (!force && records < shared_.flush_records)) return absl::OkStatus();
  SCOUT_ASSIGN_OR_RETURN(const std::string bytes, ReadRange(start, stop - start));
  SCOUT_RETURN_IF_ERROR(CreateSegment(bytes, {{start, stop - start}}));
  std::lock_guard<std::mutex> lock(mu_);
  uploaded_end_ = stop;
  pending_ -= records;
  return absl::OkStatus();
}

// Smallest first, so the big segments of old stay and a merge's memory is
// bounded; damaged ones always (rewritten without their damaged tail).
absl::Status SampleCache::Merge() {
  const bool any_damaged = std::any_of(segments_.begin(), segments_.end(),
                                       [](const Segment& segment) { return segment.damaged; });
  if (segments_.size() <= shared_.max_segments && !any_damaged) return absl::OkStatus();
  std::vector<size_t> order(segments_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (segments_[a].damaged != segments_[b].damaged) return segments_[a].damaged;
    return segments_[a].bytes < segments_[b].bytes;
  });
  std::vector<size_t> chosen;
  int64_t total = 0;
  for (const size_t i : order) {
    if (!segments_[i].damaged && total + segments_[i].bytes > shared_.max_merge_bytes) break;
    chosen.push_back(i);
    total += segments_[i].bytes;
  }
  if (chosen.size() < 2 && !any_damaged) return absl::OkStatus();
  std::sort(chosen.begin(), chosen.end());  // Oldest first.
  std::string merged;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  absl::flat_hash_set<ImageKey> seen;
  for (const size_t i : chosen) {
    for (const auto& [offset, length] : segments_[i].ranges) {
      SCOUT_ASSIGN_OR_RETURN(const std::string bytes, ReadRange(offset, length));
      ScanRecords(MemoryView(bytes), 0, length, [&](int64_t at, absl::string_view payload) {
        ImageKey key;
        std::memcpy(key.data(), payload.data(), key.size());
        if (!seen.insert(key).second) return;
        merged.append(bytes, static_cast<size_t>(at), kRecordHead + payload.size());
      });
      ranges.emplace_back(offset, length);
    }
  }
  std::vector<std::string> old;
  for (const size_t i : chosen) old.push_back(segments_[i].name);
  for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
    segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(*it));
  }
  if (!merged.empty()) SCOUT_RETURN_IF_ERROR(CreateSegment(merged, std::move(ranges)));
  // Deleted only once the merged one is up; a crash in between leaves
  // duplicates, which the next Open reads past and the next merge drops.
  SCOUT_RETURN_IF_ERROR(lease_->Check());
  for (const std::string& name : old) {
    SCOUT_RETURN_IF_ERROR(lease_->status());
    SCOUT_RETURN_IF_ERROR(store_->Delete(name));
    ++counts_.deleted;
  }
  return absl::OkStatus();
}

absl::Status SampleCache::Close() {
  if (store_ == nullptr) return absl::OkStatus();
  absl::Status status = Flush(true);
  std::lock_guard<std::mutex> flushing(flush_mu_);
  if (closed_) return absl::FailedPreconditionError("the sample cache is closed");
  if (status.ok()) status = Merge();
  closed_ = true;
  // Released even after a failure: what was uploaded stays good.
  absl::Status released = lease_->Release();
  if (status.ok()) status = released;
  return status;
}

absl::Status SampleCache::status() const {
  return store_ == nullptr ? absl::OkStatus() : lease_->status();
}

SegmentCounts SampleCache::segment_counts() const {
  std::lock_guard<std::mutex> lock(flush_mu_);
  return counts_;
}

size_t SampleCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace scout::palette
