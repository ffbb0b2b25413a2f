#include "server/creators.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backends/creator_index.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/base/tier.h"
#include "common/base/time.h"
#include "common/base/topics.h"
#include "server/es_search.h"
#include "server/page_token.h"

namespace scout::server {
namespace {

using nlohmann::json;
using scout::v1::CreatorSort;
using scout::v1::SearchCreatorsRequest;
namespace f = creator_field;

// Sane bounds: beyond them a value is a mistake (a percentage for a
// fraction, say), not a filter.
constexpr double kMaxEngagementRate = 100;  // 10,000 %: small accounts exceed 100 %.
constexpr double kMinGrowth = -1;           // Lost every follower.
constexpr double kMaxGrowth = 1000;
constexpr int32_t kMaxPosts30d = 100000;
constexpr int32_t kMaxActiveDays = 90;  // The content window (creator_content.h).
constexpr double kMaxColourWeight = 1e6;
// Sort value of a creator without the sorted number: last in a descending
// sort, and finite so a page token can carry it.
constexpr double kMissingLast = -1e12;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckRate(const std::optional<double>& value, absl::string_view field, double min,
                       double max) {
  if (!value) return absl::OkStatus();
  if (!std::isfinite(*value) || *value < min || *value > max) {
    return Invalid(
        field, absl::StrCat("a fraction from ", min, " to ", max, " (0.03 is 3 %), got ", *value));
  }
  return absl::OkStatus();
}

template <typename T>
std::optional<T> Opt(bool has, T value) {
  return has ? std::optional<T>(value) : std::nullopt;
}

// The folded tag keys of a tag filter, each non-empty, duplicates dropped.
absl::StatusOr<std::vector<std::string>> TagKeys(
    const google::protobuf::RepeatedPtrField<std::string>& tags, absl::string_view field) {
  SCOUT_RETURN_IF_ERROR(CheckCount(tags.size(), field));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(tags, field));
  std::vector<std::string> keys;
  for (int i = 0; i < tags.size(); ++i) {
    std::string key = TagKey(tags[i]);
    if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "] is empty"));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

json Terms(absl::string_view field, const std::vector<std::string>& values) {
  return {{"terms", {{std::string(field), values}}}};
}

bool PaletteSort(CreatorSort sort) { return sort == v1::CREATOR_SORT_PALETTE_DISTANCE; }

CreatorSort ResolvedSort(const SearchCreatorsRequest& request) {
  if (request.sort() != v1::CREATOR_SORT_UNSPECIFIED) return request.sort();
  if (request.palette_size() > 0 || !request.similar_to().empty()) {
    return v1::CREATOR_SORT_PALETTE_DISTANCE;
  }
  return request.query().empty() ? v1::CREATOR_SORT_FOLLOWERS : v1::CREATOR_SORT_RELEVANCE;
}

// Elasticsearch sorts (search_after pages), the id last as the tiebreaker.
std::vector<SortKey> SortKeys(CreatorSort sort) {
  const SortKey followers{f::kFollowers, SortKey::kLong};
  const SortKey id{f::kId, SortKey::kKeyword, /*ascending=*/true};
  switch (sort) {
    case v1::CREATOR_SORT_ENGAGEMENT_RATE:
      return {{f::kEngagementRate, SortKey::kNumber, false, kMissingLast}, id};
    case v1::CREATOR_SORT_GROWTH:
      return {{f::kGrowth, SortKey::kNumber, false, kMissingLast}, id};
    case v1::CREATOR_SORT_RELEVANCE:
    case v1::CREATOR_SORT_PALETTE_DISTANCE:  // A lookalike without a palette.
      return {{"_score", SortKey::kNumber}, followers, id};
    case v1::CREATOR_SORT_FOLLOWERS:
    default:
      return {followers, id};
  }
}

// The tiers a lookalike may come from: its own and the adjacent ones.
std::vector<std::string> NearTiers(v1::CreatorTier tier) {
  std::vector<std::string> slugs;
  for (int t = tier - 1; t <= tier + 1; ++t) {
    if (t > v1::CREATOR_TIER_UNSPECIFIED && v1::CreatorTier_IsValid(t)) {
      slugs.emplace_back(TierSlug(static_cast<v1::CreatorTier>(t)));
    }
  }
  return slugs;
}

// The tags of a document's [{tag, count}] list whose key was asked for, as
// the creator wrote them.
std::vector<std::string> MatchedTags(const json& source, const char* field,
                                     const google::protobuf::RepeatedPtrField<std::string>& asked) {
  std::vector<std::string> matched;
  if (asked.empty()) return matched;
  absl::flat_hash_set<std::string> keys;
  for (const std::string& tag : asked) keys.insert(TagKey(tag));
  const auto it = source.find(field);
  if (it == source.end() || !it->is_array()) return matched;
  for (const json& entry : *it) {
    const auto tag = entry.is_object() ? entry.find("tag") : entry.end();
    if (tag == entry.end() || !tag->is_string()) continue;
    if (keys.contains(TagKey(tag->get_ref<const std::string&>()))) {
      matched.push_back(tag->get<std::string>());
    }
  }
  return matched;
}

}  // namespace

