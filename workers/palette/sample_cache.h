// SampleCache: the pixel sample of every picture scout-palette has decoded,
// keyed by the picture's content, so a picture is decoded once in its life
// and a weekly run only reads and hashes the bytes of pictures it has seen.
//
// Key: the first 128 bits of the SHA-256 of the bytes (OpenSSL, with the
// CPU's SHA extensions about 2 GB/s). Not FNV (common/base/hash.h): anyone can
// post a picture, and a crafted FNV collision with another creator's
// picture would let one creator's sample stand in for another's. 128 bits
// keep accidental collisions out of reach at any number of pictures.
//
// File: `<dir>/samples-<i>-of-<N>.bin`, one per shard so that shards running
// side by side never write the same file. An 8-byte header, then records
// appended one write(2) each:
//   u32 payload length, u32 checksum (low 32 bits of FNV-1a of the payload),
//   payload = 16-byte key, u16 width, u16 height, 3 bytes per sampled pixel.
// Integers little-endian. A picture that could not be decoded is recorded
// with no pixels, so it is not decoded again either.
// Open indexes the file (key -> offset; the pixels stay on disk and are
// read back with pread on use, so memory is ~40 bytes per picture) and cuts
// it at the first incomplete or damaged record: a crash mid-append (a torn
// tail) costs only that record. Nothing here needs fsync for correctness:
// a lost record is just a picture decoded again.
//
// Shared (SCOUT_STATE on S3, OpenShared): the shard's cache lives in a
// CacheStore (cache_store.h) as numbered segments
// `samples-<i>-of-<N>/<seq>.bin`, each a file of the format above, and the
// local file is only the run's working copy, in a fresh scratch folder:
//  - Open takes the shard's lease (`samples-<i>-of-<N>.lease`, a Lease of
//    common/backends/lease.h; a second run of the shard is refused while it
//    holds) and downloads every segment
//    into the working copy; a segment is cut at its first damaged record
//    like a torn local file, the rest of it kept (counted);
//  - the records a run adds go up as a new segment (create-once) every
//    `flush_records` records and at Close, so a crash costs at most that
//    many decodes, on whatever machine the shard runs next;
//  - Close merges the segments when there are more than `max_segments` (or
//    a damaged one), smallest first up to `max_merge_bytes`, into one new
//    segment (duplicate keys dropped) and deletes them; then releases the
//    lease and removes the working copy.
// A lost lease (another run took it) stops uploads and is status().
// Thread-safe: Find and Add may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/shard.h"
#include "workers/palette/cache_store.h"
#include "workers/palette/sampler.h"

namespace scout::palette {

using ImageKey = std::array<uint8_t, 16>;

ImageKey KeyOf(absl::string_view bytes);

struct SharedCacheOptions {
  std::string scratch_dir;       // The working copy's folder is made in it; "": $TMPDIR or /tmp.
  int64_t flush_records = 2000;  // ~24 MB of samples per segment.
  size_t max_segments = 8;
  int64_t max_merge_bytes = int64_t{512} << 20;  // One merged segment is built in memory.
  // Longer than the ingest checkpoint's: a run that crashed blocks the shard
  // up to 10 minutes, a weekly job can afford that.
  LeaseOptions lease{
      .ttl = absl::Minutes(10), .renew_every = absl::Minutes(2), .holder = "", .clock = nullptr};
};

// What a shared cache did with its segments.
struct SegmentCounts {
  int64_t loaded = 0;   // Downloaded at Open.
  int64_t damaged = 0;  // Of those, cut at a damaged record (or not a cache file at all).
  int64_t written = 0;  // Uploaded: new records and merges.
  int64_t deleted = 0;  // Merged into another and deleted.
};

class SampleCache {
 public:
  // Creates the directory and file when missing. FAILED_PRECONDITION when
  // another process has the file open (an exclusive flock).
  static absl::StatusOr<std::unique_ptr<SampleCache>> Open(const std::string& path);
  // The shard's cache kept in `store` (not owned; outlives the cache).
  // UNAVAILABLE naming the holder when another run of the shard holds its
  // lease (retry later).
  static absl::StatusOr<std::unique_ptr<SampleCache>> OpenShared(CacheStore* store,
                                                                 const Shard& shard,
                                                                 SharedCacheOptions options);
  ~SampleCache();

  // Shared: uploads the records not uploaded yet, merges, releases the
  // lease, removes the working copy; the cache is unusable afterwards.
  // Local: nothing. Call at the end of the run, after a failure too.
  absl::Status Close();
  // Shared: not OK once the lease is lost (stop the run; no request is
  // made). Local: OK.
  absl::Status status() const;
  SegmentCounts segment_counts() const;

  // The sample stored for `key`; a sample with no pixels means "not
  // decodable". nullopt when absent (or when the file cannot be read).
  std::optional<PixelSample> Find(const ImageKey& key) const;
  // Appends unless `key` is already there.
  absl::Status Add(const ImageKey& key, const PixelSample& sample);

  size_t size() const;
  // Bytes cut off the end at Open (a torn or damaged tail).
  int64_t dropped_bytes() const { return dropped_bytes_; }

 private:
  struct Entry {
    int64_t offset;  // Of the pixels.
    uint32_t pixels;
    uint16_t width, height;
  };
  // A segment of the store and where its intact records sit in the file
  // (several ranges for a merged one).
  struct Segment {
    std::string name;
    std::vector<std::pair<int64_t, int64_t>> ranges;  // offset, length
    int64_t bytes = 0;                                // Their total.
    bool damaged = false;
  };
  SampleCache(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status Load();
  absl::Status Download();
  // Uploads [uploaded_end_, end_) as a new segment; `force`: even below
  // flush_records.
  absl::Status Flush(bool force);
  absl::Status Merge();
  absl::Status AppendLocked(const ImageKey& key, const PixelSample& sample,
                            absl::string_view record);
  absl::StatusOr<std::string> ReadRange(int64_t offset, int64_t length) const;
  // Uploads `records` as the next segment, standing for `ranges` of the file.
  absl::Status CreateSegment(absl::string_view records,
                             std::vector<std::pair<int64_t, int64_t>> ranges);

  const std::string path_;
  const int fd_;
  int64_t dropped_bytes_ = 0;
  mutable std::mutex mu_;
  absl::flat_hash_map<ImageKey, Entry> entries_;  // Guarded by mu_.
  int64_t end_ = 0;                               // Guarded by mu_.

  // Shared only (store_ set).
  CacheStore* store_ = nullptr;
  std::string segment_prefix_;  // "samples-<i>-of-<N>/"
  SharedCacheOptions shared_;
  std::string scratch_;  // The working copy's folder, removed at Close.
  std::unique_ptr<Lease> lease_;
  int64_t uploaded_end_ = 0;       // Guarded by mu_: records before it are in segments.
  int64_t pending_ = 0;            // Guarded by mu_: records after it.
  mutable std::mutex flush_mu_;    // One upload at a time; taken before mu_.
  std::vector<Segment> segments_;  // Guarded by flush_mu_.
  int64_t next_seq_ = 1;           // Guarded by flush_mu_.
  SegmentCounts counts_;           // Guarded by flush_mu_.
  bool closed_ = false;            // Guarded by flush_mu_.
};

// `<state>/palette-cache/samples-<i>-of-<N>.bin`
std::string SampleCachePath(absl::string_view state_dir, const Shard& shard);

}  // namespace scout::palette
