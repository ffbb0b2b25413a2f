#include "tools/genlake/content.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace scout::genlake {
namespace {

constexpr uint64_t kIdSpace = 1'000'000'000'000'000ULL;  // 15 digits.
constexpr double kTwoPi = 6.283185307179586;

// Bijection on [0, kIdSpace): a 50-bit Feistel network, cycle-walked back
// into the range.
uint64_t Permute(uint64_t key, uint64_t v) {
  constexpr int kHalf = 25;
  constexpr uint64_t kMask = (1ULL << kHalf) - 1;
  do {
    uint64_t left = v >> kHalf;
    uint64_t right = v & kMask;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t next = left ^ (Hash(key, round, right) & kMask);
      left = right;
      right = next;
    }
    v = (left << kHalf) | right;
  } while (v >= kIdSpace);
  return v;
}

MediaType DrawMediaType(Rng& rng) {
  const double u = rng.Uniform();
  if (u < 0.40) return MediaType::kImage;
  if (u < 0.60) return MediaType::kCarousel;
  if (u < 0.75) return MediaType::kVideo;
  if (u < 0.90) return MediaType::kStoryImage;
  return MediaType::kStoryVideo;
}

Plateau DrawPlateau(const Creator& c, MediaType type, bool comments_enabled, int64_t followers,
                    Rng& rng) {
  Plateau p;
  const double f = static_cast<double>(followers);
  if (IsStory(type)) {
    p.impressions = f * rng.Uniform(0.05, 0.25);
    p.reach = p.impressions * rng.Uniform(0.7, 0.95);
    p.sticker_taps = p.reach * rng.Uniform(0, 0.03);
    p.tap_backs = p.reach * rng.Uniform(0.01, 0.08);
    p.swipe_ups = p.reach * rng.Uniform(0, 0.02);
    return p;
  }
  p.likes = std::max(3.0, f * c.engagement * std::exp(rng.Uniform(-0.8, 0.8)));
  p.comments = comments_enabled ? p.likes * rng.Uniform(0.01, 0.06) : 0;
  p.saved = p.likes * rng.Uniform(0.01, 0.08);
  p.impressions = f * rng.Uniform(0.3, 1.5);
  p.reach = p.impressions * rng.Uniform(0.55, 0.9);
  if (type == MediaType::kVideo) p.video_views = p.impressions * rng.Uniform(0.3, 0.9);
  return p;
}

}  // namespace

std::string FormatTimestamp(int64_t day, int second_of_day) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S+0000", StartOfDay(day) + absl::Seconds(second_of_day),
                          absl::UTCTimeZone());
}

uint64_t MediaKey(int user, int64_t day, int k, int slot) {
  return (static_cast<uint64_t>(user) << 23) | ((static_cast<uint64_t>(day) & 0xFFFF) << 7) |
         (static_cast<uint64_t>(k) << 3) | static_cast<uint64_t>(slot);
}

std::string MediaId(uint64_t seed, uint64_t media_key) {
  return absl::StrCat("17", absl::Dec(Permute(Hash(kIdStream, seed), media_key), absl::kZeroPad15));
}

std::string IgId(uint64_t seed, uint64_t post_key) {
  return absl::StrCat(
      "2",
      absl::Dec(Permute(Hash(kIdStream, seed, kIgIdSlot), post_key | kIgIdSlot), absl::kZeroPad15));
}

std::string Shortcode(uint64_t seed, uint64_t post_key) {
  static constexpr absl::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t v = Permute(Hash(kShortcodeStream, seed), post_key);
  std::string code = {'B', kAlphabet[Hash(kShortcodeStream, seed, post_key) % 64]};
  for (int i = 0; i < 9; ++i, v >>= 6) code.push_back(kAlphabet[v & 63]);
  return code;
}

std::string UserId(int user) { return absl::StrCat("17841", absl::Dec(user, absl::kZeroPad10)); }

