#include "workers/palette/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"

namespace scout::palette {
namespace {

int ReducedFlag(int reduction) {
  switch (reduction) {
    case 2:
      return cv::IMREAD_REDUCED_COLOR_2;
    case 4:
      return cv::IMREAD_REDUCED_COLOR_4;
    case 8:
      return cv::IMREAD_REDUCED_COLOR_8;
    default:
      return cv::IMREAD_COLOR;
  }
}

// A JPEG ends with FF D9; encoders may pad a few bytes after it.
bool HasJpegEnd(absl::string_view bytes) {
  const size_t from = bytes.size() > 32 ? bytes.size() - 32 : 0;
  for (size_t i = bytes.size(); i-- > from + 1;) {
    if (static_cast<unsigned char>(bytes[i - 1]) == 0xFF &&
        static_cast<unsigned char>(bytes[i]) == 0xD9) {
      return true;
    }
  }
  return false;
}

uint32_t Le16(const unsigned char* p) { return p[0] | (uint32_t{p[1]} << 8); }
uint32_t Le24(const unsigned char* p) { return Le16(p) | (uint32_t{p[2]} << 16); }
uint32_t Le32(const unsigned char* p) { return Le24(p) | (uint32_t{p[3]} << 24); }
uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::optional<ImageSize> Size(int64_t width, int64_t height) {
  if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) return std::nullopt;
  return ImageSize{static_cast<int>(width), static_cast<int>(height)};
}

}  // namespace

std::optional<ImageSize> HeaderSize(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  // PNG: signature, then IHDR (width, height: 32-bit big-endian).
  if (n >= 24 && bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n" && bytes.substr(12, 4) == "IHDR") {
    return Size(Be32(p + 16), Be32(p + 20));
  }
  // GIF: the logical screen (16-bit little-endian).
  if (n >= 10 && (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a")) {
    return Size(Le16(p + 6), Le16(p + 8));
  }
  // BMP: the DIB header; OS/2 v1 headers (12 bytes) have 16-bit sides,
  // the others signed 32-bit ones (a negative height is top-down).
  if (n >= 26 && bytes.substr(0, 2) == "BM") {
    if (Le32(p + 14) == 12) return Size(Le16(p + 18), Le16(p + 20));
    const int32_t height = static_cast<int32_t>(Le32(p + 22));
    return Size(static_cast<int32_t>(Le32(p + 18)), height < 0 ? -int64_t{height} : height);
  }
  // WebP: RIFF container, then a lossy (VP8), lossless (VP8L) or extended
  // (VP8X, canvas size) first chunk.
  if (n >= 30 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    const absl::string_view chunk = bytes.substr(12, 4);
    if (chunk == "VP8 ") return Size(Le16(p + 26) & 0x3FFF, Le16(p + 28) & 0x3FFF);
    if (chunk == "VP8L" && p[20] == 0x2F) {
      const uint32_t bits = Le32(p + 21);
      return Size((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (chunk == "VP8X") return Size(Le24(p + 24) + 1, Le24(p + 27) + 1);
  }
  return std::nullopt;
}

std::optional<ImageSize> JpegSize(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return std::nullopt;
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return std::nullopt;
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // Fill byte.
      ++i;
      continue;
    }
    const size_t length = (size_t{p[i + 2]} << 8) | p[i + 3];
    // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 9 > n) return std::nullopt;
      const int height = (p[i + 5] << 8) | p[i + 6];
      const int width = (p[i + 7] << 8) | p[i + 8];
      if (width == 0 || height == 0) return std::nullopt;
      return ImageSize{width, height};
    }
    if (marker == 0xDA || length < 2) return std::nullopt;  // Scan before a frame.
    i += 2 + length;
  }
  return std::nullopt;
}

int ReductionFor(ImageSize size, int64_t min_decoded_pixels) {
  for (int64_t reduction : {8, 4, 2}) {
    const int64_t width = (size.width + reduction - 1) / reduction;
    const int64_t height = (size.height + reduction - 1) / reduction;
    if (width * height >= min_decoded_pixels) return static_cast<int>(reduction);
  }
  return 1;
}

absl::StatusOr<PixelSample> SampleImage(absl::string_view bytes, int pixels,
                                        int64_t min_decoded_pixels) {
  const std::optional<ImageSize> jpeg = JpegSize(bytes);
  if (jpeg && !HasJpegEnd(bytes)) return absl::DataLossError("truncated JPEG (no EOI marker)");
  const std::optional<ImageSize> size = jpeg ? jpeg : HeaderSize(bytes);
  if (!size) {
    return absl::DataLossError("not a picture: no JPEG, PNG, WebP, GIF or BMP header with a size");
  }
  if (int64_t{size->width} * size->height > kMaxPixels) {
    return absl::ResourceExhaustedError(absl::StrCat("picture of ", size->width, "x", size->height,
                                                     " pixels: over the ", kMaxPixels,
                                                     " pixel limit, not decoded"));
  }
  const int flag = jpeg ? ReducedFlag(ReductionFor(*jpeg, min_decoded_pixels)) : cv::IMREAD_COLOR;
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));
    // EXIF orientation is irrelevant to colours; skipping it saves a parse.
    image = cv::imdecode(buffer, flag | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    return absl::DataLossError(absl::StrCat("cannot decode picture: ", e.what()));
  }
  if (image.empty() || image.type() != CV_8UC3) {
    return absl::DataLossError("cannot decode picture");
  }
  PixelSample sample;
  sample.width = jpeg ? jpeg->width : image.cols;
  sample.height = jpeg ? jpeg->height : image.rows;
  // A gx x gy grid with gx / gy close to the aspect ratio and gx * gy close
  // to `pixels`, never more cells than pixels.
  const double aspect = static_cast<double>(image.cols) / image.rows;
  const int gx =
      std::clamp(static_cast<int>(std::lround(std::sqrt(pixels * aspect))), 1, image.cols);
  const int gy =
      std::clamp(static_cast<int>(std::lround(static_cast<double>(pixels) / gx)), 1, image.rows);
  sample.rgb.resize(static_cast<size_t>(3 * gx * gy));
  char* out = sample.rgb.data();
  for (int j = 0; j < gy; ++j) {
    const int y = static_cast<int>((2 * int64_t{j} + 1) * image.rows / (2 * int64_t{gy}));
    const uchar* row = image.ptr<uchar>(y);
    for (int i = 0; i < gx; ++i) {
      const int x = static_cast<int>((2 * int64_t{i} + 1) * image.cols / (2 * int64_t{gx}));
      const uchar* bgr = row + 3 * x;
      *out++ = static_cast<char>(bgr[2]);
      *out++ = static_cast<char>(bgr[1]);
      *out++ = static_cast<char>(bgr[0]);
    }
  }
  return sample;
}

}  // namespace scout::palette
