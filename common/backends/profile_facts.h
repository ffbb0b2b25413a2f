// The profile_facts row: the one contract between scout-aggregate (writes
// it), scout-palette (writes its palette_json) and the server (reads it).
// Owns the row type, the column list, reading a row by column name, and the
// two JSON codecs of the row (daily_json, palette_json). The table itself is
// created by the migrations in warehouse.cc. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/backends/warehouse.h"
#include "scout/v1/types.pb.h"

namespace scout {

// The columns a load writes, in table order (for COPY and INSERT ... SELECT);
// load_version and updated_at are filled in when the load is swapped in.
inline constexpr const char* kProfileFactsColumns =
    "creator_id, as_of, username, name, biography, website, profile_picture_url, "
    "followers_count, follows_count, media_count, is_business, daily_json, doc_count, fol_avg, "
    "eng_avg, engagement_rate, follower_growth_30d, palette_json, last_post_at, avg_reach, "
    "avg_impressions, topics_json";
inline constexpr const char* kProfileFactsLoadColumns = "load_version, updated_at";

struct ProfileFactsRow {
  std::string creator_id;
  absl::CivilDay as_of;
  std::string username, name, biography, website, profile_picture_url;
  int64_t followers_count = 0;
  std::optional<int64_t> follows_count, media_count;  // nullopt: unknown (not 0).
  bool is_business = false;
  std::string daily_json = "[]";  // DailyJson.
  int64_t doc_count = 0;
  std::optional<double> fol_avg, eng_avg, engagement_rate, follower_growth_30d;
  std::optional<std::string> palette_json;  // PaletteJson; nullopt without a palette.
  // From the posts of the last 90 days (last_post_at) and the business posts
  // of the last 30 that carry reach / impressions (absent otherwise, never 0).
  std::optional<absl::Time> last_post_at;
  std::optional<double> avg_reach, avg_impressions;
  std::vector<scout::v1::TopicShare> topics;  // topics_json (creator_content.h).
  int64_t load_version = 0;                   // Set by the load (read back only).
  std::optional<absl::Time> updated_at;       // Set by the load (read back only).
};

// The values of kProfileFactsColumns for COPY, text cleaned and cut to the
// column sizes (column_bytes), so hostile lake text cannot fail the load.
std::vector<SqlValue> ProfileFactsValues(const ProfileFactsRow& row);

// `SELECT <every column> FROM profile_facts` (add WHERE / ORDER BY / LIMIT).
std::string SelectProfileFacts();

// Row `index` of `rows`, its columns found by name. INTERNAL when a column
// is missing from the result (a broken contract, not a bad row); DATA_LOSS
// naming the creator and column when a value cannot be read.
absl::StatusOr<ProfileFactsRow> ReadProfileFacts(const SqlRows& rows, size_t index);

// --- daily_json: [{"date": "YYYY-MM-DD", "followers": n, "impressions": n,
// "reach": n}, ...] ordered by date; impressions and reach only for business
// connections.
struct DailyPoint {
  absl::CivilDay day;
  int64_t followers = 0;
  std::optional<int64_t> impressions, reach;
};
std::string DailyJson(const std::vector<DailyPoint>& points);
// DATA_LOSS when `json` is not such an array (never throws).
absl::StatusOr<std::vector<DailyPoint>> ParseDailyJson(absl::string_view json);

// --- palette_json: {"colors": [{"percentage", "red", "green", "blue",
// "hex"}, ...], "computed_at": RFC 3339, "image_count": n, "pixel_count": n}.
// `colors_json` is the colour array as scout-palette stores it
// (creator_palette.colors_json); INVALID_ARGUMENT when it is not a JSON array.
absl::StatusOr<std::string> PaletteJson(absl::string_view colors_json, absl::Time computed_at,
                                        int64_t image_count, int64_t pixel_count);
// DATA_LOSS naming `user_id` when `json` is not a palette (never throws).
absl::StatusOr<scout::v1::Palette> ParsePaletteJson(absl::string_view json, std::string user_id);

}  // namespace scout
