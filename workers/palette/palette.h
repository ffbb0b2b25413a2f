// scout-palette as a library: the 6-colour palette of every creator of a
// shard, from the pictures of their recent posts, into the warehouse.
//
// Per creator: the pictures of the posts of the last `recent_days` days,
// newest post first, at most `max_images` (carousel children count; videos
// and stories by their thumbnails: every picture scout-ingest stored for the
// post), read from the media store; each one sampled (sampler.h) or its
// sample taken from the cache (sample_cache.h: a local file in the state
// directory, or segments in S3 with SCOUT_STATE on S3); k-means (kmeans.h)
// over the pooled samples. A creator without a usable picture gets no palette and
// keeps the one they had (counted, not an error). A missing, corrupt or
// truncated picture is skipped and counted.
//
// The posts come from one Elasticsearch scan over the read alias sorted by
// owner (search_after), not one query per creator; other shards' creators
// are skipped here.
//
// Writes, per batch of creators, one transaction (under the load_versions
// lock scout-aggregate also takes, so neither overwrites the other):
// creator_palette rows replaced (staging + delete/insert, PostgreSQL and
// Redshift alike) and profile_facts.palette_json updated for those creators
// so servers need not wait for the next aggregate. Then, once per run (also
// after a failure, for the batches written), one load_versions row (kind
// 'palette') so running servers refresh once. Order: scout-aggregate first;
// a creator without a profile_facts row yet keeps their palette in
// creator_palette only, is reported (palettes_unpublished) and is served
// after the next scout-aggregate of their shard. Rerunning gives the same
// rows (computed_at aside). Not thread-safe (one Warehouse connection); uses `threads`
// threads across creators, none within one, so palettes are deterministic.
#pragma once

#include <string>
#include <vector>

#include "common/backends/elastic.h"
#include "common/backends/warehouse.h"
#include "common/base/clock.h"
#include "common/base/shard.h"
#include "common/io/media_store.h"
#include "scout/v1/jobs.pb.h"
#include "workers/palette/kmeans.h"
#include "workers/palette/sample_cache.h"
#include "workers/palette/sampler.h"

namespace scout::palette {

struct PaletteOptions {
  std::string index_prefix = "scout-posts";
  Shard shard;
  std::string state_dir;  // The sample cache lives in <state_dir>/palette-cache/.
  // When PaletteEnv::cache_store is set (SCOUT_STATE on S3): how the shard's
  // cache is kept there (sample_cache.h).
  SharedCacheOptions shared_cache;
  int recent_days = 90;
  int max_images = 50;
  int threads = 2;
  size_t batch_creators = 1000;  // Creators per warehouse transaction.
  int page_size = 2000;          // Posts per Elasticsearch page.
  int sample_pixels = kSamplePixels;
  int64_t min_decoded_pixels = kMinDecodedPixels;  // sampler.h
  KMeansOptions kmeans;
  // Writes the palettes it published to the creators' documents in the
  // creators index (`<index_prefix>.creators`).
  bool index_creators = true;
};

struct PaletteEnv {
  Elastic* elastic = nullptr;
  Warehouse* warehouse = nullptr;
  MediaStore* media = nullptr;
  const Clock* clock = nullptr;
  // Set: the sample cache is kept there (SCOUT_STATE on S3), not in
  // options.state_dir (CacheStoreForState makes it).
  CacheStore* cache_store = nullptr;
  // The S3 client behind the media store or the cache store, if any: the
  // report counts this run's requests.
  const ObjectStore* s3 = nullptr;
};

// The report's `error` is set when a backend failed; batches written before
// the failure stay written.
scout::v1::PaletteReport RunPalette(const PaletteEnv& env, const PaletteOptions& options);

// --- The per-creator core, shared with the benchmark and the tests. ---

struct ImageCounts {
  int64_t images = 0;      // Listed: decoded + from_cache + missing.
  int64_t decoded = 0;     // Decoded this run (corrupt ones included).
  int64_t from_cache = 0;  // Sample found in the cache.
  int64_t corrupt = 0;     // No usable pixels (decoded now or earlier).
  int64_t missing = 0;     // Not in the media store.

  void Add(const ImageCounts& other);
};

// One picture's sample: from `cache` when these bytes were seen before,
// else decoded and added to it (`cache` may be null). DATA_LOSS when the
// picture cannot be decoded.
absl::StatusOr<PixelSample> SamplePicture(absl::string_view bytes, SampleCache* cache, int pixels,
                                          ImageCounts& counts,
                                          int64_t min_decoded_pixels = kMinDecodedPixels,
                                          JpegDecoder decoder = JpegDecoder::kLibjpeg);

struct CreatorPalette {
  int image_count = 0;               // Pictures that contributed pixels.
  int64_t pixel_count = 0;           // Sampled pixels clustered.
  std::vector<PaletteColor> colors;  // Empty without pixels.
  KMeansResult clusters;
};

CreatorPalette PaletteOfSamples(const std::vector<PixelSample>& samples,
                                const KMeansOptions& options);

// profile_facts.palette_json: {"colors": [...], "computed_at": RFC 3339,
// "image_count": n, "pixel_count": n}, as the server reads it.
std::string PaletteJson(const CreatorPalette& palette, absl::Time computed_at);

}  // namespace scout::palette
