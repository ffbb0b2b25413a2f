#include "workers/aggregate/aggregate.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/backends/creator_content.h"
#include "common/backends/creator_index.h"
#include "common/backends/profile_facts.h"
#include "common/backends/progress.h"
#include "common/backends/worker.h"
#include "common/base/hash.h"
#include "common/base/parallel.h"
#include "common/base/status.h"
#include "common/base/tier.h"
#include "common/base/time.h"
#include "workers/aggregate/content.h"
#include "workers/aggregate/facts.h"
#include "workers/aggregate/post_aggregates.h"
#include "workers/aggregate/stats.h"

namespace scout::aggregate {
namespace {

using scout::v1::AggregateReport;

constexpr absl::string_view kStatsRoot = "instagram_graph/stats/";
constexpr size_t kMaxListed = 100;
constexpr size_t kMaxFailedRows = 20;
constexpr size_t kQueryBatch = 1000;  // Creators per IN (...) list.

// Staging tables live as long as the connection; CTAS copies the columns but
// not the NOT NULL constraints (load_version and updated_at stay NULL in
// stage_facts and are filled in at the swap).
constexpr const char* kCreateStaging = R"sql(
DROP TABLE IF EXISTS stage_stats; DROP TABLE IF EXISTS stage_quarantine;
DROP TABLE IF EXISTS stage_facts; DROP TABLE IF EXISTS stage_content;
CREATE TEMP TABLE stage_stats AS SELECT * FROM creator_daily_stats WHERE 1 = 0;
CREATE TEMP TABLE stage_quarantine AS SELECT * FROM stats_quarantine WHERE 1 = 0;
CREATE TEMP TABLE stage_facts AS SELECT * FROM profile_facts WHERE 1 = 0;
CREATE TEMP TABLE stage_content AS SELECT * FROM creator_content WHERE 1 = 0;
)sql";
constexpr const char* kClearStaging =
    "TRUNCATE stage_stats; TRUNCATE stage_quarantine; TRUNCATE stage_facts; "
    "TRUNCATE stage_content;";

// "$1, $2, ..., $n"
std::string Placeholders(size_t n, size_t first = 1) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, i ? ", $" : "$", first + i);
  return out;
}

std::optional<int64_t> ToCount(const SqlValue& value) {
  int64_t n;
  if (value && absl::SimpleAtoi(*value, &n)) return n;
  return std::nullopt;
}

class AggregateRun {
 public:
  AggregateRun(const AggregateEnv& env, const AggregateOptions& options)
      : env_(env), options_(options), copier_(env.http, env.media, options.media) {}

  AggregateReport Run(const std::vector<absl::CivilDay>& dates) {
    StampStarted(report_);
    report_.set_shard(options_.shard.ToString());
    absl::Status status = Prepare();
    for (size_t i = 0; status.ok() && i < dates.size(); ++i) {
      if (StopRequested()) {
        status = Interrupted();
        break;
      }
      report_.add_dates(absl::FormatCivilTime(dates[i]));
      status = LoadDate(dates[i]);
    }
    if (!status.ok()) report_.set_error(status.ToString());
    report_.set_pictures_fetched(picture_stats_.fetched);
    report_.set_pictures_already_stored(picture_stats_.already_stored);
    report_.set_pictures_failed(picture_stats_.failed);
    StampFinished(report_);
    return std::move(report_);
  }

 private:
  absl::Status Prepare() {
    SCOUT_RETURN_IF_ERROR(Migrate(*env_.warehouse));
    SCOUT_RETURN_IF_ERROR(env_.warehouse->Exec(kCreateStaging));
    SCOUT_ASSIGN_OR_RETURN(const std::vector<LakeEntry> entries, env_.lake->List(kStatsRoot));
    for (const LakeEntry& entry : entries) {
      if (entry.is_dir && options_.shard.Owns(entry.name)) creators_.push_back(entry.name);
    }
    report_.set_creators_listed(static_cast<int64_t>(creators_.size()));
    return absl::OkStatus();
  }