Creator MakeCreator(uint64_t seed, int user, double business_rate) {
  Rng rng(Hash(kCreatorStream, seed, user));
  Creator c;
  c.index = user;
  c.id = UserId(user);
  c.username = Username(seed, user);
  c.topic = DrawTopic(rng);
  c.business = rng.Chance(business_rate);
  c.ascii_json = rng.Chance(0.5);
  // Log-uniform on [0.04, 2] has mean 0.50 posts/day; the slowest creators'
  // 25th newest post is well over a year old.
  c.posts_per_day = rng.LogUniform(0.04, 2.0);
  c.followers0 = rng.LogUniform(300, 1.5e6);
  c.follower_trend = c.business ? rng.Uniform(0.0003, 0.003) : rng.Uniform(-0.0002, 0.001);
  c.follower_phase = rng.Uniform(0, kTwoPi);
  c.engagement = rng.LogUniform(0.005, 0.08);
  c.follows0 = rng.LogUniform(20, 3000);
  c.follows_trend = rng.Uniform(0, 0.3);
  c.media0 = rng.Between(0, 2000);
  c.ig_id = rng.Between(100'000'000, 999'999'999);
  c.name = DrawName(rng);
  c.biography = DrawBiography(*c.topic, rng);
  if (c.business) {
    std::string code;
    for (int i = 0; i < 7; ++i) code.push_back("abcdefghjkmnpqrstuvwxyz23456789"[rng.Below(31)]);
    c.website = absl::StrCat("https://bit.ly/", code);
  }
  return c;
}

int64_t Followers(uint64_t seed, const Creator& c, int64_t day) {
  const double t = static_cast<double>(day - kFollowerOrigin);
  const double jitter = Rng(Hash(kFollowStream, seed, c.index, day)).Uniform();
  const double weekly = std::sin(kTwoPi * t / 7 + c.follower_phase);
  double f;
  if (c.business) {
    // Slope r, jitter at most 0.45 r a day, weekly wave at most 0.2 r a day:
    // the curve always rises.
    const double r = c.followers0 * c.follower_trend;
    f = c.followers0 + r * t + 0.45 * r * jitter + 0.2 * r * 7 / kTwoPi * weekly;
  } else {
    f = c.followers0 * (1 + c.follower_trend * t + 0.003 * (jitter - 0.5) + 0.002 * weekly);
  }
  return std::max<int64_t>(0, static_cast<int64_t>(std::floor(f)));
}

std::vector<TimelinePost> BuildTimeline(uint64_t seed, const Creator& c, int64_t first_day,
                                        int64_t last_day) {
  std::vector<TimelinePost> posts;
  posts.reserve(static_cast<size_t>(c.posts_per_day * (last_day - first_day + 1) * 1.2) + 8);
  std::array<int, kMaxPostsPerDay> seconds;
  for (int64_t day = first_day; day <= last_day; ++day) {
    Rng rng(Hash(kDayStream, seed, c.index, day));
    const int n = std::min(rng.Poisson(c.posts_per_day), kMaxPostsPerDay);
    for (int k = 0; k < n; ++k) seconds[k] = rng.Below(kSecondsPerDay);
    std::sort(seconds.begin(), seconds.begin() + n);
    for (int k = 0; k < n; ++k) posts.push_back({day, k, seconds[k]});
  }
  return posts;
}

Post MakePost(uint64_t seed, const Creator& c, int users, const TimelinePost& when) {
  Rng rng(Hash(kPostStream, seed, c.index, when.day, when.k));
  Post post;
  post.when = when;
  post.key = MediaKey(c.index, when.day, when.k, kPostSlot);
  post.id = MediaId(seed, post.key);
  post.type = DrawMediaType(rng);
  post.story_product_spelling = rng.Chance(0.5);
  post.comments_enabled = rng.Chance(0.95);
  post.children = post.type == MediaType::kCarousel ? rng.Between(2, kMaxChildren) : 0;
  post.text = DrawPostText(seed, *c.topic, c.index, users, when.day, rng);
  post.followers_at_post = Followers(seed, c, when.day);
  post.plateau = DrawPlateau(c, post.type, post.comments_enabled, post.followers_at_post, rng);
  return post;
}

Metrics MetricsAt(const Post& post, int64_t as_of_day) {
  const double age_days =
      static_cast<double>((as_of_day + 1 - post.when.day) * kSecondsPerDay - post.when.second) /
      kSecondsPerDay;
  // Stories live a day, so their numbers settle within hours.
  const double tau = IsStory(post.type) ? 0.25 : 1.5;
  const double g = 1 - std::exp(-age_days / tau);
  const auto grown = [g](double plateau) { return std::llround(plateau * g); };
  const Plateau& p = post.plateau;
  return {grown(p.likes),        grown(p.comments),  grown(p.saved),
          grown(p.impressions),  grown(p.reach),     grown(p.video_views),
          grown(p.sticker_taps), grown(p.tap_backs), grown(p.swipe_ups)};
}

Malform MalformOf(uint64_t seed, double rate, uint64_t post_key) {
  const uint64_t h = Hash(kMalformStream, seed, post_key);
  if (static_cast<double>(h >> 11) * 0x1.0p-53 >= rate) return Malform::kNone;
  return static_cast<Malform>(Mix64(h) % kMalformKinds);
}

}  // namespace scout::genlake
