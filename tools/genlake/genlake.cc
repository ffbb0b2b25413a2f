#include "tools/genlake/genlake.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/lake.h"
#include "common/status.h"

namespace scout::genlake {
namespace {

// ---------------------------------------------------------------------------
// Deterministic randomness. Every value is a pure function of the seed and of
// what it describes (user, day, post), so any day of any creator can be
// generated alone and the thread schedule never shows in the output. We avoid
// <random> distributions: their results differ between standard libraries.

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Separate streams so that, e.g., adding a draw to posts never shifts palettes.
enum Stream : uint64_t {
  kCreatorStream = 1,
  kNameStream,
  kDayStream,
  kPostStream,
  kStatsStream,
  kFollowStream,
  kPaletteStream,
  kImageStream,
  kIdStream,
  kShortcodeStream,
  kMalformStream,
  kProfileStream,
};

template <typename... Parts>
uint64_t Hash(Parts... parts) {
  uint64_t h = 0;
  ((h = Mix64(h + kGolden + static_cast<uint64_t>(parts))), ...);
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() { return Mix64(state_ += kGolden); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Spreads values over orders of magnitude, like follower counts do.
  double LogUniform(double lo, double hi) {
    return lo * std::exp(std::log(hi / lo) * Uniform());
  }
  int Below(int n) {
    return static_cast<int>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32);
  }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) { return Uniform() < p; }
  // Knuth's method: fine for the small means of posts per day.
  int Poisson(double mean) {
    const double limit = std::exp(-mean);
    int k = 0;
    for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
    return k;
  }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(static_cast<int>(N))];
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// Dates. Days are counted from 1970-01-01 (UTC) so they hash and subtract.

constexpr absl::CivilDay kEpoch(1970, 1, 1);
constexpr int64_t kSecondsPerDay = 86400;

int64_t DayNumber(absl::CivilDay day) { return day - kEpoch; }
absl::CivilDay ToCivil(int64_t day) { return kEpoch + day; }

std::string FormatDay(int64_t day) {
  const absl::CivilDay d = ToCivil(day);
  return absl::StrCat(absl::Dec(d.year(), absl::kZeroPad4), "-",
                      absl::Dec(d.month(), absl::kZeroPad2), "-",
                      absl::Dec(d.day(), absl::kZeroPad2));
}

// Instagram's form: "2021-02-20T17:05:52+0000".
std::string FormatTimestamp(int64_t day, int second_of_day) {
  return absl::StrCat(FormatDay(day), "T",
                      absl::Dec(second_of_day / 3600, absl::kZeroPad2), ":",
                      absl::Dec(second_of_day / 60 % 60, absl::kZeroPad2), ":",
                      absl::Dec(second_of_day % 60, absl::kZeroPad2), "+0000");
}

// ---------------------------------------------------------------------------
// Identifiers. Ids must be unique across the lake (Elasticsearch keys posts by
// them), so instead of hashing we permute a structured key: a keyed Feistel
// network is a bijection, hence distinct keys give distinct ids.

constexpr int kUserBits = 26;
constexpr int kMaxUsers = 1 << kUserBits;
constexpr int kMaxPostsPerDay = 16;  // k takes 4 bits of the key.
constexpr uint64_t kIdSpace = 1'000'000'000'000'000ULL;  // 15 digits.

// Slots of one post's key: the post itself, carousel children 1..5, ig_id.
constexpr int kPostSlot = 0;
constexpr int kIgIdSlot = 6;
constexpr int kMaxChildren = 5;

// 26 bits user, 16 bits day (wraps after 179 years), 4 bits k, 3 bits slot:
// 49 bits, below kIdSpace.
uint64_t MediaKey(int user, int64_t day, int k, int slot) {
  return (static_cast<uint64_t>(user) << 23) |
         ((static_cast<uint64_t>(day) & 0xFFFF) << 7) |
         (static_cast<uint64_t>(k) << 3) | static_cast<uint64_t>(slot);
}

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

std::string MediaId(uint64_t seed, uint64_t media_key) {
  return absl::StrCat(
      "17", absl::Dec(Permute(Hash(kIdStream, seed), media_key), absl::kZeroPad15));
}

std::string IgId(uint64_t seed, uint64_t post_key) {
  return absl::StrCat("2", absl::Dec(Permute(Hash(kIdStream, seed, kIgIdSlot),
                                             post_key | kIgIdSlot),
                                     absl::kZeroPad15));
}

// 11 characters like Instagram's; the last 9 encode a permutation of the post
// key, so shortcodes are unique too.
std::string Shortcode(uint64_t seed, uint64_t post_key) {
  static constexpr absl::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t v = Permute(Hash(kShortcodeStream, seed), post_key);
  std::string code = {'B', kAlphabet[Hash(kShortcodeStream, seed, post_key) % 64]};
  for (int i = 0; i < 9; ++i, v >>= 6) code.push_back(kAlphabet[v & 63]);
  return code;
}

std::string UserId(int user) {
  return absl::StrCat("17841", absl::Dec(user, absl::kZeroPad10));
}

// ---------------------------------------------------------------------------
// Vocabulary. Non-ASCII words, emoji, quotes and backslashes are deliberate:
// they are what breaks naive JSON and search code.

// One tag in its spellings; a search for any of them should find the others.
using TagGroup = std::array<absl::string_view, 3>;

struct Topic {
  std::array<absl::string_view, 6> nouns;
  std::array<absl::string_view, 3> emoji;
  std::array<TagGroup, 3> tags;
  absl::string_view bio;
};

constexpr std::array<Topic, 10> kTopics = {{
    // cooking
    {{"pasta", "crème brûlée", "sourdough", "ramen", "tiramisu", "paella"},
     {"🍝", "🍰", "👩‍🍳"},
     {{{"Café", "cafe", "CAFÉ"},
       {"CrèmeBrûlée", "cremebrulee", "crèmebrûlée"},
       {"FoodPorn", "foodporn", "FOODPORN"}}},
     "Home cook. Pasta, crème brûlée & everything in between"},
    // travel
    {{"sunrise", "old town", "night train", "beach", "hostel", "road trip"},
     {"✈️", "🌍", "🏝️"},
     {{{"TravelGram", "travelgram", "TRAVELGRAM"},
       {"Wanderlust", "wanderlust", "WANDERLUST"},
       {"Zürich", "zurich", "ZÜRICH"}}},
     "Slow travel, fast trains"},
    // makeup
    {{"lipstick", "glow", "eyeliner", "palette", "highlighter", "blush"},
     {"💄", "✨", "💋"},
     {{{"MakeupTutorial", "makeuptutorial", "MAKEUPTUTORIAL"},
       {"Beauté", "beaute", "BEAUTÉ"},
       {"GlowUp", "glowup", "GLOWUP"}}},
     "MUA | tutorials every week"},
    // fashion
    {{"trench coat", "sneakers", "denim", "scarf", "handbag", "blazer"},
     {"👗", "👠", "🕶️"},
     {{{"OOTD", "ootd", "Ootd"},
       {"TrèsChic", "treschic", "TRÈSCHIC"},
       {"StreetStyle", "streetstyle", "STREETSTYLE"}}},
     "Outfits, thrift finds and the occasional splurge"},
    // fitness
    {{"deadlift", "morning run", "yoga flow", "protein bowl", "HIIT session",
      "rest day"},
     {"💪", "🔥", "🏃"},
     {{{"FitFam", "fitfam", "FITFAM"},
       {"Gym", "gym", "GYM"},
       {"Fitness", "fitness", "FITNESS"}}},
     "Coach. Strong > skinny"},
    // pets
    {{"puppy", "kitten", "ñandú", "parrot", "dog park", "cat nap"},
     {"🐶", "🐱", "🐾"},
     {{{"DogsOfInstagram", "dogsofinstagram", "DOGSOFINSTAGRAM"},
       {"Ñandú", "nandu", "ÑANDÚ"},
       {"CatLife", "catlife", "CATLIFE"}}},
     "Two dogs, one cat, zero chill"},
    // music
    {{"guitar riff", "vinyl", "setlist", "synth", "festival", "choir"},
     {"🎸", "🎶", "🎤"},
     {{{"LiveMusic", "livemusic", "LIVEMUSIC"},
       {"Música", "musica", "MÚSICA"},
       {"Vinyl", "vinyl", "VINYL"}}},
     "Songwriter. New single out now"},
    // tech
    {{"keyboard", "home lab", "laptop", "robot", "side project", "desk setup"},
     {"💻", "🤖", "⌨️"},
     {{{"DeskSetup", "desksetup", "DESKSETUP"},
       {"TechTok", "techtok", "TECHTOK"},
       {"Café", "cafe", "CAFÉ"}}},
     "I review gadgets so you don't have to"},
    // art
    {{"watercolor", "sketchbook", "mural", "canvas", "ink study", "collage"},
     {"🎨", "🖌️", "🖼️"},
     {{{"ArtistsOnInstagram", "artistsoninstagram", "ARTISTSONINSTAGRAM"},
       {"Aquarelle", "aquarelle", "AQUARELLE"},
       {"Sketch", "sketch", "SKETCH"}}},
     "Painter. Commissions open"},
    // gardening
    {{"tomatoes", "compost", "balcony garden", "sunflowers", "seedlings",
      "greenhouse"},
     {"🌱", "🌻", "🍅"},
     {{{"GardenLife", "gardenlife", "GARDENLIFE"},
       {"Jardín", "jardin", "JARDÍN"},
       {"PlantMom", "plantmom", "PLANTMOM"}}},
     "Growing food on a tiny balcony"},
}};

constexpr std::array<TagGroup, 4> kSharedTags = {{
    {"InstaGood", "instagood", "INSTAGOOD"},
    {"SãoPaulo", "saopaulo", "SÃOPAULO"},
    {"Москва", "москва", "МОСКВА"},
    {"TravelGram", "travelgram", "Travelgram"},
}};

constexpr std::array<absl::string_view, 10> kPlaces = {
    "São Paulo", "Zürich", "東京", "Москва", "Reykjavík",
    "Kraków",    "Lisboa", "Paris", "Ciudad de México", "Brooklyn"};

constexpr std::array<absl::string_view, 10> kAdjectives = {
    "cozy", "bold", "fresh", "perfect", "wild", "naïve", "golden",
    "messy", "crispy", "très chic"};

constexpr std::array<absl::string_view, 6> kEmoji = {"✨", "🔥", "❤️",
                                                    "😍", "🙌", "🌈"};

// {a} adjective, {n} noun, {p} place, {e} emoji, {d} a day number.
constexpr std::array<absl::string_view, 10> kSentences = {
    "Trying a {a} {n} today {e}",
    "Can't stop thinking about this {a} {n} from {p}!",
    "My \"secret\" {n} tip: keep it {a}.",
    "Found the most {a} {n} near {p} {e}",
    "Who else loves {n}? Tell me below 👇",
    "Back in {p} with my favourite {n}.",
    "Swipe → for more {n} {e}",
    "Day {d} of {n} season \\o/",
    "{n} + {n} = {e}",
    "Honest review: the {n} was {a}. 10/10 would go back to {p}.",
};

constexpr std::array<absl::string_view, 16> kHandleWords = {
    "sunny", "kitchen", "wander", "pixel", "velvet", "urban", "maple", "studio",
    "daily", "nomad",   "bloom",  "retro", "cosmic", "lens",  "coral", "atlas"};

constexpr std::array<absl::string_view, 10> kFirstNames = {
    "Maria", "José", "Zoë", "Łukasz", "Aiko", "Søren", "Chloé", "Mateo",
    "Olga",  "Sam"};
constexpr std::array<absl::string_view, 10> kLastNames = {
    "Rossi",  "Müller", "García", "Nowak", "山田",
    "Ivanova", "O'Brien", "Dubois", "Silva", "Núñez"};

// ---------------------------------------------------------------------------
// Creators.

constexpr int kCurrentPosts = 25;       // What the API returns each day.
constexpr int kHistoryDays = 730;       // Posts exist this long before the window.
constexpr int64_t kFollowerOrigin = 18262;  // 2020-01-01: t = 0 of follower curves.
constexpr double kTwoPi = 6.283185307179586;

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
  double followers0 = 0;   // Followers at kFollowerOrigin.
  double follower_trend = 0;  // Per day, as a fraction of followers0.
  double follower_phase = 0;
  double engagement = 0;   // Likes per follower on a typical post.
  double follows0 = 0;
  double follows_trend = 0;
  int64_t media0 = 0;      // Posts before the lake's history starts.
  int64_t ig_id = 0;
};

