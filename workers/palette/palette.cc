#include "workers/palette/palette.h"

#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/backends/post_index.h"
#include "common/backends/profile_facts.h"
#include "common/backends/progress.h"
#include "common/backends/worker.h"
#include "common/base/parallel.h"
#include "common/base/status.h"
#include "common/base/time.h"

namespace scout::palette {
namespace {

using nlohmann::json;
using scout::v1::PaletteReport;

constexpr int kMaxListed = 100;

// Explicit columns rather than CTAS: palette_json has no home in
// creator_palette. Temporary, so it lives as long as the connection.
constexpr const char* kCreateStaging = R"sql(
DROP TABLE IF EXISTS stage_palette;
CREATE TEMP TABLE stage_palette (
  creator_id VARCHAR(32) NOT NULL,
  computed_at TIMESTAMP NOT NULL,
  image_count INTEGER NOT NULL,
  pixel_count BIGINT NOT NULL,
  colors_json VARCHAR(4096) NOT NULL,
  palette_json VARCHAR(4096) NOT NULL
);
)sql";
constexpr const char* kStagingColumns =
    "creator_id, computed_at, image_count, pixel_count, colors_json, palette_json";
constexpr const char* kMerge = R"sql(
DELETE FROM creator_palette USING stage_palette
  WHERE creator_palette.creator_id = stage_palette.creator_id;
INSERT INTO creator_palette (creator_id, computed_at, image_count, pixel_count, colors_json)
  SELECT creator_id, computed_at, image_count, pixel_count, colors_json FROM stage_palette;
UPDATE profile_facts SET palette_json = stage_palette.palette_json FROM stage_palette
  WHERE profile_facts.creator_id = stage_palette.creator_id;
)sql";
// Palettes with no profile_facts row to carry them (the creator's daily
// facts are not loaded yet): stored, reported, served after the next
// scout-aggregate of the creator.
constexpr const char* kUnpublished =
    "SELECT s.creator_id FROM stage_palette s LEFT JOIN profile_facts f "
    "ON f.creator_id = s.creator_id WHERE f.creator_id IS NULL ORDER BY s.creator_id";

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A creator of the shard and the media keys of their newest pictures.
struct Creator {
  std::string id;
  std::vector<std::string> keys;
};

struct CreatorResult {
  CreatorPalette palette;
  ImageCounts counts;
  std::vector<std::pair<std::string, std::string>> corrupt;  // key, reason
  absl::Status error;
};

class PaletteRun {
 public:
  PaletteRun(const PaletteEnv& env, const PaletteOptions& options) : env_(env), options_(options) {}

  PaletteReport Run() {
    const double cpu_start = CpuSeconds();
    StampStarted(report_);
    report_.set_shard(options_.shard.ToString());
    computed_at_ = env_.clock->Now();
    const S3RequestCounts s3_start = env_.s3 != nullptr ? env_.s3->Counts() : S3RequestCounts();
    absl::Status status = Prepare();
    if (status.ok()) status = ScanAndProcess();
    // What was decoded is kept even when the run failed.
    if (cache_ != nullptr) {
      absl::Status closed = cache_->Close();
      if (status.ok()) status = closed;
      const SegmentCounts segments = cache_->segment_counts();
      report_.set_cache_segments_loaded(segments.loaded);
      report_.set_cache_segments_damaged(segments.damaged);
      report_.set_cache_segments_written(segments.written);
      report_.set_cache_segments_deleted(segments.deleted);
    }
    // Even after a failure, what was written is announced (servers reload
    // once per run, not once per batch); a failed announcement is redone by
    // the next run, which rewrites the same rows.
    absl::Status published = Publish();
    // What the warehouse now serves goes to the creators index too.
    if (published.ok()) published = IndexPalettes();
    if (status.ok()) status = published;
    if (!status.ok()) report_.set_error(status.ToString());
    report_.set_images(counts_.images);
    report_.set_images_decoded(counts_.decoded);
    report_.set_images_from_cache(counts_.from_cache);
    report_.set_images_corrupt(counts_.corrupt);
    report_.set_images_missing(counts_.missing);
    if (env_.s3 != nullptr) {
      const S3RequestCounts end = env_.s3->Counts();
      v1::S3Requests* requests = report_.mutable_s3_requests();
      requests->set_lists(end.list - s3_start.list);
      requests->set_gets(end.get - s3_start.get);
      requests->set_heads(end.head - s3_start.head);
      requests->set_puts(end.put - s3_start.put);
      requests->set_deletes(end.del - s3_start.del);
    }
    StampFinished(report_);
    report_.set_cpu_seconds(CpuSeconds() - cpu_start);
    return std::move(report_);
  }

