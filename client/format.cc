#include "client/format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/time.h"

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
  std::string out = absl::StrCat(response.total_size(), " posts\n");
  int n = 0;
  for (const scout::v1::Post& post : response.posts()) {
    absl::StrAppend(&out, "\n", ++n, ". @", post.username(), " · ",
                    MediaTypeLabel(post.media_type()), " · ",
                    absl::FormatTime("%Y-%m-%d %H:%M", FromTimestamp(post.timestamp()),
                                     absl::UTCTimeZone()),
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

}  // namespace scout::client
