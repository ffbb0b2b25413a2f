#include "common/backends/creator_index.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/backends/bulk.h"
#include "common/base/clock.h"
#include "common/base/colour.h"
#include "common/base/json_fields.h"
#include "common/base/log.h"
#include "common/base/proto_json.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/tier.h"
#include "common/base/time.h"

namespace scout {

using nlohmann::json;
namespace f = creator_field;

namespace {

constexpr char kDayFormat[] = "yyyy-MM-dd";
// Days of followers_daily: the profile page's 30-day window.
constexpr int kDailyDays = 30;

std::string DayText(absl::CivilDay day) { return absl::FormatCivilTime(day); }

json TagCounts(const std::vector<v1::TagCount>& tags) {
  json out = json::array();
  for (const v1::TagCount& tag : tags) out.push_back({{"tag", tag.tag()}, {"count", tag.count()}});
  return out;
}

// Folded keys as posts' hashtag_keys, each once, in first-use order.
json TagKeys(const std::vector<v1::TagCount>& tags) {
  json out = json::array();
  std::set<std::string> seen;
  for (const v1::TagCount& tag : tags) {
    std::string key = TagKey(tag.tag());
    if (!key.empty() && seen.insert(key).second) out.push_back(std::move(key));
  }
  return out;
}

// The palette as stored in _source (proto JSON), its key and its code.
// Without colours, null key and code (no doc values): the creator is simply
// absent from palette search. Null rather than left out, so a partial
// update clears them on a generation that keeps palette_code in _source
// (one created before palette_code: EnsureCreatorIndex).
void AddPalette(const v1::Palette& palette, json& doc) {
  doc[f::kPalette] = json::parse(ToJson(palette), nullptr, false);
  const ColourSet colours = ColourSetOf(palette);
  const std::string key = PaletteKey(palette);
  doc[f::kPaletteKey] = key.empty() || colours.empty() ? json(nullptr) : json(key);
  const std::string code = PaletteCode(palette);
  doc[f::kPaletteCode] = code.empty() ? json(nullptr) : json(code);
  doc[f::kPaletteComputedAt] = palette.has_computed_at()
                                   ? json(FormatRfc3339(FromTimestamp(palette.computed_at())))
                                   : json(nullptr);
}

// --- Reading _source back, without exceptions.

absl::Status Shape(absl::string_view field, absl::string_view expected) {
  return absl::InternalError(
      absl::StrCat("stored creator document: ", field, " is not ", expected));
}

const json* Member(const json& object, const char* field) {
  const auto found = object.find(field);
  return found == object.end() || found->is_null() ? nullptr : &*found;
}

absl::StatusOr<std::string> SourceString(const json& source, const char* field) {
  const json* value = Member(source, field);
  if (value == nullptr) return std::string();
  if (!value->is_string()) return Shape(field, "a string");
  return value->get<std::string>();
}

absl::StatusOr<int64_t> SourceInt(const json& source, const char* field) {
  const json* value = Member(source, field);
  if (value == nullptr) return 0;
  if (!value->is_number_integer()) return Shape(field, "an integer");
  return value->get<int64_t>();
}

absl::StatusOr<std::optional<double>> SourceDouble(const json& source, const char* field) {
  const json* value = Member(source, field);
  if (value == nullptr) return std::optional<double>();
  if (!value->is_number()) return Shape(field, "a number");
  return std::optional<double>(value->get<double>());
}

}  // namespace

std::string CreatorsAlias(absl::string_view prefix) { return absl::StrCat(prefix, ".creators"); }

std::string CreatorsGeneration(absl::string_view prefix, int64_t generation) {
  return absl::StrCat(prefix, ".creators-", generation);
}

std::optional<int64_t> CreatorsGenerationOf(absl::string_view prefix, absl::string_view index) {
  const std::string head = absl::StrCat(prefix, ".creators-");
  if (index.size() <= head.size() || index.substr(0, head.size()) != head) return std::nullopt;
  int64_t generation;
  if (!absl::SimpleAtoi(index.substr(head.size()), &generation) || generation <= 0) {
    return std::nullopt;
  }
  return generation;
}

json CreatorIndexBody() {
  const json keyword = {{"type", "keyword"}};
  const json number = {{"type", "long"}};
  const json real = {{"type", "double"}};
  const json boolean = {{"type", "boolean"}};
  const json text = {{"type", "text"}};
  const json date = {{"type", "date"}};
  return {
      {"settings",
       {{"number_of_shards", 1},
        {"auto_expand_replicas", kAutoExpandReplicas},
        // scout-aggregate writes once a day; a second of staleness is fine.
        {"refresh_interval", "1s"}}},
      {"mappings",
       {{"dynamic", false},
        // Folded text is for matching only: the server highlights the
        // biography from _source.
        // The palette's code and key are read as doc values only;
        // nothing reads them back from _source.
        {"_source",
         {{"excludes",
           {f::kNameFolded, f::kBioFolded, f::kCaptionsFolded, f::kPaletteCode, f::kPaletteKey}}}},
        // In _source, not indexed: username's picture, biography as
        // written, followers_daily (30 numbers), hashtags / mentions
        // ([{tag, count}]), topic_shares ([{slug, share}]), palette (the
        // Palette as proto JSON).
        {"_meta",
         {{"source_only",
           {f::kPictureUrl, f::kBiography, f::kFollowersDaily, f::kHashtags, f::kMentions,
            f::kTopicShares, f::kPalette}}}},
        {"properties",
         {{f::kId, keyword},
          {f::kUsername, keyword},
          {f::kName, keyword},
          {f::kHasWebsite, boolean},
          {f::kIsBusiness, boolean},
          {f::kFollowsCount, number},
          {f::kMediaCount, number},
          {f::kFollowers, number},
          {f::kTier, keyword},
          {f::kEngagementRate, real},
          {f::kEngAvg, real},
          {f::kPosts30d, number},
          {f::kGrowth, real},
          {f::kLastPostAt, date},
          {f::kAvgReach, real},
          {f::kAvgImpressions, real},
          {f::kHashtagKeys, keyword},
          {f::kMentionKeys, keyword},
          {f::kTopics, keyword},
          {f::kNameFolded, text},
          {f::kBioFolded, text},
          {f::kCaptionsFolded, text},
          // binary is never indexed: no graph to build, so the rebuild
          // writes at the speed of the other fields.
          {f::kPaletteCode, {{"type", "binary"}, {"doc_values", true}}},
          {f::kPaletteKey, {{"type", "keyword"}, {"index", false}, {"doc_values", true}}},
          {f::kStatsDate, {{"type", "date"}, {"format", kDayFormat}}},
          {f::kPaletteComputedAt, date},
          {f::kLoadVersion, number}}}}}};
}

absl::Status EnsureCreatorIndex(Elastic& elastic, absl::string_view prefix) {
  const std::string alias = CreatorsAlias(prefix);
  json body = CreatorIndexBody();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const absl::StatusOr<json> aliased = elastic.Call("GET", absl::StrCat("_alias/", alias));
    if (aliased.ok()) {
      // The current generation learns fields added since it was created
      // (only new fields: an existing field's mapping cannot change). Its
      // _source excludes cannot change either: a generation created before
      // palette_code keeps it in _source too, until the next rebuild.
      return elastic
          .Call("PUT", absl::StrCat(alias, "/_mapping"),
                {{"properties", body["mappings"]["properties"]}})
          .status();
    }
    if (!absl::IsNotFound(aliased.status())) return aliased.status();
    // Index and alias in one call, so nobody sees one without the other.
    json create = body;
    create["aliases"] = {{alias, json::object()}};
    const absl::Status created =
        elastic.Call("PUT", CreatorsGeneration(prefix, 1), create).status();
    if (created.ok()) return absl::OkStatus();
    if (ElasticErrorType(created) != "resource_already_exists_exception") return created;
    // Someone else created it at the same time: look again.
  }
  return absl::FailedPreconditionError(
      absl::StrCat(CreatorsGeneration(prefix, 1), " exists but the alias ", alias,
                   " does not point at any generation: restore the alias or run scout-aggregate "
                   "--rebuild_creators"));
}

