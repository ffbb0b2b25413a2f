#include "workers/aggregate/post_aggregates.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/backends/post_index.h"
#include "common/base/status.h"

namespace scout::aggregate {
namespace {

using nlohmann::json;
namespace f = post_field;

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("elasticsearch aggregation answer: ", what));
}

// A number a sum/avg/value_count sub-aggregation answered, or nullopt for
// null (no values). INTERNAL when the shape is not an aggregation's.
absl::StatusOr<std::optional<double>> Value(const json& bucket, const char* name) {
  const auto agg = bucket.find(name);
  if (agg == bucket.end() || !agg->is_object()) return Malformed(absl::StrCat("no ", name));
  const auto value = agg->find("value");
  if (value == agg->end() || !(value->is_number() || value->is_null())) {
    return Malformed(absl::StrCat(name, " has no value"));
  }
  if (value->is_null()) return std::nullopt;
  return value->get<double>();
}

}  // namespace

absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> AggregatePosts(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time to,
    const Shard& shard) {
  json filters = json::array({TimestampRange(from, to, /*until_inclusive=*/false)});
  if (std::optional<json> mine = ShardFilter(shard)) filters.push_back(*std::move(mine));
  json request = {
      {"size", 0},
      {"track_total_hits", false},
      {"query", {{"bool", {{"filter", std::move(filters)}}}}},
      {"aggs",
       {{"owners",
         {{"composite",
           {{"size", 2000}, {"sources", {{{"owner", {{"terms", {{"field", f::kOwnerId}}}}}}}}}},
          {"aggs",
           // Likes and comments over the same posts, those with likes (feed
           // posts whose likes are not hidden): eng_avg divides their sum by
           // their count. Comments of a hidden-likes post must not count.
           {{"feed",
             {{"filter", {{"exists", {{"field", f::kLikeCount}}}}},
              {"aggs",
               {{"likes", {{"sum", {{"field", f::kLikeCount}}}}},
                {"comments", {{"sum", {{"field", f::kCommentsCount}}}}}}}}},
            {"followers", {{"avg", {{"field", f::kFollowersAtPost}}}}}}}}}}}};
  absl::flat_hash_map<std::string, PostAggregate> result;
  for (;;) {
    absl::StatusOr<json> answer =
        elastic.Call("POST", absl::StrCat(alias, "/_search"), request, absl::Seconds(120));
    if (absl::IsNotFound(answer.status())) {
      // No alias is not "no posts": a wrong prefix or a fresh cluster would
      // otherwise write doc_count 0 for everyone and pass every check.
      return absl::FailedPreconditionError(
          absl::StrCat("the posts alias \"", alias,
                       "\" does not exist (wrong index prefix, or scout-ingest "
                       "never ran against this cluster): ",
                       answer.status().message()));
    }
    if (!answer.ok()) return answer.status();
    const json* owners = nullptr;
    if (const auto aggs = answer->find("aggregations");
        answer->is_object() && aggs != answer->end() && aggs->is_object()) {
      if (const auto it = aggs->find("owners"); it != aggs->end() && it->is_object()) {
        owners = &*it;
      }
    }
    if (owners == nullptr) return Malformed("no aggregations.owners");
    const auto buckets = owners->find("buckets");
    if (buckets == owners->end() || !buckets->is_array()) return Malformed("no buckets");
    for (const json& bucket : *buckets) {
      if (!bucket.is_object() || !bucket.contains("key") || !bucket["key"].is_object() ||
          !bucket["key"].contains("owner") || !bucket["key"]["owner"].is_string() ||
          !bucket.contains("doc_count") || !bucket["doc_count"].is_number_integer() ||
          !bucket.contains("feed") || !bucket["feed"].is_object() ||
          !bucket["feed"].contains("doc_count") ||
          !bucket["feed"]["doc_count"].is_number_integer()) {
        return Malformed(
            absl::StrCat("a bucket is not an owner's: ", bucket.dump().substr(0, 200)));
      }
      const std::string& owner = bucket["key"]["owner"].get_ref<const std::string&>();
      // Posts indexed before shard_bucket existed match every shard's filter.
      if (!shard.Owns(owner)) continue;
      const json& feed = bucket["feed"];
      SCOUT_ASSIGN_OR_RETURN(const std::optional<double> likes, Value(feed, "likes"));
      SCOUT_ASSIGN_OR_RETURN(const std::optional<double> comments, Value(feed, "comments"));
      SCOUT_ASSIGN_OR_RETURN(const std::optional<double> followers, Value(bucket, "followers"));
      PostAggregate& aggregate = result[owner];
      aggregate.posts = bucket["doc_count"].get<int64_t>();
      aggregate.feed_posts = feed["doc_count"].get<int64_t>();
      aggregate.likes = static_cast<int64_t>(likes.value_or(0));
      aggregate.comments = static_cast<int64_t>(comments.value_or(0));
      aggregate.followers_avg = followers;
    }
    const auto after = owners->find("after_key");
    if (after == owners->end() || buckets->empty()) return result;
    request["aggs"]["owners"]["composite"]["after"] = *after;
  }
}

}  // namespace scout::aggregate
