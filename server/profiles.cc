#include "server/profiles.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <google/protobuf/io/coded_stream.h>
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

// Two pages are in memory at a time (one read, one converted): ~2,000
// rows of 90-day series are ~15 MB.
constexpr int kPageRows = 2000;

int64_t Int(const SqlValue& value) {
  int64_t n = 0;
  if (value) (void)absl::SimpleAtoi(*value, &n);
  return n;
}

// The compact form of one row; DATA_LOSS when its JSON cannot be read.
absl::StatusOr<ProfileFacts> FromRow(const ProfileFactsRow& row, const TierCentiles& centiles,
                                     ByteArena& arena) {
  v1::UserProfile p;
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
  const std::optional<double> percentile =
      EngagementPercentile(centiles, row.followers_count, row.engagement_rate);
  if (percentile) p.set_engagement_percentile(*percentile);

  absl::StatusOr<std::vector<DailyPoint>> daily = ParseDailyJson(row.daily_json);
  if (!daily.ok()) {
    return absl::DataLossError(
        absl::StrCat("profile_facts of ", p.id(), ": ", daily.status().message()));
  }
  std::optional<v1::Palette> palette;
  if (row.palette_json) {
    SCOUT_ASSIGN_OR_RETURN(palette, ParsePaletteJson(*row.palette_json, p.id()));
  }
  absl::StatusOr<ProfileFacts> facts =
      ProfileFacts::Pack(p, *daily, palette ? &*palette : nullptr, arena);
  if (!facts.ok()) {
    return absl::DataLossError(
        absl::StrCat("profile_facts of ", p.id(), ": ", facts.status().message()));
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

char* ByteArena::Allocate(size_t size) {
  if (size > left_) {
    // The tail of the current block stays unused (and, untouched, not
    // resident); an outsized request gets a block of its own.
    const size_t block = std::max(size, kBlockBytes);
    blocks_.push_back(std::unique_ptr<char[]>(new char[block]));
    next_ = blocks_.back().get();
    left_ = block;
  }
  char* bytes = next_;
  next_ += size;
  left_ -= size;
  used_ += size;
  return bytes;
}

namespace {

// Which of a point's business metrics are present, in the low bits of a tag.
constexpr uint64_t kHasImpressions = 1, kHasReach = 2, kFlagBits = 2;

uint64_t ZigZag(int64_t n) {
  return (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
}
int64_t UnZigZag(uint64_t n) { return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1); }
// Differences in uint64 arithmetic: exact (mod 2^64) for any two int64.
int64_t Delta(int64_t value, int64_t previous) {
  return static_cast<int64_t>(static_cast<uint64_t>(value) - static_cast<uint64_t>(previous));
}
int64_t Undelta(int64_t previous, int64_t delta) {
  return static_cast<int64_t>(static_cast<uint64_t>(previous) + static_cast<uint64_t>(delta));
}

void PutVarint(uint64_t value, std::string& out) {
  uint8_t bytes[10];
  const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, bytes);
  out.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(end - bytes));
}

uint64_t Flags(const DailyPoint& point) {
  return (point.impressions ? kHasImpressions : 0) | (point.reach ? kHasReach : 0);
}

const absl::CivilDay kEpoch(1970, 1, 1);

// absl::FormatCivilTime(day) without its strftime machinery: an answer
// formats 90 dates, which took more time than the rest of it.
std::string FormatDate(absl::CivilDay day) {
  const int64_t year = day.year();
  if (year < 1000 || year > 9999) return absl::FormatCivilTime(day);
  const auto two = [](int n, char* at) {
    at[0] = static_cast<char>('0' + n / 10);
    at[1] = static_cast<char>('0' + n % 10);
  };
  char text[10];
  two(static_cast<int>(year / 100), text);
  two(static_cast<int>(year % 100), text + 2);
  text[4] = '-';
  two(day.month(), text + 5);
  text[7] = '-';
  two(day.day(), text + 8);
  return std::string(text, sizeof text);
}

// Calls visit(day, followers, impressions, reach) for each point of
// EncodeSeries' `bytes`; false when they are not such bytes.
template <typename Visit>
bool ForEachPoint(absl::string_view bytes, Visit&& visit) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  uint64_t count = 0, first = 0, dense = 0;
  if (!in.ReadVarint64(&count)) return false;
  const auto at_end = [&] { return in.CurrentPosition() == static_cast<int>(bytes.size()); };
  if (count == 0) return at_end();
  if (!in.ReadVarint64(&first) || !in.ReadVarint64(&dense)) return false;
  int64_t day = UnZigZag(first), followers = 0, impressions = 0, reach = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tag = 0, value = 0;
    if (dense != 0) {
      tag = (dense >> 1) | (i == 0 ? 0 : ZigZag(1) << kFlagBits);
    } else if (!in.ReadVarint64(&tag)) {
      return false;
    }
    day += UnZigZag(tag >> kFlagBits);
    if (!in.ReadVarint64(&value)) return false;
    followers = Undelta(followers, UnZigZag(value));
    std::optional<int64_t> has_impressions, has_reach;
    if (tag & kHasImpressions) {
      if (!in.ReadVarint64(&value)) return false;
      has_impressions = impressions = Undelta(impressions, UnZigZag(value));
    }
    if (tag & kHasReach) {
      if (!in.ReadVarint64(&value)) return false;
      has_reach = reach = Undelta(reach, UnZigZag(value));
    }
    visit(day, followers, has_impressions, has_reach);
  }
  return at_end();
}

}  // namespace