std::string CreatorDocument(const ProfileFactsRow& facts, const CreatorContentRow* content) {
  json doc = json::object();
  doc[f::kId] = facts.creator_id;
  doc[f::kUsername] = facts.username;
  doc[f::kName] = facts.name;
  doc[f::kBiography] = facts.biography;
  doc[f::kHasWebsite] = !facts.website.empty();
  doc[f::kIsBusiness] = facts.is_business;
  // Unknown counts are absent, never 0.
  if (facts.follows_count) doc[f::kFollowsCount] = *facts.follows_count;
  if (facts.media_count) doc[f::kMediaCount] = *facts.media_count;
  doc[f::kPictureUrl] = facts.profile_picture_url;
  doc[f::kFollowers] = facts.followers_count;
  doc[f::kTier] = TierSlug(TierOf(facts.followers_count));
  if (facts.engagement_rate) doc[f::kEngagementRate] = *facts.engagement_rate;
  if (facts.eng_avg) doc[f::kEngAvg] = *facts.eng_avg;
  doc[f::kPosts30d] = facts.doc_count;
  if (facts.follower_growth_30d) doc[f::kGrowth] = *facts.follower_growth_30d;
  if (facts.last_post_at) doc[f::kLastPostAt] = FormatRfc3339(*facts.last_post_at);
  if (facts.avg_reach) doc[f::kAvgReach] = *facts.avg_reach;
  if (facts.avg_impressions) doc[f::kAvgImpressions] = *facts.avg_impressions;

  json daily = json::array();
  if (absl::StatusOr<std::vector<DailyPoint>> points = ParseDailyJson(facts.daily_json);
      points.ok()) {
    for (const DailyPoint& point : *points) {
      if (point.day > facts.as_of - kDailyDays && point.day <= facts.as_of) {
        daily.push_back(point.followers);
      }
    }
  } else {
    Log(LogLevel::kWarning, "creator document without followers_daily",
        {{"creator_id", facts.creator_id}, {"reason", std::string(points.status().message())}});
  }
  doc[f::kFollowersDaily] = std::move(daily);

  // The content row is newer than the facts' topics when both exist (same
  // transaction); the facts' topics serve a creator without content.
  const std::vector<v1::TopicShare>& topics = content ? content->topics : facts.topics;
  json slugs = json::array(), shares = json::array();
  for (const v1::TopicShare& topic : topics) {
    slugs.push_back(topic.slug());
    shares.push_back({{"slug", topic.slug()}, {"share", topic.share()}});
  }
  doc[f::kTopics] = std::move(slugs);
  doc[f::kTopicShares] = std::move(shares);
  static const std::vector<v1::TagCount> kNoTags;
  doc[f::kHashtags] = TagCounts(content ? content->hashtags : kNoTags);
  doc[f::kMentions] = TagCounts(content ? content->mentions : kNoTags);
  doc[f::kHashtagKeys] = TagKeys(content ? content->hashtags : kNoTags);
  doc[f::kMentionKeys] = TagKeys(content ? content->mentions : kNoTags);

  doc[f::kNameFolded] = FoldForSearch(absl::StrCat(facts.username, "\n", facts.name));
  doc[f::kBioFolded] = FoldForSearch(facts.biography);
  doc[f::kCaptionsFolded] =
      content ? FoldForSearch(absl::StrJoin(content->captions, "\n")) : std::string();

  doc[f::kPalette] = nullptr;
  doc[f::kPaletteCode] = nullptr;
  doc[f::kPaletteKey] = nullptr;
  doc[f::kPaletteComputedAt] = nullptr;
  if (facts.palette_json) {
    absl::StatusOr<v1::Palette> palette = ParsePaletteJson(*facts.palette_json, facts.creator_id);
    if (palette.ok()) {
      AddPalette(*palette, doc);
    } else {
      Log(LogLevel::kWarning, "creator document without its unreadable palette",
          {{"creator_id", facts.creator_id}, {"reason", std::string(palette.status().message())}});
    }
  }
  doc[f::kStatsDate] = DayText(facts.as_of);
  doc[f::kLoadVersion] = facts.load_version;
  return DumpJson(doc);
}