// Unique because the trailing digits are the user index and the words
// contain neither digits nor separators.
std::string Username(uint64_t seed, int user) {
  Rng rng(Hash(kNameStream, seed, user));
  static constexpr std::array<absl::string_view, 3> kSeparators = {".", "_", ""};
  const absl::string_view first = rng.Pick(kHandleWords);
  const absl::string_view sep = rng.Pick(kSeparators);
  const absl::string_view second = rng.Pick(kHandleWords);
  return absl::StrCat(first, sep, second, rng.Chance(0.5) ? "." : "_", user);
}

Creator MakeCreator(uint64_t seed, int user, double business_rate) {
  Rng rng(Hash(kCreatorStream, seed, user));
  Creator c;
  c.index = user;
  c.id = UserId(user);
  c.username = Username(seed, user);
  c.topic = &kTopics[rng.Below(static_cast<int>(kTopics.size()))];
  c.business = rng.Chance(business_rate);
  c.ascii_json = rng.Chance(0.5);
  // Log-uniform on [0.04, 2] has mean 0.50 posts/day; the slowest creators'
  // 25th newest post is well over a year old.
  c.posts_per_day = rng.LogUniform(0.04, 2.0);
  c.followers0 = rng.LogUniform(300, 1.5e6);
  c.follower_trend =
      c.business ? rng.Uniform(0.0003, 0.003) : rng.Uniform(-0.0002, 0.001);
  c.follower_phase = rng.Uniform(0, kTwoPi);
  c.engagement = rng.LogUniform(0.005, 0.08);
  c.follows0 = rng.LogUniform(20, 3000);
  c.follows_trend = rng.Uniform(0, 0.3);
  c.media0 = rng.Between(0, 2000);
  c.ig_id = rng.Between(100'000'000, 999'999'999);
  c.name = absl::StrCat(rng.Pick(kFirstNames), " ", rng.Pick(kLastNames));
  c.biography = absl::StrCat(c.topic->bio, " ", c.topic->emoji[0], "\n📍",
                             rng.Pick(kPlaces));
  if (c.business) {
    std::string code;
    for (int i = 0; i < 7; ++i) code.push_back("abcdefghjkmnpqrstuvwxyz23456789"[rng.Below(31)]);
    c.website = absl::StrCat("https://bit.ly/", code);
  }
  return c;
}

