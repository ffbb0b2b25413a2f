// Renders API answers for a person reading a terminal. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// "▁▂▄█": one block per value, scaled between the series' min and max.
std::string Sparkline(const std::vector<int64_t>& values);

}  // namespace scout::client
