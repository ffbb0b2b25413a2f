// Sampler: a picture's bytes -> a small, deterministic sample of its pixels,
// which is all that k-means needs and all that the sample cache keeps.
//
// Decoding is most of the cost, so JPEGs are decoded at reduced scale by
// libjpeg itself (DCT scaling, scale_denom 2/4/8), picking the largest
// reduction that still leaves at least `min_decoded_pixels` pixels
// (kMinDecodedPixels unless told). A reduced pixel is the mean of a 2x2 ..
// 8x8 block, so where details are about as small as that block, the
// decoded picture is made of mixtures that then become cluster centres:
// 1080x1080 pictures of 60-px cells gave a colour 4.9 CIEDE2000 off at 1/8,
// hence 1/4 for them now (bench/RESULTS.md, "Palette quality (issue 13 §1)").
//
// JPEGs are decoded with libjpeg(-turbo) directly rather than cv::imdecode
// (issue 13 §1's cold cost): YCbCr is output as is and only the ~4,096
// sampled pixels are converted to RGB (with libjpeg's own integer formula),
// into one scratch row, with no cv::Mat, copy or BGR swap. The sample is
// the same as cv::imdecode's (IMREAD_REDUCED_COLOR_n, OpenCV 4.6.0 on the
// same libjpeg-turbo 2.1.5) bit for bit (palette_unit_test), so the sample
// cache format did not change. Per 1080x1080 q90 photo-like picture (196 KB, 4:2:0) at
// 1/4, on a quiet box (micro_bench BM_SampleJpeg_*): imdecode 2.51 ms,
// direct 2.30 ms; at 1/8 1.97 and 1.86 ms. perf of the direct route: 81 %
// in libjpeg's Huffman decoding, paid at any scale, ~12 % past its last
// exported symbol (most likely the SIMD IDCTs: the library has no symbols),
// under 1 % in ours; so no other way of driving libjpeg can gain much more.
// jpeg_skip_scanlines was tried for the rows between the sampled ones (a
// prototype: ~0.04 ms less a picture), but it differs from a full
// decode for 4:2:0 pictures of some sizes (libjpeg-turbo 2.1.5), so it is
// not used. JpegDecoder::kOpenCv keeps the old route for benchmarks and
// the equality test; CMYK/YCCK JPEGs always take it. Other formats are
// decoded in full by OpenCV (IMREAD_COLOR) and sampled on the same grid.
//
// Lake pictures are hostile input: a few bytes of PNG may claim 65535 x
// 65535 pixels (12 GB decoded). So the size is read from the header first
// (JPEG, PNG, WebP, GIF, BMP; anything else is refused, since OpenCV 4.6 has
// no header-only API) and a picture over kMaxPixels is skipped with that
// reason (RESOURCE_EXHAUSTED) before any decoding.
//
// The sample is a fixed grid of about `pixels` points spread evenly over the
// decoded image (cell centres), so it depends only on the bytes.
//
// A corrupt or truncated picture is an error (DATA_LOSS): libjpeg would
// return a truncated JPEG with its missing part painted grey, so a JPEG must
// end with its EOI marker. libjpeg's fatal errors (its error_exit would
// exit()) jump back through setjmp/longjmp and become DATA_LOSS with
// libjpeg's message; its warnings (corrupt data it recovers from) are
// ignored, as cv::imdecode did. OpenCV exceptions are caught here.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace scout::palette {

inline constexpr int kSamplePixels = 4096;
// Chosen by measurement (bench/RESULTS.md, "Palette quality (issue 13 §1)").
inline constexpr int64_t kMinDecodedPixels = 60000;
// Instagram serves at most 1080 x 1350; progressive JPEGs keep all their
// coefficients (6 bytes a pixel) whatever the scale.
inline constexpr int64_t kMaxPixels = 25'000'000;

struct PixelSample {
  int width = 0, height = 0;  // Of the picture as stored (not as decoded).
  std::string rgb;            // r, g, b bytes per sampled pixel.

  bool operator==(const PixelSample&) const = default;
};

struct ImageSize {
  int width = 0, height = 0;
};

// Reads the frame header (SOFn) of a JPEG; nullopt for anything else.
std::optional<ImageSize> JpegSize(absl::string_view bytes);

// The size a PNG, WebP, GIF or BMP header claims; nullopt for anything else
// (JPEGs: JpegSize).
std::optional<ImageSize> HeaderSize(absl::string_view bytes);

// 1, 2, 4 or 8: the largest libjpeg scale-down leaving at least
// `min_decoded_pixels` pixels (libjpeg rounds the scaled sides up).
int ReductionFor(ImageSize size, int64_t min_decoded_pixels = kMinDecodedPixels);

// How JPEGs are decoded: kOpenCv (cv::imdecode, the route before issue 13
// §1's change) only as the baseline for benchmarks and tests.
enum class JpegDecoder { kLibjpeg, kOpenCv };

absl::StatusOr<PixelSample> SampleImage(absl::string_view bytes, int pixels = kSamplePixels,
                                        int64_t min_decoded_pixels = kMinDecodedPixels,
                                        JpegDecoder decoder = JpegDecoder::kLibjpeg);

}  // namespace scout::palette
