#include "server/profiles.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/time.h"

namespace scout::server {
namespace {

constexpr int kPageRows = 5000;
constexpr const char* kFactsQuery =
    "SELECT creator_id, as_of, username, name, biography, website, profile_picture_url, "
    "followers_count, follows_count, media_count, is_business, daily_json, doc_count, fol_avg, "
    "eng_avg, engagement_rate, follower_growth_30d, palette_json, load_version, updated_at "
    "FROM profile_facts WHERE creator_id > $1 ORDER BY creator_id LIMIT 5000";

int64_t Int(const SqlValue& value) {
  int64_t n = 0;
  if (value) (void)absl::SimpleAtoi(*value, &n);
  return n;
}

template <typename Setter>
void SetDouble(const SqlValue& value, Setter set) {
  double d;
  if (value && absl::SimpleAtod(*value, &d)) set(d);
}

int32_t DayNumber(const std::string& date) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day)) return 0;
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

absl::StatusOr<ProfileFacts> FromRow(const std::vector<SqlValue>& row) {
  ProfileFacts facts;
  v1::UserProfile& p = facts.base;
  p.set_id(row[0].value_or(""));
  p.set_as_of(row[1].value_or(""));
  p.set_username(row[2].value_or(""));
  p.set_name(row[3].value_or(""));
  p.set_biography(row[4].value_or(""));
  p.set_website(row[5].value_or(""));
  p.set_profile_picture_url(row[6].value_or(""));
  p.set_followers_count(Int(row[7]));
  p.set_follows_count(Int(row[8]));
  p.set_media_count(Int(row[9]));
  p.set_is_business(row[10] && (*row[10] == "t" || *row[10] == "true"));
  p.set_doc_count(Int(row[12]));
  SetDouble(row[13], [&](double d) { p.set_fol_avg(d); });
  SetDouble(row[14], [&](double d) { p.set_eng_avg(d); });
  SetDouble(row[15], [&](double d) { p.set_engagement_rate(d); });
  SetDouble(row[16], [&](double d) { p.set_follower_growth_30d(d); });
  p.set_load_version(Int(row[18]));
  if (absl::StatusOr<absl::Time> updated = ParseTime(row[19].value_or("")); updated.ok()) {
    *p.mutable_updated_at() = ToTimestamp(*updated);
  }

  const nlohmann::json daily = nlohmann::json::parse(row[11].value_or("[]"), nullptr, false);
  if (!daily.is_array()) {
    return absl::DataLossError(absl::StrCat("profile_facts.daily_json of ", p.id(),
                                            " is not a JSON array"));
  }
  for (const nlohmann::json& point : daily) {
    facts.days.push_back(DayNumber(point.value("date", "")));
    facts.followers.push_back(point.value("followers", int64_t{0}));
    facts.impressions.push_back(point.value("impressions", ProfileFacts::kAbsent));
    facts.reach.push_back(point.value("reach", ProfileFacts::kAbsent));
  }
  if (row[17]) {
    SCOUT_ASSIGN_OR_RETURN(v1::Palette palette, ParsePaletteJson(*row[17], p.id()));
    facts.palette = std::make_shared<const v1::Palette>(std::move(palette));
  }
  return facts;
}

}  // namespace

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

absl::StatusOr<v1::Palette> ParsePaletteJson(absl::string_view json, std::string user_id) {
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("colors") || !parsed["colors"].is_array()) {
    return absl::DataLossError(absl::StrCat("palette of ", user_id, " is not valid JSON"));
  }
  v1::Palette palette;
  palette.set_user_id(std::move(user_id));
  for (const nlohmann::json& c : parsed["colors"]) {
    v1::Color* color = palette.add_colors();
    color->set_percentage(c.value("percentage", 0.0));
    color->set_red(c.value("red", 0));
    color->set_green(c.value("green", 0));
    color->set_blue(c.value("blue", 0));
    color->set_hex(c.value("hex", ""));
  }
  if (absl::StatusOr<absl::Time> at = ParseTime(parsed.value("computed_at", "")); at.ok()) {
    *palette.mutable_computed_at() = ToTimestamp(*at);
  }
  palette.set_image_count(parsed.value("image_count", 0));
  palette.set_pixel_count(parsed.value("pixel_count", int64_t{0}));
  return palette;
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
    SCOUT_ASSIGN_OR_RETURN(const SqlRows version,
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
  std::string after;
  for (;;) {
    SCOUT_ASSIGN_OR_RETURN(const SqlRows page, warehouse.Query(kFactsQuery, {after}));
    for (const std::vector<SqlValue>& row : page.rows) {
      SCOUT_ASSIGN_OR_RETURN(ProfileFacts facts, FromRow(row));
      const std::string id = facts.base.id();
      snapshot->profiles.insert_or_assign(id, std::move(facts));
    }
    if (page.rows.size() < static_cast<size_t>(kPageRows)) break;
    after = *page.rows.back()[0];
  }
  return snapshot;
}

}  // namespace scout::server
