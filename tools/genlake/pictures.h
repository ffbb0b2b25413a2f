// genlake's pictures: each creator's images are drawn from a fixed palette
// with exact pixel areas and encoded as JPEG, so a palette extractor can be
// checked against truth. Internal to the generator.
// Thread-safety: pure functions; a PictureScratch belongs to one thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"

namespace scout::genlake {

inline constexpr int kPaletteSize = 6;
inline constexpr int kWeightUnits = 10000;

struct PaletteColor {
  uint8_t r = 0, g = 0, b = 0;
  int weight = 0;  // In 1/10000 of the pixels.
};
using Palette = std::array<PaletteColor, kPaletteSize>;

// Colours pairwise more than 25 apart in CIE76; weights in [0.05, 0.40]
// summing to exactly 1; sorted by weight, largest first.
Palette MakePalette(uint64_t seed, int user);

// "#rrggbb"
std::string HexColor(const PaletteColor& c);

// How the colour areas are arranged in a picture.
enum class Layout { kRows, kColumns, kDiagonal, kRings, kSquares };
inline constexpr int kLayouts = 5;

// Reused buffers of one worker thread.
struct PictureScratch {
  std::vector<std::pair<int, int>> block_keys;  // (layout key, block index)
  std::vector<int> block_rank;
  std::vector<int> next_rank;
  cv::Mat image;
  std::vector<uchar> jpeg;  // The result of DrawJpeg.
};

// A size x size JPEG of `palette` in `layout` into s->jpeg; `image_seed`
// places the layout's centre and orders the colours.
absl::Status DrawJpeg(const Palette& palette, Layout layout, uint64_t image_seed, int size,
                      PictureScratch* s);

}  // namespace scout::genlake