absl::StatusOr<WeightedColour> ParsePaletteColour(absl::string_view text, int index) {
  const std::string field = absl::StrCat("palette[", index, "]");
  const auto bad = [&](absl::string_view why) {
    return Invalid(field, absl::StrCat(why, " (want \"#rrggbb\" or \"#rrggbb:weight\", got \"",
                                       ToValidUtf8(text.substr(0, 40)), "\")"));
  };
  const size_t colon = text.find(':');
  const absl::string_view hex = text.substr(0, colon);
  if (hex.size() != 7 || hex[0] != '#' ||
      hex.substr(1).find_first_not_of("0123456789abcdefABCDEF") != absl::string_view::npos) {
    return bad("not a colour");
  }
  double weight = 1;
  if (colon != absl::string_view::npos) {
    if (!absl::SimpleAtod(text.substr(colon + 1), &weight) || !std::isfinite(weight) ||
        weight <= 0 || weight > kMaxColourWeight) {
      return bad(absl::StrCat("weight must be a number above 0 and at most ", kMaxColourWeight));
    }
  }
  const auto channel = [&](size_t at) {
    int value = 0;
    (void)absl::SimpleHexAtoi(hex.substr(at, 2), &value);
    return value;
  };
  return WeightedColour{SrgbToLab(channel(1), channel(3), channel(5)), weight};
}