// Business accounts gain followers every day (follower_count is the daily
// difference, so it must never be negative); basic accounts drift up or down.
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
    f = c.followers0 * (1 + c.follower_trend * t + 0.003 * (jitter - 0.5) +
                        0.002 * weekly);
  }
  return std::max<int64_t>(0, static_cast<int64_t>(std::floor(f)));
}

// ---------------------------------------------------------------------------
// Timeline: which posts exist. Each day is drawn from its own seed.

struct TimelinePost {
  int64_t day = 0;
  int k = 0;  // Rank within the day.
  int second = 0;
};

std::vector<TimelinePost> BuildTimeline(uint64_t seed, const Creator& c,
                                        int64_t first_day, int64_t last_day) {
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

// ---------------------------------------------------------------------------
// Posts.

enum class MediaType { kImage, kCarousel, kVideo, kStoryImage, kStoryVideo };

bool IsStory(MediaType t) {
  return t == MediaType::kStoryImage || t == MediaType::kStoryVideo;
}

// What each metric grows toward as the post ages.
struct Plateau {
  double likes = 0, comments = 0, saved = 0, impressions = 0, reach = 0,
         video_views = 0, sticker_taps = 0, tap_backs = 0, swipe_ups = 0;
};

struct Post {
  TimelinePost when;
  uint64_t key = 0;
  MediaType type = MediaType::kImage;
  bool story_product_spelling = false;  // media_product_type + IMAGE|VIDEO.
  bool comments_enabled = true;
  int children = 0;
  std::string id;
  std::string caption;
  std::string mentioned_users;
  std::string hashtags;
  int64_t followers_at_post = 0;
  Plateau plateau;
};

MediaType DrawMediaType(Rng& rng) {
  const double u = rng.Uniform();
  if (u < 0.40) return MediaType::kImage;
  if (u < 0.60) return MediaType::kCarousel;
  if (u < 0.75) return MediaType::kVideo;
  if (u < 0.90) return MediaType::kStoryImage;
  return MediaType::kStoryVideo;
}

void AppendSentence(const Topic& topic, int64_t day, Rng& rng, std::string* out) {
  const absl::string_view tmpl = rng.Pick(kSentences);
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{' || i + 2 >= tmpl.size() || tmpl[i + 2] != '}') {
      out->push_back(tmpl[i]);
      continue;
    }
    switch (tmpl[i + 1]) {
      case 'a': absl::StrAppend(out, rng.Pick(kAdjectives)); break;
      case 'n': absl::StrAppend(out, rng.Pick(topic.nouns)); break;
      case 'p': absl::StrAppend(out, rng.Pick(kPlaces)); break;
      case 'e':
        absl::StrAppend(out, rng.Chance(0.5) ? rng.Pick(topic.emoji) : rng.Pick(kEmoji));
        break;
      default: absl::StrAppend(out, day % 100 + 1); break;
    }
    i += 2;
  }
}

// Caption tags and the `hashtags` field overlap in meaning but differ in
// spelling, as the search must treat #Café, #cafe and #CAFÉ as one tag.
void DrawTextAndTags(uint64_t seed, const Creator& c, int users, int64_t day,
                     Rng& rng, Post* post) {
  const int sentences = rng.Between(1, 3);
  for (int i = 0; i < sentences; ++i) {
    if (i > 0) post->caption.push_back(rng.Chance(0.3) ? '\n' : ' ');
    AppendSentence(*c.topic, day, rng, &post->caption);
  }

  const size_t mentions = static_cast<size_t>(std::min(users - 1, rng.Between(0, 2)));
  std::vector<int> others;
  while (others.size() < mentions) {
    int other = rng.Below(users - 1);
    if (other >= c.index) ++other;  // Never oneself.
    if (std::find(others.begin(), others.end(), other) == others.end()) others.push_back(other);
  }
  std::vector<std::string> mentioned;
  for (const int other : others) {
    mentioned.push_back(Username(seed, other));
    absl::StrAppend(&post->caption, mentioned.size() == 1 ? " 📸 with @" : " & @",
                    mentioned.back());
  }
  post->mentioned_users = absl::StrJoin(mentioned, ", ");

  // Candidate tags: the topic's own, then shared ones, shuffled.
  std::array<const TagGroup*, 7> pool;
  for (int i = 0; i < 3; ++i) pool[i] = &c.topic->tags[i];
  for (int i = 0; i < 4; ++i) pool[3 + i] = &kSharedTags[i];
  for (int i = 0; i < 6; ++i) std::swap(pool[i], pool[i + rng.Below(7 - i)]);

  const int in_caption = rng.Between(1, 4);
  std::array<int, 7> variant{};
  post->caption.push_back('\n');
  for (int i = 0; i < in_caption; ++i) {
    variant[i] = rng.Below(3);
    absl::StrAppend(&post->caption, i > 0 ? " #" : "#", (*pool[i])[variant[i]]);
  }
  const int in_field = rng.Between(0, 3);
  std::vector<absl::string_view> field;
  for (int i = 0; i < in_field; ++i) {
    if (rng.Chance(0.5)) {  // A caption tag, spelled differently.
      const int g = rng.Below(in_caption);
      field.push_back((*pool[g])[(variant[g] + 1) % 3]);
    } else {  // A tag not in the caption.
      field.push_back((*pool[in_caption + i])[rng.Below(3)]);
    }
  }
  std::sort(field.begin(), field.end());
  field.erase(std::unique(field.begin(), field.end()), field.end());
  post->hashtags = absl::StrJoin(field, ", ");
}

Plateau DrawPlateau(const Creator& c, MediaType type, bool comments_enabled,
                    int64_t followers, Rng& rng) {
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
  DrawTextAndTags(seed, c, users, when.day, rng, &post);
  post.followers_at_post = Followers(seed, c, when.day);
  post.plateau = DrawPlateau(c, post.type, post.comments_enabled,
                             post.followers_at_post, rng);
  return post;
}

struct Metrics {
  int64_t likes, comments, saved, impressions, reach, video_views,
      sticker_taps, tap_backs, swipe_ups;
};

// Metrics as the API client saw them at the end of `as_of_day`: fast growth
// in the first days, then a plateau where the rounded value stops changing.
Metrics MetricsAt(const Post& post, int64_t as_of_day) {
  const double age_days =
      static_cast<double>((as_of_day + 1 - post.when.day) * kSecondsPerDay - post.when.second) /
      kSecondsPerDay;
  // Stories live a day, so their numbers settle within hours.
  const double tau = IsStory(post.type) ? 0.25 : 1.5;
  const double g = 1 - std::exp(-age_days / tau);
  const auto grown = [g](double plateau) { return std::llround(plateau * g); };
  const Plateau& p = post.plateau;
  return {grown(p.likes),        grown(p.comments),     grown(p.saved),
          grown(p.impressions),  grown(p.reach),        grown(p.video_views),
          grown(p.sticker_taps), grown(p.tap_backs),    grown(p.swipe_ups)};
}

