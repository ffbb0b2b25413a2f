// Colour as people see it, and distances between palettes. sRGB (D65) ->
// CIELAB, the CIEDE2000 difference (Sharma, Wu & Dalal 2005; about 1 is a
// just-noticeable difference), the distance between two weighted colour sets
// that palette search ranks by (docs/creators.md), and the fixed-length vector
// Elasticsearch's kNN uses to find candidates for it. Shared by the server
// (palette search), the creators index (stores the vector packed), genlake, the
// quality test and the benchmarks. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
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
// Defined for non-empty sets only (returns +inf otherwise). Weights are
// normalised here too, so the sets' totals need not be 1.
//
// Why EMD: a palette is a weighted set of colours with no order, and two
// palettes rarely share colours exactly. EMD matches each share of one
// palette to the nearest colours of the other, so a palette with the target's
// colours in other proportions is near but not equal, one off colour costs
// only its share, and it needs no binning (histogram distances jump when a
// colour crosses a bin edge). Its unit is the ground distance's: an average
// colour difference per unit of weight.
// Why CIEDE2000 as ground distance: it is the standard perceptual difference
// (about 1 = just noticeable); plain CIELAB distance (CIE76) overstates
// differences between saturated colours and understates them among blues and
// greys, so it would rank palettes unlike a person. CIEDE2000 is not exactly
// a metric (the triangle inequality can fail by a little), which does not
// matter for ranking by distance to one target.
// Cost: the exact transportation problem on at most 6 x 6 colours,
// successive shortest paths over a dense cost matrix (bench/micro_bench.cc).
double PaletteDistance(const ColourSet& x, const ColourSet& y);
// PaletteDistance(x, y) when it is below `bound`; otherwise a lower bound
// of it that is >= bound (the larger of the two sides' weighted distances to
// the other side's nearest colour), found without solving the transport.
// Ranking that keeps only the nearest few skips most exact solves with it.
double PaletteDistanceBelow(const ColourSet& x, const ColourSet& y, double bound);

// The earth mover's distance for a given n x m ground-distance matrix
// (row-major): the least sum of flow x cost that moves x's weights onto y's,
// both summing to 1. PaletteDistance is this with CIEDE2000 costs.
double EarthMoverDistance(int n, int m, const double* cost, const double* x_weights,
                          const double* y_weights);

// Lower bounds of Ciede2000 for many pairs at once, for pruning candidates
// before exact distances are solved: out[k] <= Ciede2000(x[k], y[k]) and
// out[k] >= Ciede2000(x[k], y[k]) x (1 - kCiede2000BelowRelative) -
// kCiede2000BelowAbsolute (colour_test checks both over random and edge pairs).
// Single precision, no library calls and no branches, so the compiler
// vectorises it (bench/micro_bench.cc: about a tenth of Ciede2000's cost per
// pair). For hues within about 0.6 degrees of opposite (about 0.3 % of
// random pairs) the mean hue is unreliable in single precision, and the
// bound is looser (at least a quarter of the distance). Never a distance to report.
inline constexpr float kCiede2000BelowRelative = 1e-4f;
inline constexpr float kCiede2000BelowAbsolute = 2e-3f;
struct LabColumns {
  const float* l;
  const float* a;
  const float* b;
};
void Ciede2000Below(LabColumns x, LabColumns y, size_t count, float* out);

// The vector Elasticsearch's kNN (l2_norm) searches to find palette-search
// candidates: nearby vectors mean nearby palettes, so the server reranks the
// nearest candidates by the exact PaletteDistance. Fixed length; all zeros
// for an empty set (never index it: such a creator has no palette). It is a
// linearised optimal transport embedding in DIN99o (64 reference colours x 3;
// docs/palette-search.md has the recall measured against PaletteDistance).
// Costs about 0.2 ms of CPU (an exact 64 x 6 transport): compute it when the
// palette changes, not per document read.
inline constexpr int kPaletteVectorDims = 192;
std::vector<float> PaletteVector(const ColourSet& set);

// The PaletteVector quantised to one byte per dimension (kPaletteVectorDims bytes), for storage
// in the creators index; UnpackPaletteVector inverts it to within half a step
// (kPaletteVectorStep). Lightness dimensions (every third, starting at 0) are offset so their
// range [0, 12.75] fits; a/b dimensions are centred on 0.
// A byte is round(value / step) + offset, clamped to 0..255 (NaN stores 0.0): offset 0 for
// lightness, so [0, 12.75]; 128 for a and b, so [-6.40, 6.35]. Each dimension is a weighted mean
// of the palette's DIN99o coordinates / 8, so it lies within their range over the whole sRGB
// cube (every 8-bit colour, measured): L [0, 12.50], a [-5.01, 5.69], b [-5.06, 5.54]; no
// palette of real colours clamps. The step costs at most 0.025 per dimension (0.35 of L2 at
// worst, about 0.2 typically, in the vector's DIN99o units, near ΔE's).
inline constexpr double kPaletteVectorStep = 0.05;
std::string PackPaletteVector(const std::vector<float>& vector);  // "" for a wrong length
std::vector<float> UnpackPaletteVector(absl::string_view bytes);  // empty for a wrong length

}  // namespace scout