absl::Status CreatorSearch::Validate(const SearchCreatorsRequest& request) const {
  SCOUT_RETURN_IF_ERROR(CheckPageSize(request.page_size()).status());
  SCOUT_RETURN_IF_ERROR(CheckQueryText(request.query()));
  SCOUT_RETURN_IF_ERROR(TagKeys(request.hashtags(), "hashtags").status());
  SCOUT_RETURN_IF_ERROR(TagKeys(request.mentions(), "mentions").status());
  SCOUT_RETURN_IF_ERROR(CheckCount(request.topics_size(), "topics"));
  SCOUT_RETURN_IF_ERROR(CheckUtf8(request.topics(), "topics"));
  for (int i = 0; i < request.topics_size(); ++i) {
    if (!IsTopic(request.topics(i))) {
      // Cut to 40 bytes, maybe inside a character: the message must stay UTF-8.
      return Invalid(absl::StrCat("topics[", i, "]"),
                     absl::StrCat("unknown topic \"", ToValidUtf8(request.topics(i).substr(0, 40)),
                                  "\" (docs/topics.md lists the slugs)"));
    }
  }
  for (const auto& [has, value, field] :
       {std::tuple{request.has_min_followers(), request.min_followers(), "min_followers"},
        std::tuple{request.has_max_followers(), request.max_followers(), "max_followers"}}) {
    if (has && value < 0) return Invalid(field, absl::StrCat("must not be negative, got ", value));
  }
  if (request.has_min_followers() && request.has_max_followers() &&
      request.min_followers() > request.max_followers()) {
    return Invalid("max_followers", "must not be below min_followers");
  }
  SCOUT_RETURN_IF_ERROR(
      CheckRate(Opt(request.has_min_engagement_rate(), request.min_engagement_rate()),
                "min_engagement_rate", 0, kMaxEngagementRate));
  SCOUT_RETURN_IF_ERROR(
      CheckRate(Opt(request.has_max_engagement_rate(), request.max_engagement_rate()),
                "max_engagement_rate", 0, kMaxEngagementRate));
  if (request.has_min_engagement_rate() && request.has_max_engagement_rate() &&
      request.min_engagement_rate() > request.max_engagement_rate()) {
    return Invalid("max_engagement_rate", "must not be below min_engagement_rate");
  }
  SCOUT_RETURN_IF_ERROR(
      CheckRate(Opt(request.has_min_follower_growth(), request.min_follower_growth()),
                "min_follower_growth", kMinGrowth, kMaxGrowth));
  if (request.has_min_posts_30d() &&
      (request.min_posts_30d() < 0 || request.min_posts_30d() > kMaxPosts30d)) {
    return Invalid("min_posts_30d",
                   absl::StrCat("0 to ", kMaxPosts30d, ", got ", request.min_posts_30d()));
  }
  if (request.has_active_within_days() &&
      (request.active_within_days() < 1 || request.active_within_days() > kMaxActiveDays)) {
    return Invalid("active_within_days",
                   absl::StrCat("1 to ", kMaxActiveDays, ", got ", request.active_within_days()));
  }
  SCOUT_RETURN_IF_ERROR(CheckCount(request.tiers_size(), "tiers"));
  for (int i = 0; i < request.tiers_size(); ++i) {
    const int tier = request.tiers(i);
    if (tier == v1::CREATOR_TIER_UNSPECIFIED || !v1::CreatorTier_IsValid(tier)) {
      return Invalid(absl::StrCat("tiers[", i, "]"), absl::StrCat("not a tier (", tier, ")"));
    }
  }
  if (request.palette_size() > kMaxPaletteColours) {
    return Invalid("palette", absl::StrCat("at most ", kMaxPaletteColours, " colours (got ",
                                           request.palette_size(), ")"));
  }
  for (int i = 0; i < request.palette_size(); ++i) {
    SCOUT_RETURN_IF_ERROR(ParsePaletteColour(request.palette(i), i).status());
  }
  if (!request.similar_to().empty()) {
    const std::string& id = request.similar_to();
    if (id.size() > kMaxCreatorIdLength ||
        id.find_first_not_of("0123456789") != std::string::npos) {
      return Invalid("similar_to",
                     absl::StrCat("want a creator's numeric id (1 to ", kMaxCreatorIdLength,
                                  " digits), got \"", ToValidUtf8(id.substr(0, 40)), "\""));
    }
    if (request.palette_size() > 0) {
      return Invalid("similar_to", "not with palette (a lookalike's target is its own palette)");
    }
  }
  if (!v1::CreatorSort_IsValid(request.sort())) {
    return Invalid("sort", absl::StrCat("unknown value ", request.sort()));
  }
  if (PaletteSort(request.sort()) && request.palette_size() == 0 && request.similar_to().empty()) {
    return Invalid("sort", "CREATOR_SORT_PALETTE_DISTANCE needs palette or similar_to");
  }
  return absl::OkStatus();
}