  // Reading the lake, copying pictures and asking Elasticsearch happen
  // before the transaction; everything the warehouse sees of the date (stats
  // merged, facts swapped in, checks, version) is one transaction, under the
  // load_versions lock that scout-palette takes too, so the palettes read
  // here cannot be replaced by a palette batch before the swap.
  absl::Status LoadDate(absl::CivilDay day) {
    Warehouse& w = *env_.warehouse;
    SCOUT_RETURN_IF_ERROR(w.Exec(kClearStaging));
    SCOUT_ASSIGN_OR_RETURN(std::vector<DailyStats> stats, ReadStats(day));
    const std::vector<std::string> pictures = CopyPictures(stats);
    SCOUT_RETURN_IF_ERROR(StageStats(stats));

    const absl::Time end = absl::FromCivil(day + 1, absl::UTCTimeZone());
    SCOUT_ASSIGN_OR_RETURN(
        const auto posts, AggregatePosts(*env_.elastic, options_.index_prefix,
                                         end - absl::Hours(24 * kRecentDays), end, options_.shard));
    // What the creators posted about: a second read, of the posts
    // themselves (90 days), by the same shard filter.
    ContentReadStats content_stats;
    const absl::Time content_start = absl::Now();
    SCOUT_ASSIGN_OR_RETURN(auto contents, ReadCreatorContents(*env_.elastic, options_.index_prefix,
                                                              end - absl::Hours(24 * kContentDays),
                                                              end - absl::Hours(24 * kRecentDays),
                                                              end, options_.shard, &content_stats));
    report_.set_content_posts_read(report_.content_posts_read() + content_stats.posts_read);
    report_.set_content_read_seconds(report_.content_read_seconds() +
                                     absl::ToDoubleSeconds(absl::Now() - content_start));
    if (options_.before_transaction) options_.before_transaction();
    int64_t written = 0;
    SCOUT_RETURN_IF_ERROR(w.InTransaction([&]() -> absl::Status {
      SCOUT_RETURN_IF_ERROR(w.Exec("LOCK TABLE load_versions"));
      SCOUT_RETURN_IF_ERROR(MergeStats());
      SCOUT_ASSIGN_OR_RETURN(std::vector<Fact> facts, BuildFacts(stats, pictures, posts));
      std::string rows, content_rows;
      for (Fact& fact : facts) {
        CreatorContentRow content = AddContent(fact, contents);
        AppendCopyRow(FactValues(fact), rows);
        AppendCopyRow(CreatorContentValues(content), content_rows);
      }
      SCOUT_RETURN_IF_ERROR(
          w.CopyIn(absl::StrCat("COPY stage_facts (", kProfileFactsColumns, ") FROM STDIN"), rows));
      SCOUT_RETURN_IF_ERROR(
          w.CopyIn(absl::StrCat("COPY stage_content (", kCreatorContentColumns, ") FROM STDIN"),
                   content_rows));
      SCOUT_ASSIGN_OR_RETURN(written, SwapFacts(day, facts));
      return RefreshBenchmarks(day);
    }));
    report_.set_facts_written(report_.facts_written() + written);
    return IndexCreators();
  }

  // After the commit, so the index never shows facts the warehouse rolled
  // back. A failure fails the run (retryable): the rerun loads the date
  // again and rewrites the same documents.
  absl::Status IndexCreators() {
    if (!options_.index_creators) return absl::OkStatus();
    SCOUT_ASSIGN_OR_RETURN(const CreatorWriteResult written,
                           WriteCreatorsOfLoad(*env_.elastic, *env_.warehouse,
                                               options_.index_prefix, report_.load_version()));
    report_.set_creators_indexed(report_.creators_indexed() + written.written);
    report_.set_creators_index_failed(report_.creators_index_failed() + written.failed_count);
    for (const std::string& failure : written.failed) {
      if (report_.creators_index_failures_size() >= static_cast<int>(kMaxListed)) break;
      report_.add_creators_index_failures(failure);
    }
    return absl::OkStatus();
  }