// Chosen by post id, so a post stays broken (in the same way) across days.
Malform MalformOf(uint64_t seed, double rate, uint64_t post_key) {
  const uint64_t h = Hash(kMalformStream, seed, post_key);
  if (static_cast<double>(h >> 11) * 0x1.0p-53 >= rate) return Malform::kNone;
  return static_cast<Malform>(Mix64(h) % kMalformKinds);
}

// ---------------------------------------------------------------------------
// JSON text. Built by appending to one reused string: a DOM per file would
// dominate the cost of writing a million files.

void AppendCodeUnit(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(unit >> shift) & 15]);
}

// Decodes one UTF-8 sequence (our text is valid UTF-8 by construction).
uint32_t DecodeUtf8(absl::string_view s, size_t* i) {
  const auto byte = [&s](size_t j) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[j]));
  };
  const uint32_t lead = byte(*i);
  const int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
  uint32_t cp = lead & (0x3F >> extra);
  for (int j = 1; j <= extra; ++j) cp = (cp << 6) | (byte(*i + j) & 0x3F);
  *i += extra + 1;
  return cp;
}

void AppendJsonString(absl::string_view s, bool ascii_only, std::string* out) {
  const auto verbatim = [ascii_only](unsigned char ch) {
    return ch >= 0x20 && ch != '"' && ch != '\\' && (ch < 0x80 || !ascii_only);
  };
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const size_t run = i;
    while (i < s.size() && verbatim(static_cast<unsigned char>(s[i]))) ++i;
    out->append(s.data() + run, i - run);
    if (i == s.size()) break;
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch == '"' || ch == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(ch));
      ++i;
    } else if (ch == '\n') {
      out->append("\\n");
      ++i;
    } else if (ch < 0x20) {
      AppendCodeUnit(ch, out);
      ++i;
    } else {
      const uint32_t cp = DecodeUtf8(s, &i);
      if (cp < 0x10000) {
        AppendCodeUnit(cp, out);
      } else {
        AppendCodeUnit(0xD800 + ((cp - 0x10000) >> 10), out);
        AppendCodeUnit(0xDC00 + ((cp - 0x10000) & 0x3FF), out);
      }
    }
  }
  out->push_back('"');
}

// Emits commas and colons; nesting needs no stack because a closed container
// is just another value to its parent.
class JsonWriter {
 public:
  JsonWriter(std::string* out, bool ascii_only) : out_(out), ascii_only_(ascii_only) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(absl::string_view key) {
    Separate();
    AppendJsonString(key, false, out_);
    out_->push_back(':');
    first_ = true;
  }
  void String(absl::string_view value) {
    Separate();
    AppendJsonString(value, ascii_only_, out_);
  }
  void Str(absl::string_view key, absl::string_view value) { Key(key); String(value); }
  void Int(absl::string_view key, int64_t value) {
    Key(key);
    Separate();
    absl::StrAppend(out_, value);
  }
  void Bool(absl::string_view key, bool value) {
    Key(key);
    Separate();
    out_->append(value ? "true" : "false");
  }

 private:
  void Separate() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  void Open(char c) {
    Separate();
    out_->push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_->push_back(c);
    first_ = false;
  }

  std::string* out_;
  bool ascii_only_;
  bool first_ = true;
};

// ---------------------------------------------------------------------------
// Run context.

struct Run {
  Options options;  // Resolved: absolute paths, cdn_url and truth filled in.
  bool advance = false;
  int64_t anchor = 0;        // First day any post exists.
  int64_t window_first = 0;  // First day whose posts and stats this run writes.
  int64_t today = 0;
  std::string posts_dir;
  std::string stats_dir;
};

std::string MediaUrl(const Run& run, const Creator& c, absl::string_view media_id,
                     absl::string_view extension) {
  return absl::StrCat(run.options.cdn_url, c.id, "/", media_id, extension);
}