absl::StatusOr<CreatorSearch::Query> CreatorSearch::BuildQuery(const SearchCreatorsRequest& request,
                                                               const Lookalike* like) const {
  SCOUT_RETURN_IF_ERROR(Validate(request));
  if ((like != nullptr) != !request.similar_to().empty()) {
    return absl::InternalError("BuildQuery: a lookalike target goes with similar_to only");
  }
  Query query;
  query.page_size = *CheckPageSize(request.page_size());
  query.sort = ResolvedSort(request);

  json filters = json::array(), must = json::array(), must_not = json::array(),
       should = json::array();
  SCOUT_ASSIGN_OR_RETURN(const std::vector<std::string> hashtags,
                         TagKeys(request.hashtags(), "hashtags"));
  SCOUT_ASSIGN_OR_RETURN(const std::vector<std::string> mentions,
                         TagKeys(request.mentions(), "mentions"));
  // Values of one filter: OR (`terms`); filters: AND (the bool's list).
  if (!hashtags.empty()) filters.push_back(Terms(f::kHashtagKeys, hashtags));
  if (!mentions.empty()) filters.push_back(Terms(f::kMentionKeys, mentions));
  // The same filters for memory (palette searches), where memory has them.
  PaletteFilter& memory = query.filter;
  if (request.topics_size() > 0) {
    filters.push_back(Terms(f::kTopics, {request.topics().begin(), request.topics().end()}));
    for (const std::string& topic : request.topics()) memory.topics |= TopicBit(topic);
  }
  if (request.tiers_size() > 0) {
    std::vector<std::string> tiers;
    memory.tiers = 0;
    for (int tier : request.tiers()) {
      tiers.emplace_back(TierSlug(static_cast<v1::CreatorTier>(tier)));
      *memory.tiers |= uint32_t{1} << tier;
    }
    filters.push_back(Terms(f::kTier, tiers));
  }
  const auto range = [&filters](const char* field, const char* op, const json& value) {
    filters.push_back({{"range", {{field, {{op, value}}}}}});
  };
  if (request.has_min_followers()) {
    range(f::kFollowers, "gte", request.min_followers());
    memory.min_followers = request.min_followers();
  }
  if (request.has_max_followers()) {
    range(f::kFollowers, "lte", request.max_followers());
    memory.max_followers = request.max_followers();
  }
  if (request.has_min_engagement_rate()) {
    range(f::kEngagementRate, "gte", request.min_engagement_rate());
    memory.min_engagement_rate = request.min_engagement_rate();
  }
  if (request.has_max_engagement_rate()) {
    range(f::kEngagementRate, "lte", request.max_engagement_rate());
    memory.max_engagement_rate = request.max_engagement_rate();
  }
  if (request.has_min_follower_growth()) {
    range(f::kGrowth, "gte", request.min_follower_growth());
    memory.min_growth = request.min_follower_growth();
  }
  if (request.has_min_posts_30d()) {
    range(f::kPosts30d, "gte", request.min_posts_30d());
    memory.min_posts_30d = request.min_posts_30d();
  }
  if (request.has_is_business()) {
    filters.push_back({{"term", {{f::kIsBusiness, request.is_business()}}}});
    memory.is_business = request.is_business();
  }
  if (request.has_active_within_days()) {
    const absl::Time since = clock_->Now() - absl::Hours(24) * request.active_within_days();
    filters.push_back(
        {{"range",
          {{f::kLastPostAt, {{"gte", absl::ToUnixMillis(since)}, {"format", "epoch_millis"}}}}}});
    memory.min_last_post_at_ms = absl::ToUnixMillis(since);
  }
  // Filters only Elasticsearch can answer (palette searches check them on
  // their candidates).
  const bool text_or_tags = !hashtags.empty() || !mentions.empty();
  const std::string folded = FoldForSearch(request.query());
  const bool has_text = !Words(folded).empty();
  if (has_text) {
    // Every word must match, each in any of the fields.
    must.push_back({{"multi_match",
                     {{"query", folded},
                      {"fields", {f::kNameFolded, f::kBioFolded, f::kCaptionsFolded}},
                      {"type", "cross_fields"},
                      {"operator", "and"}}}});
  }

  if (request.palette_size() > 0) {
    std::vector<WeightedColour> colours;
    for (int i = 0; i < request.palette_size(); ++i) {
      colours.push_back(*ParsePaletteColour(request.palette(i), i));
    }
    query.target = MakeColourSet(std::move(colours));
  }
  if (like != nullptr) {
    // Lookalikes: same or adjacent tier, never the creator itself; shared
    // topics favoured (in the rerank for palette pools, as score here).
    const std::vector<std::string> tiers = NearTiers(like->tier);
    if (!tiers.empty()) {
      filters.push_back(Terms(f::kTier, tiers));
      uint32_t near = 0;
      for (const std::string& slug : tiers) near |= uint32_t{1} << *TierFromSlug(slug);
      memory.tiers = memory.tiers.value_or(near) & near;
    }
    must_not.push_back({{"ids", {{"values", {like->id}}}}});
    memory.exclude_id = like->id;
    query.target = like->palette;
    query.favoured_topics = like->topics;
    for (const std::string& topic : like->topics) {
      should.push_back(
          {{"constant_score", {{"filter", {{"term", {{f::kTopics, topic}}}}}, {"boost", 1.0}}}});
    }
    if (like->tier != v1::CREATOR_TIER_UNSPECIFIED) {
      should.push_back({{"constant_score",
                         {{"filter", {{"term", {{f::kTier, std::string(TierSlug(like->tier))}}}}},
                          {"boost", 0.5}}}});
    }
  }
  json boolean = {{"filter", filters}};
  if (!must.empty()) boolean["must"] = must;
  if (!must_not.empty()) boolean["must_not"] = must_not;

  query.pool = !query.target.empty();
  if (query.pool) {
    // Memory ranks; Elasticsearch only says which candidates pass the text
    // and tag filters (ids from doc values, no _source).
    if (has_text || text_or_tags) {
      query.body = {
          {"_source", false}, {"docvalue_fields", {f::kId}}, {"query", {{"bool", boolean}}}};
    }
  } else {
    if (!should.empty()) boolean["should"] = should;
    query.body = {{"size", query.page_size},
                  // Exact counts past this cost every query a full scan.
                  {"track_total_hits", kMaxCountedHits},
                  {"query", {{"bool", boolean}}},
                  {"_source", {{"excludes", {f::kNameFolded, f::kBioFolded, f::kCaptionsFolded}}}},
                  {"sort", SortJson(SortKeys(query.sort))}};
  }

  if (!request.page_token().empty()) {
    SCOUT_ASSIGN_OR_RETURN(const PageCursor cursor,
                           DecodePageToken(request.page_token(), QueryHash(request)));
    const bool fits = query.pool ? cursor.search_after.size() == 1 &&
                                       cursor.search_after[0].is_number_integer() &&
                                       cursor.search_after[0].get<int64_t>() == cursor.returned &&
                                       cursor.returned < kPalettePool
                                 : SearchAfterFits(cursor.search_after, SortKeys(query.sort));
    if (!fits) {
      return absl::InvalidArgumentError(
          "page_token: its position does not fit this query's sort (not a token we issued)");
    }
    if (!query.pool) query.body["search_after"] = cursor.search_after;
    query.returned_before = cursor.returned;
  }
  return query;
}