namespace {
// A palette has 6 colours; a key with more is not one we wrote.
constexpr size_t kMaxKeyColours = 16;
constexpr size_t kMaxKeyLength = kMaxKeyColours * 32;

absl::Status BadKey(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(f::kPaletteKey, ": ", why));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::string PaletteKey(const v1::Palette& palette) {
  std::string key;
  for (const v1::Color& c : palette.colors()) {
    if (!(c.percentage() > 0) || !std::isfinite(c.percentage())) continue;
    const auto channel = [](int32_t v) { return std::clamp(v, 0, 255); };
    absl::StrAppendFormat(&key, "%s%02x%02x%02x:", key.empty() ? "" : ",", channel(c.red()),
                          channel(c.green()), channel(c.blue()));
    // The shortest text that reads back as the same double.
    char share[32];
    const std::to_chars_result written =
        std::to_chars(share, share + sizeof(share), c.percentage());
    key.append(share, written.ptr);
  }
  return key;
}

std::string PaletteCode(const v1::Palette& palette) {
  const ColourSet colours = ColourSetOf(palette);
  if (colours.empty()) return "";
  return absl::Base64Escape(PackPaletteVector(PaletteVector(colours)));
}

absl::StatusOr<std::vector<float>> PaletteVectorOfCode(absl::string_view code) {
  if (code.empty()) return std::vector<float>();
  // Base64 of kPaletteVectorDims bytes, padded: refuse anything longer
  // before decoding it.
  if (code.size() != 4 * ((kPaletteVectorDims + 2) / 3)) {
    return absl::InvalidArgumentError(absl::StrCat(f::kPaletteCode, ": ", code.size(),
                                                   " characters, not base64 of ",
                                                   kPaletteVectorDims, " bytes"));
  }
  std::string bytes;
  if (!absl::Base64Unescape(code, &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(f::kPaletteCode, ": not base64"));
  }
  std::vector<float> vector = UnpackPaletteVector(bytes);
  if (vector.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(f::kPaletteCode, ": ", bytes.size(), " bytes, not ", kPaletteVectorDims));
  }
  return vector;
}