  // Reads and normalizes the day's stats file of every creator of the shard;
  // unparsable files become quarantine rows, staged with the stats.
  absl::StatusOr<std::vector<DailyStats>> ReadStats(absl::CivilDay day) {
    struct Slot {
      std::optional<DailyStats> stats;
      std::string key, reason;
      absl::Status error;
    };
    std::vector<Slot> slots(creators_.size());
    Progress progress(absl::StrCat("aggregate ", absl::FormatCivilTime(day)),
                      static_cast<int64_t>(creators_.size()));
    ParallelFor(creators_.size(), options_.read_threads, [&](size_t i) {
      Slot& slot = slots[i];
      slot.key = absl::StrCat(kStatsRoot, creators_[i], "/", absl::FormatCivilTime(day), ".json");
      absl::StatusOr<std::string> text = env_.lake->Read(slot.key);
      progress.Add();
      if (absl::IsNotFound(text.status())) return;  // No file that day.
      if (!text.ok()) {
        slot.error = text.status();
        return;
      }
      absl::StatusOr<DailyStats> stats = NormalizeStats(*text, creators_[i], day, slot.key);
      if (stats.ok()) {
        slot.stats = *std::move(stats);
      } else {
        // Parser messages quote the file: cleaned so the report and the
        // quarantine row take them.
        slot.reason = WarehouseText(stats.status().message(), column_bytes::kQuarantineReason);
        if (slot.reason.empty()) slot.reason = "unreadable";
      }
    });
    std::vector<DailyStats> loaded;
    std::string quarantine;
    const std::string now = FormatRfc3339(env_.clock->Now());
    for (Slot& slot : slots) {
      SCOUT_RETURN_IF_ERROR(slot.error);
      if (slot.stats) {
        loaded.push_back(*std::move(slot.stats));
      } else if (!slot.reason.empty()) {
        slot.key = WarehouseText(slot.key, column_bytes::kSourceKey);
        AppendCopyRow({slot.key, slot.reason, now}, quarantine);
        report_.set_stats_quarantined(report_.stats_quarantined() + 1);
        if (report_.quarantined_size() < static_cast<int>(kMaxListed)) {
          v1::QuarantinedFile* q = report_.add_quarantined();
          q->set_key(slot.key);
          q->set_reason(slot.reason);
        }
      } else {
        continue;
      }
      report_.set_stats_files(report_.stats_files() + 1);
    }
    report_.set_stats_loaded(report_.stats_loaded() + static_cast<int64_t>(loaded.size()));
    SCOUT_RETURN_IF_ERROR(env_.warehouse->CopyIn(
        "COPY stage_quarantine (source_key, reason, quarantined_at) FROM STDIN", quarantine));
    return loaded;
  }