absl::StatusOr<CreatorSearch::Lookalike> CreatorSearch::ReadLookalike(const std::string& id,
                                                                      absl::Time deadline) const {
  // A creator with a palette is in the palette index, which holds all a
  // lookalike needs: no document to fetch and parse.
  if (const std::shared_ptr<const PaletteIndex> index =
          palettes_ != nullptr ? palettes_->Current() : nullptr) {
    if (const std::optional<uint32_t> found = index->Find(id)) {
      const PaletteCreator& creator = index->creators()[*found];
      Lookalike like;
      like.id = id;
      like.tier = creator.tier != v1::CREATOR_TIER_UNSPECIFIED
                      ? creator.tier
                      : TierOf(creator.followers.value_or(0));
      like.topics = TopicSlugs(creator.topics);
      like.palette = creator.palette;
      return like;
    }
  }
  const absl::Duration budget = deadline - absl::Now();
  if (budget < absl::Milliseconds(1)) {
    return absl::DeadlineExceededError("deadline passed before reading the similar_to creator");
  }
  absl::StatusOr<json> answer =
      elastic_->Call("GET", absl::StrCat(alias_, "/_doc/", id), nullptr, budget);
  if (absl::IsNotFound(answer.status())) {
    return absl::NotFoundError(absl::StrCat("similar_to: no creator ", id, " in the index"));
  }
  if (absl::IsInvalidArgument(answer.status())) {
    return absl::InternalError(absl::StrCat("creator lookup refused: ", answer.status().message()));
  }
  if (!answer.ok()) return answer.status();
  const auto source = answer->is_object() ? answer->find("_source") : answer->end();
  if (source == answer->end() || !source->is_object()) {
    return absl::InternalError("elasticsearch document answer: no _source object");
  }
  SCOUT_ASSIGN_OR_RETURN(const v1::Creator creator, CreatorFromDocument(*source));
  Lookalike like;
  like.id = id;
  like.tier = creator.tier() != v1::CREATOR_TIER_UNSPECIFIED ? creator.tier()
                                                             : TierOf(creator.followers_count());
  for (const v1::TopicShare& topic : creator.topics()) like.topics.push_back(topic.slug());
  like.palette = ColourSetOf(creator.palette());
  return like;
}

absl::StatusOr<v1::SearchCreatorsResponse> CreatorSearch::Search(
    const SearchCreatorsRequest& request, absl::Time deadline) const {
  SCOUT_RETURN_IF_ERROR(Validate(request));
  std::optional<Lookalike> like;
  if (!request.similar_to().empty()) {
    SCOUT_ASSIGN_OR_RETURN(like, ReadLookalike(request.similar_to(), deadline));
  }
  SCOUT_ASSIGN_OR_RETURN(const Query query, BuildQuery(request, like ? &*like : nullptr));
  if (query.pool) return RankPool(request, query, deadline);
  SCOUT_ASSIGN_OR_RETURN(const std::optional<json> answer,
                         CallSearch(*elastic_, alias_, query.body, deadline));
  if (!answer) return v1::SearchCreatorsResponse();  // Nothing indexed yet: no alias.
  return ReadPage(request, query, *answer);
}

