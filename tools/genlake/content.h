// genlake's simulated Instagram: days, identifiers, creators, which posts
// exist (the timeline), each post's content and how its metrics grow.
// Everything is drawn from the seed and what it describes, never from a
// shared generator. Internal to the generator.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tools/genlake/genlake.h"
#include "tools/genlake/random.h"
#include "tools/genlake/vocabulary.h"

namespace scout::genlake {

// ---------------------------------------------------------------------------
// Dates. Days are counted from 1970-01-01 (UTC) so they hash and subtract.

inline constexpr absl::CivilDay kEpoch(1970, 1, 1);
inline constexpr int64_t kSecondsPerDay = 86400;

inline int64_t DayNumber(absl::CivilDay day) { return day - kEpoch; }
inline absl::CivilDay ToCivil(int64_t day) { return kEpoch + day; }

// Midnight UTC: for common/base/time.h's FormatDay.
inline absl::Time StartOfDay(absl::CivilDay day) {
  return absl::FromCivil(day, absl::UTCTimeZone());
}
inline absl::Time StartOfDay(int64_t day) { return StartOfDay(ToCivil(day)); }
// Instagram's form: "2021-02-20T17:05:52+0000".
std::string FormatTimestamp(int64_t day, int second_of_day);

// ---------------------------------------------------------------------------
// Identifiers. Ids must be unique across the lake (Elasticsearch keys posts by
// them), so instead of hashing we permute a structured key: a keyed Feistel
// network is a bijection, hence distinct keys give distinct ids.

inline constexpr int kUserBits = 26;
inline constexpr int kMaxUsers = 1 << kUserBits;
inline constexpr int kMaxPostsPerDay = 16;  // k takes 4 bits of the key.

// Slots of one post's key: the post itself, carousel children 1..5, ig_id.
inline constexpr int kPostSlot = 0;
inline constexpr int kIgIdSlot = 6;
inline constexpr int kMaxChildren = 5;

// 26 bits user, 16 bits day (wraps after 179 years), 4 bits k, 3 bits slot:
// 49 bits, below the 15 digits of ids.
uint64_t MediaKey(int user, int64_t day, int k, int slot);
std::string MediaId(uint64_t seed, uint64_t media_key);
std::string IgId(uint64_t seed, uint64_t post_key);
// 11 characters like Instagram's; the last 9 encode a permutation of the post
// key, so shortcodes are unique too.
std::string Shortcode(uint64_t seed, uint64_t post_key);
std::string UserId(int user);

// ---------------------------------------------------------------------------
// Creators.

inline constexpr int kCurrentPosts = 25;           // What the API returns each day.
inline constexpr int kHistoryDays = 730;           // Posts exist this long before the window.
inline constexpr int64_t kFollowerOrigin = 18262;  // 2020-01-01: t = 0 of follower curves.

struct Creator {
  int index = 0;
  std::string id;
  std::string username;
  std::string name;
  std::string biography;
  std::string website;  // Business only.
  const Topic* topic = nullptr;
  bool business = false;
  bool ascii_json = false;  // Writes \uXXXX escapes, as Python's json.dump does.
  double posts_per_day = 0;
  double followers0 = 0;      // Followers at kFollowerOrigin.
  double follower_trend = 0;  // Per day, as a fraction of followers0.
  double follower_phase = 0;
  double engagement = 0;  // Likes per follower on a typical post.
  double follows0 = 0;
  double follows_trend = 0;
  int64_t media0 = 0;  // Posts before the lake's history starts.
  int64_t ig_id = 0;
};

Creator MakeCreator(uint64_t seed, int user, double business_rate);

// Business accounts gain followers every day (follower_count is the daily
// difference, so it must never be negative); basic accounts drift up or down.
int64_t Followers(uint64_t seed, const Creator& c, int64_t day);

// ---------------------------------------------------------------------------
// Timeline: which posts exist. Each day is drawn from its own seed.

struct TimelinePost {
  int64_t day = 0;
  int k = 0;  // Rank within the day.
  int second = 0;
};

// In time order.
std::vector<TimelinePost> BuildTimeline(uint64_t seed, const Creator& c, int64_t first_day,
                                        int64_t last_day);

// ---------------------------------------------------------------------------
// Posts.

enum class MediaType { kImage, kCarousel, kVideo, kStoryImage, kStoryVideo };

inline bool IsStory(MediaType t) {
  return t == MediaType::kStoryImage || t == MediaType::kStoryVideo;
}

// What each metric grows toward as the post ages.
struct Plateau {
  double likes = 0, comments = 0, saved = 0, impressions = 0, reach = 0, video_views = 0,
         sticker_taps = 0, tap_backs = 0, swipe_ups = 0;
};

struct Post {
  TimelinePost when;
  uint64_t key = 0;
  MediaType type = MediaType::kImage;
  bool story_product_spelling = false;  // media_product_type + IMAGE|VIDEO.
  bool comments_enabled = true;
  int children = 0;
  std::string id;
  PostText text;
  int64_t followers_at_post = 0;
  Plateau plateau;
};

Post MakePost(uint64_t seed, const Creator& c, int users, const TimelinePost& when);

struct Metrics {
  int64_t likes, comments, saved, impressions, reach, video_views, sticker_taps, tap_backs,
      swipe_ups;
};

// Metrics as the API client saw them at the end of `as_of_day`: fast growth
// in the first days, then a plateau where the rounded value stops changing.
Metrics MetricsAt(const Post& post, int64_t as_of_day);

// Chosen by post id, so a post stays broken (in the same way) across days.
Malform MalformOf(uint64_t seed, double rate, uint64_t post_key);

}  // namespace scout::genlake