absl::StatusOr<ColourSet> ColourSetOfPaletteKey(absl::string_view key) {
  if (key.empty()) return ColourSet();
  if (key.size() > kMaxKeyLength) return BadKey("too long");
  std::vector<WeightedColour> colours;
  for (absl::string_view item : absl::StrSplit(key, ',')) {
    if (colours.size() == kMaxKeyColours) return BadKey("too many colours");
    if (item.size() < 8 || item[6] != ':') return BadKey("a colour is not rrggbb:share");
    int rgb[3];
    for (int i = 0; i < 3; ++i) {
      const int high = HexDigit(item[2 * i]), low = HexDigit(item[2 * i + 1]);
      if (high < 0 || low < 0) return BadKey("a colour is not lower-case hex");
      rgb[i] = high * 16 + low;
    }
    double share;
    if (!absl::SimpleAtod(item.substr(7), &share) || !(share > 0) || !std::isfinite(share)) {
      return BadKey("a share is not a positive number");
    }
    colours.push_back({SrgbToLab(rgb[0], rgb[1], rgb[2]), share});
  }
  return MakeColourSet(std::move(colours));
}

json PaletteFields(const v1::Palette& palette) {
  json fields = json::object();
  AddPalette(palette, fields);
  return fields;
}

absl::StatusOr<v1::Creator> CreatorFromDocument(const json& source) {
  if (!source.is_object()) return absl::InternalError("stored creator document is not an object");
  v1::Creator creator;
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_id(), SourceString(source, f::kId));
  if (creator.id().empty()) return Shape(f::kId, "a creator id");
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_username(), SourceString(source, f::kUsername));
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_name(), SourceString(source, f::kName));
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_biography(), SourceString(source, f::kBiography));
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_profile_picture_url(),
                         SourceString(source, f::kPictureUrl));
  SCOUT_ASSIGN_OR_RETURN(const int64_t followers, SourceInt(source, f::kFollowers));
  creator.set_followers_count(followers);
  SCOUT_ASSIGN_OR_RETURN(const int64_t posts, SourceInt(source, f::kPosts30d));
  creator.set_posts_30d(posts);
  SCOUT_ASSIGN_OR_RETURN(const std::optional<double> rate,
                         SourceDouble(source, f::kEngagementRate));
  if (rate) creator.set_engagement_rate(*rate);
  SCOUT_ASSIGN_OR_RETURN(const std::optional<double> growth, SourceDouble(source, f::kGrowth));
  if (growth) creator.set_follower_growth_30d(*growth);
  SCOUT_ASSIGN_OR_RETURN(const std::optional<double> eng_avg, SourceDouble(source, f::kEngAvg));
  if (eng_avg) creator.set_eng_avg(*eng_avg);
  if (const json* business = Member(source, f::kIsBusiness)) {
    if (!business->is_boolean()) return Shape(f::kIsBusiness, "a boolean");
    creator.set_is_business(business->get<bool>());
  }
  SCOUT_ASSIGN_OR_RETURN(const std::string tier, SourceString(source, f::kTier));
  if (!tier.empty()) {
    const std::optional<v1::CreatorTier> known = TierFromSlug(tier);
    if (!known) return Shape(f::kTier, "a tier");
    creator.set_tier(*known);
  }
  SCOUT_ASSIGN_OR_RETURN(const std::string last_post, SourceString(source, f::kLastPostAt));
  if (!last_post.empty()) {
    absl::StatusOr<absl::Time> at = ParseTime(last_post);
    if (!at.ok()) return Shape(f::kLastPostAt, "a time");
    *creator.mutable_last_post_at() = ToTimestamp(*at);
  }
  SCOUT_ASSIGN_OR_RETURN(*creator.mutable_as_of(), SourceString(source, f::kStatsDate));
  if (const json* daily = Member(source, f::kFollowersDaily)) {
    if (!daily->is_array()) return Shape(f::kFollowersDaily, "an array");
    for (const json& n : *daily) {
      if (!n.is_number_integer()) return Shape(f::kFollowersDaily, "an array of integers");
      creator.add_followers_daily(n.get<int64_t>());
    }
  }
  if (const json* shares = Member(source, f::kTopicShares)) {
    if (!shares->is_array()) return Shape(f::kTopicShares, "an array");
    for (const json& share : *shares) {
      if (!share.is_object() || !share.contains("slug") || !share["slug"].is_string() ||
          !share.contains("share") || !share["share"].is_number()) {
        return Shape(f::kTopicShares, "an array of {slug, share}");
      }
      v1::TopicShare* topic = creator.add_topics();
      topic->set_slug(share["slug"].get<std::string>());
      topic->set_share(share["share"].get<double>());
    }
  }
  if (const json* palette = Member(source, f::kPalette)) {
    if (!palette->is_object()) return Shape(f::kPalette, "an object");
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(DumpJson(*palette), creator.mutable_palette(),
                                                     options)
             .ok()) {
      return Shape(f::kPalette, "a palette");
    }
  }
  return creator;
}

