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
// Thread-safe: Find and Add may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/base/shard.h"
#include "workers/palette/sampler.h"

namespace scout::palette {

using ImageKey = std::array<uint8_t, 16>;

ImageKey KeyOf(absl::string_view bytes);

class SampleCache {
 public:
  // Creates the directory and file when missing. FAILED_PRECONDITION when
  // another process has the file open (an exclusive flock).
  static absl::StatusOr<std::unique_ptr<SampleCache>> Open(const std::string& path);
  ~SampleCache();

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
  SampleCache(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status Load();

  const std::string path_;
  const int fd_;
  int64_t dropped_bytes_ = 0;
  mutable std::mutex mu_;
  absl::flat_hash_map<ImageKey, Entry> entries_;  // Guarded by mu_.
  int64_t end_ = 0;                               // Guarded by mu_.
};

// `<state>/palette-cache/samples-<i>-of-<N>.bin`
std::string SampleCachePath(absl::string_view state_dir, const Shard& shard);

}  // namespace scout::palette