void AppendPostJson(const Run& run, const Creator& c, const Post& post,
                    int64_t as_of_day, Malform malform, std::string* out) {
  const uint64_t seed = run.options.seed;
  const Metrics m = MetricsAt(post, as_of_day);
  const bool story = IsStory(post.type);
  const bool video = post.type == MediaType::kVideo || post.type == MediaType::kStoryVideo;

  if (malform == Malform::kArray) out->push_back('[');
  JsonWriter w(out, c.ascii_json);
  w.BeginObject();
  w.Str("caption", post.caption);
  if (!story) w.Int("comments_count", m.comments);
  if (malform != Malform::kMissingId) w.Str("id", post.id);
  w.Str("ig_id", IgId(seed, post.key));
  w.Bool("is_comment_enabled", post.comments_enabled);
  if (malform == Malform::kWrongType) {
    w.Str("like_count", "lots");
  } else if (!story) {
    w.Int("like_count", m.likes);
  }
  if (story && post.story_product_spelling) {
    w.Str("media_product_type", "STORY");
    w.Str("media_type", video ? "VIDEO" : "IMAGE");
  } else {
    static constexpr std::array<absl::string_view, 5> kTypeNames = {
        "IMAGE", "CAROUSEL_ALBUM", "VIDEO", "STORY_IMAGE", "STORY_VIDEO"};
    w.Str("media_type", kTypeNames[static_cast<int>(post.type)]);
  }
  switch (post.type) {
    case MediaType::kImage:
    case MediaType::kStoryImage:
      w.Str("media_url", MediaUrl(run, c, post.id, ".jpg"));
      break;
    case MediaType::kCarousel:
      w.Str("media_url", MediaUrl(run, c, MediaId(seed, post.key | 1), ".jpg"));
      break;
    case MediaType::kVideo:
      w.Str("media_url", MediaUrl(run, c, post.id, ".mp4"));
      w.Str("thumbnail_url", MediaUrl(run, c, post.id, ".jpg"));
      break;
    case MediaType::kStoryVideo:
      w.Str("thumbnail_url", MediaUrl(run, c, post.id, ".jpg"));
      break;
  }
  w.Key("owner");
  w.BeginObject();
  w.Str("id", c.id);
  w.Str("username", c.username);
  if (c.business) w.Int("followers_count", post.followers_at_post);
  w.EndObject();
  const std::string shortcode = Shortcode(seed, post.key);
  w.Str("permalink", absl::StrCat("https://www.instagram.com/p/", shortcode, "/"));
  w.Str("shortcode", shortcode);
  w.Str("timestamp", malform == Malform::kBadTimestamp
                         ? "yesterday, around 5pm"
                         : FormatTimestamp(post.when.day, post.when.second));
  w.Str("username", c.username);
  if (post.type == MediaType::kCarousel) {
    w.Key("children");
    w.BeginObject();
    w.Key("data");
    w.BeginArray();
    for (int child = 1; child <= post.children; ++child) {
      const std::string child_id = MediaId(seed, post.key | child);
      w.BeginObject();
      w.Str("id", child_id);
      w.Str("media_type", "IMAGE");
      w.Str("media_url", MediaUrl(run, c, child_id, ".jpg"));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.Str("mentioned_users", post.mentioned_users);
  w.Str("hashtags", post.hashtags);
  if (c.business) {
    w.Int("impressions", m.impressions);
    w.Int("reach", m.reach);
    if (story) {
      w.Int("sticker_taps", m.sticker_taps);
      w.Int("tap_backs", m.tap_backs);
      w.Int("swipe_ups", m.swipe_ups);
    } else {
      w.Int("engagement", m.likes + m.comments + m.saved);
      w.Int("saved", m.saved);
      if (post.type == MediaType::kVideo) w.Int("video_views", m.video_views);
    }
  }
  w.EndObject();
  if (malform == Malform::kArray) out->push_back(']');
  if (malform == Malform::kTruncated) out->resize(out->size() / 2);
  if (malform == Malform::kEmpty) out->clear();
}

void AppendStatsJson(const Run& run, const Creator& c, int64_t day,
                     int64_t media_count, std::string* out) {
  const uint64_t seed = run.options.seed;
  const int64_t followers = Followers(seed, c, day);
  const double t = static_cast<double>(day - kFollowerOrigin);
  JsonWriter w(out, c.ascii_json);
  w.BeginObject();
  w.Str("created_at", FormatDay(day));
  w.Str("biography", c.biography);
  w.Str("id", c.id);
  w.Int("ig_id", c.ig_id);
  w.Int("followers_count", followers);
  w.Int("follows_count", std::max<int64_t>(0, std::llround(c.follows0 + c.follows_trend * t)));
  w.Int("media_count", media_count);
  w.Str("name", c.name);
  w.Str("profile_picture_url", MediaUrl(run, c, "profile", ".jpg"));
  w.Str("username", c.username);
  if (c.business) {
    Rng rng(Hash(kStatsStream, seed, c.index, day));
    const auto fraction_of = [&rng](int64_t total, double lo, double hi) {
      return std::llround(static_cast<double>(total) * rng.Uniform(lo, hi));
    };
    const int64_t impressions = fraction_of(followers, 0.05, 0.3);
    const int64_t reach = fraction_of(impressions, 0.5, 0.9);
    const int64_t profile_views = fraction_of(reach, 0.01, 0.05);
    const auto few = [&rng](double mean) { return static_cast<int64_t>(rng.Poisson(mean)); };
    w.Str("website", c.website);
    w.Int("impressions", impressions);
    w.Int("reach", reach);
    w.Int("follower_count", followers - Followers(seed, c, day - 1));
    w.Int("email_contacts", few(0.3));
    w.Int("phone_call_clicks", few(0.2));
    w.Int("text_message_clicks", few(0.1));
    w.Int("get_directions_clicks", few(0.1));
    w.Int("website_clicks", fraction_of(profile_views, 0, 0.1));
    w.Int("profile_views", profile_views);
  }
  w.EndObject();
}

// ---------------------------------------------------------------------------
// Palettes and images. Each creator's images are drawn from a fixed palette
// with exact pixel areas, so a palette extractor can be checked against truth.

constexpr int kPaletteSize = 6;

struct PaletteColor {
  uint8_t r = 0, g = 0, b = 0;
  int weight = 0;  // In 1/10000 of the pixels.
};
using Palette = std::array<PaletteColor, kPaletteSize>;
constexpr int kWeightUnits = 10000;

struct Lab {
  double l, a, b;
};

Lab ToLab(const PaletteColor& c) {
  const auto linear = [](uint8_t v) {
    const double x = v / 255.0;
    return x <= 0.04045 ? x / 12.92 : std::pow((x + 0.055) / 1.055, 2.4);
  };
  const double r = linear(c.r), g = linear(c.g), b = linear(c.b);
  const double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const auto f = [](double v) {
    return v > 0.008856 ? std::cbrt(v) : 7.787 * v + 16.0 / 116;
  };
  return {116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

double Cie76(const Lab& p, const Lab& q) {
  return std::sqrt((p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) +
                   (p.b - q.b) * (p.b - q.b));
}

// Colours pairwise more than 25 apart in CIE76; weights in [0.05, 0.40]
// summing to exactly 1; sorted by weight, largest first.
Palette MakePalette(uint64_t seed, int user) {
  Rng rng(Hash(kPaletteStream, seed, user));
  Palette palette;
  std::array<Lab, kPaletteSize> labs;
  for (int i = 0; i < kPaletteSize;) {
    PaletteColor& c = palette[i];
    c.r = static_cast<uint8_t>(rng.Below(256));
    c.g = static_cast<uint8_t>(rng.Below(256));
    c.b = static_cast<uint8_t>(rng.Below(256));
    labs[i] = ToLab(c);
    bool distinct = true;
    for (int j = 0; j < i; ++j) distinct = distinct && Cie76(labs[i], labs[j]) > 25;
    if (distinct) ++i;
  }
  // 500 units each, the other 7000 split by a flat Dirichlet draw.
  constexpr int kMin = 500, kMax = 4000;
  for (;;) {
    std::array<double, kPaletteSize> share;
    double total = 0;
    for (double& s : share) total += s = -std::log(1 - rng.Uniform());
    int assigned = 0;
    for (int i = 0; i < kPaletteSize; ++i) {
      palette[i].weight = kMin + static_cast<int>(std::floor(share[i] / total * 7000));
      assigned += palette[i].weight;
    }
    palette[0].weight += kWeightUnits - assigned;
    if (std::all_of(palette.begin(), palette.end(),
                    [](const PaletteColor& c) { return c.weight <= kMax; })) {
      break;
    }
  }
  std::sort(palette.begin(), palette.end(),
            [](const PaletteColor& a, const PaletteColor& b) { return a.weight > b.weight; });
  return palette;
}

std::string HexColor(const PaletteColor& c) {
  return absl::StrCat("#", absl::Hex(c.r, absl::kZeroPad2), absl::Hex(c.g, absl::kZeroPad2),
                      absl::Hex(c.b, absl::kZeroPad2));
}

enum class Layout { kRows, kColumns, kDiagonal, kRings, kSquares };
constexpr int kLayouts = 5;

// Reused buffers of one worker thread.
struct Scratch {
  std::string text;
  std::vector<std::pair<int, int>> block_keys;  // (layout key, block index)
  std::vector<int> block_rank;
  std::vector<int> next_rank;
  cv::Mat image;
  std::vector<uchar> jpeg;
};

// JPEG's 4:2:0 macroblock: a flat 16x16 block comes back out of the codec
// with its colour, so colour boundaries are kept on block edges.
constexpr int kBlock = 16;

// Ranks the blocks of a size x size image in the layout's order (rows,
// distance from a centre, ...), ties by position.
void RankBlocks(Layout layout, Rng& rng, int size, Scratch* s) {
  const int blocks = (size + kBlock - 1) / kBlock;
  const int cx = rng.Below(blocks), cy = rng.Below(blocks);
  const auto key = [&](int x, int y) {
    switch (layout) {
      case Layout::kRows: return y;
      case Layout::kColumns: return x;
      case Layout::kDiagonal: return x + y;
      case Layout::kRings: return static_cast<int>(2 * std::hypot(x - cx, y - cy));
      case Layout::kSquares: return std::max(std::abs(x - cx), std::abs(y - cy));
    }
    return 0;
  };
  s->block_keys.clear();
  for (int y = 0; y < blocks; ++y) {
    for (int x = 0; x < blocks; ++x) s->block_keys.emplace_back(key(x, y), y * blocks + x);
  }
  std::sort(s->block_keys.begin(), s->block_keys.end());
  s->block_rank.resize(s->block_keys.size());
  for (size_t rank = 0; rank < s->block_keys.size(); ++rank) {
    s->block_rank[s->block_keys[rank].second] = static_cast<int>(rank);
  }
}

// Paints the pixels in block-rank order (scan order within a block), giving
// colour j the next weight_j * area pixels: areas are exact, and all but five
// blocks are flat.
void DrawImage(const Palette& palette, Layout layout, Rng& rng, int size, Scratch* s) {
  RankBlocks(layout, rng, size, s);
  const int blocks = (size + kBlock - 1) / kBlock;
  const auto rank_of = [&](int x, int y) {
    return s->block_rank[(y / kBlock) * blocks + x / kBlock];
  };
  // next_rank[b]: the pixel rank of the next pixel met in the block ranked b.
  s->next_rank.assign(s->block_rank.size(), 0);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; x += kBlock) {
      s->next_rank[rank_of(x, y)] += std::min(kBlock, size - x);
    }
  }
  for (int b = 0, start = 0; b < static_cast<int>(s->next_rank.size()); ++b) {
    start += std::exchange(s->next_rank[b], start);
  }

  // Exact pixel counts (floors, then the remainder a pixel at a time), the
  // colours in a random order.
  const int area = size * size;
  std::array<int, kPaletteSize> order = {0, 1, 2, 3, 4, 5};
  for (int i = 0; i < kPaletteSize - 1; ++i) {
    std::swap(order[i], order[i + rng.Below(kPaletteSize - i)]);
  }
  std::array<int64_t, kPaletteSize> count;
  int64_t assigned = 0;
  for (int j = 0; j < kPaletteSize; ++j) {
    count[j] = static_cast<int64_t>(palette[order[j]].weight) * area / kWeightUnits;
    assigned += count[j];
  }
  for (int j = 0; assigned < area; j = (j + 1) % kPaletteSize, ++assigned) ++count[j];
  std::array<int64_t, kPaletteSize> end;
  for (int j = 0, total = 0; j < kPaletteSize; ++j) end[j] = total += count[j];

  s->image.create(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    uchar* row = s->image.ptr<uchar>(y);
    for (int x = 0; x < size;) {  // One block's run of this row at a time.
      const int block_end = std::min(size, x - x % kBlock + kBlock);
      int& rank = s->next_rank[rank_of(x, y)];
      while (x < block_end) {
        int j = 0;
        while (rank >= end[j]) ++j;
        const int run = static_cast<int>(std::min<int64_t>(block_end - x, end[j] - rank));
        const PaletteColor& c = palette[order[j]];
        for (uchar* px = row + 3 * x; px < row + 3 * (x + run); px += 3) {
          px[0] = c.b;
          px[1] = c.g;
          px[2] = c.r;
        }
        x += run;
        rank += run;
      }
    }
  }
}

absl::Status EncodeJpeg(Scratch* s) {
  try {
    if (!cv::imencode(".jpg", s->image, s->jpeg, {cv::IMWRITE_JPEG_QUALITY, 90})) {
      return absl::InternalError("JPEG encoding failed");
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("JPEG encoding failed: ", e.what()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Files.

absl::Status ErrnoError(absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError("cannot create directory", path);
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Per-creator work.

absl::Status WriteImage(const Palette& palette, Layout layout, uint64_t image_seed,
                        int size, const std::string& dir, absl::string_view name,
                        Scratch* s) {
  Rng rng(image_seed);
  DrawImage(palette, layout, rng, size, s);
  SCOUT_RETURN_IF_ERROR(EncodeJpeg(s));
  return WriteFileAtomically(
      absl::StrCat(dir, "/", name),
      absl::string_view(reinterpret_cast<const char*>(s->jpeg.data()), s->jpeg.size()));
}

absl::Status WritePostImages(const Run& run, const Palette& palette, const Post& post,
                             const std::string& dir, Scratch* s, Summary* summary) {
  const uint64_t seed = run.options.seed;
  const int first = post.type == MediaType::kCarousel ? 1 : 0;
  const int last = post.type == MediaType::kCarousel ? post.children : 0;
  for (int slot = first; slot <= last; ++slot) {
    const uint64_t key = post.key | static_cast<uint64_t>(slot);
    const uint64_t image_seed = Hash(kImageStream, seed, key);
    const auto layout = static_cast<Layout>(image_seed % kLayouts);
    SCOUT_RETURN_IF_ERROR(WriteImage(palette, layout, image_seed, run.options.image_size,
                                     dir, absl::StrCat(MediaId(seed, key), ".jpg"), s));
    ++summary->images;
  }
  return absl::OkStatus();
}

// Writes the window's posts plus the creator's newest 25 (which may be older
// than the window for slow creators), as the API client would have.
absl::Status WritePosts(const Run& run, const Creator& c,
                        const std::vector<TimelinePost>& timeline, Scratch* s,
                        Summary* summary) {
  const Options& o = run.options;
  const int n = static_cast<int>(timeline.size());
  const int first_in_window = static_cast<int>(
      std::lower_bound(timeline.begin(), timeline.end(), run.window_first,
                       [](const TimelinePost& p, int64_t day) { return p.day < day; }) -
      timeline.begin());
  const int first = std::min(first_in_window, std::max(0, n - kCurrentPosts));
  if (first == n) return absl::OkStatus();

  const std::string dir = absl::StrCat(run.posts_dir, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  const std::string media_dir = absl::StrCat(o.cdn, "/", c.id);
  const Palette palette = MakePalette(o.seed, c.index);
  for (int i = first; i < n; ++i) {
    const Post post = MakePost(o.seed, c, o.users, timeline[i]);
    // A post stops being updated once 25 newer posts exist: its metrics are
    // those of the day before its 25th newer post appeared.
    const int64_t as_of_day =
        i + kCurrentPosts < n ? std::max(post.when.day, timeline[i + kCurrentPosts].day - 1)
                              : run.today;
    const Malform malform = MalformOf(o.seed, o.malformed_rate, post.key);
    s->text.clear();
    AppendPostJson(run, c, post, as_of_day, malform, &s->text);
    SCOUT_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", absl::StrCat(post.id, ".json")), s->text));
    if (malform != Malform::kNone) ++summary->malformed[static_cast<int>(malform)];

    const bool is_new = !run.advance || i >= first_in_window;
    ++(is_new ? summary->posts_new : summary->posts_rewritten);
    if (is_new && !o.no_media) {
      SCOUT_RETURN_IF_ERROR(MakeDir(media_dir));
      SCOUT_RETURN_IF_ERROR(WritePostImages(run, palette, post, media_dir, s, summary));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteStats(const Run& run, const Creator& c,
                        const std::vector<TimelinePost>& timeline, Scratch* s,
                        Summary* summary) {
  const std::string dir = absl::StrCat(run.stats_dir, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  for (int64_t day = run.window_first; day <= run.today; ++day) {
    const auto published =
        std::upper_bound(timeline.begin(), timeline.end(), day,
                         [](int64_t d, const TimelinePost& p) { return d < p.day; });
    const int64_t media_count = c.media0 + (published - timeline.begin());
    s->text.clear();
    AppendStatsJson(run, c, day, media_count, &s->text);
    SCOUT_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", absl::StrCat(FormatDay(day), ".json")), s->text));
    ++summary->stats;
  }
  return absl::OkStatus();
}

absl::Status WriteProfilePicture(const Run& run, const Creator& c, Scratch* s,
                                 Summary* summary) {
  const Options& o = run.options;
  const std::string dir = absl::StrCat(o.cdn, "/", c.id);
  SCOUT_RETURN_IF_ERROR(MakeDir(dir));
  SCOUT_RETURN_IF_ERROR(WriteImage(MakePalette(o.seed, c.index), Layout::kRings,
                                   Hash(kProfileStream, o.seed, c.index),
                                   o.image_size, dir, "profile.jpg", s));
  ++summary->profile_pictures;
  return absl::OkStatus();
}

absl::Status WriteCreator(const Run& run, int user, Scratch* s, Summary* summary) {
  const Options& o = run.options;
  const Creator c = MakeCreator(o.seed, user, o.business_rate);
  const std::vector<TimelinePost> timeline = BuildTimeline(o.seed, c, run.anchor, run.today);
  SCOUT_RETURN_IF_ERROR(WritePosts(run, c, timeline, s, summary));
  SCOUT_RETURN_IF_ERROR(WriteStats(run, c, timeline, s, summary));
  if (!run.advance && !o.no_media) SCOUT_RETURN_IF_ERROR(WriteProfilePicture(run, c, s, summary));
  return absl::OkStatus();
}

void AddTo(const Summary& part, Summary* total) {
  total->posts_new += part.posts_new;
  total->posts_rewritten += part.posts_rewritten;
  total->stats += part.stats;
  total->images += part.images;
  total->profile_pictures += part.profile_pictures;
  for (int i = 0; i < kMalformKinds; ++i) total->malformed[i] += part.malformed[i];
}

// Creators are handed out one at a time; each one's files depend only on its
// index, so the output is the same for any thread count.
absl::Status WriteAllCreators(const Run& run, int threads, Summary* total) {
  std::atomic<int> next_user{0};
  std::atomic<bool> failed{false};
  std::vector<Summary> parts(threads);
  std::vector<absl::Status> statuses(threads);
  const auto work = [&](int t) {
    Scratch scratch;
    for (int user; !failed && (user = next_user++) < run.options.users;) {
      statuses[t] = WriteCreator(run, user, &scratch, &parts[t]);
      if (!statuses[t].ok()) failed = true;
    }
  };
  std::vector<std::thread> pool;
  absl::Status spawn_status;
  try {
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  } catch (const std::system_error& e) {
    spawn_status = absl::ResourceExhaustedError(absl::StrCat("cannot start threads: ", e.what()));
    failed = true;
  }
  work(0);
  for (std::thread& th : pool) th.join();
  SCOUT_RETURN_IF_ERROR(spawn_status);
  for (int t = 0; t < threads; ++t) {
    SCOUT_RETURN_IF_ERROR(statuses[t]);
    AddTo(parts[t], total);
  }
  return absl::OkStatus();
}

absl::Status WriteTruth(const Options& o) {
  nlohmann::ordered_json truth = nlohmann::ordered_json::object();
  for (int user = 0; user < o.users; ++user) {
    nlohmann::ordered_json colors = nlohmann::ordered_json::array();
    for (const PaletteColor& c : MakePalette(o.seed, user)) {
      colors.push_back({{"red", c.r},
                        {"green", c.g},
                        {"blue", c.b},
                        {"hex", HexColor(c)},
                        {"percentage", static_cast<double>(c.weight) / kWeightUnits}});
    }
    truth[UserId(user)] = std::move(colors);
  }
  return WriteFileAtomically(o.truth, truth.dump(1) + "\n");
}

// ---------------------------------------------------------------------------
// Generator state (<lake>/_genlake.json).

constexpr absl::string_view kStateFile = "_genlake.json";

// Fails only on paths that are not UTF-8, which JSON cannot hold.
absl::StatusOr<std::string> StateJson(const Options& o, int64_t anchor) {
  const nlohmann::ordered_json state = {
      {"seed", o.seed},
      {"users", o.users},
      {"days", o.days},
      {"today", FormatDay(DayNumber(o.today))},
      {"anchor", FormatDay(anchor)},
      {"business_rate", o.business_rate},
      {"malformed_rate", o.malformed_rate},
      {"image_size", o.image_size},
      {"no_media", o.no_media},
      {"cdn", o.cdn},
      {"cdn_url", o.cdn_url},
      {"truth", o.truth},
  };
  try {
    return state.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("paths must be UTF-8: ", e.what()));
  }
}

absl::StatusOr<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("not a YYYY-MM-DD date: '", text, "'"));
  }
  return day;
}

struct State {
  Options options;
  int64_t anchor = 0;
};

absl::StatusOr<State> ParseState(const std::string& text, const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&path](absl::string_view key) {
    return absl::DataLossError(absl::StrCat(path, ": missing or mistyped \"", key, "\""));
  };
  if (!j.is_object()) return absl::DataLossError(absl::StrCat(path, ": not a JSON object"));
  const auto has = [&j](const char* key, nlohmann::json::value_t type) {
    const auto it = j.find(key);
    return it != j.end() && (it->type() == type ||
                             (type == nlohmann::json::value_t::number_integer &&
                              it->is_number_unsigned()) ||
                             (type == nlohmann::json::value_t::number_float && it->is_number()));
  };
  using T = nlohmann::json::value_t;
  for (const char* key : {"users", "days", "image_size"}) {
    if (!has(key, T::number_integer)) return bad(key);
  }
  for (const char* key : {"business_rate", "malformed_rate"}) {
    if (!has(key, T::number_float)) return bad(key);
  }
  for (const char* key : {"today", "anchor", "cdn", "cdn_url", "truth"}) {
    if (!has(key, T::string)) return bad(key);
  }
  if (!has("seed", T::number_unsigned)) return bad("seed");
  if (!has("no_media", T::boolean)) return bad("no_media");

  State state;
  Options& o = state.options;
  o.seed = j["seed"].get<uint64_t>();
  o.users = j["users"].get<int>();
  o.days = j["days"].get<int>();
  o.image_size = j["image_size"].get<int>();
  o.business_rate = j["business_rate"].get<double>();
  o.malformed_rate = j["malformed_rate"].get<double>();
  o.no_media = j["no_media"].get<bool>();
  o.cdn = j["cdn"].get<std::string>();
  o.cdn_url = j["cdn_url"].get<std::string>();
  o.truth = j["truth"].get<std::string>();
  SCOUT_ASSIGN_OR_RETURN(o.today, ParseDay(j["today"].get<std::string>()));
  SCOUT_ASSIGN_OR_RETURN(const absl::CivilDay anchor, ParseDay(j["anchor"].get<std::string>()));
  state.anchor = DayNumber(anchor);
  return state;
}

// ---------------------------------------------------------------------------
// Option checks and defaults.

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  std::string out = (ec ? std::filesystem::path(path) : abs).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool IsInside(const std::string& path, const std::string& dir) {
  return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

absl::Status Validate(const Options& o, int threads) {
  const auto bad = [](absl::string_view msg) { return absl::InvalidArgumentError(msg); };
  if (o.lake.empty()) return bad("--lake is required (or set SCOUT_LAKE)");
  if (o.users < 1 || o.users > kMaxUsers) {
    return bad(absl::StrCat("--users must be in [1, ", kMaxUsers, "]"));
  }
  if (o.days < 1 || o.days > 3650) return bad("--days must be in [1, 3650]");
  if (o.image_size < 8 || o.image_size > 4096) return bad("--image-size must be in [8, 4096]");
  const auto is_rate = [](double p) { return p >= 0 && p <= 1; };  // False for NaN.
  if (!is_rate(o.business_rate)) return bad("--business-rate must be in [0, 1]");
  if (!is_rate(o.malformed_rate)) return bad("--malformed-rate must be in [0, 1]");
  if (!o.no_media && o.cdn.empty()) return bad("--cdn is required unless --no-media");
  if (threads < 1 || threads > 256) return bad("--threads must be in [1, 256]");
  if (IsInside(o.truth, o.lake)) {
    return bad(absl::StrCat("--truth must be outside the lake: ", o.truth));
  }
  return absl::OkStatus();
}

// Without a CDN the URLs still need a host; .invalid never resolves.
constexpr absl::string_view kNoCdnUrl = "https://cdn.genlake.invalid/";

Options Resolve(Options o) {
  o.lake = AbsolutePath(o.lake);
  if (!o.cdn.empty()) o.cdn = AbsolutePath(o.cdn);
  if (o.cdn_url.empty()) {
    o.cdn_url = o.cdn.empty() ? std::string(kNoCdnUrl) : absl::StrCat("file://", o.cdn, "/");
  }
  if (o.cdn_url.back() != '/') o.cdn_url.push_back('/');
  if (!o.truth.empty()) {
    o.truth = AbsolutePath(o.truth);
  } else if (!o.cdn.empty()) {
    o.truth = absl::StrCat(o.cdn, "/truth.json");
  }
  return o;
}

Run MakeRun(const Options& o, int64_t anchor, bool advance) {
  Run run;
  run.options = o;
  run.advance = advance;
  run.anchor = anchor;
  run.today = DayNumber(o.today);
  run.window_first = advance ? run.today : run.today - o.days + 1;
  run.posts_dir = absl::StrCat(o.lake, "/instagram_graph/posts");
  run.stats_dir = absl::StrCat(o.lake, "/instagram_graph/stats");
  return run;
}

absl::StatusOr<Summary> Execute(const Run& run, int threads) {
  const auto start = std::chrono::steady_clock::now();
  const Options& o = run.options;
  SCOUT_ASSIGN_OR_RETURN(const std::string state, StateJson(o, run.anchor));
  SCOUT_RETURN_IF_ERROR(MakeDirs(run.posts_dir));
  SCOUT_RETURN_IF_ERROR(MakeDirs(run.stats_dir));
  if (!o.no_media) SCOUT_RETURN_IF_ERROR(MakeDirs(o.cdn));

  Summary summary;
  summary.advanced = run.advance;
  summary.today = o.today;
  summary.users = o.users;
  SCOUT_RETURN_IF_ERROR(WriteAllCreators(run, threads, &summary));
  if (!run.advance && !o.no_media) SCOUT_RETURN_IF_ERROR(WriteTruth(o));
  // Last, so an interrupted run leaves the previous state and can be rerun.
  SCOUT_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(o.lake, "/", kStateFile), state));
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace

const char* MalformName(Malform kind) {
  switch (kind) {
    case Malform::kNone: return "none";
    case Malform::kEmpty: return "empty";
    case Malform::kTruncated: return "truncated";
    case Malform::kWrongType: return "wrong_type";
    case Malform::kMissingId: return "missing_id";
    case Malform::kBadTimestamp: return "bad_timestamp";
    case Malform::kArray: return "array";
  }
  return "unknown";
}

absl::StatusOr<Summary> Generate(const Options& options, int threads) {
  const Options o = Resolve(options);
  SCOUT_RETURN_IF_ERROR(Validate(o, threads));
  const int64_t anchor = DayNumber(o.today) - o.days + 1 - kHistoryDays;

  const std::string state_path = absl::StrCat(o.lake, "/", kStateFile);
  std::error_code ec;
  if (std::filesystem::exists(state_path, ec)) {
    SCOUT_ASSIGN_OR_RETURN(const std::string existing, ReadFile(state_path));
    SCOUT_ASSIGN_OR_RETURN(const std::string requested, StateJson(o, anchor));
    if (existing != requested) {
      return absl::FailedPreconditionError(absl::StrCat(
          o.lake, " holds a lake generated with other options (", state_path,
          "); use --advance or an empty directory"));
    }
  }
  return Execute(MakeRun(o, anchor, /*advance=*/false), threads);
}

absl::StatusOr<Summary> Advance(const std::string& lake, int threads) {
  const std::string state_path = absl::StrCat(AbsolutePath(lake), "/", kStateFile);
  SCOUT_ASSIGN_OR_RETURN(const std::string text, ReadFile(state_path));
  SCOUT_ASSIGN_OR_RETURN(State state, ParseState(text, state_path));
  // The lake may have been moved since it was generated.
  state.options.lake = AbsolutePath(lake);
  SCOUT_RETURN_IF_ERROR(Validate(state.options, threads));
  state.options.today += 1;
  return Execute(MakeRun(state.options, state.anchor, /*advance=*/true), threads);
}

std::string SummaryToJson(const Summary& s) {
  nlohmann::ordered_json malformed = nlohmann::ordered_json::object();
  for (int i = 0; i < kMalformKinds; ++i) {
    malformed[MalformName(static_cast<Malform>(i))] = s.malformed[i];
  }
  const int64_t files = s.posts_new + s.posts_rewritten + s.stats + s.images + s.profile_pictures;
  const nlohmann::ordered_json out = {
      {"mode", s.advanced ? "advance" : "generate"},
      {"today", FormatDay(DayNumber(s.today))},
      {"users", s.users},
      {"posts", s.posts_new + s.posts_rewritten},
      {"files",
       {{"posts_new", s.posts_new},
        {"posts_rewritten", s.posts_rewritten},
        {"stats", s.stats},
        {"images", s.images},
        {"profile_pictures", s.profile_pictures}}},
      {"malformed", std::move(malformed)},
      {"seconds", std::round(s.seconds * 1000) / 1000},
      {"files_per_second", s.seconds > 0 ? std::round(files / s.seconds) : 0.0},
  };
  return out.dump();
}

}  // namespace scout::genlake