 private:
  absl::Status Prepare() {
    SCOUT_RETURN_IF_ERROR(Migrate(*env_.warehouse));
    SCOUT_RETURN_IF_ERROR(env_.warehouse->Exec(kCreateStaging));
    if (env_.cache_store != nullptr) {
      SCOUT_ASSIGN_OR_RETURN(
          cache_, SampleCache::OpenShared(env_.cache_store, options_.shard, options_.shared_cache));
    } else {
      if (options_.state_dir.empty()) return absl::InvalidArgumentError("no state directory");
      SCOUT_ASSIGN_OR_RETURN(
          cache_, SampleCache::Open(SampleCachePath(options_.state_dir, options_.shard)));
    }
    report_.set_cache_entries_loaded(static_cast<int64_t>(cache_->size()));
    report_.set_cache_bytes_dropped(cache_->dropped_bytes());
    return absl::OkStatus();
  }

  // Streams the shard's recent posts (Elasticsearch filters by shard),
  // sorted by owner, newest first; a creator is complete when the owner
  // changes.
  absl::Status ScanAndProcess() {
    namespace f = post_field;
    const absl::Time now = env_.clock->Now();
    json filters = json::array({TimestampRange(now - absl::Hours(24 * options_.recent_days), now)});
    if (std::optional<json> mine = ShardFilter(options_.shard)) {
      filters.push_back(*std::move(mine));
    }
    json request = {
        {"size", options_.page_size},
        {"track_total_hits", false},
        {"_source", {f::kOwnerId, f::kId, f::kTimestamp, f::kMedia}},
        {"query", {{"bool", {{"filter", std::move(filters)}}}}},
        {"sort", {{{f::kOwnerId, "asc"}}, {{f::kTimestamp, "desc"}}, {{f::kId, "asc"}}}}};
    Progress progress("palette", 0);
    std::optional<Creator> current;
    std::vector<Creator> batch;
    for (;;) {
      absl::StatusOr<json> answer = env_.elastic->Call(
          "POST", absl::StrCat(options_.index_prefix, "/_search"), request, absl::Seconds(120));
      if (absl::IsNotFound(answer.status())) break;  // Nothing indexed yet.
      if (!answer.ok()) return answer.status();
      const json* hits = nullptr;
      if (const auto outer = answer->find("hits");
          answer->is_object() && outer != answer->end() && outer->is_object()) {
        if (const auto inner = outer->find("hits"); inner != outer->end() && inner->is_array()) {
          hits = &*inner;
        }
      }
      if (hits == nullptr) {
        return absl::InternalError("elasticsearch search answer without hits.hits");
      }
      if (hits->empty()) break;
      for (const json& hit : *hits) {
        report_.set_posts_read(report_.posts_read() + 1);
        if (!hit.is_object() || !hit.contains("_source") || !hit["_source"].is_object()) {
          return absl::InternalError("elasticsearch search answer: a hit without _source");
        }
        const json& source = hit["_source"];
        const auto owner_field = source.find(f::kOwnerId);
        const std::string owner = owner_field != source.end() && owner_field->is_string()
                                      ? owner_field->get<std::string>()
                                      : std::string();
        if (!current || current->id != owner) {
          if (current && owned_) batch.push_back(*std::move(current));
          if (batch.size() >= options_.batch_creators) {
            if (StopRequested()) return Interrupted();
            // Another run of the shard took the cache's lease: it does the work.
            SCOUT_RETURN_IF_ERROR(cache_->status());
            SCOUT_RETURN_IF_ERROR(ProcessBatch(batch, progress));
            batch.clear();
          }
          current = Creator{owner, {}};
          // Posts indexed before shard_bucket existed reach every shard.
          owned_ = options_.shard.Owns(owner);
        }
        if (!owned_) continue;
        AddPictures(source, *current);
      }
      const json& last = hits->back();
      if (!last.contains("sort")) {
        return absl::InternalError("elasticsearch search answer: a hit without sort values");
      }
      request["search_after"] = last["sort"];
    }
    if (current && owned_) batch.push_back(*std::move(current));
    return ProcessBatch(batch, progress);
  }

  // The n-th stored picture of a post is at PostMediaKey(owner, post, n);
  // items without a url were never stored (scout-ingest retries them).
  void AddPictures(const json& source, Creator& creator) {
    const auto media = source.find("media");
    if (media == source.end() || !media->is_array()) return;
    const std::string post_id = source.value("id", "");
    for (size_t n = 0; n < media->size(); ++n) {
      if (static_cast<int>(creator.keys.size()) >= options_.max_images) return;
      const json& item = (*media)[n];
      if (!item.is_object() || item.value("url", "").empty()) continue;
      creator.keys.push_back(PostMediaKey(creator.id, post_id, static_cast<int>(n)));
    }
  }