namespace {

BulkOptions CreatorBulkOptions() {
  BulkOptions options;
  options.max_actions = 1000;
  options.max_bytes = 8 << 20;
  return options;
}

void AddFailures(const BulkResult& bulk, CreatorWriteResult& result) {
  result.failed_count += bulk.refused;
  for (const std::string& refusal : bulk.refusals) {
    if (result.failed.size() >= kMaxBulkRefusals) break;
    result.failed.push_back(refusal);
  }
}

// Index actions for `documents` into `index`.
std::vector<BulkAction> IndexActions(
    absl::string_view index, const std::vector<std::pair<std::string, std::string>>& documents) {
  std::vector<BulkAction> actions;
  actions.reserve(documents.size());
  for (const auto& [id, document] : documents) {
    actions.push_back({absl::StrCat(BulkHeader("index", index, id), document, "\n")});
  }
  return actions;
}

}  // namespace

absl::StatusOr<CreatorWriteResult> WriteCreators(
    Elastic& elastic, absl::string_view prefix,
    const std::vector<std::pair<std::string, std::string>>& documents) {
  CreatorWriteResult result;
  if (documents.empty()) return result;
  SCOUT_ASSIGN_OR_RETURN(
      const BulkResult bulk,
      WriteBulk(elastic, IndexActions(CreatorsAlias(prefix), documents), CreatorBulkOptions()));
  result.written = bulk.accepted;
  AddFailures(bulk, result);
  return result;
}

absl::StatusOr<CreatorWriteResult> WriteCreatorPalettes(Elastic& elastic, absl::string_view prefix,
                                                        const std::vector<v1::Palette>& palettes) {
  CreatorWriteResult result;
  if (palettes.empty()) return result;
  const std::string alias = CreatorsAlias(prefix);
  std::vector<BulkAction> actions;
  actions.reserve(palettes.size());
  for (const v1::Palette& palette : palettes) {
    actions.push_back({absl::StrCat(BulkHeader("update", alias, palette.user_id()),
                                    DumpJson({{"doc", PaletteFields(palette)}}), "\n")});
  }
  int64_t missing = 0;
  auto handle = [&](const BulkItem& item) -> absl::StatusOr<BulkVerdict> {
    BulkVerdict verdict;
    if (item.ok()) return verdict;
    if (item.status == 404 && item.error_type() == "document_missing_exception") {
      ++missing;
      return verdict;
    }
    verdict.refused = true;
    return verdict;
  };
  SCOUT_ASSIGN_OR_RETURN(const BulkResult bulk,
                         WriteBulk(elastic, std::move(actions), CreatorBulkOptions(), handle));
  result.written = bulk.accepted;
  result.missing = missing;
  AddFailures(bulk, result);
  return result;
}

