#include "server/profiles.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/metrics.h"
#include "common/backends/profile_facts.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/base/tier.h"
#include "common/base/time.h"

namespace scout::server {
namespace {

constexpr int kPageRows = 5000;

int64_t Int(const SqlValue& value) {
  int64_t n = 0;
  if (value) (void)absl::SimpleAtoi(*value, &n);
  return n;
}

// The compact form of one row; DATA_LOSS when its JSON cannot be read.
absl::StatusOr<ProfileFacts> FromRow(const ProfileFactsRow& row) {
  ProfileFacts facts;
  v1::UserProfile& p = facts.base;
  p.set_id(row.creator_id);
  p.set_as_of(absl::FormatCivilTime(row.as_of));
  p.set_username(row.username);
  p.set_name(row.name);
  p.set_biography(row.biography);
  p.set_website(row.website);
  p.set_profile_picture_url(row.profile_picture_url);
  p.set_followers_count(row.followers_count);
  if (row.follows_count) p.set_follows_count(*row.follows_count);
  if (row.media_count) p.set_media_count(*row.media_count);
  p.set_is_business(row.is_business);
  p.set_doc_count(row.doc_count);
  if (row.fol_avg) p.set_fol_avg(*row.fol_avg);
  if (row.eng_avg) p.set_eng_avg(*row.eng_avg);
  if (row.engagement_rate) p.set_engagement_rate(*row.engagement_rate);
  if (row.follower_growth_30d) p.set_follower_growth_30d(*row.follower_growth_30d);
  p.set_load_version(row.load_version);
  if (row.updated_at) *p.mutable_updated_at() = ToTimestamp(*row.updated_at);
  if (row.last_post_at) *p.mutable_last_post_at() = ToTimestamp(*row.last_post_at);
  if (row.avg_reach) p.set_avg_reach(*row.avg_reach);
  if (row.avg_impressions) p.set_avg_impressions(*row.avg_impressions);
  p.set_posts_30d(row.doc_count);
  p.set_tier(TierOf(row.followers_count));
  for (const v1::TopicShare& topic : row.topics) *p.add_topics() = topic;

  absl::StatusOr<std::vector<DailyPoint>> daily = ParseDailyJson(row.daily_json);
  if (!daily.ok()) {
    return absl::DataLossError(
        absl::StrCat("profile_facts of ", p.id(), ": ", daily.status().message()));
  }
  const absl::CivilDay epoch(1970, 1, 1);
  for (const DailyPoint& point : *daily) {
    facts.days.push_back(static_cast<int32_t>(point.day - epoch));
    facts.followers.push_back(point.followers);
    facts.impressions.push_back(point.impressions.value_or(ProfileFacts::kAbsent));
    facts.reach.push_back(point.reach.value_or(ProfileFacts::kAbsent));
  }
  if (row.palette_json) {
    SCOUT_ASSIGN_OR_RETURN(v1::Palette palette, ParsePaletteJson(*row.palette_json, p.id()));
    facts.palette = std::make_shared<const v1::Palette>(std::move(palette));
  }
  return facts;
}

// The centiles of the latest as_of, read with the profiles (one snapshot).
absl::StatusOr<TierCentiles> LoadCentiles(Warehouse& warehouse) {
  SCOUT_ASSIGN_OR_RETURN(
      const SqlRows rows,
      warehouse.Query("SELECT as_of, tier, centile, max_engagement_rate FROM tier_centiles "
                      "WHERE as_of = (SELECT MAX(as_of) FROM tier_centiles) "
                      "ORDER BY tier, centile"));
  const std::optional<size_t> as_of = rows.ColumnIndex("as_of"), tier = rows.ColumnIndex("tier"),
                              rate = rows.ColumnIndex("max_engagement_rate");
  if (!as_of || !tier || !rate) return absl::InternalError("tier_centiles: missing columns");
  TierCentiles centiles;
  for (const std::vector<SqlValue>& row : rows.rows) {
    double value = 0;
    if (!row[*tier] || !row[*rate] || !absl::SimpleAtod(*row[*rate], &value) ||
        !std::isfinite(value)) {
      continue;  // An unreadable centile: the tier is a centile coarser.
    }
    if (row[*as_of]) centiles.as_of = *row[*as_of];
    centiles.max_rate[*row[*tier]].push_back(value);
  }
  // NTILE over rates ordered ascending already gives ascending maxima;
  // sorted anyway, as the lookup's binary search needs.
  for (auto& [slug, maxima] : centiles.max_rate) std::sort(maxima.begin(), maxima.end());
  return centiles;
}

prometheus::Counter& SkippedRows() {
  static prometheus::Counter& counter =
      prometheus::BuildCounter()
          .Name("scout_profile_rows_skipped_total")
          .Help("profile_facts rows left out of a snapshot because they could not be read")
          .Register(Metrics())
          .Add({});
  return counter;
}

}  // namespace

std::optional<double> EngagementPercentile(const TierCentiles& centiles, int64_t followers,
                                           std::optional<double> rate) {
  if (!rate || !std::isfinite(*rate)) return std::nullopt;
  const auto it = centiles.max_rate.find(TierSlug(TierOf(followers)));
  if (it == centiles.max_rate.end() || it->second.empty()) return std::nullopt;
  const std::vector<double>& maxima = it->second;
  const size_t below =
      static_cast<size_t>(std::lower_bound(maxima.begin(), maxima.end(), *rate) - maxima.begin());
  return 100.0 * static_cast<double>(below) / static_cast<double>(maxima.size());
}

v1::UserProfile ProfileFacts::ToProto() const {
  v1::UserProfile profile = base;
  profile.mutable_daily()->Reserve(static_cast<int>(days.size()));
  for (size_t i = 0; i < days.size(); ++i) {
    v1::DailyStat* stat = profile.add_daily();
    stat->set_date(absl::FormatCivilTime(absl::CivilDay(1970, 1, 1) + days[i]));
    stat->set_followers(followers[i]);
    if (impressions[i] != kAbsent) stat->set_impressions(impressions[i]);
    if (reach[i] != kAbsent) stat->set_reach(reach[i]);
  }
  if (palette != nullptr) *profile.mutable_palette() = *palette;
  return profile;
}

namespace {

prometheus::Gauge& NewGauge(const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(Metrics()).Add({});
}

struct SnapshotGauges {
  prometheus::Gauge& age = NewGauge("scout_profile_snapshot_age_seconds",
                                    "Time since the warehouse last confirmed the snapshot current");
  prometheus::Gauge& version =
      NewGauge("scout_profile_snapshot_version", "load_versions version the snapshot holds");
  prometheus::Gauge& profiles =
      NewGauge("scout_profile_snapshot_profiles", "Creators in the snapshot");
};

}  // namespace

ProfileStore::ProfileStore(Connector connect, absl::Duration poll_interval)
    : connect_(std::move(connect)),
      poll_interval_(poll_interval),
      current_(std::make_shared<const ProfileSnapshot>()),
      last_confirmed_(absl::Now()) {}

void ProfileStore::Start() {
  poller_ = std::make_unique<Periodic>(poll_interval_, [this] { Poll(); });
}

void ProfileStore::Poll() {
  const absl::Time start = absl::Now();
  const absl::Status status = Refresh();
  const absl::Time now = absl::Now();
  RecordBackendCall("warehouse", now - start, !status.ok());
  if (status.ok()) last_confirmed_ = now;
  const std::shared_ptr<const ProfileSnapshot> current = Current();
  static SnapshotGauges& gauges = *new SnapshotGauges();
  gauges.age.Set(absl::ToDoubleSeconds(now - last_confirmed_));
  gauges.version.Set(static_cast<double>(current->version));
  gauges.profiles.Set(static_cast<double>(current->profiles.size()));
  // Said once per distinct problem, not every poll.
  if (!status.ok() && status.ToString() != last_error_) {
    Log(LogLevel::kWarning, "profile refresh failed; serving the last snapshot",
        {{"version", Current()->version}, {"error", status.ToString()}});
  }
  if (status.ok() && !last_error_.empty()) {
    Log(LogLevel::kInfo, "profile refresh works again", {{"version", Current()->version}});
  }
  last_error_ = status.ok() ? "" : status.ToString();
}

absl::Status ProfileStore::Refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  if (warehouse_ == nullptr) {
    SCOUT_ASSIGN_OR_RETURN(warehouse_, connect_());
  }
  // One snapshot of the database for the version and all its rows.
  absl::StatusOr<std::shared_ptr<ProfileSnapshot>> loaded;
  absl::Status status = warehouse_->InTransaction([&]() -> absl::Status {
    SCOUT_RETURN_IF_ERROR(warehouse_->Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
    SCOUT_ASSIGN_OR_RETURN(
        const SqlRows version,
        warehouse_->Query("SELECT COALESCE(MAX(version), 0) FROM load_versions"));
    const int64_t latest = Int(version.rows[0][0]);
    if (latest == Current()->version) return absl::OkStatus();
    loaded = Load(*warehouse_, latest);
    return loaded.status();
  });
  if (!status.ok()) {
    warehouse_.reset();  // Reconnect next time: the connection may be gone.
    return status;
  }
  if (loaded.ok()) current_.store(*std::move(loaded));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ProfileSnapshot>> ProfileStore::Load(Warehouse& warehouse,
                                                                    int64_t version) {
  auto snapshot = std::make_shared<ProfileSnapshot>();
  snapshot->version = version;
  snapshot->loaded_at = absl::Now();
  SCOUT_ASSIGN_OR_RETURN(snapshot->centiles, LoadCentiles(warehouse));
  const std::string query = absl::StrCat(
      SelectProfileFacts(), " WHERE creator_id > $1 ORDER BY creator_id LIMIT ", kPageRows);
  std::string after;
  for (;;) {
    SCOUT_ASSIGN_OR_RETURN(const SqlRows page, warehouse.Query(query, {after}));
    for (size_t i = 0; i < page.rows.size(); ++i) {
      // A missing column is a broken contract (INTERNAL): the whole load
      // fails and the last snapshot keeps serving. One unreadable row is
      // left out, counted and logged, so it cannot freeze every refresh.
      const absl::StatusOr<ProfileFactsRow> row = ReadProfileFacts(page, i);
      if (absl::IsInternal(row.status())) return row.status();
      absl::StatusOr<ProfileFacts> facts =
          row.ok() ? FromRow(*row) : absl::StatusOr<ProfileFacts>(row.status());
      if (!facts.ok()) {
        SkippedRows().Increment();
        Log(LogLevel::kWarning, "profile_facts row skipped",
            {{"version", version}, {"error", facts.status().ToString()}});
        continue;
      }
      v1::UserProfile& base = facts->base;
      const std::optional<double> percentile = EngagementPercentile(
          snapshot->centiles, base.followers_count(),
          base.has_engagement_rate() ? std::optional<double>(base.engagement_rate())
                                     : std::nullopt);
      if (percentile) base.set_engagement_percentile(*percentile);
      const std::string id = base.id();
      snapshot->profiles.insert_or_assign(id, *std::move(facts));
    }
    if (page.rows.size() < static_cast<size_t>(kPageRows)) break;
    const std::optional<size_t> id_column = page.ColumnIndex("creator_id");
    if (!id_column || !page.rows.back()[*id_column]) {
      return absl::InternalError("profile_facts: page without creator_id");
    }
    after = *page.rows.back()[*id_column];
  }
  return snapshot;
}

}  // namespace scout::server
