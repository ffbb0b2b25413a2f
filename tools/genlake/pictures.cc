#include "tools/genlake/pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/colour.h"
#include "tools/genlake/random.h"

namespace scout::genlake {
namespace {

using scout::Lab;

Lab ToLab(const PaletteColor& c) { return scout::SrgbToLab(c.r, c.g, c.b); }

// CIE76 (plain Euclidean distance in CIELAB) is enough to keep colours apart.
double Cie76(const Lab& p, const Lab& q) {
  return std::sqrt((p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) +
                   (p.b - q.b) * (p.b - q.b));
}

// JPEG's 4:2:0 macroblock: a flat 16x16 block comes back out of the codec
// with its colour, so colour boundaries are kept on block edges.
constexpr int kBlock = 16;

// Ranks the blocks of a size x size image in the layout's order (rows,
// distance from a centre, ...), ties by position.
void RankBlocks(Layout layout, Rng& rng, int size, PictureScratch* s) {
  const int blocks = (size + kBlock - 1) / kBlock;
  const int cx = rng.Below(blocks), cy = rng.Below(blocks);
  const auto key = [&](int x, int y) {
    switch (layout) {
      case Layout::kRows:
        return y;
      case Layout::kColumns:
        return x;
      case Layout::kDiagonal:
        return x + y;
      case Layout::kRings:
        return static_cast<int>(2 * std::hypot(x - cx, y - cy));
      case Layout::kSquares:
        return std::max(std::abs(x - cx), std::abs(y - cy));
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
void DrawImage(const Palette& palette, Layout layout, Rng& rng, int size, PictureScratch* s) {
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

absl::Status EncodeJpeg(PictureScratch* s) {
  try {
    if (!cv::imencode(".jpg", s->image, s->jpeg, {cv::IMWRITE_JPEG_QUALITY, 90})) {
      return absl::InternalError("JPEG encoding failed");
    }
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("JPEG encoding failed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace

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

absl::Status DrawJpeg(const Palette& palette, Layout layout, uint64_t image_seed, int size,
                      PictureScratch* s) {
  Rng rng(image_seed);
  DrawImage(palette, layout, rng, size, s);
  return EncodeJpeg(s);
}

}  // namespace scout::genlake