absl::StatusOr<v1::Creator> CreatorSearch::ToCreator(const SearchCreatorsRequest& request,
                                                     const json& source,
                                                     const TierCentiles* centiles) const {
  SCOUT_ASSIGN_OR_RETURN(v1::Creator creator, CreatorFromDocument(source));
  if (creator.tier() == v1::CREATOR_TIER_UNSPECIFIED) {
    creator.set_tier(TierOf(creator.followers_count()));
  }
  for (std::string& tag : MatchedTags(source, f::kHashtags, request.hashtags())) {
    creator.add_matched_hashtags(std::move(tag));
  }
  for (std::string& tag : MatchedTags(source, f::kMentions, request.mentions())) {
    creator.add_matched_mentions(std::move(tag));
  }
  creator.set_biography_highlight(
      Highlight(creator.biography(), Words(FoldForSearch(request.query()))));
  if (centiles != nullptr) {
    const std::optional<double> percentile =
        EngagementPercentile(*centiles, creator.followers_count(),
                             Opt(creator.has_engagement_rate(), creator.engagement_rate()));
    if (percentile) creator.set_engagement_percentile(*percentile);
  }
  return creator;
}

absl::StatusOr<v1::SearchCreatorsResponse> CreatorSearch::ReadPage(
    const SearchCreatorsRequest& request, const Query& query, const json& answer) const {
  SCOUT_ASSIGN_OR_RETURN(const SearchHits hits, ReadHits(answer));
  const std::shared_ptr<const ProfileSnapshot> snapshot =
      profiles_ != nullptr ? profiles_->Current() : nullptr;
  v1::SearchCreatorsResponse response;
  response.set_total_size(hits.total);
  response.set_total_size_is_lower_bound(hits.total_is_lower_bound);
  for (const json& hit : *hits.hits) {
    SCOUT_ASSIGN_OR_RETURN(const json* source, HitSource(hit));
    SCOUT_ASSIGN_OR_RETURN(*response.add_creators(),
                           ToCreator(request, *source, snapshot ? &snapshot->centiles : nullptr));
  }
  SCOUT_ASSIGN_OR_RETURN(
      *response.mutable_next_page_token(),
      NextPageToken(hits, query.page_size, query.returned_before, QueryHash(request)));
  return response;
}

