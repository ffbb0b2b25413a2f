#include "client/format.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/base/text.h"
#include "common/base/tier.h"
#include "common/base/time.h"

namespace scout::client {
namespace {

constexpr size_t kCaptionWidth = 160;

std::string MediaTypeLabel(scout::v1::MediaType type) {
  std::string name = scout::v1::MediaType_Name(type);
  return absl::StrReplaceAll(name.substr(std::string("MEDIA_TYPE_").size()), {{"_", " "}});
}

// Cuts at a UTF-8 boundary so a multibyte character is never split.
std::string Shorten(std::string text) {
  text = absl::StrReplaceAll(text, {{"\n", " "}});
  if (text.size() <= kCaptionWidth) return text;
  size_t cut = kCaptionWidth;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

}  // namespace

std::string FormatSearch(const scout::v1::SearchPostsResponse& response) {
  std::string out = absl::StrCat(response.total_size_is_lower_bound() ? "at least " : "",
                                 response.total_size(), " posts\n");
  int n = 0;
  for (const scout::v1::Post& post : response.posts()) {
    absl::StrAppend(
        &out, "\n", ++n, ". @", post.username(), " · ", MediaTypeLabel(post.media_type()), " · ",
        absl::FormatTime("%Y-%m-%d %H:%M", FromTimestamp(post.timestamp()), absl::UTCTimeZone()),
        " UTC · id ", post.id(), "\n   ");
    if (post.has_like_count()) absl::StrAppend(&out, post.like_count(), " likes · ");
    if (post.has_comments_count()) absl::StrAppend(&out, post.comments_count(), " comments · ");
    absl::StrAppend(&out, "engagement ", post.engagement());
    if (post.has_reach()) absl::StrAppend(&out, " · reach ", post.reach());
    const std::string& caption = post.highlight().empty() ? post.caption() : post.highlight();
    absl::StrAppend(&out, "\n   ",
                    Shorten(absl::StrReplaceAll(caption, {{"<em>", "["}, {"</em>", "]"}})), "\n");
    if (!post.media_url().empty()) absl::StrAppend(&out, "   ", post.media_url(), "\n");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "\nmore: --page_token ", response.next_page_token(), "\n");
  }
  return out;
}

std::string Sparkline(const std::vector<int64_t>& values) {
  static constexpr const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty()) return "";
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  std::string out;
  for (int64_t v : values) {
    const double scaled = *hi == *lo ? 0.5 : static_cast<double>(v - *lo) / (*hi - *lo);
    out += kBlocks[std::min(7, static_cast<int>(scaled * 8))];
  }
  return out;
}

std::string FormatProfile(const scout::v1::UserProfile& p) {
  std::string out = absl::StrCat("@", p.username(), " · ", p.name(), " · id ", p.id(),
                                 p.is_business() ? " · business" : " · basic", "\n");
  if (!p.biography().empty()) absl::StrAppend(&out, "  ", Shorten(p.biography()), "\n");
  if (!p.website().empty()) absl::StrAppend(&out, "  ", p.website(), "\n");
  // Unknown counts are left out rather than shown as 0.
  absl::StrAppend(&out, "  ", p.followers_count(), " followers");
  if (p.has_follows_count()) absl::StrAppend(&out, " · ", p.follows_count(), " following");
  if (p.has_media_count()) absl::StrAppend(&out, " · ", p.media_count(), " posts");
  absl::StrAppend(&out, " · facts as of ", p.as_of(), "\n");
  absl::StrAppend(&out, "  last 30 days: ", p.doc_count(), " posts");
  if (p.has_eng_avg()) absl::StrAppend(&out, absl::StrFormat(" · eng_avg %.1f", p.eng_avg()));
  if (p.has_engagement_rate()) {
    absl::StrAppend(&out, absl::StrFormat(" · engagement rate %.2f%%", 100 * p.engagement_rate()));
  }
  if (p.has_fol_avg()) absl::StrAppend(&out, absl::StrFormat(" · fol_avg %.0f", p.fol_avg()));
  if (p.has_follower_growth_30d()) {
    absl::StrAppend(&out, absl::StrFormat(" · growth %+.2f%%", 100 * p.follower_growth_30d()));
  }
  absl::StrAppend(&out, "\n");
  std::vector<int64_t> followers, impressions, reach;
  for (const scout::v1::DailyStat& day : p.daily()) {
    followers.push_back(day.followers());
    if (day.has_impressions()) impressions.push_back(day.impressions());
    if (day.has_reach()) reach.push_back(day.reach());
  }
  if (!p.daily().empty()) {
    absl::StrAppend(&out, "  ", p.daily(0).date(), " .. ", p.daily(p.daily_size() - 1).date(), " (",
                    p.daily_size(), " days)\n");
  }
  for (const auto& [label, series] :
       {std::pair{"followers  ", &followers}, std::pair{"impressions", &impressions},
        std::pair{"reach      ", &reach}}) {
    if (series->empty()) continue;
    absl::StrAppend(&out, "  ", label, " ", Sparkline(*series), " ", series->back(), "\n");
  }
  if (!p.palette().colors().empty()) {
    absl::StrAppend(&out, "  palette:");
    for (const scout::v1::Color& c : p.palette().colors()) {
      absl::StrAppend(&out, absl::StrFormat(" %s %.0f%%", c.hex(), 100 * c.percentage()));
    }
    absl::StrAppend(&out, "\n");
  }
  if (!p.recent_posts_error().empty()) {
    absl::StrAppend(&out, "  recent posts unavailable: ", p.recent_posts_error(), "\n");
  }
  for (const scout::v1::Post& post : p.recent_posts()) {
    absl::StrAppend(
        &out, "  · ",
        absl::FormatTime("%Y-%m-%d", FromTimestamp(post.timestamp()), absl::UTCTimeZone()), " ",
        MediaTypeLabel(post.media_type()), " ", Shorten(post.caption()), "\n");
  }
  return out;
}