  CreatorResult Compute(const Creator& creator) {
    CreatorResult result;
    std::vector<PixelSample> samples;
    for (const std::string& key : creator.keys) {
      ++result.counts.images;
      absl::StatusOr<std::string> bytes = env_.media->Get(key);
      if (absl::IsNotFound(bytes.status())) {
        ++result.counts.missing;
        continue;
      }
      if (!bytes.ok()) {
        result.error = bytes.status();
        return result;
      }
      absl::StatusOr<PixelSample> sample = SamplePicture(
          *bytes, cache_.get(), options_.sample_pixels, result.counts, options_.min_decoded_pixels);
      if (!sample.ok()) {
        result.corrupt.emplace_back(key, std::string(sample.status().message()));
        continue;
      }
      samples.push_back(*std::move(sample));
    }
    result.palette = PaletteOfSamples(samples, options_.kmeans);
    return result;
  }

  absl::Status ProcessBatch(const std::vector<Creator>& batch, Progress& progress) {
    if (batch.empty()) return absl::OkStatus();
    std::vector<CreatorResult> results(batch.size());
    ParallelFor(batch.size(), options_.threads, [&](size_t i) {
      results[i] = Compute(batch[i]);
      progress.Add();
    });
    std::string rows;
    int64_t written = 0;
    std::vector<v1::Palette> batch_palettes;
    const std::string computed_at = FormatRfc3339(computed_at_);
    for (size_t i = 0; i < batch.size(); ++i) {
      CreatorResult& r = results[i];
      SCOUT_RETURN_IF_ERROR(r.error);
      counts_.Add(r.counts);
      for (auto& [key, reason] : r.corrupt) {
        if (report_.corrupt_size() >= kMaxListed) break;
        v1::QuarantinedFile* file = report_.add_corrupt();
        file->set_key(key);
        file->set_reason(reason);
      }
      report_.set_creators(report_.creators() + 1);
      if (r.palette.colors.empty()) {
        report_.set_creators_without_images(report_.creators_without_images() + 1);
        continue;
      }
      report_.set_creators_with_palette(report_.creators_with_palette() + 1);
      report_.set_pixels_sampled(report_.pixels_sampled() + r.palette.pixel_count);
      if (options_.index_creators) {
        // Through the warehouse's codec, so the index holds what it serves.
        absl::StatusOr<v1::Palette> indexed =
            ParsePaletteJson(PaletteJson(r.palette, computed_at_), batch[i].id);
        SCOUT_RETURN_IF_ERROR(indexed.status());
        batch_palettes.push_back(*std::move(indexed));
      }
      AppendCopyRow({batch[i].id, computed_at, std::to_string(r.palette.image_count),
                     std::to_string(r.palette.pixel_count), ColorsJson(r.palette.colors),
                     PaletteJson(r.palette, computed_at_)},
                    rows);
      ++written;
    }
    if (written == 0) return absl::OkStatus();
    Warehouse& w = *env_.warehouse;
    // TRUNCATE commits on Redshift, so it stays outside the transaction.
    SCOUT_RETURN_IF_ERROR(w.Exec("TRUNCATE stage_palette"));
    SCOUT_RETURN_IF_ERROR(
        w.CopyIn(absl::StrCat("COPY stage_palette (", kStagingColumns, ") FROM STDIN"), rows));
    SqlRows unpublished;
    SCOUT_RETURN_IF_ERROR(w.InTransaction([&]() -> absl::Status {
      // The lock scout-aggregate holds while it reads creator_palette and
      // swaps its facts in: a palette committed here is either seen by that
      // load or applied after it, never overwritten by it.
      SCOUT_RETURN_IF_ERROR(w.Exec("LOCK TABLE load_versions"));
      SCOUT_RETURN_IF_ERROR(w.Exec(kMerge));
      SCOUT_ASSIGN_OR_RETURN(unpublished, w.Query(kUnpublished));
      return absl::OkStatus();
    }));
    for (const std::vector<SqlValue>& row : unpublished.rows) {
      report_.set_palettes_unpublished(report_.palettes_unpublished() + 1);
      if (report_.unpublished_size() < kMaxListed) report_.add_unpublished(row[0].value_or(""));
    }
    for (v1::Palette& palette : batch_palettes) palettes_.push_back(std::move(palette));
    report_.set_palettes_written(report_.palettes_written() + written);
    report_.set_batches_written(report_.batches_written() + 1);
    return absl::OkStatus();
  }