namespace {

using Documents = std::vector<std::pair<std::string, std::string>>;

// A page of profile_facts rows with the creator_content rows of their ids.
struct RowPage {
  std::vector<ProfileFactsRow> facts;
  absl::flat_hash_map<std::string, CreatorContentRow> contents;
};

// The documents of rows [begin, end) of `page`.
Documents DocumentsOf(const RowPage& page, size_t begin, size_t end) {
  Documents documents;
  documents.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const ProfileFactsRow& row = page.facts[i];
    const auto found = page.contents.find(row.creator_id);
    documents.emplace_back(
        row.creator_id,
        CreatorDocument(row, found == page.contents.end() ? nullptr : &found->second));
  }
  return documents;
}

// The profile_facts rows matching `where` ($1.. from `params`), read in
// pages of `page_size` by creator id (keyset paging, so each page is one
// index range scan however far in), each page with the creator_content rows
// of its id range. `page` is called with each page in id order; an error
// from it stops the read.
template <typename Page>
absl::Status ForEachCreatorPage(Warehouse& warehouse, absl::string_view where,
                                std::vector<SqlValue> params, size_t page_size, Page&& page) {
  const std::string after = absl::StrCat("$", params.size() + 1);
  const std::string facts_sql =
      absl::StrCat(SelectProfileFacts(), " WHERE (", where, ") AND creator_id > ", after,
                   " ORDER BY creator_id LIMIT ", page_size);
  const std::string content_sql =
      absl::StrCat(SelectCreatorContent(), " WHERE creator_id >= $1 AND creator_id <= $2");
  params.push_back(std::string());  // Every id is > "".
  for (;;) {
    SCOUT_ASSIGN_OR_RETURN(const SqlRows facts, warehouse.Query(facts_sql, params));
    if (facts.rows.empty()) return absl::OkStatus();
    RowPage rows;
    rows.facts.reserve(facts.rows.size());
    for (size_t i = 0; i < facts.rows.size(); ++i) {
      SCOUT_ASSIGN_OR_RETURN(ProfileFactsRow row, ReadProfileFacts(facts, i));
      rows.facts.push_back(std::move(row));
    }
    SCOUT_ASSIGN_OR_RETURN(const SqlRows content,
                           warehouse.Query(content_sql, {rows.facts.front().creator_id,
                                                         rows.facts.back().creator_id}));
    rows.contents.reserve(content.rows.size());
    for (size_t i = 0; i < content.rows.size(); ++i) {
      SCOUT_ASSIGN_OR_RETURN(CreatorContentRow row, ReadCreatorContent(content, i));
      std::string id = row.creator_id;
      rows.contents.emplace(std::move(id), std::move(row));
    }
    params.back() = rows.facts.back().creator_id;
    const size_t read = rows.facts.size();
    SCOUT_RETURN_IF_ERROR(page(std::move(rows)));
    if (read < page_size) return absl::OkStatus();
  }
}

void Add(const CreatorWriteResult& part, CreatorWriteResult& total) {
  total.written += part.written;
  total.missing += part.missing;
  total.failed_count += part.failed_count;
  for (const std::string& failure : part.failed) {
    if (total.failed.size() >= kMaxBulkRefusals) break;
    total.failed.push_back(failure);
  }
}

}  // namespace

absl::StatusOr<CreatorWriteResult> WriteCreatorsOfLoad(Elastic& elastic, Warehouse& warehouse,
                                                       absl::string_view prefix,
                                                       int64_t load_version) {
  SCOUT_RETURN_IF_ERROR(EnsureCreatorIndex(elastic, prefix));
  CreatorWriteResult total;
  SCOUT_RETURN_IF_ERROR(ForEachCreatorPage(
      warehouse, "load_version = CAST($1 AS BIGINT)", {std::to_string(load_version)}, 5000,
      [&](RowPage rows) -> absl::Status {
        SCOUT_ASSIGN_OR_RETURN(
            const CreatorWriteResult part,
            WriteCreators(elastic, prefix, DocumentsOf(rows, 0, rows.facts.size())));
        Add(part, total);
        return absl::OkStatus();
      }));
  // Searches see the load as soon as the run reports it.
  SCOUT_RETURN_IF_ERROR(
      elastic.Call("POST", absl::StrCat(CreatorsAlias(prefix), "/_refresh")).status());
  return total;
}