namespace {

// Cumulative rounding: segment i ends at round(total * sum of the first i
// percentages), so the segments tile [0, total] without gaps or overlap.
std::vector<int> Segments(const scout::v1::Palette& palette, int total) {
  std::vector<int> ends;
  double sum = 0;
  for (const scout::v1::Color& c : palette.colors()) {
    sum += c.percentage();
    ends.push_back(std::min(total, static_cast<int>(std::lround(sum * total))));
  }
  if (!ends.empty()) ends.back() = total;
  return ends;
}

std::string Background(const scout::v1::Color& c) {
  return absl::StrCat("\x1b[48;2;", c.red(), ";", c.green(), ";", c.blue(), "m");
}

}  // namespace

std::string FormatPalette(const scout::v1::Palette& palette) {
  constexpr int kBarWidth = 60;
  constexpr const char* kReset = "\x1b[0m";
  std::string out = absl::StrCat("palette of ", palette.user_id(), " · ", palette.image_count(),
                                 " images · ", palette.pixel_count(), " sampled pixels");
  if (palette.has_computed_at()) {
    absl::StrAppend(&out, " · computed ",
                    absl::FormatTime("%Y-%m-%d %H:%M", FromTimestamp(palette.computed_at()),
                                     absl::UTCTimeZone()),
                    " UTC");
  }
  absl::StrAppend(&out, "\n  ");
  const std::vector<int> ends = Segments(palette, kBarWidth);
  for (int i = 0, start = 0; i < palette.colors_size(); start = ends[i++]) {
    absl::StrAppend(&out, Background(palette.colors(i)), std::string(ends[i] - start, ' '));
  }
  absl::StrAppend(&out, kReset, "\n");
  for (const scout::v1::Color& c : palette.colors()) {
    absl::StrAppend(&out, "  ", Background(c), "      ", kReset, " ", c.hex(),
                    absl::StrFormat("  %5.1f%%", 100 * c.percentage()), "  rgb(", c.red(), ", ",
                    c.green(), ", ", c.blue(), ")\n");
  }
  return out;
}

std::string PaletteSvg(const scout::v1::Palette& palette, int width, int height) {
  std::string out = absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", width,
                                 "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
                                 "\">\n  <title>palette of ", palette.user_id(), "</title>\n");
  const std::vector<int> ends = Segments(palette, width);
  for (int i = 0, start = 0; i < palette.colors_size(); start = ends[i++]) {
    const scout::v1::Color& c = palette.colors(i);
    // The hex comes from the server: only "#rrggbb" goes into the markup.
    const std::string fill =
        absl::StrFormat("#%02x%02x%02x", std::clamp(c.red(), 0, 255), std::clamp(c.green(), 0, 255),
                        std::clamp(c.blue(), 0, 255));
    absl::StrAppend(&out, "  <rect x=\"", start, "\" y=\"0\" width=\"", ends[i] - start,
                    "\" height=\"", height, "\" fill=\"", fill, "\"><title>", fill,
                    absl::StrFormat(" %.1f%%", 100 * c.percentage()), "</title></rect>\n");
  }
  absl::StrAppend(&out, "</svg>\n");
  return out;
}

namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kNoBold = "\x1b[22m";
constexpr const char* kResetAll = "\x1b[0m";
constexpr size_t kBioWidth = 200;

// Server text may hold anything a creator typed, including ESC: C0/C1
// controls and DEL become spaces so they cannot drive the terminal, and
// invalid UTF-8 is replaced.
std::string Printable(absl::string_view text) {
  const std::string valid = ToValidUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (size_t pos = 0; pos < valid.size();) {
    const size_t start = pos;
    const int32_t c = NextCodePoint(valid, pos);
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
      out += ' ';
    } else {
      out.append(valid, start, pos - start);
    }
  }
  return out;
}

std::string Percent(double fraction, int decimals) {
  return absl::StrFormat("%.*f%%", decimals, 100 * fraction);
}

std::string Ordinal(int n) {
  const int tens = n % 100, ones = n % 10;
  const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                       : ones == 1                ? "st"
                       : ones == 2                ? "nd"
                       : ones == 3                ? "rd"
                                                  : "th";
  return absl::StrCat(n, suffix);
}

// The swatch's colour and the hex printed beside it both come from the
// channels (clamped), never from the server's hex text.
std::string Swatch(const scout::v1::Color& c, TextStyle style) {
  const int r = std::clamp(c.red(), 0, 255), g = std::clamp(c.green(), 0, 255),
            b = std::clamp(c.blue(), 0, 255);
  std::string out;
  if (style.color) absl::StrAppend(&out, "\x1b[48;2;", r, ";", g, ";", b, "m  ", kResetAll, " ");
  absl::StrAppend(&out, absl::StrFormat("#%02x%02x%02x %s", r, g, b, Percent(c.percentage(), 0)));
  return out;
}

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", FromTimestamp(t), absl::UTCTimeZone());
}

