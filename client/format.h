// Renders API answers for a person reading a terminal. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "scout/v1/service.pb.h"

namespace scout::client {

std::string FormatSearch(const scout::v1::SearchPostsResponse& response);
std::string FormatProfile(const scout::v1::UserProfile& profile);

// One line per colour: a truecolour swatch (ANSI 48;2;r;g;b), hex and
// percentage, under a bar whose segments follow the percentages.
std::string FormatPalette(const scout::v1::Palette& palette);
// An SVG strip `width` x `height`, one rectangle per colour, widths
// proportional to the percentages (rounded so they tile the strip exactly).
std::string PaletteSvg(const scout::v1::Palette& palette, int width = 600, int height = 80);

// How text meant for a terminal is rendered: with `color`, ANSI SGR escapes
// (truecolour swatches, bold highlights); without, plain text only. Callers
// decide from isatty or --color.
struct TextStyle {
  bool color = false;
};

// SearchCreators hits, one block each: who, numbers (engagement with its
// percentile in the tier), growth with a sparkline of followers_daily,
// topics, palette swatches with hex codes, why it matched, then the next page
// token. Text from the server is printed without control characters.
std::string FormatCreators(const scout::v1::SearchCreatorsResponse& response, TextStyle style);

// A highlight (escaped HTML whose only tags are <em></em>, see
// Creator.biography_highlight) as terminal text: entities decoded, <em> as
// bold with colour and dropped without, control characters removed.
std::string RenderHighlight(absl::string_view html, TextStyle style);

// 1234567 -> "1,234,567".
std::string GroupThousands(int64_t value);

// "▁▂▄█": one block per value, scaled between the series' min and max.
std::string Sparkline(const std::vector<int64_t>& values);

}  // namespace scout::client