namespace {

// Pages read by the rebuild, waiting for a writer; bounded so the reader
// cannot run far ahead of Elasticsearch.
class PageQueue {
 public:
  explicit PageQueue(size_t capacity) : capacity_(capacity) {}

  // False when the queue was stopped (a writer failed).
  bool Push(RowPage page) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return stopped_ || pages_.size() < capacity_; });
    if (stopped_) return false;
    pages_.push_back(std::move(page));
    changed_.notify_all();
    return true;
  }
  // nullopt once closed and drained, or stopped.
  std::optional<RowPage> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return stopped_ || closed_ || !pages_.empty(); });
    if (stopped_ || pages_.empty()) return std::nullopt;
    RowPage page = std::move(pages_.front());
    pages_.pop_front();
    changed_.notify_all();
    return page;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    changed_.notify_all();
  }
  void Stop(absl::Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(error);
    stopped_ = true;
    changed_.notify_all();
  }
  absl::Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<RowPage> pages_;
  bool closed_ = false, stopped_ = false;
  absl::Status error_;
};

absl::StatusOr<std::vector<std::string>> AliasedIndices(Elastic& elastic, absl::string_view alias) {
  absl::StatusOr<json> aliased = elastic.Call("GET", absl::StrCat("_alias/", alias));
  if (absl::IsNotFound(aliased.status())) return std::vector<std::string>();
  if (!aliased.ok()) return aliased.status();
  std::vector<std::string> indices;
  if (aliased->is_object()) {
    for (const auto& [index, unused] : aliased->items()) indices.push_back(index);
  }
  return indices;
}

bool Stopping(const std::function<bool()>& stop_requested) {
  return stop_requested && stop_requested();
}

// CANCELLED, as the workers' Interrupted(): the caller exits as stopped.
absl::Status RebuildStopped() {
  return absl::CancelledError(
      "interrupted by a signal: the half-built creators generation is deleted and readers keep "
      "the previous one; run again to rebuild");
}

// The settings a generation is built with, and those it serves with.
json BuildSettings() {
  const json body = CreatorIndexBody();
  return {{"index",
           {{"number_of_shards", body["settings"]["number_of_shards"]},
            {"refresh_interval", "-1"},
            {"number_of_replicas", 0},
            // A crash loses the build anyway (the next one starts over).
            {"translog", {{"durability", "async"}}}}}};
}
json ServeSettings() {
  const json body = CreatorIndexBody();
  return {{"index",
           {{"refresh_interval", body["settings"]["refresh_interval"]},
            {"auto_expand_replicas", body["settings"]["auto_expand_replicas"]},
            {"translog", {{"durability", "request"}}}}}};
}

// Fills `index` from the warehouse: this thread reads pages, `writers`
// threads send them.
absl::Status FillGeneration(Elastic& elastic, Warehouse& warehouse, const std::string& index,
                            const CreatorRebuildOptions& options, CreatorRebuildResult& result) {
  const int threads = std::max(options.writers, 1);
  PageQueue queue(static_cast<size_t>(threads) + 1);
  std::mutex mu;  // Guards `result`'s counts.
  BulkOptions bulk;
  bulk.max_actions = options.bulk_actions;
  std::vector<std::thread> writers;
  const size_t chunk = std::max<size_t>(options.bulk_actions, 1);
  for (int w = 0; w < threads; ++w) {
    writers.emplace_back([&] {
      // Writers build their documents (PaletteVector is most of a
      // document's CPU), so building runs in parallel and overlaps the
      // requests in flight instead of holding up the reader.
      while (std::optional<RowPage> page = queue.Pop()) {
        for (size_t begin = 0; begin < page->facts.size(); begin += chunk) {
          if (Stopping(options.stop_requested)) {
            queue.Stop(RebuildStopped());
            return;
          }
          const size_t end = std::min(page->facts.size(), begin + chunk);
          absl::StatusOr<BulkResult> written =
              WriteBulk(elastic, IndexActions(index, DocumentsOf(*page, begin, end)), bulk);
          if (!written.ok()) {
            queue.Stop(written.status());
            return;
          }
          std::lock_guard<std::mutex> lock(mu);
          result.documents += written->accepted;
          result.failed_count += written->refused;
          for (const std::string& refusal : written->refusals) {
            if (result.failed.size() < kMaxBulkRefusals) result.failed.push_back(refusal);
          }
        }
      }
    });
  }
  absl::Status read = ForEachCreatorPage(warehouse, "TRUE", {}, options.page_size,
                                         [&](RowPage page) -> absl::Status {
                                           if (Stopping(options.stop_requested)) {
                                             return RebuildStopped();
                                           }
                                           if (!queue.Push(std::move(page))) return queue.error();
                                           return absl::OkStatus();
                                         });
  if (read.ok()) {
    queue.Close();
  } else {
    queue.Stop(read);
  }
  for (std::thread& writer : writers) writer.join();
  return queue.error();
}

}  // namespace

