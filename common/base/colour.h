// Colour as people see it, and distances between palettes. sRGB (D65) ->
// CIELAB, the CIEDE2000 difference (Sharma, Wu & Dalal 2005; about 1 is a
// just-noticeable difference), the distance between two weighted colour sets
// that palette search ranks by (docs/creators.md), and the fixed-length vector
// Elasticsearch's kNN uses to find candidates for it. Shared by the server
// (palette search), the creators index (writes the vector), genlake, the
// quality test and the benchmarks. Pure functions, thread-safe.
#pragma once

#include <vector>

#include "scout/v1/types.pb.h"

namespace scout {

struct Lab {
  double l = 0, a = 0, b = 0;
};

Lab SrgbToLab(double red, double green, double blue);  // Channels 0..255.
double Ciede2000(const Lab& x, const Lab& y);

// A palette as a weighted set of colours; weights are >= 0 and the set's
// weights sum to 1 (MakeColourSet normalises).
struct WeightedColour {
  Lab lab;
  double weight = 0;
};
using ColourSet = std::vector<WeightedColour>;

// Drops non-positive weights and normalises the rest to sum 1.
ColourSet MakeColourSet(std::vector<WeightedColour> colours);
// A Palette's colours weighted by their percentages (empty without colours).
ColourSet ColourSetOf(const scout::v1::Palette& palette);

// The palette distance: the earth mover's distance between the two sets
// (the least total weight x ground distance that turns one into the other),
// exact, with a perceptual ground distance. 0 for equal sets; symmetric.
// Defined for non-empty sets only (returns +inf otherwise).
double PaletteDistance(const ColourSet& x, const ColourSet& y);

// The vector Elasticsearch's kNN (l2_norm) searches to find palette-search
// candidates: nearby vectors mean nearby palettes, so the server reranks the
// nearest candidates by the exact PaletteDistance. Fixed length.
inline constexpr int kPaletteVectorDims = 64;
std::vector<float> PaletteVector(const ColourSet& set);

}  // namespace scout