absl::Status EncodeSeries(const std::vector<DailyPoint>& points, std::string& out) {
  PutVarint(points.size(), out);
  if (points.empty()) return absl::OkStatus();
  bool dense = true;
  for (size_t i = 0; i < points.size(); ++i) {
    const int64_t day = points[i].day - kEpoch;
    if (day < std::numeric_limits<int32_t>::min() || day > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "daily point ", i, ": date ", absl::FormatCivilTime(points[i].day), " out of range"));
    }
    if (i > 0 && (points[i].day != points[i - 1].day + 1 || Flags(points[i]) != Flags(points[0]))) {
      dense = false;
    }
  }
  PutVarint(ZigZag(points[0].day - kEpoch), out);
  PutVarint(dense ? 1 | Flags(points[0]) << 1 : 0, out);
  int64_t day = points[0].day - kEpoch, followers = 0, impressions = 0, reach = 0;
  for (const DailyPoint& point : points) {
    if (!dense) {
      PutVarint(Flags(point) | ZigZag(Delta(point.day - kEpoch, day)) << kFlagBits, out);
      day = point.day - kEpoch;
    }
    PutVarint(ZigZag(Delta(point.followers, followers)), out);
    followers = point.followers;
    if (point.impressions) {
      PutVarint(ZigZag(Delta(*point.impressions, impressions)), out);
      impressions = *point.impressions;
    }
    if (point.reach) {
      PutVarint(ZigZag(Delta(*point.reach, reach)), out);
      reach = *point.reach;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DailyPoint>> DecodeSeries(absl::string_view bytes) {
  std::vector<DailyPoint> points;
  const bool read =
      ForEachPoint(bytes, [&](int64_t day, int64_t followers, std::optional<int64_t> impressions,
                              std::optional<int64_t> reach) {
        points.push_back({kEpoch + day, followers, impressions, reach});
      });
  if (!read) return absl::DataLossError("not a compact daily series");
  return points;
}

absl::StatusOr<ProfileFacts> ProfileFacts::Pack(const v1::UserProfile& base,
                                                const std::vector<DailyPoint>& daily,
                                                const v1::Palette* palette, ByteArena& arena) {
  // The id is kept once, in front (it is the snapshot's key): the base and
  // palette go without theirs and get it back in ToProto / palette().
  v1::UserProfile rest = base;
  rest.clear_id();
  rest.clear_daily();
  rest.clear_palette();
  std::string bytes = base.id();
  const size_t id_size = bytes.size();
  if (!rest.AppendToString(&bytes)) return absl::InternalError("profile not serializable");
  const size_t base_size = bytes.size() - id_size;
  if (palette != nullptr) {
    v1::Palette anonymous = *palette;
    anonymous.clear_user_id();
    if (!anonymous.AppendToString(&bytes)) return absl::InternalError("palette not serializable");
  }
  const size_t palette_size = bytes.size() - id_size - base_size;
  SCOUT_RETURN_IF_ERROR(EncodeSeries(daily, bytes));
  if (bytes.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("profile too large");
  }
  ProfileFacts facts;
  char* data = arena.Allocate(bytes.size());
  std::memcpy(data, bytes.data(), bytes.size());
  facts.data_ = data;
  facts.id_size_ = static_cast<uint32_t>(id_size);
  facts.base_size_ = static_cast<uint32_t>(base_size);
  facts.palette_size_ = static_cast<uint32_t>(palette_size);
  facts.series_size_ = static_cast<uint32_t>(bytes.size() - id_size - base_size - palette_size);
  facts.has_palette_ = palette != nullptr;
  return facts;
}

v1::UserProfile ProfileFacts::ToProto() const {
  v1::UserProfile profile;
  ToProto(profile);
  return profile;
}

void ProfileFacts::ToProto(v1::UserProfile& profile) const {
  const char* base = data_ + id_size_;
  // Clears `profile` first. Bytes this process serialized: cannot fail.
  (void)profile.ParseFromArray(base, static_cast<int>(base_size_));
  profile.set_id(std::string(id()));
  const absl::string_view series(base + base_size_ + palette_size_, series_size_);
  // Days step from the previous point's: CivilDay arithmetic costs in
  // proportion to the distance (kEpoch + 20,000 days walked the years, a
  // quarter of the answer's time).
  absl::CivilDay date = kEpoch;
  int64_t date_day = 0;
  (void)ForEachPoint(series, [&](int64_t day, int64_t followers, std::optional<int64_t> impressions,
                                 std::optional<int64_t> reach) {
    date += day - date_day;
    date_day = day;
    v1::DailyStat* stat = profile.add_daily();
    stat->set_date(FormatDate(date));
    stat->set_followers(followers);
    if (impressions) stat->set_impressions(*impressions);
    if (reach) stat->set_reach(*reach);
  });
  if (has_palette_) {
    (void)profile.mutable_palette()->ParseFromArray(base + base_size_,
                                                    static_cast<int>(palette_size_));
    profile.mutable_palette()->set_user_id(std::string(id()));
  }
}

std::optional<v1::Palette> ProfileFacts::palette() const {
  if (!has_palette_) return std::nullopt;
  v1::Palette palette;
  (void)palette.ParseFromArray(data_ + id_size_ + base_size_, static_cast<int>(palette_size_));
  palette.set_user_id(std::string(id()));
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
  if (loaded.ok()) {
    std::shared_ptr<const ProfileSnapshot> previous = current_.exchange(*std::move(loaded));
    // Freed here unless a reader still holds it (then by that reader); its
    // arena blocks are unmapped either way. What the load's pages left free
    // in the heap goes back to the system now, not at some later free.
    previous.reset();
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
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
  // Each page is fetched while the one before is converted, so PostgreSQL
  // and this process work at the same time. The warehouse is used by one
  // thread at a time: the fetching one until its future is read. (An early
  // return waits for the fetch in flight: the future's destructor joins it.)
  const auto fetch = [&warehouse, &query](std::string after) {
    return std::async(std::launch::async, [&warehouse, &query, after = std::move(after)] {
      return warehouse.Query(query, {after});
    });
  };
  std::future<absl::StatusOr<SqlRows>> next = fetch("");
  for (;;) {
    SCOUT_ASSIGN_OR_RETURN(const SqlRows page, next.get());
    const bool last_page = page.rows.size() < static_cast<size_t>(kPageRows);
    if (!last_page) {
      const std::optional<size_t> id_column = page.ColumnIndex("creator_id");
      if (!id_column || !page.rows.back()[*id_column]) {
        return absl::InternalError("profile_facts: page without creator_id");
      }
      next = fetch(*page.rows.back()[*id_column]);
    }
    for (size_t i = 0; i < page.rows.size(); ++i) {
      // A missing column is a broken contract (INTERNAL): the whole load
      // fails and the last snapshot keeps serving. One unreadable row is
      // left out, counted and logged, so it cannot freeze every refresh.
      const absl::StatusOr<ProfileFactsRow> row = ReadProfileFacts(page, i);
      if (absl::IsInternal(row.status())) return row.status();
      absl::StatusOr<ProfileFacts> facts = row.ok()
                                               ? FromRow(*row, snapshot->centiles, snapshot->arena)
                                               : absl::StatusOr<ProfileFacts>(row.status());
      if (!facts.ok()) {
        SkippedRows().Increment();
        Log(LogLevel::kWarning, "profile_facts row skipped",
            {{"version", version}, {"error", facts.status().ToString()}});
        continue;
      }
      // The key views the facts' own bytes, so a row read twice (it
      // cannot be: creator_id is the key) replaces key and value together.
      snapshot->profiles.erase(facts->id());
      snapshot->profiles.emplace(facts->id(), *facts);
    }
    if (last_page) break;
  }
  return snapshot;
}

}  // namespace scout::server
