#include "client/format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
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

}  // namespace scout::client
