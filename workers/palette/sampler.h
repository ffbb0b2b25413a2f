// Sampler: a picture's bytes -> a small, deterministic sample of its pixels,
// which is all that k-means needs and all that the sample cache keeps.
//
// Decoding is most of the cost, so JPEGs are decoded at reduced scale by
// libjpeg itself (DCT scaling: cv::IMREAD_REDUCED_COLOR_2/4/8), picking the
// largest reduction that still leaves at least `min_decoded_pixels` pixels
// (kMinDecodedPixels unless told). Checked on OpenCV 4.6.0 + libjpeg-turbo
// 2.1.5 (Debian 12): imdecode honours the reduced flags for JPEG
// (grfmt_jpeg.cpp sets scale_denom; no full decode then resize). A 1080x1080
// q90 photo-like JPEG: IMREAD_COLOR 8.1 ms -> 1080x1080; REDUCED_2 4.7 ms ->
// 540x540; REDUCED_4 3.3 ms -> 270x270; REDUCED_8 2.3 ms -> 135x135. The rest
// of the 1/8 time is entropy decoding, which no scaling avoids. A reduced
// pixel is the mean of a 2x2 .. 8x8 block, so where details are about as
// small as that block, the decoded picture is made of mixtures that then
// become cluster centres: 1080x1080 pictures of 60-px cells gave a colour
// 4.9 CIEDE2000 off at 1/8 (bench/RESULTS.md, "Palette quality (issue 13
// §1)"). For other formats OpenCV decodes in full and resizes, so they get
// IMREAD_COLOR and the same grid.
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
// end with its EOI marker. OpenCV exceptions are caught here.
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

absl::StatusOr<PixelSample> SampleImage(absl::string_view bytes, int pixels = kSamplePixels,
                                        int64_t min_decoded_pixels = kMinDecodedPixels);

}  // namespace scout::palette