absl::StatusOr<CreatorRebuildResult> RebuildCreatorIndex(Elastic& elastic, Warehouse& warehouse,
                                                         absl::string_view prefix) {
  return RebuildCreatorIndex(elastic, warehouse, prefix, CreatorRebuildOptions());
}

absl::StatusOr<CreatorRebuildResult> RebuildCreatorIndex(Elastic& elastic, Warehouse& warehouse,
                                                         absl::string_view prefix,
                                                         const CreatorRebuildOptions& options) {
  const absl::Time start = absl::Now();
  const std::string alias = CreatorsAlias(prefix);
  CreatorRebuildResult result;
  SCOUT_ASSIGN_OR_RETURN(const std::vector<std::string> current, AliasedIndices(elastic, alias));
  if (!current.empty()) result.previous = current.front();
  SCOUT_ASSIGN_OR_RETURN(
      const json listed,
      elastic.Call("GET", absl::StrCat("_cat/indices/", alias, "-*?format=json&h=index")));
  int64_t last = 0;
  for (const json& row : listed.is_array() ? listed : json::array()) {
    const std::string index = row.is_object() ? row.value("index", "") : "";
    const std::optional<int64_t> generation = CreatorsGenerationOf(prefix, index);
    if (!generation) continue;
    last = std::max(last, *generation);
    if (std::find(current.begin(), current.end(), index) == current.end()) {
      // Left by a rebuild that was killed: never read, safe to drop.
      Log(LogLevel::kWarning, "dropping an unaliased creators generation", {{"index", index}});
      SCOUT_RETURN_IF_ERROR(elastic.Call("DELETE", index).status());
    }
  }
  result.index = CreatorsGeneration(prefix, last + 1);
  json body = CreatorIndexBody();
  body["settings"] = BuildSettings();
  SCOUT_RETURN_IF_ERROR(elastic.Call("PUT", result.index, body).status());

  const absl::Status built = [&]() -> absl::Status {
    SCOUT_RETURN_IF_ERROR(FillGeneration(elastic, warehouse, result.index, options, result));
    SCOUT_RETURN_IF_ERROR(
        elastic.Call("PUT", absl::StrCat(result.index, "/_settings"), ServeSettings()).status());
    SCOUT_RETURN_IF_ERROR(
        elastic.Call("POST", absl::StrCat(result.index, "/_refresh"), nullptr, absl::Minutes(5))
            .status());
    // One atomic alias update: readers go from the whole old generation to
    // the whole new one. must_exist makes a concurrent swap fail this one.
    json actions = json::array();
    for (const std::string& old : current) {
      actions.push_back({{"remove", {{"index", old}, {"alias", alias}, {"must_exist", true}}}});
    }
    actions.push_back({{"add", {{"index", result.index}, {"alias", alias}}}});
    return elastic.Call("POST", "_aliases", {{"actions", actions}}).status();
  }();
  if (!built.ok()) {
    if (absl::Status dropped = elastic.Call("DELETE", result.index).status(); !dropped.ok()) {
      Log(LogLevel::kWarning, "could not delete the half-built creators generation",
          {{"index", result.index}, {"reason", dropped.ToString()}});
    }
    return built;
  }
  for (const std::string& old : current) {
    // Readers have left it; if this fails, the next rebuild drops it.
    if (absl::Status dropped = elastic.Call("DELETE", old).status(); !dropped.ok()) {
      Log(LogLevel::kWarning, "could not delete the previous creators generation",
          {{"index", old}, {"reason", dropped.ToString()}});
    }
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace scout