  // Our own copy of each profile picture, keyed by its source URL so a new
  // picture gets a new key. Returns the URL to serve per stats row ("" when
  // the copy failed: the next run tries again).
  std::vector<std::string> CopyPictures(const std::vector<DailyStats>& stats) {
    std::vector<std::string> urls(stats.size());
    if (!options_.fetch_pictures) return urls;
    std::vector<MediaCopyJob> jobs;
    std::vector<size_t> owners;
    for (size_t i = 0; i < stats.size(); ++i) {
      if (stats[i].profile_picture_source.empty()) continue;
      jobs.push_back(
          {stats[i].profile_picture_source,
           absl::StrCat(stats[i].creator_id, "/profile-",
                        absl::Hex(StableHash(stats[i].profile_picture_source)), ".jpg")});
      owners.push_back(i);
    }
    const std::vector<absl::Status> results = copier_.CopyBatch(jobs, picture_stats_);
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (results[j].ok()) urls[owners[j]] = env_.media->Url(jobs[j].key);
    }
    return urls;
  }

  absl::Status StageStats(const std::vector<DailyStats>& stats) {
    const std::string now = FormatRfc3339(env_.clock->Now());
    std::string rows;
    for (const DailyStats& s : stats) AppendCopyRow(DailyStatsValues(s, now), rows);
    return env_.warehouse->CopyIn(
        absl::StrCat("COPY stage_stats (", kDailyStatsColumns, ") FROM STDIN"), rows);
  }

  // Staging + delete/insert: an upsert that PostgreSQL and Redshift both
  // run. Part of the date's transaction (LoadDate).
  absl::Status MergeStats() {
    return env_.warehouse->Exec(R"sql(
DELETE FROM creator_daily_stats USING stage_stats
  WHERE creator_daily_stats.creator_id = stage_stats.creator_id
    AND creator_daily_stats.day = stage_stats.day;
INSERT INTO creator_daily_stats SELECT * FROM stage_stats;
DELETE FROM stats_quarantine USING stage_stats
  WHERE stats_quarantine.source_key = stage_stats.source_key;
DELETE FROM stats_quarantine USING stage_quarantine
  WHERE stats_quarantine.source_key = stage_quarantine.source_key;
INSERT INTO stats_quarantine SELECT * FROM stage_quarantine;
)sql");
  }

  // The fact's content columns and its creator_content row (empty content
  // for a creator without posts in the 90 days: the row still replaces the
  // old one). Reach and impressions are business metrics: a basic
  // connection's facts never carry them.
  static CreatorContentRow AddContent(Fact& fact,
                                      absl::flat_hash_map<std::string, CreatorContent>& contents) {
    CreatorContentRow row;
    if (const auto it = contents.find(fact.creator_id); it != contents.end()) {
      CreatorContent& content = it->second;
      fact.last_post_at = content.last_post_at;
      if (fact.is_business) {
        fact.avg_reach = content.avg_reach;
        fact.avg_impressions = content.avg_impressions;
      }
      fact.topics = content.row.topics;
      row = content.row;
    }
    row.creator_id = fact.creator_id;
    row.as_of = fact.as_of;
    return row;
  }

  // Tier benchmarks, centiles and the platform's numbers of `day` over
  // every current profile_facts row (all shards: the whole platform), so
  // each shard's run refreshes them; delete + insert for the date. Each
  // statement's sort-based aggregates share one ORDER BY (Redshift wants
  // that), hence the median engagement rate in a statement of its own.
  absl::Status RefreshBenchmarks(absl::CivilDay day) {
    Warehouse& w = *env_.warehouse;
    const std::string tier = TierSqlCase("followers_count");
    const std::vector<SqlValue> params = {absl::FormatCivilTime(day),
                                          FormatRfc3339(env_.clock->Now())};
    const std::string rated = absl::StrCat("SELECT ", tier,
                                           " AS tier, engagement_rate FROM profile_facts "
                                           "WHERE engagement_rate IS NOT NULL");
    SCOUT_RETURN_IF_ERROR(
        w.Exec("DELETE FROM tier_benchmarks WHERE as_of = CAST($1 AS DATE)", {params[0]}));
    SCOUT_RETURN_IF_ERROR(
        w.Exec(absl::StrCat("INSERT INTO tier_benchmarks (as_of, tier, creators, engagement_p25, "
                            "engagement_median, engagement_p75, computed_at) "
                            "SELECT CAST($1 AS DATE), tier, COUNT(*), "
                            "PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY engagement_rate), "
                            "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY engagement_rate), "
                            "PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY engagement_rate), "
                            "CAST($2 AS TIMESTAMP) FROM (",
                            rated, ") rated GROUP BY tier"),
               params));
    SCOUT_RETURN_IF_ERROR(
        w.Exec("DELETE FROM tier_centiles WHERE as_of = CAST($1 AS DATE)", {params[0]}));
    SCOUT_RETURN_IF_ERROR(
        w.Exec(absl::StrCat("INSERT INTO tier_centiles (as_of, tier, centile, max_engagement_rate) "
                            "SELECT CAST($1 AS DATE), tier, centile, MAX(engagement_rate) FROM ("
                            "SELECT tier, engagement_rate, NTILE(100) OVER (PARTITION BY tier "
                            "ORDER BY engagement_rate) AS centile FROM (",
                            rated, ") rated) ranked GROUP BY tier, centile"),
               {params[0]}));
    SCOUT_RETURN_IF_ERROR(
        w.Exec("DELETE FROM platform_daily WHERE as_of = CAST($1 AS DATE)", {params[0]}));
    SCOUT_RETURN_IF_ERROR(w.Exec(
        "INSERT INTO platform_daily (as_of, creators, business_creators, posts_30d, "
        "median_followers, computed_at) "
        "SELECT CAST($1 AS DATE), COUNT(*), SUM(CASE WHEN is_business THEN 1 ELSE 0 END), "
        "SUM(doc_count), "
        "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY CAST(followers_count AS DOUBLE PRECISION)), "
        "CAST($2 AS TIMESTAMP) FROM profile_facts",
        params));
    return w.Exec(
        "UPDATE platform_daily SET median_engagement_rate = m.median FROM ("
        "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY engagement_rate) AS median "
        "FROM profile_facts WHERE engagement_rate IS NOT NULL) m "
        "WHERE platform_daily.as_of = CAST($1 AS DATE)",
        {params[0]});
  }

  absl::StatusOr<std::vector<Fact>> BuildFacts(
      const std::vector<DailyStats>& stats, const std::vector<std::string>& pictures,
      const absl::flat_hash_map<std::string, PostAggregate>& posts) {
    std::vector<Fact> facts;
    facts.reserve(stats.size());
    for (size_t start = 0; start < stats.size(); start += kQueryBatch) {
      const size_t end = std::min(stats.size(), start + kQueryBatch);
      std::vector<SqlValue> params = {absl::FormatCivilTime(stats[start].day - kSeriesDays),
                                      absl::FormatCivilTime(stats[start].day)};
      for (size_t i = start; i < end; ++i) params.push_back(stats[i].creator_id);
      const std::string ids = Placeholders(end - start, 3);
      SCOUT_ASSIGN_OR_RETURN(
          const SqlRows history,
          env_.warehouse->Query(
              absl::StrCat("SELECT creator_id, day, followers_count, impressions, reach "
                           "FROM creator_daily_stats WHERE day > $1 AND day < $2 "
                           "AND creator_id IN (",
                           ids, ")"),
              params));
      absl::flat_hash_map<std::string, std::vector<SeriesPoint>> series;
      for (const std::vector<SqlValue>& row : history.rows) {
        SeriesPoint& point = series[*row[0]].emplace_back();
        absl::ParseCivilTime(*row[1], &point.day);
        point.followers = ToCount(row[2]).value_or(0);
        point.impressions = ToCount(row[3]);
        point.reach = ToCount(row[4]);
      }
      params.erase(params.begin(), params.begin() + 2);
      SCOUT_ASSIGN_OR_RETURN(
          const SqlRows palettes,
          env_.warehouse->Query(
              absl::StrCat("SELECT creator_id, colors_json, computed_at, image_count, "
                           "pixel_count FROM creator_palette WHERE creator_id IN (",
                           Placeholders(end - start), ")"),
              params));
      absl::flat_hash_map<std::string, std::string> palette_of;
      for (const std::vector<SqlValue>& row : palettes.rows) {
        const absl::StatusOr<absl::Time> computed_at = ParseTime(row[2].value_or(""));
        absl::StatusOr<std::string> palette =
            PaletteJson(row[1].value_or(""), computed_at.ok() ? *computed_at : absl::UnixEpoch(),
                        ToCount(row[3]).value_or(0), ToCount(row[4]).value_or(0));
        // A stored palette we cannot read is left out, not fatal.
        if (palette.ok()) palette_of[*row[0]] = *std::move(palette);
      }
      for (size_t i = start; i < end; ++i) {
        const auto post = posts.find(stats[i].creator_id);
        const auto palette = palette_of.find(stats[i].creator_id);
        facts.push_back(
            BuildFact(stats[i], std::move(series[stats[i].creator_id]),
                      post == posts.end() ? nullptr : &post->second,
                      palette == palette_of.end() ? std::nullopt : std::optional(palette->second),
                      pictures[i]));
        if (post != posts.end()) report_.set_creators_with_posts(report_.creators_with_posts() + 1);
      }
    }
    return facts;
  }

  // Inside the date's transaction: new facts in (facts only move forward:
  // a creator whose facts are of a later date keeps them unless
  // options_.backfill), checks run, version recorded. A failed check rolls
  // it all back. Returns the rows written.
  absl::StatusOr<int64_t> SwapFacts(absl::CivilDay day, const std::vector<Fact>& facts) {
    Warehouse& w = *env_.warehouse;
    SCOUT_ASSIGN_OR_RETURN(const SqlRows last,
                           w.Query("SELECT COALESCE(MAX(version), 0) + 1 FROM load_versions"));
    const std::string version = *last.rows[0][0];
    const std::string backfill = options_.backfill ? "true" : "false";
    SCOUT_ASSIGN_OR_RETURN(const SqlRows newer,
                           w.Query("SELECT COUNT(*) FROM stage_facts s JOIN profile_facts f "
                                   "ON f.creator_id = s.creator_id WHERE f.as_of > s.as_of "
                                   "AND NOT CAST($1 AS BOOLEAN)",
                                   {backfill}));
    const int64_t kept = ToCount(newer.rows[0][0]).value_or(0);
    SCOUT_RETURN_IF_ERROR(
        w.Exec("DELETE FROM profile_facts USING stage_facts "
               "WHERE profile_facts.creator_id = stage_facts.creator_id "
               "AND (CAST($1 AS BOOLEAN) OR profile_facts.as_of <= stage_facts.as_of)",
               {backfill}));
    SCOUT_RETURN_IF_ERROR(
        w.Exec(absl::StrCat("INSERT INTO profile_facts (", kProfileFactsColumns, ", ",
                            kProfileFactsLoadColumns, ") SELECT ", kProfileFactsColumns,
                            ", CAST($1 AS BIGINT), CAST($2 AS TIMESTAMP) FROM stage_facts s "
                            "WHERE NOT EXISTS (SELECT 1 FROM profile_facts f "
                            "WHERE f.creator_id = s.creator_id)"),
               {version, FormatRfc3339(env_.clock->Now())}));
    // Content moves with the facts: replaced where they were, kept where
    // newer facts were kept.
    SCOUT_RETURN_IF_ERROR(
        w.Exec("DELETE FROM creator_content USING stage_content "
               "WHERE creator_content.creator_id = stage_content.creator_id "
               "AND (CAST($1 AS BOOLEAN) OR creator_content.as_of <= stage_content.as_of)",
               {backfill}));
    SCOUT_RETURN_IF_ERROR(
        w.Exec(absl::StrCat("INSERT INTO creator_content (", kCreatorContentColumns, ", ",
                            kCreatorContentLoadColumns, ") SELECT ", kCreatorContentColumns,
                            ", CAST($1 AS BIGINT), CAST($2 AS TIMESTAMP) FROM stage_content s "
                            "WHERE NOT EXISTS (SELECT 1 FROM creator_content c "
                            "WHERE c.creator_id = s.creator_id)"),
               {version, FormatRfc3339(env_.clock->Now())}));
    SCOUT_RETURN_IF_ERROR(CheckQuality(version, facts));
    const int64_t written = static_cast<int64_t>(facts.size()) - kept;
    SCOUT_RETURN_IF_ERROR(w.Exec(
        "INSERT INTO load_versions (version, kind, as_of, shard, row_count, finished_at) "
        "VALUES (CAST($1 AS BIGINT), 'aggregate', CAST($2 AS DATE), $3, CAST($4 AS BIGINT), "
        "CURRENT_TIMESTAMP)",
        {version, absl::FormatCivilTime(day), options_.shard.ToString(), std::to_string(written)}));
    int64_t loaded = 0;
    (void)absl::SimpleAtoi(version, &loaded);
    report_.set_load_version(loaded);
    report_.set_facts_kept_newer(report_.facts_kept_newer() + kept);
    return written;
  }

  absl::Status CheckQuality(const std::string& version, const std::vector<Fact>& facts) {
    struct Check {
      const char* name;
      const char* sql;
      std::vector<SqlValue> params;
    };
    const Check checks[] = {
        {"every creator with a stats file has a fact row",
         "SELECT s.creator_id FROM stage_stats s LEFT JOIN profile_facts f "
         "ON f.creator_id = s.creator_id WHERE f.creator_id IS NULL",
         {}},
        {"no negative counts",
         "SELECT creator_id FROM profile_facts WHERE load_version = CAST($1 AS BIGINT) AND "
         "(followers_count < 0 OR follows_count < 0 OR media_count < 0 OR doc_count < 0)",
         {version}},
        // This run's rows only: another shard's (or an older run's) bad row
        // must not fail every later load of the day.
        {"business-only metrics null exactly for basic connections",
         "SELECT creator_id FROM stage_stats WHERE "
         "((is_business AND (impressions IS NULL OR reach IS NULL)) OR (NOT is_business AND "
         "(impressions IS NOT NULL OR reach IS NOT NULL OR follower_count IS NOT NULL OR "
         "profile_views IS NOT NULL OR website_clicks IS NOT NULL)))",
         {}},
    };
    absl::Status failed = absl::OkStatus();
    for (const Check& check : checks) {
      SCOUT_ASSIGN_OR_RETURN(const SqlRows bad, env_.warehouse->Query(check.sql, check.params));
      std::vector<std::string> rows;
      for (const auto& row : bad.rows) rows.push_back(row[0].value_or("NULL"));
      Fail(check.name, rows, failed);
    }
    std::vector<std::string> unordered;
    for (const Fact& fact : facts) {
      const absl::StatusOr<std::vector<DailyPoint>> points = ParseDailyJson(fact.daily_json);
      if (!points.ok()) {
        unordered.push_back(fact.creator_id);
        continue;
      }
      for (size_t i = 1; i < points->size(); ++i) {
        if ((*points)[i].day <= (*points)[i - 1].day) {
          unordered.push_back(fact.creator_id);
          break;
        }
      }
    }
    Fail("series ordered and one point a day", unordered, failed);
    return failed;
  }

  void Fail(const char* check, const std::vector<std::string>& rows, absl::Status& failed) {
    if (rows.empty()) return;
    v1::QualityFailure* failure = report_.add_quality_failures();
    failure->set_check(check);
    failure->set_row_count(static_cast<int64_t>(rows.size()));
    for (size_t i = 0; i < rows.size() && i < kMaxFailedRows; ++i) failure->add_rows(rows[i]);
    failed = absl::FailedPreconditionError(absl::StrCat("data-quality check failed: ", check, " (",
                                                        rows.size(), " rows, e.g. ", rows[0],
                                                        "); the load was rolled back"));
  }

  const AggregateEnv& env_;
  const AggregateOptions& options_;
  MediaCopier copier_;
  MediaCopyStats picture_stats_;
  std::vector<std::string> creators_;
  AggregateReport report_;
};

}  // namespace

AggregateReport RunAggregate(const AggregateEnv& env, const AggregateOptions& options,
                             const std::vector<absl::CivilDay>& dates) {
  return AggregateRun(env, options).Run(dates);
}

}  // namespace scout::aggregate