absl::StatusOr<v1::SearchCreatorsResponse> CreatorSearch::RankPool(
    const SearchCreatorsRequest& request, const Query& query, absl::Time deadline) const {
  const std::shared_ptr<const PaletteIndex> index =
      palettes_ != nullptr ? palettes_->Current() : nullptr;
  if (index == nullptr) {
    return absl::UnavailableError(
        "palette search is still loading the creators' palettes; retry shortly");
  }
  PaletteIndex::Candidates candidates = index->Nearest(
      query.target, query.filter, query.body.is_null() ? kPalettePool : kConfirmPool);
  bool lower_bound = candidates.more;
  if (!query.body.is_null() && !candidates.indices.empty()) {
    // Which of the candidates pass the text and tag filters.
    json ids = json::array();
    for (uint32_t i : candidates.indices) ids.push_back(index->creators()[i].id);
    json body = query.body;
    body["size"] = ids.size();
    body["query"]["bool"]["filter"].push_back({{"ids", {{"values", std::move(ids)}}}});
    SCOUT_ASSIGN_OR_RETURN(const std::optional<json> answer,
                           CallSearch(*elastic_, alias_, body, deadline));
    if (!answer) return v1::SearchCreatorsResponse();  // Nothing indexed yet: no alias.
    SCOUT_ASSIGN_OR_RETURN(const SearchHits hits, ReadHits(*answer));
    absl::flat_hash_set<std::string> passed;
    for (const json& hit : *hits.hits) {
      const json* fields = HitFields(hit);
      const json* id = fields ? FirstValue(*fields, f::kId) : nullptr;
      if (id == nullptr || !id->is_string()) return MalformedAnswer("a hit without an id");
      passed.insert(id->get<std::string>());
    }
    std::vector<uint32_t> kept;
    for (uint32_t i : candidates.indices) {
      if (kept.size() < static_cast<size_t>(kPalettePool) &&
          passed.contains(index->creators()[i].id)) {
        kept.push_back(i);
      }
    }
    lower_bound = lower_bound || passed.size() > kept.size();
    candidates.indices = std::move(kept);
  }

  // The page: [begin, end) of the pool in the asked order. Only what the
  // page needs is ranked exactly (PaletteIndex::Rank prunes the rest).
  const size_t begin =
      std::min(candidates.indices.size(), static_cast<size_t>(query.returned_before));
  const size_t end =
      std::min(candidates.indices.size(), begin + static_cast<size_t>(query.page_size));
  std::vector<PaletteIndex::Hit> pool;
  const auto metric = [&](const PaletteCreator& c) -> double {
    switch (query.sort) {
      case v1::CREATOR_SORT_FOLLOWERS:
        return c.followers ? static_cast<double>(*c.followers) : kMissingLast;
      case v1::CREATOR_SORT_ENGAGEMENT_RATE:
        return c.engagement_rate.value_or(kMissingLast);
      default:
        return c.growth.value_or(kMissingLast);
    }
  };
  if (query.sort == v1::CREATOR_SORT_FOLLOWERS || query.sort == v1::CREATOR_SORT_ENGAGEMENT_RATE ||
      query.sort == v1::CREATOR_SORT_GROWTH) {
    // The nearest candidates, ordered by the asked number (highest first).
    std::vector<uint32_t> order = candidates.indices;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const PaletteCreator &x = index->creators()[a], &y = index->creators()[b];
      const double mx = metric(x), my = metric(y);
      return mx != my ? mx > my : x.id < y.id;
    });
    for (size_t i = begin; i < end; ++i) {
      pool.push_back(
          {order[i], PaletteDistance(query.target, index->creators()[order[i]].palette)});
    }
  } else {
    // Palette distance; for lookalikes each shared topic makes it count
    // less, so among similar palettes the creators of the same subjects lead.
    std::vector<double> weights;
    if (!query.favoured_topics.empty()) {
      uint32_t favoured = 0;
      for (const std::string& topic : query.favoured_topics) favoured |= TopicBit(topic);
      for (uint32_t i : candidates.indices) {
        weights.push_back(1 - kSharedTopicDiscount *
                                  std::popcount(index->creators()[i].topics & favoured));
      }
    }
    pool = index->Rank(query.target, candidates.indices, end, weights.empty() ? nullptr : &weights);
    pool.erase(pool.begin(),
               pool.begin() + static_cast<std::ptrdiff_t>(std::min(begin, pool.size())));
  }

  v1::SearchCreatorsResponse response;
  response.set_total_size(static_cast<int64_t>(candidates.indices.size()));
  response.set_total_size_is_lower_bound(lower_bound);
  if (pool.empty()) return response;
  std::vector<std::string> ids;
  for (const PaletteIndex::Hit& hit : pool) ids.push_back(index->creators()[hit.index].id);
  const json fetch = {
      {"size", ids.size()},
      {"query", {{"ids", {{"values", ids}}}}},
      {"_source", {{"excludes", {f::kNameFolded, f::kBioFolded, f::kCaptionsFolded}}}}};
  SCOUT_ASSIGN_OR_RETURN(const std::optional<json> page,
                         CallSearch(*elastic_, alias_, fetch, deadline));
  if (!page) return absl::UnavailableError("the creators index went away between two calls");
  SCOUT_ASSIGN_OR_RETURN(const SearchHits page_hits, ReadHits(*page));
  absl::flat_hash_map<std::string, const json*> sources;
  for (const json& hit : *page_hits.hits) {
    SCOUT_ASSIGN_OR_RETURN(const json* source, HitSource(hit));
    const auto id = source->find(f::kId);
    if (id == source->end() || !id->is_string()) return MalformedAnswer("a hit without an id");
    sources[id->get<std::string>()] = source;
  }
  const std::shared_ptr<const ProfileSnapshot> snapshot =
      profiles_ != nullptr ? profiles_->Current() : nullptr;
  for (const PaletteIndex::Hit& hit : pool) {
    const auto it = sources.find(index->creators()[hit.index].id);
    if (it == sources.end()) continue;  // Deleted between the two calls.
    SCOUT_ASSIGN_OR_RETURN(
        v1::Creator creator,
        ToCreator(request, *it->second, snapshot ? &snapshot->centiles : nullptr));
    creator.set_palette_distance(hit.distance);
    *response.add_creators() = std::move(creator);
  }
  if (end < candidates.indices.size()) {
    const int64_t next = static_cast<int64_t>(end);
    response.set_next_page_token(EncodePageToken({QueryHash(request), next, json::array({next})}));
  }
  return response;
}

}  // namespace scout::server