  // One load_versions row for the whole run, so servers reload their
  // snapshot once rather than once per batch.
  absl::Status Publish() {
    if (report_.palettes_written() == 0) return absl::OkStatus();
    Warehouse& w = *env_.warehouse;
    return w.InTransaction([&]() -> absl::Status {
      SCOUT_RETURN_IF_ERROR(w.Exec("LOCK TABLE load_versions"));
      SCOUT_ASSIGN_OR_RETURN(const SqlRows last,
                             w.Query("SELECT COALESCE(MAX(version), 0) + 1 FROM load_versions"));
      const std::string version = *last.rows[0][0];
      SCOUT_RETURN_IF_ERROR(
          w.Exec("INSERT INTO load_versions (version, kind, as_of, shard, row_count, finished_at) "
                 "VALUES (CAST($1 AS BIGINT), 'palette', CAST($2 AS DATE), $3, CAST($4 AS BIGINT), "
                 "CURRENT_TIMESTAMP)",
                 {version, FormatDay(computed_at_), options_.shard.ToString(),
                  std::to_string(report_.palettes_written())}));
      int64_t loaded = 0;
      (void)absl::SimpleAtoi(version, &loaded);
      report_.set_load_version(loaded);
      return absl::OkStatus();
    });
  }

  // The palette fields of the creators' documents in the creators index.
  // A failure fails the run (retryable); the rerun writes them again.
  absl::Status IndexPalettes() {
    if (!options_.index_creators || palettes_.empty()) return absl::OkStatus();
    SCOUT_RETURN_IF_ERROR(EnsureCreatorIndex(*env_.elastic, options_.index_prefix));
    SCOUT_ASSIGN_OR_RETURN(const CreatorWriteResult written,
                           WriteCreatorPalettes(*env_.elastic, options_.index_prefix, palettes_));
    report_.set_palettes_indexed(written.written);
    report_.set_palettes_index_missing(written.missing);
    report_.set_palettes_index_failed(written.failed_count);
    for (const std::string& failure : written.failed) {
      if (report_.palettes_index_failures_size() >= kMaxListed) break;
      report_.add_palettes_index_failures(failure);
    }
    return env_.elastic
        ->Call("POST", absl::StrCat(CreatorsAlias(options_.index_prefix), "/_refresh"))
        .status();
  }

  const PaletteEnv& env_;
  const PaletteOptions& options_;
  std::vector<v1::Palette> palettes_;  // Written to the warehouse by this run.
  std::unique_ptr<SampleCache> cache_;
  absl::Time computed_at_;
  bool owned_ = false;  // Whether `current` of the scan is ours.
  ImageCounts counts_;
  PaletteReport report_;
};

}  // namespace

PaletteReport RunPalette(const PaletteEnv& env, const PaletteOptions& options) {
  return PaletteRun(env, options).Run();
}

void ImageCounts::Add(const ImageCounts& other) {
  images += other.images;
  decoded += other.decoded;
  from_cache += other.from_cache;
  corrupt += other.corrupt;
  missing += other.missing;
}

absl::StatusOr<PixelSample> SamplePicture(absl::string_view bytes, SampleCache* cache, int pixels,
                                          ImageCounts& counts, int64_t min_decoded_pixels,
                                          JpegDecoder decoder) {
  const ImageKey key = KeyOf(bytes);
  std::optional<PixelSample> cached = cache ? cache->Find(key) : std::nullopt;
  if (cached) {
    ++counts.from_cache;
    if (cached->rgb.empty()) {
      ++counts.corrupt;
      return absl::DataLossError("cannot decode picture (remembered)");
    }
    return *std::move(cached);
  }
  ++counts.decoded;
  absl::StatusOr<PixelSample> sample = SampleImage(bytes, pixels, min_decoded_pixels, decoder);
  if (!sample.ok()) {
    ++counts.corrupt;
    if (cache != nullptr) (void)cache->Add(key, PixelSample{});
    return sample.status();
  }
  // A cache that cannot be written only costs a decode next time.
  if (cache != nullptr) (void)cache->Add(key, *sample);
  return sample;
}

CreatorPalette PaletteOfSamples(const std::vector<PixelSample>& samples,
                                const KMeansOptions& options) {
  CreatorPalette palette;
  std::string pixels;
  for (const PixelSample& sample : samples) {
    if (sample.rgb.empty()) continue;
    pixels += sample.rgb;
    ++palette.image_count;
  }
  palette.pixel_count = static_cast<int64_t>(pixels.size() / 3);
  if (palette.pixel_count == 0) return palette;
  palette.clusters = KMeans(pixels, options);
  palette.colors = ToPalette(palette.clusters);
  return palette;
}

std::string PaletteJson(const CreatorPalette& palette, absl::Time computed_at) {
  // ColorsJson is always an array, so the codec cannot refuse it.
  return scout::PaletteJson(ColorsJson(palette.colors), computed_at, palette.image_count,
                            palette.pixel_count)
      .value_or("");
}

}  // namespace scout::palette
