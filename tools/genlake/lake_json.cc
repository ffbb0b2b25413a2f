#include "tools/genlake/lake_json.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/text.h"
#include "common/base/time.h"
#include "tools/genlake/random.h"

namespace scout::genlake {
namespace {

void AppendCodeUnit(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(unit >> shift) & 15]);
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
      // Our text is valid UTF-8 by construction (paths were checked by
      // StateJson); a stray byte would still come out as U+FFFD.
      const int32_t decoded = NextCodePoint(s, i);
      const uint32_t cp = decoded < 0 ? 0xFFFD : static_cast<uint32_t>(decoded);
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
  void Str(absl::string_view key, absl::string_view value) {
    Key(key);
    String(value);
  }
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

std::string MediaUrl(const Options& o, const Creator& c, absl::string_view media_id,
                     absl::string_view extension) {
  return absl::StrCat(o.cdn_url, c.id, "/", media_id, extension);
}

}  // namespace

void AppendPostJson(const Options& options, const Creator& c, const Post& post, int64_t as_of_day,
                    Malform malform, std::string* out) {
  const uint64_t seed = options.seed;
  const Metrics m = MetricsAt(post, as_of_day);
  const bool story = IsStory(post.type);
  const bool video = post.type == MediaType::kVideo || post.type == MediaType::kStoryVideo;

  if (malform == Malform::kArray) out->push_back('[');
  JsonWriter w(out, c.ascii_json);
  w.BeginObject();
  w.Str("caption", post.text.caption);
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
      w.Str("media_url", MediaUrl(options, c, post.id, ".jpg"));
      break;
    case MediaType::kCarousel:
      w.Str("media_url", MediaUrl(options, c, MediaId(seed, post.key | 1), ".jpg"));
      break;
    case MediaType::kVideo:
      w.Str("media_url", MediaUrl(options, c, post.id, ".mp4"));
      w.Str("thumbnail_url", MediaUrl(options, c, post.id, ".jpg"));
      break;
    case MediaType::kStoryVideo:
      w.Str("thumbnail_url", MediaUrl(options, c, post.id, ".jpg"));
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
      w.Str("media_url", MediaUrl(options, c, child_id, ".jpg"));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.Str("mentioned_users", post.text.mentioned_users);
  w.Str("hashtags", post.text.hashtags);
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

void AppendStatsJson(const Options& options, const Creator& c, int64_t day, int64_t media_count,
                     std::string* out) {
  const uint64_t seed = options.seed;
  const int64_t followers = Followers(seed, c, day);
  const double t = static_cast<double>(day - kFollowerOrigin);
  JsonWriter w(out, c.ascii_json);
  w.BeginObject();
  w.Str("created_at", FormatDay(StartOfDay(day)));
  w.Str("biography", c.biography);
  w.Str("id", c.id);
  w.Int("ig_id", c.ig_id);
  w.Int("followers_count", followers);
  w.Int("follows_count", std::max<int64_t>(0, std::llround(c.follows0 + c.follows_trend * t)));
  w.Int("media_count", media_count);
  w.Str("name", c.name);
  w.Str("profile_picture_url", MediaUrl(options, c, "profile", ".jpg"));
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

}  // namespace scout::genlake
