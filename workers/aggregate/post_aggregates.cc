#include "workers/aggregate/post_aggregates.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace scout::aggregate {

absl::StatusOr<absl::flat_hash_map<std::string, PostAggregate>> AggregatePosts(
    Elastic& elastic, const std::string& alias, absl::Time from, absl::Time to,
    const Shard& shard) {
  using nlohmann::json;
  json request = {
      {"size", 0},
      {"track_total_hits", false},
      {"query",
       {{"range",
         {{"timestamp",
           {{"gte", absl::ToUnixMillis(from)},
            {"lt", absl::ToUnixMillis(to)},
            {"format", "epoch_millis"}}}}}}},
      {"aggs",
       {{"owners",
         {{"composite",
           {{"size", 2000}, {"sources", {{{"owner", {{"terms", {{"field", "owner_id"}}}}}}}}}},
          {"aggs",
           {{"likes", {{"sum", {{"field", "like_count"}}}}},
            {"comments", {{"sum", {{"field", "comments_count"}}}}},
            {"feed", {{"value_count", {{"field", "like_count"}}}}},
            {"followers", {{"avg", {{"field", "followers_at_post"}}}}}}}}}}}};
  absl::flat_hash_map<std::string, PostAggregate> result;
  for (;;) {
    absl::StatusOr<json> answer =
        elastic.Call("POST", absl::StrCat(alias, "/_search"), request, absl::Seconds(120));
    if (absl::IsNotFound(answer.status())) return result;  // Nothing indexed yet.
    if (!answer.ok()) return answer.status();
    const json& owners = (*answer)["aggregations"]["owners"];
    for (const json& bucket : owners["buckets"]) {
      const std::string owner = bucket["key"]["owner"].get<std::string>();
      if (!shard.Owns(owner)) continue;
      PostAggregate& aggregate = result[owner];
      aggregate.posts = bucket["doc_count"].get<int64_t>();
      aggregate.feed_posts = bucket["feed"]["value"].get<int64_t>();
      aggregate.likes = static_cast<int64_t>(bucket["likes"]["value"].get<double>());
      aggregate.comments = static_cast<int64_t>(bucket["comments"]["value"].get<double>());
      if (const json& avg = bucket["followers"]["value"]; avg.is_number()) {
        aggregate.followers_avg = avg.get<double>();
      }
    }
    if (!owners.contains("after_key") || owners["buckets"].empty()) return result;
    request["aggs"]["owners"]["composite"]["after"] = owners["after_key"];
  }
}

}  // namespace scout::aggregate
