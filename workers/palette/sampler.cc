#include "workers/palette/sampler.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"

namespace scout::palette {
namespace {

int ReducedFlag(int reduction) {
  switch (reduction) {
    case 2: return cv::IMREAD_REDUCED_COLOR_2;
    case 4: return cv::IMREAD_REDUCED_COLOR_4;
    case 8: return cv::IMREAD_REDUCED_COLOR_8;
    default: return cv::IMREAD_COLOR;
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

}  // namespace

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
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
        marker != 0xCC) {
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

int ReductionFor(ImageSize size) {
  const int side = std::min(size.width, size.height);
  for (int reduction : {8, 4, 2}) {
    if (side / reduction >= kMinSide) return reduction;
  }
  return 1;
}

absl::StatusOr<PixelSample> SampleImage(absl::string_view bytes, int pixels) {
  const std::optional<ImageSize> jpeg = JpegSize(bytes);
  if (jpeg && !HasJpegEnd(bytes)) return absl::DataLossError("truncated JPEG (no EOI marker)");
  const int flag = jpeg ? ReducedFlag(ReductionFor(*jpeg)) : cv::IMREAD_COLOR;
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
  const int gx = std::clamp(static_cast<int>(std::lround(std::sqrt(pixels * aspect))), 1,
                            image.cols);
  const int gy = std::clamp(static_cast<int>(std::lround(static_cast<double>(pixels) / gx)), 1,
                            image.rows);
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
