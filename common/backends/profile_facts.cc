#include "common/backends/profile_facts.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/backends/creator_content.h"
#include "common/backends/row_reader.h"
#include "common/base/status.h"
#include "common/base/time.h"

namespace scout {
namespace {

using nlohmann::json;

// Shortest text that reads back as the same double (StrCat keeps only 6 digits).
SqlValue Number(const std::optional<double>& value) {
  if (!value) return std::nullopt;
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, *value).ptr;
  return std::string(buffer, end);
}

// nlohmann's value() and get() throw on a wrong type; these do not.
std::optional<int64_t> IntMember(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}
std::optional<double> DoubleMember(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
std::string StringMember(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

std::vector<SqlValue> ProfileFactsValues(const ProfileFactsRow& f) {
  namespace b = column_bytes;
  return {WarehouseText(f.creator_id, b::kCreatorId),
          absl::FormatCivilTime(f.as_of),
          WarehouseText(f.username, b::kUsername),
          WarehouseText(f.name, b::kName),
          WarehouseText(f.biography, b::kBiography),
          WarehouseText(f.website, b::kWebsite),
          WarehouseText(f.profile_picture_url, b::kPictureUrl),
          std::to_string(f.followers_count),
          SqlCount(f.follows_count),
          SqlCount(f.media_count),
          f.is_business ? "true" : "false",
          f.daily_json,  // Ours: valid JSON of bounded length (90 points).
          std::to_string(f.doc_count),
          Number(f.fol_avg),
          Number(f.eng_avg),
          Number(f.engagement_rate),
          Number(f.follower_growth_30d),
          f.palette_json,
          f.last_post_at ? SqlValue(FormatRfc3339(*f.last_post_at)) : std::nullopt,
          Number(f.avg_reach),
          Number(f.avg_impressions),
          f.topics.empty() ? std::nullopt : SqlValue(TopicsJson(f.topics))};
}

std::string SelectProfileFacts() {
  return absl::StrCat("SELECT ", kProfileFactsColumns, ", ", kProfileFactsLoadColumns,
                      " FROM profile_facts");
}

absl::StatusOr<ProfileFactsRow> ReadProfileFacts(const SqlRows& rows, size_t index) {
  RowReader r(rows, index, "profile_facts");
  ProfileFactsRow f;
  f.creator_id = r.Text("creator_id");
  const std::string as_of = r.Text("as_of");
  if (!absl::ParseCivilTime(as_of, &f.as_of)) r.Bad("as_of", as_of);
  f.username = r.Text("username");
  f.name = r.Text("name");
  f.biography = r.Text("biography");
  f.website = r.Text("website");
  f.profile_picture_url = r.Text("profile_picture_url");
  f.followers_count = r.Count("followers_count");
  f.follows_count = r.OptionalCount("follows_count");
  f.media_count = r.OptionalCount("media_count");
  const std::string business = r.Text("is_business");
  f.is_business = business == "t" || business == "true";
  f.daily_json = r.Text("daily_json");
  f.doc_count = r.Count("doc_count");
  f.fol_avg = r.OptionalDouble("fol_avg");
  f.eng_avg = r.OptionalDouble("eng_avg");
  f.engagement_rate = r.OptionalDouble("engagement_rate");
  f.follower_growth_30d = r.OptionalDouble("follower_growth_30d");
  if (const SqlValue* palette = r.Get("palette_json"); palette != nullptr) {
    f.palette_json = *palette;
  }
  const std::string last_post_at = r.Text("last_post_at");
  if (absl::StatusOr<absl::Time> at = ParseTime(last_post_at); at.ok()) {
    f.last_post_at = *at;
  } else if (!last_post_at.empty()) {
    r.Bad("last_post_at", last_post_at);
  }
  f.avg_reach = r.OptionalDouble("avg_reach");
  f.avg_impressions = r.OptionalDouble("avg_impressions");
  if (const std::string topics = r.Text("topics_json"); !topics.empty()) {
    if (absl::StatusOr<std::vector<v1::TopicShare>> parsed = ParseTopicsJson(topics); parsed.ok()) {
      f.topics = *std::move(parsed);
    } else {
      r.Bad("topics_json", topics);
    }
  }
  f.load_version = r.Count("load_version");
  const std::string updated_at = r.Text("updated_at");
  if (absl::StatusOr<absl::Time> at = ParseTime(updated_at); at.ok()) {
    f.updated_at = *at;
  } else if (!updated_at.empty()) {
    r.Bad("updated_at", updated_at);
  }
  SCOUT_RETURN_IF_ERROR(r.Status(f.creator_id));
  return f;
}

std::string DailyJson(const std::vector<DailyPoint>& points) {
  json daily = json::array();
  for (const DailyPoint& point : points) {
    json entry = {{"date", absl::FormatCivilTime(point.day)}, {"followers", point.followers}};
    if (point.impressions) entry["impressions"] = *point.impressions;
    if (point.reach) entry["reach"] = *point.reach;
    daily.push_back(std::move(entry));
  }
  return daily.dump();
}

namespace {

// daily_json exactly as DailyJson writes it (nlohmann's dump: no spaces,
// keys in order, plain integers), read without building a JSON tree: the
// server reads 90 points for each of its creators at every load, and the
// tree took most of that time. nullopt for any other text, which the JSON
// parser then reads, so both paths give the same answer for every text.
std::optional<std::vector<DailyPoint>> ParseCanonicalDaily(absl::string_view text) {
  size_t at = 0;
  const auto literal = [&](absl::string_view expected) {
    if (text.substr(at, expected.size()) != expected) return false;
    at += expected.size();
    return true;
  };
  const auto digits = [&](size_t count, int64_t& value) {
    if (at + count > text.size()) return false;
    value = 0;
    for (size_t end = at + count; at < end; ++at) {
      if (text[at] < '0' || text[at] > '9') return false;
      value = value * 10 + (text[at] - '0');
    }
    return true;
  };
  // An integer of at most 18 digits (no overflow), no leading zero, no
  // "-0", not followed by a fraction or an exponent.
  const auto integer = [&](int64_t& value) {
    const bool negative = literal("-");
    const size_t start = at;
    size_t end = at;
    while (end < text.size() && end - at < 19 && text[end] >= '0' && text[end] <= '9') ++end;
    const size_t count = end - start;
    if (count == 0 || count > 18 || (text[start] == '0' && (count > 1 || negative))) return false;
    if (!digits(count, value)) return false;
    if (negative) value = -value;
    return at == text.size() || (text[at] != '.' && text[at] != 'e' && text[at] != 'E');
  };
  std::vector<DailyPoint> points;
  if (!literal("[")) return std::nullopt;
  if (literal("]")) return at == text.size() ? std::optional(std::move(points)) : std::nullopt;
  for (;;) {
    DailyPoint& point = points.emplace_back();
    int64_t year = 0, month = 0, day = 0, value = 0;
    if (!literal("{\"date\":\"") || !digits(4, year) || !literal("-") || !digits(2, month) ||
        !literal("-") || !digits(2, day) || !literal("\",\"followers\":") ||
        !integer(point.followers)) {
      return std::nullopt;
    }
    point.day = absl::CivilDay(year, static_cast<int>(month), static_cast<int>(day));
    if (point.day.year() != year || point.day.month() != month || point.day.day() != day) {
      return std::nullopt;  // Not a real date (it would normalize).
    }
    if (literal(",\"impressions\":")) {
      if (!integer(value)) return std::nullopt;
      point.impressions = value;
    }
    if (literal(",\"reach\":")) {
      if (!integer(value)) return std::nullopt;
      point.reach = value;
    }
    if (!literal("}")) return std::nullopt;
    if (literal("]")) break;
    if (!literal(",")) return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  return points;
}

}  // namespace

absl::StatusOr<std::vector<DailyPoint>> ParseDailyJson(absl::string_view text) {
  if (std::optional<std::vector<DailyPoint>> points = ParseCanonicalDaily(text)) {
    return *std::move(points);
  }
  const json daily = json::parse(text, nullptr, false);
  if (!daily.is_array()) return absl::DataLossError("daily_json is not a JSON array");
  std::vector<DailyPoint> points;
  points.reserve(daily.size());
  for (const json& entry : daily) {
    DailyPoint& point = points.emplace_back();
    const std::optional<int64_t> followers =
        entry.is_object() ? IntMember(entry, "followers") : std::nullopt;
    if (!followers || !absl::ParseCivilTime(StringMember(entry, "date"), &point.day)) {
      return absl::DataLossError(
          absl::StrCat("daily_json point ", points.size(), " wants a date and followers"));
    }
    point.followers = *followers;
    point.impressions = IntMember(entry, "impressions");
    point.reach = IntMember(entry, "reach");
  }
  return points;
}

absl::StatusOr<std::string> PaletteJson(absl::string_view colors_json, absl::Time computed_at,
                                        int64_t image_count, int64_t pixel_count) {
  const json colors = json::parse(colors_json, nullptr, false);
  if (!colors.is_array()) return absl::InvalidArgumentError("colors_json is not a JSON array");
  // Spliced as stored rather than re-serialized: one writer of colours.
  return absl::StrCat("{\"colors\":", colors_json,
                      ",\"computed_at\":", json(FormatRfc3339(computed_at)).dump(),
                      ",\"image_count\":", image_count, ",\"pixel_count\":", pixel_count, "}");
}

absl::StatusOr<v1::Palette> ParsePaletteJson(absl::string_view text, std::string user_id) {
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("colors") || !parsed["colors"].is_array()) {
    return absl::DataLossError(absl::StrCat("palette of ", user_id, " is not valid JSON"));
  }
  v1::Palette palette;
  palette.set_user_id(std::move(user_id));
  for (const json& c : parsed["colors"]) {
    if (!c.is_object()) {
      return absl::DataLossError(
          absl::StrCat("palette of ", palette.user_id(), ": a colour is not an object"));
    }
    v1::Color* color = palette.add_colors();
    color->set_percentage(DoubleMember(c, "percentage").value_or(0));
    color->set_red(static_cast<int32_t>(IntMember(c, "red").value_or(0)));
    color->set_green(static_cast<int32_t>(IntMember(c, "green").value_or(0)));
    color->set_blue(static_cast<int32_t>(IntMember(c, "blue").value_or(0)));
    color->set_hex(StringMember(c, "hex"));
  }
  if (absl::StatusOr<absl::Time> at = ParseTime(StringMember(parsed, "computed_at")); at.ok()) {
    *palette.mutable_computed_at() = ToTimestamp(*at);
  }
  palette.set_image_count(static_cast<int32_t>(IntMember(parsed, "image_count").value_or(0)));
  palette.set_pixel_count(IntMember(parsed, "pixel_count").value_or(0));
  return palette;
}

}  // namespace scout