std::string FormatCreator(const scout::v1::Creator& c, TextStyle style) {
  const std::string tier(TierSlug(c.tier()));
  std::string out = absl::StrCat(style.color ? kBold : "", "@", Printable(c.username()),
                                 style.color ? kNoBold : "");
  if (!c.name().empty()) absl::StrAppend(&out, " · ", Printable(c.name()));
  absl::StrAppend(&out, " · id ", Printable(c.id()));
  if (!tier.empty()) absl::StrAppend(&out, " · ", tier);
  absl::StrAppend(&out, c.is_business() ? " · business" : " · basic", "\n");

  absl::StrAppend(&out, "   ", GroupThousands(c.followers_count()), " followers");
  if (c.has_engagement_rate()) {
    absl::StrAppend(&out, " · engagement ", Percent(c.engagement_rate(), 2));
    if (c.has_engagement_percentile()) {
      absl::StrAppend(&out, " (", Ordinal(static_cast<int>(std::lround(c.engagement_percentile()))),
                      " percentile", tier.empty() ? "" : " of " + tier, ")");
    }
  }
  if (c.has_eng_avg()) absl::StrAppend(&out, absl::StrFormat(" · eng_avg %.1f", c.eng_avg()));
  absl::StrAppend(&out, " · ", c.posts_30d(), " posts in 30 days");
  if (c.has_last_post_at()) absl::StrAppend(&out, " · last post ", Day(c.last_post_at()));
  absl::StrAppend(&out, "\n");

  if (c.has_follower_growth_30d() || !c.followers_daily().empty()) {
    absl::StrAppend(&out, "   growth");
    if (c.has_follower_growth_30d()) {
      absl::StrAppend(&out, " ", absl::StrFormat("%+.2f%%", 100 * c.follower_growth_30d()),
                      " in 30 days");
    }
    if (!c.followers_daily().empty()) {
      absl::StrAppend(
          &out, "  ",
          Sparkline(std::vector<int64_t>(c.followers_daily().begin(), c.followers_daily().end())),
          " ", GroupThousands(c.followers_daily(c.followers_daily_size() - 1)));
    }
    absl::StrAppend(&out, "\n");
  }
  if (!c.topics().empty()) {
    absl::StrAppend(&out, "   topics:");
    for (int i = 0; i < c.topics_size(); ++i) {
      absl::StrAppend(&out, i == 0 ? " " : " · ", Printable(c.topics(i).slug()), " ",
                      Percent(c.topics(i).share(), 0));
    }
    absl::StrAppend(&out, "\n");
  }
  if (!c.palette().colors().empty()) {
    absl::StrAppend(&out, "   palette:");
    for (const scout::v1::Color& colour : c.palette().colors()) {
      absl::StrAppend(&out, "  ", Swatch(colour, style));
    }
    if (c.palette().has_computed_at()) {
      absl::StrAppend(&out, "  (computed ", Day(c.palette().computed_at()), ")");
    }
    absl::StrAppend(&out, "\n");
  }
  std::vector<std::string> why;
  if (c.has_palette_distance()) {
    why.push_back(absl::StrFormat("palette distance %.2f", c.palette_distance()));
  }
  if (!c.matched_hashtags().empty() || !c.matched_mentions().empty()) {
    std::string tags = "used";
    for (const std::string& tag : c.matched_hashtags()) {
      absl::StrAppend(&tags, " #", Printable(tag));
    }
    for (const std::string& user : c.matched_mentions()) {
      absl::StrAppend(&tags, " @", Printable(user));
    }
    why.push_back(std::move(tags));
  }
  if (!why.empty()) absl::StrAppend(&out, "   matched: ", absl::StrJoin(why, " · "), "\n");
  if (!c.biography_highlight().empty()) {
    absl::StrAppend(&out, "   bio: ", RenderHighlight(c.biography_highlight(), style), "\n");
  } else if (!c.biography().empty()) {
    absl::StrAppend(&out, "   bio: ", Shorten(Printable(c.biography())), "\n");
  }
  if (!c.as_of().empty()) absl::StrAppend(&out, "   stats as of ", Printable(c.as_of()), "\n");
  return out;
}

}  // namespace

std::string GroupThousands(int64_t value) {
  const std::string digits = absl::StrCat(value);
  const size_t first = value < 0 ? 1 : 0;  // The minus sign.
  std::string out = digits.substr(0, first);
  for (size_t i = first; i < digits.size(); ++i) {
    if (i > first && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string RenderHighlight(absl::string_view html, TextStyle style) {
  std::string out;
  bool bold = false;
  for (size_t pos = 0; pos < html.size();) {
    absl::string_view rest = html.substr(pos);
    if (absl::StartsWith(rest, "<em>") || absl::StartsWith(rest, "</em>")) {
      bold = rest[1] != '/';
      if (style.color) out += bold ? kBold : kNoBold;
      pos += bold ? 4 : 5;
      continue;
    }
    if (rest[0] == '<') {  // No other tag is promised: drop it whole.
      const size_t end = rest.find('>');
      pos += end == absl::string_view::npos ? rest.size() : end + 1;
      continue;
    }
    if (rest[0] == '&') {
      bool decoded = false;
      for (const auto& [entity, text] :
           {std::pair{"&amp;", "&"}, std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"},
            std::pair{"&quot;", "\""}, std::pair{"&#39;", "'"}}) {
        if (absl::StartsWith(rest, entity)) {
          out += text;
          pos += strlen(entity);
          decoded = true;
          break;
        }
      }
      if (decoded) continue;
    }
    const size_t next = rest.find_first_of("<&", 1);
    out += Printable(rest.substr(0, next));
    pos += next == absl::string_view::npos ? rest.size() : next;
  }
  if (bold && style.color) out += kNoBold;
  return out;
}

std::string FormatCreators(const scout::v1::SearchCreatorsResponse& response, TextStyle style) {
  std::string out = absl::StrCat(response.total_size_is_lower_bound() ? "at least " : "",
                                 GroupThousands(response.total_size()), " creators\n");
  int n = 0;
  for (const scout::v1::Creator& creator : response.creators()) {
    absl::StrAppend(&out, "\n", ++n, ". ", FormatCreator(creator, style));
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "\nmore: --page_token ", Printable(response.next_page_token()), "\n");
  }
  return out;
}

}  // namespace scout::client
