#include "workers/aggregate/stats.h"

#include "absl/strings/str_cat.h"
#include "common/base/json_fields.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace scout::aggregate {

absl::StatusOr<DailyStats> NormalizeStats(absl::string_view json_text, absl::string_view creator_id,
                                          absl::CivilDay day, absl::string_view source_key) {
  if (creator_id.size() > column_bytes::kCreatorId || !IsValidUtf8(creator_id)) {
    return absl::InvalidArgumentError("the folder name is not a creator id");
  }
  SCOUT_ASSIGN_OR_RETURN(const nlohmann::json object, ParseObject(json_text));
  DailyStats stats;
  stats.creator_id = std::string(creator_id);
  stats.day = day;
  stats.source_key = std::string(source_key);

  SCOUT_ASSIGN_OR_RETURN(const std::string id, IdField(object, "id", true));
  if (id != creator_id) {
    return FieldError(
        "id", absl::StrCat("\"", id, "\" is not the creator of this folder (", creator_id, ")"));
  }
  SCOUT_ASSIGN_OR_RETURN(const std::string created_at, StringField(object, "created_at"));
  if (!created_at.empty() && created_at != absl::FormatCivilTime(day)) {
    return FieldError("created_at", absl::StrCat("\"", created_at, "\" is not the file's day ",
                                                 absl::FormatCivilTime(day)));
  }
  SCOUT_ASSIGN_OR_RETURN(const std::optional<int64_t> followers,
                         CountField(object, "followers_count"));
  if (!followers) return FieldError("followers_count", "missing");
  stats.followers_count = *followers;

  for (auto [field, out] : {std::pair{"username", &stats.username},
                            {"name", &stats.name},
                            {"biography", &stats.biography},
                            {"website", &stats.website},
                            {"profile_picture_url", &stats.profile_picture_source}}) {
    SCOUT_ASSIGN_OR_RETURN(*out, StringField(object, field));
  }
  for (auto [field, out] : {std::pair{"follows_count", &stats.follows_count},
                            {"media_count", &stats.media_count},
                            {"impressions", &stats.impressions},
                            {"reach", &stats.reach}}) {
    SCOUT_ASSIGN_OR_RETURN(*out, CountField(object, field));
  }
  // Only business connections report insights; a file with some but not all
  // of the core ones is inconsistent.
  stats.is_business = stats.impressions.has_value() || stats.reach.has_value();
  if (stats.is_business && !(stats.impressions && stats.reach)) {
    return absl::InvalidArgumentError(
        "business insights incomplete: impressions and reach must both be present");
  }
  for (auto [field, out] : {std::pair{"follower_count", &stats.follower_count},
                            {"profile_views", &stats.profile_views},
                            {"website_clicks", &stats.website_clicks},
                            {"email_contacts", &stats.email_contacts},
                            {"phone_call_clicks", &stats.phone_call_clicks},
                            {"text_message_clicks", &stats.text_message_clicks},
                            {"get_directions_clicks", &stats.get_directions_clicks}}) {
    SCOUT_ASSIGN_OR_RETURN(*out, CountField(object, field));
    // A basic connection has no insights: a file claiming some is not one
    // we can trust (and would break the day's quality check).
    if (out->has_value() && !stats.is_business) {
      return FieldError(field,
                        "business-only insight in a basic connection's file (no impressions "
                        "or reach)");
    }
  }
  return stats;
}

std::vector<SqlValue> DailyStatsValues(const DailyStats& s, absl::string_view loaded_at) {
  namespace b = column_bytes;
  // Lake text is hostile: cleaned and cut to the column's size, so one odd
  // file cannot fail the COPY of everyone's.
  return {WarehouseText(s.creator_id, b::kCreatorId),
          absl::FormatCivilTime(s.day),
          WarehouseText(s.username, b::kUsername),
          WarehouseText(s.name, b::kName),
          WarehouseText(s.biography, b::kBiography),
          WarehouseText(s.website, b::kWebsite),
          WarehouseText(s.profile_picture_source, b::kPictureUrl),
          std::to_string(s.followers_count),
          SqlCount(s.follows_count),
          SqlCount(s.media_count),
          s.is_business ? "true" : "false",
          SqlCount(s.impressions),
          SqlCount(s.reach),
          SqlCount(s.follower_count),
          SqlCount(s.profile_views),
          SqlCount(s.website_clicks),
          SqlCount(s.email_contacts),
          SqlCount(s.phone_call_clicks),
          SqlCount(s.text_message_clicks),
          SqlCount(s.get_directions_clicks),
          WarehouseText(s.source_key, b::kSourceKey),
          std::string(loaded_at)};
}

}  // namespace scout::aggregate
